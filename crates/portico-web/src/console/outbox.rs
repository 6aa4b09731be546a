//! The outbox: every e-mail the workspace has queued.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_store::scoped::outbox::OutboxMail;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "console/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    mails: Vec<OutboxMail>,
}

pub(crate) async fn list(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let mails = tx.outbox(100).await?;
    tx.commit().await?;
    Ok(render::ok(&OutboxPage {
        chrome: Chrome::signed_in(&auth, "Outbox", "/outbox"),
        mails,
    }))
}
