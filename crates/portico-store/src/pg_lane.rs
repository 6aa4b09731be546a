//! PostgreSQL connections for the lookup every request runs first, a single read in
//! autocommit: the session lookup (a database function that sets its own fence, migration
//! 0025) and the API token lookup (0071).
//!
//! sqlx's pool tests each connection it takes back with a round trip of its own, so that a
//! connection left mid-statement by a cancelled future, or inside a transaction, is caught
//! before it is lent again. A lookup leaves its connection in neither state once it has read
//! its answer, and on a page served from memory that lookup is the request's only statement:
//! the test doubled the request's round trips. Here a connection goes back to the lane only
//! from a lookup that completed; one whose lookup failed or was cancelled is closed instead.
//! A connection the server closed while it sat idle (a restart, `idle_session_timeout`) fails
//! its next lookup, which is then run once more on a new connection.

use std::sync::{Arc, Mutex};

use sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgRow, PgSeverity};
use sqlx::{AssertSqlSafe, ConnectOptions, PgConnection};
use tokio::sync::Semaphore;

use crate::StoreError;
use crate::sql::{Arg, Q};

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Connections for lookups, at most `size` at once. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PgLane {
    inner: Arc<Inner>,
}

struct Inner {
    options: PgConnectOptions,
    idle: Mutex<Vec<PgConnection>>,
    permits: Semaphore,
}

/// A connection lent for one lookup: it goes back to the lane only through [`Lent::give_back`],
/// so a lookup dropped halfway (its request cancelled) closes it.
struct Lent<'a> {
    lane: &'a Inner,
    conn: Option<PgConnection>,
}

impl Lent<'_> {
    fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("lent until given back")
    }

    fn give_back(mut self) {
        if let Some(conn) = self.conn.take() {
            self.lane
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }
}

impl PgLane {
    pub(crate) fn new(options: PgConnectOptions, size: u32) -> PgLane {
        PgLane {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(size.max(1) as usize),
            }),
        }
    }

    /// The first row of `q`, if any.
    pub(crate) async fn optional(&self, q: &Q) -> Result<Option<PgRow>, StoreError> {
        self.run(q, |conn, q| {
            Box::pin(async move { bind(q).fetch_optional(&mut *conn).await })
        })
        .await
    }

    /// Runs `statement` on an idle connection, or a new one; once more on a new connection when
    /// an idle one turns out to be closed.
    /// Only lookups run here, so running one twice changes nothing.
    async fn run<T>(
        &self,
        q: &Q,
        statement: for<'c> fn(&'c mut PgConnection, &'c Q) -> BoxFuture<'c, Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Invalid("the lookup connections are closed".into()))?;
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        if let Some(conn) = idle {
            let mut lent = Lent {
                lane: &self.inner,
                conn: Some(conn),
            };
            match statement(lent.conn(), q).await {
                Ok(answer) => {
                    lent.give_back();
                    return Ok(answer);
                }
                Err(e) if !connection_lost(&e) => return Err(e.into()),
                // The server or the network ended the connection while it was idle.
                Err(_) => {}
            }
        }
        let mut lent = Lent {
            lane: &self.inner,
            conn: Some(self.inner.options.connect().await?),
        };
        let answer = statement(lent.conn(), q).await?;
        lent.give_back();
        Ok(answer)
    }
}

/// Whether `e` says that the connection is gone, rather than that the statement was refused:
/// a failure below the protocol, or the server's last word before it closes (a `FATAL` error,
/// such as `57P01` when an administrator ended the backend or `57P05` after
/// `idle_session_timeout`).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<PgDatabaseError>()
            .is_some_and(|db| matches!(db.severity(), PgSeverity::Fatal | PgSeverity::Panic)),
        _ => true,
    }
}

fn bind(q: &Q) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(q.sql.as_str()));
    for arg in &q.args {
        query = match arg {
            Arg::Text(v) => query.bind(v.as_str()),
            Arg::OptText(v) => query.bind(v.as_deref()),
            Arg::Int(v) => query.bind(*v),
            Arg::OptInt(v) => query.bind(*v),
            Arg::Bool(v) => query.bind(*v),
            Arg::OptBool(v) => query.bind(*v),
            Arg::OptBlob(v) => query.bind(v.as_deref()),
        };
    }
    query
}
