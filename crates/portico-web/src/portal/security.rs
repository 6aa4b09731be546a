//! P5 Security: whether the company is protected — a card per protection kind (EDR/MDR, identity
//! threat detection: coverage, open incidents, last activity), the health of its e-mail domains
//! (can mail in its name be forged?) and its open security alerts (Huntress, Microsoft Defender,
//! or pushed by the MSP's tools), read-only: remediation is the MSP's, in its tools.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::PentestId;
use portico_core::Section;
use portico_store::scoped::breaches::BreachedAccount;
use portico_store::scoped::pentests::Pentest;
use portico_store::scoped::protection::ProtectionCard;
use portico_store::scoped::security_alerts::SecurityAlert;

use super::licences::heading;
use super::tickets::acting_company;
use crate::auth::{Auth, SignedForm};
use crate::domain_view::{DomainView, views};
use crate::error::WebError;
use crate::forms::DoneQuery;
use crate::id_path::IdPath;
use crate::licence_view::FreshnessLine;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// Open alerts shown at most; the MSP sees the rest in its tools.
const OPEN_ALERTS_SHOWN: usize = 50;

#[derive(Template)]
#[template(path = "portal/security.html")]
struct SecurityPage {
    chrome: Chrome,
    heading: String,
    cards: Vec<ProtectionCard>,
    pentests: Vec<Pentest>,
    pentest_base: &'static str,
    fresh: FreshnessLine,
    domains: Vec<DomainView>,
    accounts: Vec<BreachedAccount>,
    searched: bool,
    breach_alerts_to_admins: bool,
    alerts: Vec<SecurityAlert>,
    open_alerts: usize,
    notice: &'static str,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth, Section::Security)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let cards = tx.protection_cards(company).await?;
    let pentests = tx.pentests(company).await?;
    let freshness = tx.connector_freshness(company, Section::Security).await?;
    let health = tx.domain_health(company).await?;
    let accounts = tx.breached_accounts(company).await?;
    let breach_alerts_to_admins = tx.breach_alerts_to_admins(company).await?;
    let searched = health.iter().any(|h| h.breaches_checked_at.is_some());
    let alerts: Vec<SecurityAlert> = tx
        .security_alerts(company)
        .await?
        .into_iter()
        .filter(SecurityAlert::is_open)
        .collect();
    tx.commit().await?;
    let chrome = Chrome::signed_in(&auth, &heading, "/protection");
    let notice = match done.done.as_str() {
        "checking" => "Your domains are being checked: reload in a minute.",
        "recent" => "Your domains were checked less than a minute ago.",
        "alerts-on" => "You will be mailed new breach findings.",
        "alerts-off" => "You will no longer be mailed breach findings.",
        other => crate::licence_view::refresh_done(other),
    };
    let fresh = FreshnessLine::new(
        freshness,
        "/protection/refresh",
        &chrome,
        &auth,
        Section::Security,
    );
    Ok(render::ok(&SecurityPage {
        chrome,
        heading,
        cards,
        pentests,
        pentest_base: "/protection/pentests",
        fresh,
        domains: views(health),
        accounts,
        searched,
        breach_alerts_to_admins,
        open_alerts: alerts.len(),
        alerts: alerts.into_iter().take(OPEN_ALERTS_SHOWN).collect(),
        notice,
    }))
}

/// Has the company's domains checked again now (at most once a minute).
pub(crate) async fn check(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let asked = tx.request_domain_check(company).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/protection?done={}",
        if asked { "checking" } else { "recent" }
    )))
}

/// The company's choice: its client admins mailed new breach findings, or not.
pub(crate) async fn breach_alerts(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let on = form.checked("on");
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_breach_alerts_to_admins(company, on).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/protection?done={}",
        if on { "alerts-on" } else { "alerts-off" }
    )))
}

/// Asks for the company's protection and alerts to be read from its tools again now
/// (throttled).
pub(crate) async fn refresh(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    crate::licence_view::refresh_and_return(
        &state,
        &auth,
        company,
        Section::Security,
        "/protection",
    )
    .await
}

/// A published penetration test's report.
pub(crate) async fn pentest_report(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(id): IdPath<PentestId>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    crate::attachments::pentest_report(&state, &auth, company, id).await
}
