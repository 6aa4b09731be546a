//! P11 Licences & renewals: the company's subscribed products as the connector last read them —
//! purchased, assigned, unused, renewal dates, and the cost per user for billing readers only
//! (the store leaves it out for everyone else) — with "updated … · Refresh".

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Principal, Section};
use portico_store::scoped::licences::LicenceSummary;

use super::tickets::acting_company;
use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::DoneQuery;
use crate::licence_view::{FreshnessLine, refresh_done, refresh_notice};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

pub(crate) fn heading(auth: &Auth, section: Section) -> Result<String, WebError> {
    match &*auth.principal {
        Principal::Portal(p) => Ok(p
            .section_label(section)
            .unwrap_or(section.label())
            .to_owned()),
        Principal::Staff(_) => Err(WebError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "portal/licences.html")]
struct LicencesPage {
    chrome: Chrome,
    heading: String,
    company_name: String,
    summary: LicenceSummary,
    fresh: FreshnessLine,
    today: String,
    base: String,
    csrf: String,
    can_edit_renewals: bool,
    can_price: bool,
    default_currency: String,
    notice: &'static str,
    /// The portal has no inline forms; the shared template asks.
    refused: Option<crate::licence_view::RowRefusal>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth, Section::Licences)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.licences(company).await?;
    let freshness = tx.connector_freshness(company, Section::Licences).await?;
    tx.commit().await?;
    let chrome = Chrome::signed_in(&auth, &heading, "/licences");
    Ok(render::ok(&LicencesPage {
        fresh: FreshnessLine::new(
            freshness,
            "/licences/refresh",
            &chrome,
            &auth,
            Section::Licences,
        ),
        today: chrome
            .zone
            .date_after(portico_store::now(), 0)
            .unwrap_or_default(),
        csrf: chrome.csrf.clone(),
        company_name: chrome.company_name.clone(),
        chrome,
        heading,
        summary,
        base: "/licences".into(),
        can_edit_renewals: false,
        can_price: false,
        default_currency: String::new(),
        notice: refresh_done(&done.done),
        refused: None,
    }))
}

pub(crate) async fn refresh(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let outcome = tx
        .refresh_connector_data(company, Section::Licences)
        .await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/licences?done={}",
        refresh_notice(outcome)
    )))
}
