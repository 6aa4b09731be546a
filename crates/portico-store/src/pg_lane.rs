//! PostgreSQL connections for the lookup every request runs first, a single read in
//! autocommit: the session lookup and the API token lookup.
//!
//! A lookup reads under the sign-in fence (the workspace, every company, the `auth` surface),
//! which a lane connection keeps as settings of its own session: it runs these lookups and
//! nothing else, so the fence is set once per connection (and again only when a lookup of
//! another workspace takes it), and a lookup is one plain statement. Before, each lookup was a
//! database function that set the fence for its own transaction (migrations 0025, 0071):
//! PL/pgSQL's call and the settings cost a third of the lookup inside the server.
//!
//! sqlx's pool tests each connection it takes back with a round trip of its own, so that a
//! connection left mid-statement by a cancelled future, or inside a transaction, is caught
//! before it is lent again. The test runs after the caller has moved on, but it is one more
//! wake-up of the server's process and keeps the connection from the next request meanwhile;
//! on a page served from memory the lookup is the request's only statement, so the tests were
//! half of its round trips. A lookup leaves its connection in neither state once it has read
//! its answer (its transaction ends with it). So here a connection goes back at once from a
//! lookup that completed; one whose lookup was cancelled or refused by the server is first
//! drained (what is left of its answer read, up to the server's ReadyForQuery) in a task of its
//! own, and closed only when that fails; one that failed in its transport is closed ([`InUse`]).
//! As in the pool, a connection idle for a while is tested before it is used, and one the server
//! closed meanwhile (a restart, `idle_session_timeout`) is replaced: its lookup runs once more
//! on a new connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::StoreError;
use crate::sql::{DbRow, Q, RowRef};

/// How long a lookup may wait for a connection and run, as long as the pool waits to lend one.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection idle for longer is tested (a round trip) before its next lookup.
const TEST_AFTER_IDLE: Duration = Duration::from_secs(5);
/// How long a connection left mid-lookup may take to finish its answer before it is closed.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);
/// A connection older than this is closed rather than used again (sqlx's pool default), so
/// that none outlives a change of the server behind its address for long.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Connections for lookups, at most `size` at once. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PgLane {
    inner: Arc<Inner>,
}

struct Inner {
    options: PgConnectOptions,
    idle: Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
}

struct Idle {
    conn: PgConnection,
    /// The workspace whose sign-in fence the connection's session holds.
    workspace: String,
    opened: Instant,
    since: Instant,
}

impl PgLane {
    pub(crate) fn new(options: PgConnectOptions, size: u32) -> PgLane {
        PgLane {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(size.max(1) as usize)),
            }),
        }
    }

    /// The first row of `q`, read under the sign-in fence of `workspace` (which `q` must
    /// also write itself, as every query of the store does), if any. `q` must only read and
    /// set nothing: it may run twice, and its connection serves the next lookup as it is.
    pub(crate) async fn optional<T: DbRow>(
        &self,
        workspace: &str,
        q: &Q,
    ) -> Result<Option<T>, StoreError> {
        let row = tokio::time::timeout(LOOKUP_TIMEOUT, Inner::run(&self.inner, workspace, q))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        row.as_ref().map(|r| T::decode(&RowRef::Pg(r))).transpose()
    }
}

impl Inner {
    async fn run(
        this: &Arc<Inner>,
        workspace: &str,
        q: &Q,
    ) -> Result<Option<sqlx::postgres::PgRow>, sqlx::Error> {
        let mut permit = Arc::clone(&this.permits)
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let kept = {
            let mut idle = this.idle.lock().unwrap_or_else(|e| e.into_inner());
            // Those past their lifetime are closed wherever they are in the list.
            idle.retain(|k| k.opened.elapsed() < MAX_LIFETIME);
            // The last used of those fenced for this workspace, else the last used.
            match idle.iter().rposition(|k| k.workspace == workspace) {
                Some(at) => Some(idle.remove(at)),
                None => idle.pop(),
            }
        };
        if let Some(Idle {
            conn,
            workspace: fenced_for,
            opened,
            since,
        }) = kept
        {
            let mut in_use = InUse::new(this, conn, opened, permit);
            let answer = async {
                let conn = in_use.conn();
                if since.elapsed() >= TEST_AFTER_IDLE {
                    conn.ping().await?;
                }
                if fenced_for != workspace {
                    fence(conn, workspace).await?;
                }
                crate::sql::pg_query(q).fetch_optional(conn).await
            }
            .await;
            match answer {
                Ok(row) => {
                    in_use.give_back(workspace);
                    return Ok(row);
                }
                Err(e) if !crate::sql::connection_lost(&e) => {
                    in_use.failed(&e);
                    return Err(e);
                }
                // The server or the network ended the connection while it was idle.
                Err(_) => permit = in_use.close(),
            }
        }
        let conn = this.connect().await?;
        let mut in_use = InUse::new(this, conn, Instant::now(), permit);
        let answer = async {
            fence(in_use.conn(), workspace).await?;
            crate::sql::pg_query(q).fetch_optional(in_use.conn()).await
        }
        .await;
        match answer {
            Ok(row) => {
                in_use.give_back(workspace);
                Ok(row)
            }
            Err(e) => {
                in_use.failed(&e);
                Err(e)
            }
        }
    }

    fn give_back(&self, conn: PgConnection, workspace: &str, opened: Instant) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Idle {
                conn,
                workspace: workspace.to_owned(),
                opened,
                since: Instant::now(),
            });
    }

    /// A new connection; while the server cannot take one yet (restarting, refusing, at its
    /// connection limit), tried again with a growing pause, as the pool does, until the
    /// lookup's time runs out.
    async fn connect(&self) -> Result<PgConnection, sqlx::Error> {
        let mut pause = Duration::from_millis(10);
        loop {
            match self.options.connect().await {
                Err(e) if not_ready(&e) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }
}

/// A lane connection lent to one lookup, with the lookup's permit.
///
/// Dropped before the lookup has read its answer (the request was cancelled: its client went
/// away, a load generator stopped) or after the server refused a statement, the connection may
/// be mid-statement. Closing it cost a new server process and the first plans it then makes,
/// and a burst of them, as when many clients leave at once, fell on the requests just after; so
/// it is drained in a task of its own (sqlx's ping reads up to the server's ReadyForQuery, as its pool does
/// for every connection it takes back) and kept, or closed when that fails within
/// [`DRAIN_TIMEOUT`]. Whether its fence statement ran is not known then, so it is kept as
/// fenced for no workspace: its next lookup sets the fence first. The permit is held until
/// then, so the lane never has more than its size.
struct InUse {
    conn: Option<PgConnection>,
    opened: Instant,
    permit: Option<OwnedSemaphorePermit>,
    lane: Arc<Inner>,
}

impl InUse {
    fn new(
        lane: &Arc<Inner>,
        conn: PgConnection,
        opened: Instant,
        permit: OwnedSemaphorePermit,
    ) -> InUse {
        InUse {
            conn: Some(conn),
            opened,
            permit: Some(permit),
            lane: Arc::clone(lane),
        }
    }

    fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("a connection until given back")
    }

    /// Keeps the connection, which answered, as fenced for `workspace`.
    fn give_back(mut self, workspace: &str) {
        if let Some(conn) = self.conn.take() {
            self.lane.give_back(conn, workspace, self.opened);
        }
    }

    /// After a failed statement: a connection the server refused a statement on is sound, and
    /// is drained and kept (dropped, below); after any other failure (its transport, the
    /// protocol) it may be out of step with the server, and is closed.
    fn failed(self, e: &sqlx::Error) {
        if !matches!(e, sqlx::Error::Database(_)) {
            drop(self.close());
        }
    }

    /// Closes the connection, which the server or the network ended, and hands back the
    /// permit for another.
    fn close(mut self) -> OwnedSemaphorePermit {
        drop(self.conn.take());
        self.permit.take().expect("a permit until given back")
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        let (Some(mut conn), Some(permit)) = (self.conn.take(), self.permit.take()) else {
            return;
        };
        // Without a runtime (the process is ending) `conn` is closed here.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (lane, opened) = (Arc::clone(&self.lane), self.opened);
        runtime.spawn(async move {
            if let Ok(Ok(())) = tokio::time::timeout(DRAIN_TIMEOUT, conn.ping()).await {
                lane.give_back(conn, "", opened);
            }
            drop(permit);
        });
    }
}

/// Sets the sign-in fence of `workspace` on `conn` for the rest of its session.
async fn fence(conn: &mut PgConnection, workspace: &str) -> Result<(), sqlx::Error> {
    let fence = crate::sql::Fence::auth(workspace.to_owned());
    crate::sql::pg_query(&crate::sql::fence_query(&fence, true))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Whether a failed connection attempt may succeed soon: refused or ended while the server
/// restarts (as a connection lost), starting up (`57P03`), or at its connection limit
/// (`53300`). A wrong password or a missing database is not retried.
pub(crate) fn not_ready(e: &sqlx::Error) -> bool {
    crate::sql::connection_lost(e)
        || match e {
            // A Unix socket's file is absent while the server restarts.
            sqlx::Error::Io(io) => matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            ),
            sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57P03" | "53300")),
            _ => false,
        }
}
