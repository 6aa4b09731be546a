//! P4 Maintenance: the work done on the company's systems and the windows planned ahead, as
//! the reader may see them (a site-restricted user: their sites' and the whole company's).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Principal, Section};

use super::tickets::acting_company;
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::maintenance_view::{MaintenanceQuery, MaintenanceView};
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "portal/maintenance.html")]
struct MaintenancePage {
    chrome: Chrome,
    heading: String,
    list: MaintenanceView,
    fresh: crate::licence_view::FreshnessLine,
    notice: &'static str,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MaintenanceQuery>,
    Query(done): Query<crate::forms::DoneQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = match &*auth.principal {
        Principal::Portal(p) => p
            .section_label(Section::Maintenance)
            .unwrap_or(Section::Maintenance.label())
            .to_owned(),
        Principal::Staff(_) => return Err(WebError::NotFound),
    };
    let filter = query.filter()?;
    let chrome = Chrome::signed_in(&auth, &heading, "/maintenance");
    let mut tx = state.store.scoped(&auth.scope).await?;
    let list = tx.maintenance(company, &filter).await?;
    let freshness = tx
        .connector_freshness(company, Section::Maintenance)
        .await?;
    tx.commit().await?;
    let fresh = crate::licence_view::FreshnessLine::new(
        freshness,
        "/maintenance/refresh",
        &chrome,
        &auth,
        Section::Maintenance,
    );
    Ok(render::ok(&MaintenancePage {
        chrome,
        fresh,
        notice: crate::licence_view::refresh_done(&done.done),
        heading,
        list: MaintenanceView {
            base: "/maintenance".into(),
            edit_base: None,
            asset_base: "/assets".into(),
            list,
            filter,
            zone: auth.principal.zone().clone(),
        },
    }))
}

/// The page's records as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MaintenanceQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let filter = query.filter()?;
    crate::audited::exported(&state, &auth, None, "Maintenance (CSV)", "")?;
    crate::csv_export::maintenance(&state, &auth.scope, company, filter, auth.principal.zone())
        .await
}

/// Asks for the company's patching to be read from its RMM again now (throttled).
pub(crate) async fn refresh(
    State(state): State<AppState>,
    crate::auth::SignedForm { auth, .. }: crate::auth::SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    crate::licence_view::refresh_and_return(
        &state,
        &auth,
        company,
        Section::Maintenance,
        "/maintenance",
    )
    .await
}
