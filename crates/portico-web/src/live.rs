//! Live pages over server-sent events, on both surfaces. A stream is opened for one ticket or
//! for the ticket list (the portal's list, the desk's queue and work view) and says `changed`
//! when what that page shows has changed; the page then fetches itself again (see
//! `static/app.js`). Without JavaScript a reload shows the same.
//!
//! Each tick re-reads the session and rebuilds the scope, so a stream is fenced exactly like the
//! page and ends (`ended`) when the session does, or when the ticket leaves the reader's scope.
//! It polls the database rather than listening to this process's writes, so it sees changes
//! made through any instance behind a load balancer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use portico_core::{Scope, TicketId};
use portico_store::StoreError;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::id_path::IdPath;

/// Live streams one session may hold open at once (tabs); more are refused with 429.
const MAX_STREAMS_PER_SESSION: usize = 8;

/// Open streams per session, in this instance.
#[derive(Clone, Default)]
pub(crate) struct StreamCounts(Arc<Mutex<HashMap<String, usize>>>);

/// One counted stream; dropping it (the client went away, or the stream ended) frees its slot.
struct StreamSlot {
    counts: StreamCounts,
    session: String,
}

impl StreamCounts {
    fn take(&self, session: &str) -> Option<StreamSlot> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let open = map.entry(session.to_owned()).or_insert(0);
        if *open >= MAX_STREAMS_PER_SESSION {
            return None;
        }
        *open += 1;
        Some(StreamSlot {
            counts: self.clone(),
            session: session.to_owned(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut map = self.counts.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = map.get_mut(&self.session) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                map.remove(&self.session);
            }
        }
    }
}

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
    _slot: StreamSlot,
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
                // Browsers drop an event without data, so it carries one.
                return Some((Ok(Event::default().event("changed").data("1")), self));
            }
        }
    }
}

async fn open(state: AppState, auth: Auth, watch: Watch) -> Result<Response, WebError> {
    // Opening answers like the page: 404 for what the reader may not see.
    let last = stamp(&state, &auth.scope, watch).await?;
    let Some(slot) = state.live_streams.take(&auth.id_hash) else {
        return Ok((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "Too many live pages are open in this session.",
        )
            .into_response());
    };
    let watcher = Watcher {
        _slot: slot,
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
    IdPath(ticket): IdPath<TicketId>,
) -> Result<Response, WebError> {
    open(state, auth, Watch::Ticket(ticket)).await
}

pub(crate) async fn list_events(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    open(state, auth, Watch::List).await
}
