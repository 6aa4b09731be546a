//! PostgreSQL read-only transactions (a page's reads) that end without a round trip of their
//! own.
//!
//! A read-only transaction ends alike by COMMIT or ROLLBACK, and nothing waits for either. In
//! sqlx's pool it cost a round trip all the same: the ROLLBACK a dropped transaction queues
//! travels with the test the pool runs on every connection it takes back, one more wake-up of
//! the server's process per page. Here a read-only transaction's connection, lent by the pool
//! like any other, is kept aside still inside its transaction when the transaction ends, and
//! the next read-only transaction takes it first and sends the ROLLBACK in one message with its
//! own `BEGIN` and fence. Kept aside, a connection still counts against the pool's size, so the
//! lane holds at most half the pool's connections, in use or kept: kept connections pass by
//! whoever waits on the pool, and the other half serves them (writes, and read-only
//! transactions begun while the lane holds its share, which are the pool's as before).
//!
//! Between the two it sits idle in a read-only transaction: it holds no transaction id and
//! writes nothing, but it keeps its snapshot (REPEATABLE READ) and the share locks of the tables
//! it read, which would hold up a schema change (and the readers queued behind it), and the pool
//! cannot lend it to a writer. So a connection kept for longer than [`ROLLBACK_AFTER`] is rolled
//! back by the sweeper within [`SWEEP_EVERY`] more and given back to the pool (or closed, when it
//! does not answer within a second). Should the server end one first
//! (`idle_in_transaction_session_timeout`), its next use fails at its `BEGIN`, which then runs on
//! another connection.
//!
//! A connection that may be inside such a transaction never goes back to the pool as it is: the
//! pool would lend it to a writer inside a read-only transaction. One whose statement was
//! cancelled midway (its future dropped) is drained and rolled back first ([`recover`]); one
//! whose transport failed, or whose ROLLBACK did not answer, is closed instead (the server logs
//! the end of its open transaction).

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::StoreError;
use crate::sql::Q;

/// A connection kept inside its transaction for longer is rolled back by the sweeper.
const ROLLBACK_AFTER: Duration = Duration::from_millis(100);
/// How often the sweeper looks.
const SWEEP_EVERY: Duration = Duration::from_millis(100);
/// How long the sweeper waits for a ROLLBACK before it closes the connection instead.
const ROLLBACK_TIMEOUT: Duration = Duration::from_secs(1);

/// The connections kept inside their read-only transactions, taken from and given back to
/// `pool`. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ReadLane {
    inner: Arc<Inner>,
}

struct Inner {
    pool: sqlx::PgPool,
    /// Each inside the read-only transaction its last use began.
    kept: Mutex<Vec<Kept>>,
    /// How many of the pool's connections the lane may hold, in use or kept: half, so that the
    /// pool always has the other half for writes and for those who wait on it, whom kept
    /// connections would pass by.
    permits: Arc<Semaphore>,
}

struct Kept {
    conn: Held,
    since: Instant,
    permit: OwnedSemaphorePermit,
}

/// A pooled connection that may be inside a read-only transaction: dropped, it is closed
/// rather than given back to the pool.
struct Held(Option<PoolConnection<Postgres>>);

impl Held {
    fn conn(&mut self) -> &mut PgConnection {
        self.0.as_mut().expect("a held connection until released")
    }

    /// Gives the connection back to the pool: only once its transaction has ended.
    fn release(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            // Detached from the pool, which may then open another; dropped, its socket closes.
            drop(conn.detach());
        }
    }
}

impl ReadLane {
    /// The lane of `pool`; its sweeper runs on the current Tokio runtime for as long as the
    /// lane exists.
    pub(crate) fn new(pool: sqlx::PgPool) -> ReadLane {
        let share = (pool.options().get_max_connections() / 2).max(1) as usize;
        let inner = Arc::new(Inner {
            pool,
            kept: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(share)),
        });
        tokio::spawn(sweep(Arc::downgrade(&inner)));
        ReadLane { inner }
    }

    /// Begins a read-only transaction with `begin`, a simple query of transaction control and
    /// settings only (`BEGIN …; SELECT set_config(…, true)`), which may run twice.
    pub(crate) async fn begin(&self, begin: &str) -> Result<ReadTx, StoreError> {
        while let Some(mut kept) = self.inner.take_kept() {
            // On any error the connection is closed (`Held`) and the statement runs on the next:
            // one the server ended while it was kept fails here, and a statement refused for
            // itself is refused again on a connection from the pool below.
            if sqlx::raw_sql(AssertSqlSafe(format!("ROLLBACK; {begin}")))
                .execute(kept.conn.conn())
                .await
                .is_ok()
            {
                return Ok(self.tx(kept.conn, kept.permit));
            }
        }
        let pool = &self.inner.pool;
        // While the lane holds its share, the transaction is an ordinary one of the pool's, which
        // sqlx rolls back when it takes the connection back.
        let Ok(permit) = Arc::clone(&self.inner.permits).try_acquire_owned() else {
            let tx = crate::sql::begin_with(pool, begin).await?;
            return Ok(ReadTx(Kind::Pooled(tx)));
        };
        // A connection the pool lends untested may turn out closed: then on another (one that
        // failed is closed, `Held`).
        let conn = crate::sql::again_if_lost(pool, || {
            Box::pin(async {
                let mut conn = Held(Some(pool.acquire().await?));
                sqlx::raw_sql(AssertSqlSafe(begin.to_owned()))
                    .execute(conn.conn())
                    .await?;
                Ok(conn)
            })
        })
        .await?;
        Ok(self.tx(conn, permit))
    }

    fn tx(&self, conn: Held, permit: OwnedSemaphorePermit) -> ReadTx {
        ReadTx(Kind::Kept(KeptTx {
            conn: Some(conn),
            permit: Some(permit),
            lane: Arc::clone(&self.inner),
            state: State::Answered,
        }))
    }
}

/// A read-only transaction. It ends when dropped: its connection is kept inside it for the
/// next (see the module's comment), or, begun in the pool, sqlx rolls it back.
pub(crate) struct ReadTx(Kind);

enum Kind {
    Kept(KeptTx),
    Pooled(Transaction<'static, Postgres>),
}

struct KeptTx {
    conn: Option<Held>,
    permit: Option<OwnedSemaphorePermit>,
    lane: Arc<Inner>,
    state: State,
}

/// Where a kept transaction's connection stands with the server.
#[derive(Clone, Copy, PartialEq)]
enum State {
    /// Its last statement answered, or the server refused it (the transaction is then
    /// aborted, which the next use's ROLLBACK ends): fit for another transaction.
    Answered,
    /// A statement runs: a future dropped now (a cancelled request) leaves the connection
    /// mid-statement, to be drained ([`recover`]).
    Running,
    /// A statement failed in its transport or its protocol: the connection may be out of step
    /// with the server, and is closed.
    Broken,
}

impl ReadTx {
    pub(crate) async fn all(&mut self, q: &Q) -> Result<Vec<PgRow>, sqlx::Error> {
        let query = crate::sql::pg_query(q);
        match &mut self.0 {
            Kind::Pooled(tx) => Box::pin(query.fetch_all(&mut **tx)).await,
            Kind::Kept(kept) => {
                let rows = Box::pin(query.fetch_all(kept.for_statement())).await;
                kept.answered(&rows);
                rows
            }
        }
    }

    pub(crate) async fn optional(&mut self, q: &Q) -> Result<Option<PgRow>, sqlx::Error> {
        let query = crate::sql::pg_query(q);
        match &mut self.0 {
            Kind::Pooled(tx) => Box::pin(query.fetch_optional(&mut **tx)).await,
            Kind::Kept(kept) => {
                let row = Box::pin(query.fetch_optional(kept.for_statement())).await;
                kept.answered(&row);
                row
            }
        }
    }

    pub(crate) async fn execute(&mut self, q: &Q) -> Result<u64, sqlx::Error> {
        let query = crate::sql::pg_query(q);
        let done = match &mut self.0 {
            Kind::Pooled(tx) => Box::pin(query.execute(&mut **tx)).await,
            Kind::Kept(kept) => {
                let done = Box::pin(query.execute(kept.for_statement())).await;
                kept.answered(&done);
                done
            }
        };
        done.map(|d| d.rows_affected())
    }
}

impl KeptTx {
    fn for_statement(&mut self) -> &mut PgConnection {
        self.state = State::Running;
        self.conn
            .as_mut()
            .expect("a transaction holds its connection")
            .conn()
    }

    /// Where the statement's outcome leaves the connection ([`State`]).
    fn answered<T>(&mut self, outcome: &Result<T, sqlx::Error>) {
        self.state = match outcome {
            Ok(_) => State::Answered,
            Err(e @ sqlx::Error::Database(_)) if !crate::sql::connection_lost(e) => State::Answered,
            Err(_) => State::Broken,
        };
    }
}

impl Drop for KeptTx {
    fn drop(&mut self) {
        let (Some(conn), Some(permit)) = (self.conn.take(), self.permit.take()) else {
            return;
        };
        if self.state == State::Answered {
            self.lane
                .kept
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Kept {
                    conn,
                    since: Instant::now(),
                    permit,
                });
        } else if self.state == State::Running
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(recover(conn, permit));
        }
        // Otherwise (broken, or no runtime left: the process is ending) `conn` is closed here.
    }
}

/// Gives back to the pool a connection whose statement was cut off midway: its future dropped
/// when a client went away, or a load generator stopped, with requests in flight. Closed, each
/// such connection cost a new server process (a fork, and a first plan of every statement it
/// then ran: some 13 ms for a ticket page), and a burst of them, as when many clients leave at
/// once, fell on the requests just after. The rest of the statement's answer is read (sqlx's
/// ping waits for the server's ReadyForQuery, as its pool does for every connection it takes
/// back) and the transaction rolled back; one that does not answer within [`ROLLBACK_TIMEOUT`]
/// is closed (`Held`). The permit is held until then, so the lane never has more than its share.
async fn recover(mut conn: Held, permit: OwnedSemaphorePermit) {
    let recovered = tokio::time::timeout(ROLLBACK_TIMEOUT, async {
        sqlx::Connection::ping(conn.conn()).await?;
        sqlx::raw_sql(AssertSqlSafe("ROLLBACK"))
            .execute(conn.conn())
            .await
    })
    .await;
    if let Ok(Ok(_)) = recovered {
        conn.release();
    }
    drop(permit);
}

impl Inner {
    /// The connection kept last (its pages are warmest).
    fn take_kept(&self) -> Option<Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// The connections kept since before `cutoff`.
    fn take_kept_since(&self, cutoff: Instant) -> Vec<Kept> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let (due, fresh) = std::mem::take(&mut *kept)
            .into_iter()
            .partition(|k| k.since <= cutoff);
        *kept = fresh;
        due
    }
}

/// Rolls back the connections kept for a while and gives them back to the pool, until the lane
/// is dropped. They are rolled back side by side, and one that does not answer within
/// [`ROLLBACK_TIMEOUT`] (a connection a NAT dropped silently) is closed, so none holds up the
/// others.
async fn sweep(lane: Weak<Inner>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(inner) = lane.upgrade() else { return };
        for mut kept in inner.take_kept_since(Instant::now() - ROLLBACK_AFTER) {
            tokio::spawn(async move {
                let rolled_back = tokio::time::timeout(
                    ROLLBACK_TIMEOUT,
                    sqlx::raw_sql(AssertSqlSafe("ROLLBACK")).execute(kept.conn.conn()),
                )
                .await;
                if let Ok(Ok(_)) = rolled_back {
                    kept.conn.release();
                }
                drop(kept.permit);
            });
        }
    }
}
