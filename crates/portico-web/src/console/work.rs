//! C2 the console's front page for those who answer tickets: their day at a glance — their open
//! tickets, what is late or due soon, new tickets nobody has taken, and what waits on a client.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, Actor};
use portico_store::scoped::tickets::{AssigneeFilter, StatusFilter, TicketQuery, TicketSummary};

use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// Tickets shown in each panel; the panel links to the whole list in the queue.
const PANEL_SIZE: i64 = 8;
/// How far ahead "due soon" looks.
const DUE_SOON_SECS: i64 = 4 * 3600;

pub(crate) struct Panel {
    title: &'static str,
    /// The queue filtered to the same tickets.
    queue: &'static str,
    empty: &'static str,
    tickets: Vec<TicketSummary>,
    /// More than the panel shows.
    more: bool,
}

#[derive(Template)]
#[template(path = "console/work.html")]
struct WorkPage {
    chrome: Chrome,
    name: String,
    panels: Vec<Panel>,
}

pub(crate) async fn home(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    // Sales and billing staff answer no tickets: their front page is the company list.
    let (Ok(()), Actor::Staff(me)) = (auth.scope.may(Action::WorkTickets), auth.scope.actor())
    else {
        return Ok(see_other("/companies"));
    };
    let mut tx = state.store.scoped(&auth.scope).await?;
    let mut panels = Vec::new();
    for (title, queue, empty, query) in [
        (
            "Assigned to me",
            "/tickets?assignee=me",
            "Nothing open is assigned to you.",
            TicketQuery {
                status: StatusFilter::Open,
                assignee: AssigneeFilter::Is(me),
                ..TicketQuery::default()
            },
        ),
        (
            "Late or due within 4 hours",
            "/tickets?sla=breached",
            "Nothing is late or due soon.",
            TicketQuery {
                status: StatusFilter::Open,
                sla_breached: true,
                sla_horizon_secs: DUE_SOON_SECS,
                ..TicketQuery::default()
            },
        ),
        (
            "New and unassigned",
            "/tickets?status=new&assignee=unassigned",
            "Every new ticket has been taken.",
            TicketQuery {
                status: StatusFilter::New,
                assignee: AssigneeFilter::Unassigned,
                ..TicketQuery::default()
            },
        ),
        (
            "Waiting on the client",
            "/tickets?status=awaiting&assignee=me",
            "None of your tickets waits on a client.",
            TicketQuery {
                status: StatusFilter::AwaitingClient,
                assignee: AssigneeFilter::Is(me),
                ..TicketQuery::default()
            },
        ),
    ] {
        let mut tickets = tx
            .tickets(&TicketQuery {
                limit: PANEL_SIZE + 1,
                ..query
            })
            .await?;
        let more = tickets.len() as i64 > PANEL_SIZE;
        tickets.truncate(PANEL_SIZE as usize);
        panels.push(Panel {
            title,
            queue,
            empty,
            tickets,
            more,
        });
    }
    tx.commit().await?;
    Ok(render::ok(&WorkPage {
        chrome: Chrome::signed_in(&auth, "My work", "/"),
        name: auth.principal.display_name().to_owned(),
        panels,
    }))
}
