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
    let mut mails = tx.outbox(100).await?;
    tx.commit().await?;
    for mail in &mut mails {
        mail.body = hide_reset_tokens(&mail.body);
    }
    Ok(render::ok(&OutboxPage {
        chrome: Chrome::signed_in(&auth, "Outbox", "/outbox"),
        mails,
    }))
}

/// A password-reset link is for its recipient alone: staff reading the outbox must not be able
/// to take over the account with it. Invitation links stay visible so staff can pass them on
/// until mail delivery is configured.
fn hide_reset_tokens(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("/reset?token=") {
        let (head, tail) = rest.split_at(at + "/reset?token=".len());
        out.push_str(head);
        out.push_str("(hidden: sent to the recipient only)");
        rest = tail.trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn reset_tokens_are_hidden_and_invitation_links_kept() {
        let body =
            "Open http://p.test/reset?token=abc123 now.\nInvite: http://p.test/setup?token=def456";
        let shown = super::hide_reset_tokens(body);
        assert!(!shown.contains("abc123") && shown.contains("reset?token=(hidden"));
        assert!(shown.contains("setup?token=def456"));
    }
}
