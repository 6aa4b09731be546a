//! A company's e-mail domain health (P5) in the console: each domain's last check, the DKIM
//! selectors to check, and a check on request.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId};
use portico_store::scoped::breaches::BreachedAccount;
use portico_store::scoped::domain_health::parse_selectors;

use crate::auth::{Auth, SignedForm};
use crate::domain_view::{DomainView, views};
use crate::error::WebError;
use crate::forms::DoneQuery;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// A refused selectors form: its domain, what was typed, why.
pub(crate) struct SelectorRefusal {
    pub(crate) domain: String,
    pub(crate) value: String,
    pub(crate) message: String,
}

#[derive(Template)]
#[template(path = "console/domain_health.html")]
struct DomainHealthPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    domains: Vec<DomainView>,
    accounts: Vec<BreachedAccount>,
    /// Whether any domain was searched for breaches (a key is set).
    searched: bool,
    breach_alerts_to_admins: bool,
    can_set_selectors: bool,
    can_set_domains: bool,
    notice: &'static str,
    refused: Option<SelectorRefusal>,
}

impl DomainHealthPage {
    fn refused_for(&self, domain: &str) -> Option<&SelectorRefusal> {
        self.refused.as_ref().filter(|r| r.domain == domain)
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let notice = match done.done.as_str() {
        "checking" => "The domains are being checked: reload in a minute.",
        "recent" => "The domains were checked less than a minute ago.",
        "selectors" => "The selectors were saved; the domain is being checked again.",
        "alerts-on" => "The company's client admins will be mailed new breach findings.",
        "alerts-off" => "The company's client admins will no longer be mailed breach findings.",
        _ => "",
    };
    render_page(&state, &auth, company, notice, None).await
}

async fn render_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    notice: &'static str,
    refused: Option<SelectorRefusal>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let health = tx.domain_health(company).await?;
    let accounts = tx.breached_accounts(company).await?;
    let breach_alerts_to_admins = tx.breach_alerts_to_admins(company).await?;
    tx.commit().await?;
    let searched = health
        .iter()
        .any(|h| h.breaches_checked_at.is_some() || !h.breach_error.is_empty());
    let chrome = Chrome::signed_in(
        auth,
        &format!("E-mail domains — {}", summary.name),
        "/companies",
    );
    let page = DomainHealthPage {
        chrome,
        company_id: company,
        company_name: summary.name,
        domains: views(health),
        accounts,
        searched,
        breach_alerts_to_admins,
        can_set_selectors: auth.scope.may(Action::ManageCompanyRecords).is_ok(),
        can_set_domains: auth.scope.may(Action::ManageCompanyDomains).is_ok(),
        notice,
        refused,
    };
    Ok(if page.refused.is_some() {
        render::refused(&page)
    } else {
        render::ok(&page)
    })
}

/// Has the company's domains checked again now (at most once a minute).
pub(crate) async fn check(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: company,
        ..
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let asked = tx.request_domain_check(company).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/domains?done={}",
        if asked { "checking" } else { "recent" }
    )))
}

/// Sets a domain's DKIM selectors.
pub(crate) async fn set_selectors(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let domain = form.get("domain").trim().to_owned();
    let typed = form.get("selectors").to_owned();
    let selectors = match parse_selectors(&typed) {
        Ok(s) => s,
        Err(message) => {
            let refused = SelectorRefusal {
                domain,
                value: typed,
                message,
            };
            return render_page(&state, &auth, company, "", Some(refused)).await;
        }
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_dkim_selectors(company, &domain, &selectors).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/domains?done=selectors"
    )))
}

/// Has the company's client admins mailed new breach findings, or not (on the company's
/// behalf).
pub(crate) async fn breach_alerts(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let on = form.checked("on");
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_breach_alerts_to_admins(company, on).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/domains?done={}",
        if on { "alerts-on" } else { "alerts-off" }
    )))
}
