//! P8 Assets: the company's devices, with the fields its MSP chooses to show; filters by site,
//! type and warranty, search, sort and pages; each asset's page offers "Report an issue".

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, AssetField, AssetId, Principal, Section};
use portico_store::StoreError;
use portico_store::scoped::assets::{Asset, AssetDraft, ShownFields};
use portico_store::scoped::record_history::RecordEdit;

use super::tickets::acting_company;
use crate::assets_view::{AssetList, AssetListQuery};
use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{DoneQuery, FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

fn heading(auth: &Auth) -> String {
    match &*auth.principal {
        Principal::Portal(p) => p
            .section_label(Section::Assets)
            .unwrap_or(Section::Assets.label())
            .to_owned(),
        Principal::Staff(_) => Section::Assets.label().to_owned(),
    }
}

#[derive(Template)]
#[template(path = "portal/assets.html")]
struct ListPage {
    chrome: Chrome,
    heading: String,
    list: AssetList,
    fresh: crate::licence_view::FreshnessLine,
    notice: &'static str,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(filters): Query<AssetListQuery>,
    Query(done): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let zone = auth.principal.zone().clone();
    let mut query = filters.to_query(&zone, portico_store::now())?;
    query.archived = false;
    let heading = heading(&auth);
    let chrome = Chrome::signed_in(&auth, &heading, "/assets");
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx.assets(company, &query).await?;
    let freshness = tx.connector_freshness(company, Section::Assets).await?;
    tx.commit().await?;
    let fresh = crate::licence_view::FreshnessLine::new(
        freshness,
        "/assets/refresh",
        &chrome,
        &auth,
        Section::Assets,
    );
    Ok(render::ok(&ListPage {
        chrome,
        heading,
        list: AssetList::new("/assets".into(), filters, &query, page, zone),
        fresh,
        notice: crate::licence_view::refresh_done(&done.done),
    }))
}

/// Asks for the company's devices to be read from its RMM again now (throttled).
pub(crate) async fn refresh(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    crate::licence_view::refresh_and_return(&state, &auth, company, Section::Assets, "/assets")
        .await
}

/// The list's matches as CSV, with exactly the fields the list shows this reader.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(filters): Query<AssetListQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let zone = auth.principal.zone().clone();
    let mut query = filters.to_query(&zone, portico_store::now())?;
    query.archived = false;
    crate::audited::exported(&state, &auth, None, "Assets (CSV)", "")?;
    Ok(crate::csv_export::assets(
        &state,
        auth.scope.clone(),
        company,
        query,
        zone,
    ))
}

#[derive(Template)]
#[template(path = "portal/asset.html")]
struct AssetPage {
    chrome: Chrome,
    heading: String,
    asset: Asset,
    shown: ShownFields,
    can_report: bool,
    /// Change requests are on for the company and the reader may raise them.
    can_request_change: bool,
    /// The maintenance that touched it, latest first (`None` with the section off).
    maintenance: Option<Vec<portico_store::scoped::maintenance::MaintenanceRecord>>,
    /// The company lets its client admins edit details, and the reader is one.
    can_edit: bool,
    history: Vec<RecordEdit>,
    notice: &'static str,
}

impl AssetPage {
    fn shows(&self, field: AssetField) -> bool {
        self.shown.shows(&field)
    }
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<DoneQuery>,
    IdPath(id): IdPath<AssetId>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let (asset, shown) = tx.asset_as_shown(company, id).await?;
    tx.audit_viewed(
        company,
        portico_core::AuditTarget::new("asset", id, asset.name.clone()),
    )?;
    let maintenance = if auth
        .scope
        .may(portico_core::Action::ViewSection(
            portico_core::Section::Maintenance,
        ))
        .is_ok()
    {
        Some(tx.asset_maintenance(company, id).await?)
    } else {
        None
    };
    let history = tx.asset_history(company, id).await?;
    tx.commit().await?;
    let heading = heading(&auth);
    Ok(render::ok(&AssetPage {
        can_edit: asset.archived_at.is_none()
            && auth
                .scope
                .may(Action::EditRecordDetails(Section::Assets))
                .is_ok(),
        history,
        notice: if query.done == "saved" {
            "Saved. The change is on the asset's history."
        } else {
            ""
        },
        chrome: Chrome::signed_in(&auth, &asset.name, "/assets"),
        heading,
        can_report: auth
            .scope
            .may(portico_core::Action::ContributeTickets)
            .is_ok(),
        can_request_change: auth.scope.may(portico_core::Action::RequestChanges).is_ok(),
        maintenance,
        asset,
        shown,
    }))
}

#[derive(Template)]
#[template(path = "portal/asset_edit.html")]
struct EditPage {
    chrome: Chrome,
    heading: String,
    asset_id: AssetId,
    asset_name: String,
    draft: AssetDraft,
    shown: ShownFields,
    errors: FieldErrors,
}

impl EditPage {
    /// A built-in field on the form: shown on this portal, and one a client may correct.
    fn edits(&self, field: AssetField) -> bool {
        self.shown.shows(&field) && field.client_editable()
    }
}

/// A client admin's edit as typed: only what the form offers (the store keeps the rest).
fn draft_of(form: &FormData, shown: &ShownFields) -> AssetDraft {
    AssetDraft {
        name: form.get("name").to_owned(),
        assigned_user: form.get("assigned_user").to_owned(),
        notes: form.get("notes").to_owned(),
        custom: shown
            .custom
            .iter()
            .map(|f| {
                let id = f.id.to_string();
                let value = form.get(&format!("custom_{id}")).to_owned();
                (id, value)
            })
            .collect(),
        ..AssetDraft::default()
    }
}

/// The details form (client admins, where the company allows direct edits).
pub(crate) async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(id): IdPath<AssetId>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let (asset, shown) = tx.editable_asset(company, id).await?;
    tx.commit().await?;
    // The page's own fields come in the order the reader is shown them, with their values.
    let custom = shown
        .custom
        .iter()
        .zip(asset.custom.iter())
        .map(|(field, (_, value))| (field.id.to_string(), value.clone()))
        .collect();
    Ok(render::ok(&EditPage {
        chrome: Chrome::signed_in(&auth, &format!("Edit {}", asset.name), "/assets"),
        heading: heading(&auth),
        asset_id: id,
        asset_name: asset.name.clone(),
        draft: AssetDraft::of(&asset, custom),
        shown,
        errors: FieldErrors::default(),
    }))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: id,
    }: SignedForm<AssetId>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let (asset, shown) = tx.editable_asset(company, id).await?;
    let draft = draft_of(&form, &shown);
    match tx.update_asset(company, id, &draft).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/assets/{id}?done=saved")))
        }
        Err(StoreError::InvalidFields(errors)) => Ok(render::refused(&EditPage {
            chrome: Chrome::signed_in(&auth, &format!("Edit {}", asset.name), "/assets"),
            heading: heading(&auth),
            asset_id: id,
            asset_name: asset.name.clone(),
            draft,
            shown,
            errors: FieldErrors(errors),
        })),
        Err(e) => Err(e.into()),
    }
}
