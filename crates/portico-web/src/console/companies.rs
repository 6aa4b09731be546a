//! Companies: the list and one company with its sites, contacts and recent tickets.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId};
use portico_store::scoped::companies::{CompanySummary, Contact, Site};
use portico_store::scoped::tickets::{StatusFilter, TicketQuery, TicketSummary};

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "console/companies.html")]
struct ListPage {
    chrome: Chrome,
    companies: Vec<CompanySummary>,
    billing: bool,
    archived: bool,
    can_add: bool,
    can_import: bool,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    archived: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let archived = query.archived.is_some();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let companies = tx.companies(archived).await?;
    tx.commit().await?;
    let title = if archived {
        "Archived companies"
    } else {
        "Companies"
    };
    Ok(render::ok(&ListPage {
        chrome: Chrome::signed_in(&auth, title, "/companies"),
        billing: auth.scope.billing(),
        archived,
        can_add: auth.scope.may(Action::ManageCompanies).is_ok(),
        can_import: auth.scope.may(Action::ManageCompanyRecords).is_ok(),
        companies,
    }))
}

/// The list as CSV, current or archived companies like the page.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let companies = tx.companies(query.archived.is_some()).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, None, "Companies (CSV)", "")?;
    Ok(crate::csv_export::companies(
        &companies,
        auth.scope.billing(),
    ))
}

#[derive(Template)]
#[template(path = "console/company.html")]
struct DetailPage {
    chrome: Chrome,
    company: CompanySummary,
    sites: Vec<Site>,
    contacts: Vec<Contact>,
    tickets: Vec<TicketSummary>,
    can_view_tickets: bool,
    can_manage_portal: bool,
    can_manage_hours: bool,
    /// Owners and billing staff.
    can_see_invoices: bool,
    can_see_licences: bool,
    can_see_directory: bool,
    can_edit: bool,
    can_edit_records: bool,
    notice: &'static str,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct DetailQuery {
    #[serde(default)]
    done: Option<String>,
}

fn notice(done: Option<&str>) -> &'static str {
    match done {
        Some("added") => "Company added. Add its sites and contacts, then switch its portal on.",
        Some("saved") => "Company saved.",
        Some("archived") => "Company archived: its portal is off and it takes no new work.",
        Some("restored") => "Company restored. Its portal stays off until you switch it on.",
        Some("site-added") => "Site added.",
        Some("site-saved") => "Site saved.",
        Some("site-archived") => "Site archived.",
        Some("site-restored") => "Site restored.",
        Some("contact-added") => "Contact added.",
        Some("contact-saved") => "Contact saved.",
        Some("contact-archived") => "Contact archived.",
        Some("contact-restored") => "Contact restored.",
        _ => "",
    }
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DetailQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let sites = tx.sites_with_archived(company).await?;
    let contacts = tx.contacts_with_archived(company).await?;
    let can_view_tickets = auth.scope.may(Action::ViewTickets).is_ok();
    let tickets = if can_view_tickets {
        tx.tickets(&TicketQuery {
            status: StatusFilter::Open,
            company: Some(company),
            limit: 25,
            offset: 0,
            ..TicketQuery::default()
        })
        .await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(render::ok(&DetailPage {
        chrome: Chrome::signed_in(&auth, &summary.name, "/companies"),
        company: summary,
        sites,
        contacts,
        tickets,
        can_view_tickets,
        can_manage_portal: auth.scope.may(Action::ManagePortalSettings).is_ok(),
        can_manage_hours: auth.scope.may(Action::ManageTicketForm).is_ok(),
        can_see_invoices: auth.scope.may(Action::ViewInvoices).is_ok() && auth.scope.billing(),
        can_see_licences: auth.scope.may(Action::ViewLicences).is_ok(),
        can_see_directory: auth.scope.may(Action::ViewDirectoryUsers).is_ok(),
        can_edit: auth.scope.may(Action::ManageCompanies).is_ok(),
        can_edit_records: auth.scope.may(Action::ManageCompanyRecords).is_ok(),
        notice: notice(query.done.as_deref()),
    }))
}
