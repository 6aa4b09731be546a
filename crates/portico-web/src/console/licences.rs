//! A company's Licences (P11) and directory users (P19) in the console: what the connector
//! read, with its freshness, renewal dates staff know, and the MSP's price per product for
//! those who bill.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use portico_core::{Action, CompanyId, Section};
use portico_store::StoreError;
use portico_store::scoped::licences::{DirectoryPage, DirectoryShow, LicenceSummary};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::DoneQuery;
use crate::id_path::IdPath;
use crate::licence_view::{FreshnessLine, RowRefusal, refresh_done, refresh_notice};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/licences.html")]
struct LicencesPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    summary: LicenceSummary,
    fresh: FreshnessLine,
    today: String,
    base: String,
    csrf: String,
    can_edit_renewals: bool,
    can_price: bool,
    default_currency: String,
    notice: String,
    refused: Option<RowRefusal>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let notice = match done.done.as_str() {
        "renewal" => "The renewal date was saved.",
        "price" => "The price was saved: it applies to this product for every company.",
        other => refresh_done(other),
    };
    licences_page(&state, &auth, company, notice, None).await
}

/// The Licences page; with `refused`, the refused row's form open again with what was typed
/// (422).
async fn licences_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    notice: &str,
    refused: Option<RowRefusal>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary_of_company = tx.company(company).await?;
    let summary = tx.licences(company).await?;
    let freshness = tx.connector_freshness(company, Section::Licences).await?;
    tx.commit().await?;
    let title = format!("Licences — {}", summary_of_company.name);
    let chrome = Chrome::signed_in(auth, &title, "/companies");
    let base = format!("/companies/{company}/licences");
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render::page(
        status,
        &LicencesPage {
            fresh: FreshnessLine::new(
                freshness,
                format!("{base}/refresh"),
                &chrome,
                auth,
                Section::Licences,
            ),
            today: chrome
                .zone
                .date_after(portico_store::now(), 0)
                .unwrap_or_default(),
            csrf: chrome.csrf.clone(),
            chrome,
            company_id: company,
            default_currency: summary_of_company
                .billing
                .as_ref()
                .map(|b| b.currency.clone())
                .unwrap_or_else(|| "USD".into()),
            company_name: summary_of_company.name,
            summary,
            base,
            can_edit_renewals: auth.scope.may(Action::ManageCompanyRecords).is_ok(),
            can_price: auth.scope.may(Action::ManageInvoices).is_ok(),
            notice: notice.to_owned(),
            refused,
        },
    ))
}

pub(crate) async fn renewal(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.company(company).await?;
    let saved = tx
        .set_licence_renewal(
            company,
            form.get("tenant"),
            form.get("sku"),
            form.get("renews_on"),
        )
        .await;
    if let Err(StoreError::InvalidFields(fields)) = saved {
        drop(tx);
        let refused = RowRefusal {
            form: "renewal",
            row: format!("{} {}", form.get("tenant"), form.get("sku")),
            message: first_message(fields),
            value: form.get("renews_on").to_owned(),
            currency: String::new(),
        };
        return licences_page(&state, &auth, company, "", Some(refused)).await;
    }
    saved?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/licences?done=renewal"
    )))
}

pub(crate) async fn price(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    // The company is checked first: a price is set from a company's page the reader sees.
    tx.company(company).await?;
    let saved = tx
        .set_licence_price(form.get("sku"), form.get("price"), form.get("currency"))
        .await;
    if let Err(StoreError::InvalidFields(fields)) = saved {
        drop(tx);
        let refused = RowRefusal {
            form: "price",
            row: form.get("sku").to_owned(),
            message: first_message(fields),
            value: form.get("price").to_owned(),
            currency: form.get("currency").to_owned(),
        };
        return licences_page(&state, &auth, company, "", Some(refused)).await;
    }
    saved?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/licences?done=price"
    )))
}

/// A refusal's reasons as one sentence for an inline form (each names its field's fix).
fn first_message(fields: Vec<(String, String)>) -> String {
    fields
        .into_iter()
        .map(|(_, message)| message)
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) async fn refresh(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: company,
        ..
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    refresh_company(&state, &auth, company, Section::Licences, "licences").await
}

/// Asks for `company`'s records of `section` to be read again now, then back to its `page`
/// (the console's Refresh on each connector-fed page).
pub(crate) async fn refresh_company(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    section: Section,
    page: &str,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.company(company).await?;
    let outcome = tx.refresh_connector_data(company, section).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/{page}?done={}",
        refresh_notice(outcome)
    )))
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct DirectoryQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub show: String,
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub done: String,
}

impl DirectoryQuery {
    pub(crate) fn show(&self) -> DirectoryShow {
        DirectoryShow::parse(&self.show).unwrap_or_default()
    }

    pub(crate) fn after(&self) -> Option<&str> {
        Some(self.after.trim()).filter(|a| !a.is_empty() && a.len() <= 100)
    }
}

#[derive(Template)]
#[template(path = "console/directory.html")]
struct DirectoryUsersPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    page: DirectoryPage,
    fresh: FreshnessLine,
    base: String,
    q: String,
    show: DirectoryShow,
    shows: &'static [DirectoryShow],
    zone: portico_core::Zone,
    request_base: Option<String>,
    next_href: Option<String>,
    notice: &'static str,
}

pub(crate) async fn directory(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DirectoryQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let page = tx
        .directory_users(
            company,
            query.show(),
            &query.q,
            query.after(),
            portico_store::scoped::licences::DIRECTORY_PAGE,
        )
        .await?;
    let freshness = tx.connector_freshness(company, Section::Users).await?;
    tx.commit().await?;
    let title = format!("Microsoft 365 users — {}", summary.name);
    let chrome = Chrome::signed_in(&auth, &title, "/companies");
    let base = format!("/companies/{company}/directory");
    let next_href = crate::licence_view::next_directory_page(&base, query.show(), &query.q, &page);
    Ok(render::ok(&DirectoryUsersPage {
        next_href,
        fresh: FreshnessLine::new(
            freshness,
            format!("{base}/refresh"),
            &chrome,
            &auth,
            Section::Users,
        ),
        zone: chrome.zone.clone(),
        chrome,
        company_id: company,
        company_name: summary.name,
        page,
        base,
        show: query.show(),
        q: query.q.clone(),
        shows: DirectoryShow::ALL,
        request_base: None,
        notice: refresh_done(&query.done),
    }))
}

pub(crate) async fn directory_refresh(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: company,
        ..
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    refresh_company(&state, &auth, company, Section::Users, "directory").await
}

#[derive(Template)]
#[template(path = "console/security_alerts.html")]
struct SecurityAlertsPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    alerts: Vec<portico_store::scoped::security_alerts::SecurityAlert>,
    cards: Vec<portico_store::scoped::protection::ProtectionCard>,
    pentests: Vec<portico_store::scoped::pentests::Pentest>,
    pentest_base: String,
    fresh: FreshnessLine,
    notice: &'static str,
}

/// A company's protection (coverage, open incidents per kind) and security alerts as its
/// connectors last read them (Huntress, Microsoft Defender) or its tools pushed them.
pub(crate) async fn security_alerts(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let alerts = tx.security_alerts(company).await?;
    let cards = tx.protection_cards(company).await?;
    let pentests = tx.pentests(company).await?;
    let freshness = tx.connector_freshness(company, Section::Security).await?;
    tx.commit().await?;
    let title = format!("Security — {}", summary.name);
    let chrome = Chrome::signed_in(&auth, &title, "/companies");
    Ok(render::ok(&SecurityAlertsPage {
        fresh: FreshnessLine::new(
            freshness,
            format!("/companies/{company}/security/refresh"),
            &chrome,
            &auth,
            Section::Security,
        ),
        chrome,
        company_id: company,
        company_name: summary.name,
        alerts,
        cards,
        pentests,
        pentest_base: format!("/companies/{company}/pentests"),
        notice: refresh_done(&done.done),
    }))
}

/// Asks for a company's protection and alerts to be read again now (the console's Refresh).
pub(crate) async fn security_refresh(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: company,
        ..
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    refresh_company(&state, &auth, company, Section::Security, "security").await
}
