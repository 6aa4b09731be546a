//! PostgreSQL connections for read-only transactions (a page's reads), which end without a
//! round trip of their own.
//!
//! A read-only transaction ends alike by COMMIT or ROLLBACK, and nothing waits for either. In
//! sqlx's pool it cost a round trip all the same: the ROLLBACK a dropped transaction queues
//! travels with the test the pool runs on every connection it takes back, one more wake-up of
//! the server's process per page. Here a connection goes back still inside its transaction,
//! and its next use sends the ROLLBACK in one message with its own `BEGIN` and fence. Between
//! the two it sits idle in a read-only transaction: it holds no transaction id and writes
//! nothing, but it keeps its snapshot (REPEATABLE READ) and the share locks of the tables it
//! read, which would hold up a schema change (and the readers queued behind it). So a
//! connection left so for longer than [`ROLLBACK_AFTER`] is rolled back by the lane's sweeper
//! within [`SWEEP_EVERY`] more, or closed when it does not answer within a second. Should the
//! server end one first (`idle_in_transaction_session_timeout`), its next use runs on a new
//! connection.
//!
//! The lane holds a share of the connections; a read-only transaction begun while all of them
//! are in use begins in the pool instead, as before, so that a request holding one never waits
//! for another.
//!
//! A connection whose statement was cancelled midway (its future dropped) or failed in its
//! transport is closed rather than used again (the server logs the end of its open
//! transaction). One the server closed while it was idle (a restart, a timeout) fails at its
//! next `BEGIN`, which then runs on a new connection: nothing of a transaction outlives its
//! backend.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{AssertSqlSafe, ConnectOptions, PgConnection, Postgres, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::StoreError;
use crate::sql::Q;

/// How long a transaction may wait for a connection, as long as the pool waits to lend one.
const BEGIN_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection left inside its transaction for longer is rolled back by the sweeper.
const ROLLBACK_AFTER: Duration = Duration::from_millis(200);
/// How often the sweeper looks.
const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// How long the sweeper waits for a ROLLBACK before it closes the connection instead.
const ROLLBACK_TIMEOUT: Duration = Duration::from_secs(1);
/// A connection older than this is closed rather than used again (as in the other lanes).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Connections for read-only transactions, at most `size` at once; past that, a transaction
/// begins in the pool. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ReadLane {
    inner: Arc<Inner>,
    pool: sqlx::PgPool,
}

struct Inner {
    options: PgConnectOptions,
    idle: Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
}

struct Idle {
    conn: PgConnection,
    opened: Instant,
    since: Instant,
    /// Still inside the read-only transaction its last use began.
    in_transaction: bool,
}

impl ReadLane {
    /// A lane of `size` connections beside `pool`; its sweeper runs on the current Tokio
    /// runtime for as long as the lane exists.
    pub(crate) fn new(options: PgConnectOptions, size: u32, pool: sqlx::PgPool) -> ReadLane {
        let inner = Arc::new(Inner {
            options,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1) as usize)),
        });
        tokio::spawn(sweep(Arc::downgrade(&inner)));
        ReadLane { inner, pool }
    }

    /// Begins a read-only transaction with `begin`, a simple query of transaction control and
    /// settings only (`BEGIN …; SELECT set_config(…, true)`), which may run twice.
    pub(crate) async fn begin(&self, begin: &str) -> Result<ReadTx, StoreError> {
        let Ok(permit) = Arc::clone(&self.inner.permits).try_acquire_owned() else {
            let tx = crate::sql::begin_with(&self.pool, begin).await?;
            return Ok(ReadTx(Kind::Pooled(tx)));
        };
        let lane = tokio::time::timeout(BEGIN_TIMEOUT, self.inner.begin(begin, permit))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(ReadTx(Kind::Lane(lane)))
    }
}

/// A read-only transaction. It ends when dropped: on a connection of the lane, that connection
/// goes back inside it (see the module's comment); in the pool, sqlx queues its ROLLBACK.
pub(crate) struct ReadTx(Kind);

enum Kind {
    Lane(LaneTx),
    Pooled(Transaction<'static, Postgres>),
}

struct LaneTx {
    conn: Option<PgConnection>,
    opened: Instant,
    lane: Arc<Inner>,
    /// False once a statement was cancelled midway or its connection failed.
    reusable: bool,
    _permit: OwnedSemaphorePermit,
}

impl ReadTx {
    pub(crate) async fn all(&mut self, q: &Q) -> Result<Vec<PgRow>, sqlx::Error> {
        let query = crate::sql::pg_query(q);
        match &mut self.0 {
            Kind::Pooled(tx) => Box::pin(query.fetch_all(&mut **tx)).await,
            Kind::Lane(lane) => {
                let rows = Box::pin(query.fetch_all(lane.for_statement())).await;
                lane.answered(&rows);
                rows
            }
        }
    }

    pub(crate) async fn optional(&mut self, q: &Q) -> Result<Option<PgRow>, sqlx::Error> {
        let query = crate::sql::pg_query(q);
        match &mut self.0 {
            Kind::Pooled(tx) => Box::pin(query.fetch_optional(&mut **tx)).await,
            Kind::Lane(lane) => {
                let row = Box::pin(query.fetch_optional(lane.for_statement())).await;
                lane.answered(&row);
                row
            }
        }
    }

    pub(crate) async fn execute(&mut self, q: &Q) -> Result<u64, sqlx::Error> {
        let query = crate::sql::pg_query(q);
        let done = match &mut self.0 {
            Kind::Pooled(tx) => Box::pin(query.execute(&mut **tx)).await,
            Kind::Lane(lane) => {
                let done = Box::pin(query.execute(lane.for_statement())).await;
                lane.answered(&done);
                done
            }
        };
        done.map(|d| d.rows_affected())
    }
}

impl LaneTx {
    /// The connection, marked unfit for reuse until [`LaneTx::answered`]: a statement's future
    /// dropped before it has read its answer leaves the connection mid-statement.
    fn for_statement(&mut self) -> &mut PgConnection {
        self.reusable = false;
        self.conn
            .as_mut()
            .expect("a transaction holds its connection")
    }

    fn answered<T>(&mut self, outcome: &Result<T, sqlx::Error>) {
        self.reusable = leaves_fit(outcome);
    }
}

/// Whether a statement's outcome leaves its connection fit for another transaction: it
/// answered, or the server refused the statement (the transaction is then aborted, which the
/// next use's ROLLBACK ends).
fn leaves_fit<T>(outcome: &Result<T, sqlx::Error>) -> bool {
    match outcome {
        Ok(_) => true,
        Err(e @ sqlx::Error::Database(_)) => !crate::sql::connection_lost(e),
        Err(_) => false,
    }
}

impl Drop for LaneTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.reusable
        {
            self.lane.give_back(Idle {
                conn,
                opened: self.opened,
                since: Instant::now(),
                in_transaction: true,
            });
        }
    }
}

impl Inner {
    async fn begin(
        self: &Arc<Self>,
        begin: &str,
        permit: OwnedSemaphorePermit,
    ) -> Result<LaneTx, sqlx::Error> {
        while let Some(mut kept) = self.take_idle() {
            let statement = if kept.in_transaction {
                format!("ROLLBACK; {begin}")
            } else {
                begin.to_owned()
            };
            // Dropped before the answer is read (a cancelled request), `kept.conn` is closed.
            // On any error the connection is closed and the statement runs again on the next:
            // one the server ended while it sat idle (a restart, `pg_terminate_backend`,
            // `idle_in_transaction_session_timeout`) fails here, and a statement refused for
            // itself is refused again on a new connection below.
            if sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut kept.conn)
                .await
                .is_ok()
            {
                return Ok(self.tx(kept.conn, kept.opened, permit));
            }
        }
        let mut conn = self.connect().await?;
        let opened = Instant::now();
        sqlx::raw_sql(AssertSqlSafe(begin.to_owned()))
            .execute(&mut conn)
            .await?;
        Ok(self.tx(conn, opened, permit))
    }

    fn tx(
        self: &Arc<Self>,
        conn: PgConnection,
        opened: Instant,
        permit: OwnedSemaphorePermit,
    ) -> LaneTx {
        LaneTx {
            conn: Some(conn),
            opened,
            lane: Arc::clone(self),
            reusable: true,
            _permit: permit,
        }
    }

    /// The connection used last (its pages are warmest), closing those past their lifetime.
    fn take_idle(&self) -> Option<Idle> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|k| k.opened.elapsed() < MAX_LIFETIME);
        idle.pop()
    }

    fn give_back(&self, idle: Idle) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(idle);
    }

    /// A connection left inside its transaction since before `cutoff`, if any.
    fn take_left_open(&self, cutoff: Instant) -> Option<Idle> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let at = idle
            .iter()
            .position(|k| k.in_transaction && k.since <= cutoff)?;
        Some(idle.remove(at))
    }

    /// A new connection; while the server cannot take one yet, tried again with a growing
    /// pause, as the pool does, until the caller's time runs out.
    async fn connect(&self) -> Result<PgConnection, sqlx::Error> {
        let mut pause = Duration::from_millis(10);
        loop {
            match self.options.connect().await {
                Err(e) if crate::pg_lane::not_ready(&e) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }
}

/// Rolls back the connections left inside their transaction for a while, until the lane is
/// dropped. Each takes a permit like a transaction, so the sweeper never holds a connection
/// beyond the lane's size; while every permit is taken, the connections are in use and none
/// waits long. They are rolled back side by side, and one that does not answer within
/// [`ROLLBACK_TIMEOUT`] (a connection a NAT dropped silently) is closed, so none holds up the
/// others.
async fn sweep(lane: Weak<Inner>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(inner) = lane.upgrade() else { return };
        let cutoff = Instant::now() - ROLLBACK_AFTER;
        while let Ok(permit) = Arc::clone(&inner.permits).try_acquire_owned() {
            let Some(mut kept) = inner.take_left_open(cutoff) else {
                break;
            };
            let inner = Arc::clone(&inner);
            tokio::spawn(async move {
                let rolled_back = tokio::time::timeout(
                    ROLLBACK_TIMEOUT,
                    sqlx::raw_sql(AssertSqlSafe("ROLLBACK")).execute(&mut kept.conn),
                )
                .await;
                if let Ok(Ok(_)) = rolled_back {
                    kept.in_transaction = false;
                    kept.since = Instant::now();
                    inner.give_back(kept);
                }
                drop(permit);
            });
        }
    }
}
