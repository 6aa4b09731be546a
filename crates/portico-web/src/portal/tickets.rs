//! P2 Tickets (read-only): the list honouring own-only and site restriction, and one ticket with
//! its public replies. Internal notes never reach the portal: the store does not select them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use portico_core::{Principal, Section, TicketId};
use portico_store::scoped::tickets::{StatusFilter, TicketDetail, TicketQuery, TicketSummary};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::console::path_id;
use crate::error::WebError;
use crate::render::{self, Chrome};

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "portal/tickets.html")]
struct ListPage {
    chrome: Chrome,
    heading: String,
    tickets: Vec<TicketSummary>,
    status: &'static str,
    filters: Vec<(&'static str, &'static str)>,
    page: i64,
    has_next: bool,
}

fn label(auth: &Auth) -> String {
    match &auth.principal {
        Principal::Portal(p) => p
            .section_label(Section::Tickets)
            .unwrap_or("Tickets")
            .to_owned(),
        Principal::Staff(_) => "Tickets".into(),
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let status = if query.status.is_empty() {
        StatusFilter::Open
    } else {
        StatusFilter::parse(&query.status)
            .ok_or_else(|| WebError::BadRequest("Unknown ticket filter.".into()))?
    };
    let page = query.page.unwrap_or(1).clamp(1, 10_000);
    let mut tx = state.store.scoped(&auth.scope).await?;
    let mut tickets = tx
        .tickets(&TicketQuery {
            status,
            company: None,
            limit: PAGE_SIZE + 1,
            offset: (page - 1) * PAGE_SIZE,
        })
        .await?;
    tx.commit().await?;
    let has_next = tickets.len() as i64 > PAGE_SIZE;
    tickets.truncate(PAGE_SIZE as usize);
    let heading = label(&auth);
    Ok(render::ok(&ListPage {
        chrome: Chrome::signed_in(&auth, &heading, "/tickets"),
        heading,
        tickets,
        status: status.as_str(),
        filters: vec![
            ("open", "Open"),
            ("awaiting", "Awaiting you"),
            ("closed", "Closed"),
            ("all", "All"),
        ],
        page,
        has_next,
    }))
}

#[derive(Template)]
#[template(path = "portal/ticket.html")]
struct DetailPage {
    chrome: Chrome,
    heading: String,
    detail: TicketDetail,
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Path(ticket): Path<String>,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let detail = tx.ticket(ticket).await?;
    tx.commit().await?;
    Ok(render::ok(&DetailPage {
        chrome: Chrome::signed_in(&auth, &detail.ticket.title, "/tickets"),
        heading: label(&auth),
        detail,
    }))
}
