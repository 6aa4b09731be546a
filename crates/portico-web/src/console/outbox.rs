//! The outbox: every e-mail the workspace has queued.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_store::scoped::outbox::{MAIL_STATES, OutboxMail, OutboxQuery};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "console/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    mails: Vec<OutboxMail>,
    search: String,
    state: String,
    states: &'static [&'static str],
    /// The query string of the next (older) page, when there may be one.
    older: Option<String>,
    /// Whether this page is a later one (a link back to the newest).
    paged: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct OutboxParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    /// `<created_at>.<id>` of the last mail of the previous page.
    #[serde(default)]
    before: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(params): Query<OutboxParams>,
) -> Result<Response, WebError> {
    let before = params
        .before
        .split_once('.')
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())));
    let filter = OutboxQuery {
        search: params.q.chars().take(200).collect(),
        state: MAIL_STATES
            .iter()
            .find(|s| **s == params.state)
            .map(|s| (*s).to_owned()),
        before,
        limit: PAGE,
    };
    let mut tx = state.store.scoped(&auth.scope).await?;
    let mut mails = tx.outbox(&filter).await?;
    tx.commit().await?;
    for mail in &mut mails {
        mail.body = hide_reset_tokens(&mail.body);
    }
    let older = match mails.last() {
        Some(last) if mails.len() as i64 == PAGE => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            if !filter.search.is_empty() {
                query.append_pair("q", &filter.search);
            }
            if let Some(state) = &filter.state {
                query.append_pair("state", state);
            }
            query.append_pair("before", &format!("{}.{}", last.created_at, last.id));
            Some(query.finish())
        }
        _ => None,
    };
    Ok(render::ok(&OutboxPage {
        chrome: Chrome::signed_in(&auth, "Outbox", "/settings"),
        mails,
        search: filter.search,
        state: filter.state.unwrap_or_default(),
        states: MAIL_STATES,
        older,
        paged: filter.before.is_some(),
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
