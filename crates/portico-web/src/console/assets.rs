//! A company's assets in the console (C3): the list as the portal's, every field shown; added,
//! edited, archived and restored by owners and the company's technicians.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, AssetId, AssetKind, CompanyId};
use portico_store::StoreError;
use portico_store::scoped::assets::{AssetDraft, CustomField};
use portico_store::scoped::companies::Site;
use portico_store::scoped::record_history::RecordEdit;

use crate::assets_view::{AssetList, AssetListQuery};
use crate::auth::{Auth, SignedForm};
use crate::console::company_edit::archiving;
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/assets.html")]
struct ListPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    archived: bool,
    can_edit: bool,
    list: AssetList,
}

/// A company's assets as CSV, with the list's filters.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(filters): Query<AssetListQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let zone = auth.principal.zone().clone();
    let query = filters.to_query(&zone, portico_store::now())?;
    // The company must be visible before anything is streamed (404 like a missing one).
    let mut tx = state.store.scoped(&auth.scope).await?;
    tx.company(company).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, Some(company), "Assets (CSV)", "")?;
    Ok(crate::csv_export::assets(
        &state,
        auth.scope.clone(),
        company,
        query,
        zone,
    ))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(filters): Query<AssetListQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let zone = auth.principal.zone().clone();
    let query = filters.to_query(&zone, portico_store::now())?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let page = tx.assets(company, &query).await?;
    tx.commit().await?;
    let title = format!("Assets — {}", summary.name);
    Ok(render::ok(&ListPage {
        chrome: Chrome::signed_in(&auth, &title, "/companies"),
        company_id: company,
        company_name: summary.name,
        archived: query.archived,
        can_edit: auth.scope.may(Action::ManageCompanyRecords).is_ok()
            && summary.archived_at.is_none(),
        list: AssetList::new(
            format!("/companies/{company}/assets"),
            filters,
            &query,
            page,
            zone,
        ),
    }))
}

#[derive(Template)]
#[template(path = "console/asset_form.html")]
struct AssetForm {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    /// `None` while adding.
    asset_id: Option<AssetId>,
    archived: bool,
    draft: AssetDraft,
    sites: Vec<Site>,
    kinds: &'static [AssetKind],
    custom: Vec<CustomField>,
    errors: FieldErrors,
    can_edit: bool,
    notice: &'static str,
    history: Vec<RecordEdit>,
}

fn draft_of(form: &FormData, custom: &[CustomField]) -> AssetDraft {
    AssetDraft {
        name: form.get("name").to_owned(),
        kind: form.get("kind").to_owned(),
        site: form.get("site").to_owned(),
        manufacturer: form.get("manufacturer").to_owned(),
        model: form.get("model").to_owned(),
        serial: form.get("serial").to_owned(),
        os: form.get("os").to_owned(),
        warranty_end: form.get("warranty_end").to_owned(),
        purchased_on: form.get("purchased_on").to_owned(),
        assigned_user: form.get("assigned_user").to_owned(),
        notes: form.get("notes").to_owned(),
        custom: custom
            .iter()
            .map(|f| {
                let id = f.id.to_string();
                let value = form.get(&format!("custom_{id}")).to_owned();
                (id, value)
            })
            .collect(),
    }
}

/// Everything a form page needs besides the draft.
struct FormContext {
    company_name: String,
    sites: Vec<Site>,
    custom: Vec<CustomField>,
    /// The asset's edits (none while adding).
    history: Vec<RecordEdit>,
}

async fn form_context(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
) -> Result<FormContext, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let company_name = tx.company(company).await?.name;
    let sites = tx.sites(company).await?;
    let custom = tx.custom_asset_fields().await?;
    tx.commit().await?;
    Ok(FormContext {
        company_name,
        sites,
        custom,
        history: Vec::new(),
    })
}

fn form_page(
    auth: &Auth,
    company: CompanyId,
    context: FormContext,
    asset: Option<(AssetId, bool)>,
    draft: AssetDraft,
    errors: FieldErrors,
    notice: &'static str,
) -> AssetForm {
    let title = match asset {
        Some(_) => format!("{} — {}", draft.name, context.company_name),
        None => format!("Add an asset — {}", context.company_name),
    };
    AssetForm {
        chrome: Chrome::signed_in(auth, &title, "/companies"),
        company_id: company,
        company_name: context.company_name,
        asset_id: asset.map(|(id, _)| id),
        archived: asset.is_some_and(|(_, archived)| archived),
        draft,
        sites: context.sites,
        kinds: AssetKind::ALL,
        custom: context.custom,
        errors,
        can_edit: auth.scope.may(Action::ManageCompanyRecords).is_ok(),
        notice,
        history: context.history,
    }
}

pub(crate) async fn new_asset(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let context = form_context(&state, &auth, company).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let draft = AssetDraft {
        kind: AssetKind::Workstation.as_str().to_owned(),
        ..AssetDraft::default()
    };
    Ok(render::ok(&form_page(
        &auth,
        company,
        context,
        None,
        draft,
        FieldErrors::default(),
        "",
    )))
}

pub(crate) async fn add(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let context = form_context(&state, &auth, company).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let draft = draft_of(&form, &context.custom);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.add_asset(company, &draft).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/assets/{id}?done=added"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => Ok(render::refused(&form_page(
            &auth,
            company,
            context,
            None,
            draft,
            FieldErrors(errors),
            "",
        ))),
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct DetailQuery {
    #[serde(default)]
    done: Option<String>,
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DetailQuery>,
    IdPath((company, id)): IdPath<(CompanyId, AssetId)>,
) -> Result<Response, WebError> {
    let context = form_context(&state, &auth, company).await?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let asset = tx.asset(company, id).await?;
    tx.audit_viewed(
        company,
        portico_core::AuditTarget::new("asset", id, asset.name.clone()),
    )?;
    let values = if auth.scope.may(Action::ManageCompanyRecords).is_ok() {
        tx.asset_custom_values(id).await?
    } else {
        // Those who only read see the values on the page's own list of fields.
        asset
            .custom
            .iter()
            .filter_map(|(label, value)| {
                context
                    .custom
                    .iter()
                    .find(|f| f.label == *label)
                    .map(|f| (f.id.to_string(), value.clone()))
            })
            .collect()
    };
    let history = tx.asset_history(company, id).await?;
    tx.commit().await?;
    let context = FormContext { history, ..context };
    let notice = match query.done.as_deref() {
        Some("added") => "Asset added.",
        Some("saved") => "Asset saved.",
        Some("archived") => "Asset archived.",
        Some("restored") => "Asset restored.",
        _ => "",
    };
    let archived = asset.archived_at.is_some();
    Ok(render::ok(&form_page(
        &auth,
        company,
        context,
        Some((id, archived)),
        AssetDraft::of(&asset, values),
        FieldErrors::default(),
        notice,
    )))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, id),
    }: SignedForm<(CompanyId, AssetId)>,
) -> Result<Response, WebError> {
    let context = form_context(&state, &auth, company).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let stored = tx.asset(company, id).await?;
    auth.scope
        .may(Action::EditRecordDetails(portico_core::Section::Assets))?;
    let draft = draft_of(&form, &context.custom);
    match tx.update_asset(company, id, &draft).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}/assets/{id}?done=saved"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            let history = tx.asset_history(company, id).await?;
            Ok(render::refused(&form_page(
                &auth,
                company,
                FormContext { history, ..context },
                Some((id, stored.archived_at.is_some())),
                draft,
                FieldErrors(errors),
                "",
            )))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn archive(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, id),
    }: SignedForm<(CompanyId, AssetId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.asset(company, id).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let archive = archiving(&form)?;
    tx.set_asset_archived(company, id, archive).await?;
    tx.commit().await?;
    let done = if archive { "archived" } else { "restored" };
    Ok(see_other(&format!(
        "/companies/{company}/assets/{id}?done={done}"
    )))
}
