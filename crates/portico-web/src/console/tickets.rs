//! A ticket as staff see it: public replies and internal notes, clearly told apart.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use portico_core::TicketId;
use portico_store::scoped::tickets::TicketDetail;

use super::path_id;
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage {
    chrome: Chrome,
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
    Ok(render::ok(&TicketPage {
        chrome: Chrome::signed_in(&auth, &detail.ticket.title, "/companies"),
        detail,
    }))
}
