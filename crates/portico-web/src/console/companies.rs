//! Companies: the list and one company with its sites, contacts and recent tickets.

use askama::Template;
use axum::extract::State;
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
}

pub(crate) async fn list(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let companies = tx.companies().await?;
    tx.commit().await?;
    Ok(render::ok(&ListPage {
        chrome: Chrome::signed_in(&auth, "Companies", "/companies"),
        billing: auth.scope.billing(),
        companies,
    }))
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
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let sites = tx.sites(company).await?;
    let contacts = tx.contacts(company).await?;
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
    }))
}
