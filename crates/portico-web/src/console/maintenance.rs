//! Maintenance in the console: a company's planned windows and history, and the form staff
//! record maintenance with (owners and technicians).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId, MaintenanceId, MaintenanceKind, MaintenanceOutcome};
use portico_store::StoreError;
use portico_store::scoped::companies::Site;
use portico_store::scoped::maintenance::{MaintenanceDraft, MaintenanceRecord};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::maintenance_view::{MaintenanceQuery, MaintenanceView};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/maintenance.html")]
struct MaintenancePage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    can_edit: bool,
    done: String,
    list: MaintenanceView,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MaintenanceQuery>,
    Query(done): Query<crate::forms::DoneQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let filter = query.filter()?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let list = tx.maintenance(company, &filter).await?;
    tx.commit().await?;
    let done = match done.done.as_str() {
        "added" => "The maintenance was recorded.",
        "saved" => "The maintenance was saved.",
        _ => "",
    };
    let title = format!("Maintenance — {}", summary.name);
    Ok(render::ok(&MaintenancePage {
        chrome: Chrome::signed_in(&auth, &title, "/companies"),
        company_id: company,
        company_name: summary.name,
        can_edit: auth.scope.may(Action::ManageCompanyRecords).is_ok(),
        done: done.to_owned(),
        list: MaintenanceView {
            base: format!("/companies/{company}/maintenance"),
            edit_base: Some(format!("/companies/{company}/maintenance")),
            asset_base: format!("/companies/{company}/assets"),
            list,
            filter,
            zone: auth.principal.zone().clone(),
        },
    }))
}

#[derive(Template)]
#[template(path = "console/maintenance_form.html")]
struct MaintenanceForm {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    /// `None` while adding.
    record_id: Option<MaintenanceId>,
    sites: Vec<Site>,
    kinds: &'static [MaintenanceKind],
    outcomes: &'static [MaintenanceOutcome],
    draft: MaintenanceDraft,
    errors: FieldErrors,
}

impl MaintenanceForm {
    fn site_chosen(&self, id: &str) -> bool {
        self.draft.sites.iter().any(|s| s == id)
    }
}

fn draft_of(form: &FormData) -> MaintenanceDraft {
    MaintenanceDraft {
        kind: form.get("kind").to_owned(),
        outcome: form.get("outcome").to_owned(),
        title: form.get("title").to_owned(),
        summary: form.get("summary").to_owned(),
        starts_at: form.get("starts_at").to_owned(),
        ends_at: form.get("ends_at").to_owned(),
        sites: form.all("sites").into_iter().map(str::to_owned).collect(),
        assets: form.get("assets").to_owned(),
    }
}

/// The form as stored, in the reader's wall clock.
fn draft_from(record: &MaintenanceRecord, zone: &portico_core::Zone) -> MaintenanceDraft {
    MaintenanceDraft {
        kind: record.kind.as_str().to_owned(),
        outcome: record.outcome.as_str().to_owned(),
        title: record.title.clone(),
        summary: record.summary.clone(),
        starts_at: zone.local_input(record.starts_at),
        ends_at: record
            .ends_at
            .map(|end| zone.local_input(end))
            .unwrap_or_default(),
        sites: record.sites.iter().map(|(id, _)| id.to_string()).collect(),
        assets: record
            .assets
            .iter()
            .map(|(_, name)| name.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

async fn form_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    record: Option<MaintenanceId>,
    draft: Option<MaintenanceDraft>,
    errors: FieldErrors,
) -> Result<MaintenanceForm, WebError> {
    let zone = auth.principal.zone().clone();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let stored = match record {
        Some(id) => Some(tx.maintenance_record(company, id).await?),
        None => None,
    };
    // Archived sites too: a record may name one, and saving must keep it.
    let sites = tx.sites_with_archived(company).await?;
    tx.commit().await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let draft = match (draft, &stored) {
        (Some(draft), _) => draft,
        (None, Some(stored)) => draft_from(stored, &zone),
        (None, None) => MaintenanceDraft {
            kind: MaintenanceKind::Patching.as_str().to_owned(),
            outcome: MaintenanceOutcome::Succeeded.as_str().to_owned(),
            starts_at: zone.local_input(portico_store::now()),
            ..MaintenanceDraft::default()
        },
    };
    let title = match &stored {
        Some(r) => format!("{} — {}", r.title, summary.name),
        None => format!("Record maintenance — {}", summary.name),
    };
    Ok(MaintenanceForm {
        chrome: Chrome::signed_in(auth, &title, "/companies"),
        company_id: company,
        company_name: summary.name,
        record_id: record,
        sites,
        kinds: MaintenanceKind::ALL,
        outcomes: MaintenanceOutcome::ALL,
        draft,
        errors,
    })
}

pub(crate) async fn new_record(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let page = form_page(&state, &auth, company, None, None, FieldErrors::default()).await?;
    Ok(render::ok(&page))
}

pub(crate) async fn add(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let draft = draft_of(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx
        .add_maintenance(company, &draft, auth.principal.zone())
        .await
    {
        Ok(_) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/maintenance?done=added"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = form_page(
                &state,
                &auth,
                company,
                None,
                Some(draft),
                FieldErrors(errors),
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    IdPath((company, record)): IdPath<(CompanyId, MaintenanceId)>,
) -> Result<Response, WebError> {
    let page = form_page(
        &state,
        &auth,
        company,
        Some(record),
        None,
        FieldErrors::default(),
    )
    .await?;
    Ok(render::ok(&page))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, record),
    }: SignedForm<(CompanyId, MaintenanceId)>,
) -> Result<Response, WebError> {
    let draft = draft_of(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx
        .update_maintenance(company, record, &draft, auth.principal.zone())
        .await
    {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/maintenance?done=saved"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = form_page(
                &state,
                &auth,
                company,
                Some(record),
                Some(draft),
                FieldErrors(errors),
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

/// A company's maintenance as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MaintenanceQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let filter = query.filter()?;
    crate::audited::exported(&state, &auth, Some(company), "Maintenance (CSV)", "")?;
    crate::csv_export::maintenance(&state, &auth.scope, company, filter, auth.principal.zone())
        .await
}
