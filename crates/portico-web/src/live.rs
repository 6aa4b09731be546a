//! Live portal pages over server-sent events. A stream is opened for one ticket or for the
//! ticket list and says `changed` when what that page shows has changed; the page then fetches
//! itself again (see `static/app.js`). Without JavaScript a reload shows the same.
//!
//! Each tick re-reads the session and rebuilds the scope, so a stream is fenced exactly like the
//! page and ends (`ended`) when the session does, or when the ticket leaves the reader's scope.
//! It polls the database rather than listening to this process's writes, so it sees changes
//! made through any instance behind a load balancer.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use portico_core::{Scope, TicketId};
use portico_store::StoreError;

use crate::AppState;
use crate::auth::Auth;
use crate::console::path_id;
use crate::error::WebError;

#[derive(Clone, Copy)]
enum Watch {
    Ticket(TicketId),
    List,
}

/// What the watched page shows, reduced to something comparable.
async fn stamp(state: &AppState, scope: &Scope, watch: Watch) -> Result<String, StoreError> {
    let mut tx = state.store.scoped(scope).await?;
    let stamp = match watch {
        Watch::Ticket(id) => tx.ticket_stamp(id).await?,
        Watch::List => tx.tickets_stamp().await?,
    };
    tx.commit().await?;
    Ok(stamp)
}

struct Watcher {
    state: AppState,
    auth: Auth,
    watch: Watch,
    last: String,
    ended: bool,
}

impl Watcher {
    /// Waits for the next change, or for the end of the session or of visibility.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Watcher)> {
        if self.ended {
            return None;
        }
        loop {
            tokio::time::sleep(self.state.config.live_poll).await;
            let current = match crate::auth::current_scope(&self.state, &self.auth).await {
                Ok(Some(scope)) => stamp(&self.state, &scope, self.watch).await.ok(),
                Ok(None) | Err(_) => None,
            };
            let Some(current) = current else {
                self.ended = true;
                let ended = Event::default()
                    .event("ended")
                    .data("signed out or no longer visible");
                return Some((Ok(ended), self));
            };
            if current != self.last {
                self.last = current;
                return Some((Ok(Event::default().event("changed").data("")), self));
            }
        }
    }
}

async fn open(state: AppState, auth: Auth, watch: Watch) -> Result<Response, WebError> {
    // Opening answers like the page: 404 for what the reader may not see.
    let last = stamp(&state, &auth.scope, watch).await?;
    let watcher = Watcher {
        state,
        auth,
        watch,
        last,
        ended: false,
    };
    let events: std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>> =
        Box::pin(stream::unfold(watcher, Watcher::next));
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

pub(crate) async fn ticket_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(ticket): Path<String>,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    open(state, auth, Watch::Ticket(ticket)).await
}

pub(crate) async fn list_events(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    open(state, auth, Watch::List).await
}
