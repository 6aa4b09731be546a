//! SQLite, run inline on the calling task.
//!
//! sqlx's SQLite driver gives every connection its own worker thread and sends each statement
//! and each row across to it. Measured on the portal pages, that handoff cost about 90 µs per
//! statement, an order of magnitude more than the statements themselves (see `bench/README.md`).
//! SQLite reads take microseconds, so they run here on the tokio worker, with owned connections
//! from a small pool and cached prepared statements.
//!
//! Writers are queued on an async mutex before `BEGIN IMMEDIATE`, so a tokio worker never sleeps
//! on SQLite's write lock while another task of this process holds it. Other processes (the CLI)
//! are waited for by SQLite's busy timeout.
//!
//! A serving process may hold the file exclusively ([`SqliteLocking::Exclusive`], SQLite's
//! `unix-excl` VFS): its connections then coordinate in memory alone. With shared locking every
//! read transaction takes and drops a POSIX lock on the `-shm` file, under a mutex that all the
//! process's connections share; two workers reading at once queued on it and slept in the
//! kernel: 2.2 futex and 2.2 fcntl calls per ticket-list request (see `bench/README.md`).

use std::any::TypeId;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, config::DbConfig};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::StoreError;
use crate::sql::{Arg, DbRow, Q, RowRef};

/// Connections to one SQLite file. Cheap to clone.
#[derive(Clone)]
pub(crate) struct LitePool {
    inner: Arc<Inner>,
}

/// How an SQLite file is locked against other processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteLocking {
    /// Per transaction, with POSIX locks: other processes (the CLI, a backup tool) may open the
    /// file at the same time.
    #[default]
    Shared,
    /// Once, for as long as the pool lives: no other SQLite client can open the file, and no
    /// transaction makes a system call to lock. Unix only; elsewhere the same as `Shared`.
    Exclusive,
}

struct Inner {
    path: PathBuf,
    locking: SqliteLocking,
    /// Held exclusively, a connection that stays open for the pool's life: SQLite releases the
    /// process's lock when its last connection to the file closes, and a pool whose idle
    /// connections were all discarded would otherwise let another process in between requests.
    _anchor: Option<Mutex<Connection>>,
    /// Idle connections, each behind its own lock only so that the pool is `Sync`; a connection
    /// is used by one task at a time.
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
    writer: Arc<AsyncMutex<()>>,
    /// The audit recorder's own connection (see [`LitePool::begin_recording`]), opened on its
    /// first batch. Taken and put back only while `writer` is held (a [`LiteTx`] drops its
    /// connection before its writer guard), so there is never a second one.
    recorder: Mutex<Option<Conn>>,
}

/// The path inside a `sqlite://path` or `sqlite:path` URL (query parameters are ignored).
pub(crate) fn path_of_url(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty()).then_some(path)
}

fn open_connection(path: &Path, locking: SqliteLocking) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match locking {
        #[cfg(unix)]
        SqliteLocking::Exclusive => Connection::open_with_flags_and_vfs(path, flags, c"unix-excl")?,
        _ => Connection::open_with_flags(path, flags)?,
    };
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // A page cache of 1 MiB per connection rather than SQLite's 2: in WAL mode a connection
    // drops its cached pages whenever another one has committed, which the audit recorder does
    // twice a second under load, so the cache only ever holds what the pages read in between
    // share. Serving `bench/run`'s mix the server's RSS was 4 MiB lower, at the same rate.
    conn.pragma_update(None, "cache_size", -1024)?;
    // Without the planner stability guarantee SQLite plans some statements around the values
    // bound to them (LIMIT $n, LIKE $n), and then re-parses and re-plans such a cached statement
    // every time a new value is bound: a third of a list page's time went there. With it, a
    // cached statement is planned once.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;

    // Every query the store writes fits; dynamic IN lists take the rest in turn.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl LitePool {
    /// Opens (creating when missing) the database file and switches it to WAL, which lets
    /// readers run beside the single writer.
    pub(crate) fn open(
        path: &Path,
        max_connections: u32,
        locking: SqliteLocking,
    ) -> Result<LitePool, StoreError> {
        let first = open_connection(path, locking)?;
        let mode: String = first.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "SQLite refused WAL mode for {} (got {mode})",
                path.display()
            )));
        }
        let anchor = match locking {
            SqliteLocking::Exclusive => Some(Mutex::new(open_connection(path, locking)?)),
            SqliteLocking::Shared => None,
        };
        Ok(LitePool {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                locking,
                _anchor: anchor,
                idle: Mutex::new(vec![Conn::new(first)]),
                permits: Arc::new(Semaphore::new(max_connections.max(1) as usize)),
                writer: Arc::new(AsyncMutex::new(())),
                recorder: Mutex::new(None),
            }),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.inner.path
    }

    pub(crate) fn locking(&self) -> SqliteLocking {
        self.inner.locking
    }

    async fn acquire(&self) -> Result<LiteConn, StoreError> {
        let permit = self
            .inner
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Invalid("the SQLite pool is closed".into()))?;
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => Conn::new(open_connection(&self.inner.path, self.inner.locking)?),
        };
        Ok(LiteConn {
            conn: Some(conn),
            pool: self.inner.clone(),
            discard: false,
            back_to_wal: false,
            recorder: false,
            _permit: Some(permit),
        })
    }

    /// A write transaction on the audit recorder's own connection, for `audit::append_all`
    /// alone: it appends each batch of page views (thousands of rows, in INSERTs of up to 64).
    /// An INSERT of many rows into a table with constraints that may abort it (NOT NULL, CHECK,
    /// the primary key, a foreign key) needs a statement journal, which SQLite writes to a
    /// temporary file once it outgrows 64 KiB: those writes were an eighth of the recorder's
    /// work under the ticket page's load. This connection keeps its temporary files in memory
    /// (it only appends: nothing in its transactions sorts or builds a temporary table). Its
    /// page cache, the pool's size, stays valid from batch to batch while the recorder is the
    /// only writer. It is one connection beyond the pool's.
    pub(crate) async fn begin_recording(&self) -> Result<LiteTx, StoreError> {
        let writer = Some(self.inner.writer.clone().lock_owned().await);
        let kept = self
            .inner
            .recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let conn = match kept {
            Some(conn) => conn,
            None => {
                let conn = open_connection(&self.inner.path, self.inner.locking)?;
                conn.pragma_update(None, "temp_store", "MEMORY")?;
                Conn::new(conn)
            }
        };
        let conn = LiteConn {
            conn: Some(conn),
            pool: self.inner.clone(),
            discard: false,
            back_to_wal: false,
            recorder: true,
            _permit: None,
        };
        run_cached(conn.conn(), "BEGIN IMMEDIATE")?;
        Ok(LiteTx {
            conn,
            open: true,
            _writer: writer,
        })
    }

    /// Starts a transaction; `write` queues behind this process's other writers first.
    pub(crate) async fn begin(&self, write: bool) -> Result<LiteTx, StoreError> {
        let writer = if write {
            Some(self.inner.writer.clone().lock_owned().await)
        } else {
            None
        };
        let conn = self.acquire().await?;
        // BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that later
        // writes fails with SQLITE_BUSY without waiting on the busy timeout.
        run_cached(conn.conn(), if write { "BEGIN IMMEDIATE" } else { "BEGIN" })?;
        Ok(LiteTx {
            conn,
            open: true,
            _writer: writer,
        })
    }

    /// A write transaction for loading rows built from rows already checked (the benchmark's
    /// seeding), with foreign keys unchecked (their lookups cost a third of a million-row load)
    /// and without waiting for the disk.
    /// The connection is closed afterwards, so none with checks off returns to the pool.
    ///
    /// The load runs with a rollback journal rather than the WAL when this is the only
    /// connection: every page of a fresh file is new, so the journal stays nearly empty and
    /// the commit writes each page once, where the WAL wrote it twice (log, then checkpoint).
    /// The connection puts the file back into WAL mode when it closes.
    #[cfg(feature = "system")]
    pub(crate) async fn begin_bulk(&self) -> Result<LiteTx, StoreError> {
        let writer = Some(self.inner.writer.clone().lock_owned().await);
        // Leaving WAL mode needs the only open connection.
        self.inner
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self
            .inner
            .recorder
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        let mut conn = self.acquire().await?;
        conn.discard = true;
        let mode: String = conn
            .conn()
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        conn.back_to_wal = mode.eq_ignore_ascii_case("delete");
        // Only takes effect outside a transaction.
        conn.conn().pragma_update(None, "foreign_keys", false)?;
        // No fsync at commit: a load lost to a crash is simply run again.
        conn.conn().pragma_update(None, "synchronous", "OFF")?;
        run_cached(conn.conn(), "BEGIN IMMEDIATE")?;
        Ok(LiteTx {
            conn,
            open: true,
            _writer: writer,
        })
    }

    /// Runs one statement in autocommit mode (for single lookups that need no snapshot).
    pub(crate) async fn with_connection<R>(
        &self,
        f: impl FnOnce(&Conn) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let conn = self.acquire().await?;
        f(conn.conn())
    }
}

/// A connection with what it has worked out about the statements it ran.
pub(crate) struct Conn {
    conn: Connection,
    memo: RefCell<Memo>,
}

/// How many statement texts a connection remembers; as many as it keeps prepared.
const MEMO_ENTRIES: usize = 256;

/// Per statement text: its SQLite spelling ([`numbered`]) and, per row type, where the row's
/// columns are ([`column_map`]). Both are the same every time the text runs, and working them
/// out again cost about 6% of a page of a dozen statements (the fence makes statements long,
/// and each column's name is fetched, measured and checked as UTF-8 to be compared).
#[derive(Default)]
struct Memo {
    entries: foldhash::HashMap<Box<str>, Known>,
}

struct Known {
    /// `None`: the text has no placeholder and runs as it is.
    numbered: Option<Box<str>>,
    /// Row types read from it: the statement's column count and the map. The store's queries
    /// name their columns (no `SELECT *`), so a text's columns never change; the count is a
    /// cheap guard, not a proof.
    columns: Vec<(TypeId, usize, Box<[usize]>)>,
}

impl Conn {
    fn new(conn: Connection) -> Conn {
        Conn {
            conn,
            memo: RefCell::new(Memo::default()),
        }
    }

    /// Runs `q` and hands its rows, with `T`'s columns found, to `read`.
    fn rows<T: DbRow, R>(
        &self,
        q: &Q,
        read: impl FnOnce(rusqlite::Rows<'_>, &[usize]) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut memo = self.memo.borrow_mut();
        let known = memo.known(&q.sql);
        let mut stmt = self
            .conn
            .prepare_cached(known.numbered.as_deref().unwrap_or(&q.sql))?;
        bind(&mut stmt, &q.args)?;
        let kind = TypeId::of::<T>();
        let count = stmt.column_count();
        let at = match known
            .columns
            .iter()
            .position(|(t, n, _)| *t == kind && *n == count)
        {
            Some(at) => at,
            None => {
                known.columns.retain(|(t, _, _)| *t != kind);
                known
                    .columns
                    .push((kind, count, column_map::<T>(&stmt)?.into_boxed_slice()));
                known.columns.len() - 1
            }
        };
        let map = &known.columns[at].2;
        read(stmt.raw_query(), map)
    }

    fn exec(&self, q: &Q) -> Result<u64, StoreError> {
        let mut memo = self.memo.borrow_mut();
        let known = memo.known(&q.sql);
        let mut stmt = self
            .conn
            .prepare_cached(known.numbered.as_deref().unwrap_or(&q.sql))?;
        bind(&mut stmt, &q.args)?;
        Ok(stmt.raw_execute()? as u64)
    }
}

impl Memo {
    /// What is known of statement text `sql`, worked out on its first run.
    fn known(&mut self, sql: &str) -> &mut Known {
        if !self.entries.contains_key(sql) {
            if self.entries.len() >= MEMO_ENTRIES {
                self.entries.clear();
            }
            let numbered = match numbered(sql) {
                std::borrow::Cow::Borrowed(_) => None,
                std::borrow::Cow::Owned(text) => Some(text.into_boxed_str()),
            };
            self.entries.insert(
                sql.into(),
                Known {
                    numbered,
                    columns: Vec::new(),
                },
            );
        }
        self.entries.get_mut(sql).expect("remembered above")
    }
}

impl std::ops::Deref for Conn {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// A pooled connection, returned to the pool when dropped.
struct LiteConn {
    conn: Option<Conn>,
    pool: Arc<Inner>,
    /// Closed when dropped instead of returned to the pool (its settings were changed).
    discard: bool,
    /// Switches the file back to WAL mode when dropped (a bulk load left it).
    back_to_wal: bool,
    /// The audit recorder's connection: goes back to its own place, not the pool.
    recorder: bool,
    /// The pool's permit (none for the recorder's connection, which is outside the pool).
    _permit: Option<OwnedSemaphorePermit>,
}

impl LiteConn {
    fn conn(&self) -> &Conn {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl Drop for LiteConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.back_to_wal
                && let Err(e) = conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            {
                // The file stays valid in rollback mode; opening a pool sets WAL again.
                tracing::warn!(error = %e, "could not switch the database back to WAL mode");
            }
            // A connection still inside a transaction (a failed ROLLBACK) is closed, not reused.
            if conn.is_autocommit() && !self.discard {
                if self.recorder {
                    *self.pool.recorder.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn);
                } else {
                    self.pool
                        .idle
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(conn);
                }
            }
        }
    }
}

/// An open SQLite transaction. Dropped without [`LiteTx::commit`], it rolls back.
pub(crate) struct LiteTx {
    /// Dropped (back to the pool or the recorder's place) before the writer guard below.
    conn: LiteConn,
    open: bool,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl LiteTx {
    pub(crate) fn connection(&self) -> &Conn {
        self.conn.conn()
    }

    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        run_cached(self.conn.conn(), "COMMIT")
    }
}

impl Drop for LiteTx {
    fn drop(&mut self) {
        if self.open {
            let _ = run_cached(self.conn.conn(), "ROLLBACK");
        }
    }
}

/// BEGIN, COMMIT and ROLLBACK run on every request: prepared once per connection, not parsed
/// each time.
fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.raw_execute()?;
    Ok(())
}

/// The statement's text for SQLite: `$n` placeholders become `?n`, which SQLite numbers by the
/// digits (a `$n` it numbers by first appearance, and finding each one's number by name costs a
/// scan of every name: a statement of thousands of values, such as an import's batch, spent
/// most of its time there). Text inside quotes is left alone.
fn numbered(sql: &str) -> std::borrow::Cow<'_, str> {
    let bytes = sql.as_bytes();
    if memchr::memchr(b'$', bytes).is_none() {
        return std::borrow::Cow::Borrowed(sql);
    }
    // From one byte of interest to the next (a placeholder's `$`, a quote), copying the text
    // between placeholders whole: every byte looked for is ASCII, which never occurs inside a
    // multi-byte character, so each cut is on a boundary. The jumps matter: this runs for
    // every statement, and the fence makes them long.
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<u8> = None;
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let next = match quote {
            Some(q) => memchr::memchr(q, &bytes[at..]),
            None => memchr::memchr3(b'$', b'\'', b'"', &bytes[at..]),
        };
        let Some(offset) = next else { break };
        let i = at + offset;
        let b = bytes[i];
        match quote {
            Some(_) => quote = None,
            None if b == b'$' => {
                if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    out.push_str(&sql[copied..i]);
                    out.push('?');
                    copied = i + 1;
                }
            }
            None => quote = Some(b),
        }
        at = i + 1;
    }
    out.push_str(&sql[copied..]);
    std::borrow::Cow::Owned(out)
}

/// Binds `?n` placeholders (see [`numbered`]): parameter `n` is argument `n`.
fn bind(stmt: &mut rusqlite::Statement<'_>, args: &[Arg]) -> Result<(), StoreError> {
    let count = stmt.parameter_count();
    if count > args.len() {
        return Err(StoreError::Invalid(format!(
            "query placeholder ${count} has no argument"
        )));
    }
    for (index, arg) in args.iter().enumerate().take(count) {
        let index = index + 1;
        match arg {
            Arg::Text(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::OptText(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::Int(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::OptInt(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::Bool(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::OptBool(v) => stmt.raw_bind_parameter(index, v)?,
            Arg::OptBlob(v) => stmt.raw_bind_parameter(index, v)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod numbered_tests {
    use super::numbered;

    #[test]
    fn placeholders_are_numbered_and_quoted_text_is_left_alone() {
        assert_eq!(
            numbered("SELECT $2, '$1', \"a$1\" FROM t WHERE x = $10"),
            "SELECT ?2, '$1', \"a$1\" FROM t WHERE x = ?10"
        );
        assert_eq!(
            numbered("SELECT 'it''s $1' || $1"),
            "SELECT 'it''s $1' || ?1"
        );
        assert_eq!(
            numbered("SELECT 'Zoë $1' AS né, $1 || '€' WHERE $3$"),
            "SELECT 'Zoë $1' AS né, ?1 || '€' WHERE ?3$"
        );
    }
}

/// Where each of `T`'s named columns sits in the statement's result, looked up once per query
/// rather than by name for every field of every row. Empty for positional rows (tuples).
fn column_map<T: DbRow>(stmt: &rusqlite::Statement<'_>) -> Result<Vec<usize>, StoreError> {
    T::column_names()
        .iter()
        .enumerate()
        .map(|(position, name)| {
            // Queries mostly select their columns in the row type's order: checked first, that
            // saves a search by name per column.
            if stmt
                .column_name(position)
                .is_ok_and(|c| c.eq_ignore_ascii_case(name))
            {
                return Ok(position);
            }
            stmt.column_index(name)
                .map_err(|_| StoreError::Invalid(format!("query has no column {name}")))
        })
        .collect()
}

pub(crate) fn all<T: DbRow>(conn: &Conn, q: &Q) -> Result<Vec<T>, StoreError> {
    conn.rows::<T, _>(q, |mut rows, map| {
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(T::decode(&RowRef::Lite(row, map))?);
        }
        Ok(out)
    })
}

pub(crate) fn optional<T: DbRow>(conn: &Conn, q: &Q) -> Result<Option<T>, StoreError> {
    conn.rows::<T, _>(q, |mut rows, map| match rows.next()? {
        Some(row) => Ok(Some(T::decode(&RowRef::Lite(row, map))?)),
        None => Ok(None),
    })
}

/// Runs a statement that returns no rows. Its SQLite spelling is remembered as a read's is: the
/// audit recorder's INSERT of 64 rows has 1,216 placeholders and runs dozens of times a batch,
/// and spelling it anew each time was 3% of the recorder's work.
pub(crate) fn exec(conn: &Conn, q: &Q) -> Result<u64, StoreError> {
    conn.exec(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths() {
        assert_eq!(path_of_url("sqlite://data/p.db"), Some("data/p.db"));
        assert_eq!(
            path_of_url("sqlite:///tmp/p.db?mode=rwc"),
            Some("/tmp/p.db")
        );
        assert_eq!(path_of_url("sqlite:p.db"), Some("p.db"));
        assert_eq!(path_of_url("sqlite://"), None);
        assert_eq!(path_of_url("postgres://x"), None);
    }

    /// The recorder appends on one connection of its own, kept between batches, with its
    /// temporary files in memory; the pool's connections are neither used nor changed.
    #[tokio::test]
    async fn the_recorder_keeps_one_connection_of_its_own() {
        let dir = std::env::temp_dir().join(format!("portico-lite-{}.db", uuid::Uuid::now_v7()));
        let pool = LitePool::open(&dir, 2, SqliteLocking::Shared).unwrap();
        let idle = || pool.inner.idle.lock().unwrap().len();
        let before = idle();
        let tx = pool.begin_recording().await.unwrap();
        exec(tx.connection(), &Q::new("CREATE TABLE t (v TEXT)")).unwrap();
        tx.commit().unwrap();
        for round in 0..2 {
            let tx = pool.begin_recording().await.unwrap();
            let (store,): (i64,) = optional(tx.connection(), &Q::new("PRAGMA temp_store"))
                .unwrap()
                .unwrap();
            assert_eq!(store, 2, "in memory");
            exec(
                tx.connection(),
                &Q::with("INSERT INTO t VALUES ($1)", vec![Arg::from("v")]),
            )
            .unwrap();
            tx.commit().unwrap();
            assert_eq!(idle(), before, "round {round}");
            assert!(pool.inner.recorder.lock().unwrap().is_some());
        }
        let tx = pool.begin(false).await.unwrap();
        let (count,): (i64,) = optional(tx.connection(), &Q::new("SELECT count(*) FROM t"))
            .unwrap()
            .unwrap();
        assert_eq!(count, 2);
        drop(tx);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
        }
    }

    #[tokio::test]
    async fn placeholders_bind_by_number_not_position() {
        let dir = std::env::temp_dir().join(format!("portico-lite-{}.db", uuid::Uuid::now_v7()));
        let pool = LitePool::open(&dir, 2, SqliteLocking::Shared).unwrap();
        let tx = pool.begin(false).await.unwrap();
        let q = Q::with(
            "SELECT $2 || $1 || $2",
            vec![Arg::from("a"), Arg::from("b")],
        );
        let (v,): (String,) = optional(tx.connection(), &q).unwrap().unwrap();
        assert_eq!(v, "bab");
        let missing = Q::with("SELECT $3", vec![Arg::from("a")]);
        assert!(optional::<(String,)>(tx.connection(), &missing).is_err());
        drop(tx);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
        }
    }

    /// Held exclusively, the file's connections still coordinate among themselves: a reader
    /// keeps its snapshot while another connection writes, and sees the write afterwards.
    #[tokio::test]
    async fn exclusive_locking_keeps_snapshots_between_connections() {
        let dir = std::env::temp_dir().join(format!("portico-lite-{}.db", uuid::Uuid::now_v7()));
        let pool = LitePool::open(&dir, 4, SqliteLocking::Exclusive).unwrap();
        pool.with_connection(|c| Ok(c.execute_batch("CREATE TABLE t (v INTEGER)")?))
            .await
            .unwrap();
        let count = |tx: &LiteTx| -> i64 {
            let (n,): (i64,) = optional(tx.connection(), &Q::new("SELECT COUNT(*) FROM t"))
                .unwrap()
                .unwrap();
            n
        };
        let reader = pool.begin(false).await.unwrap();
        assert_eq!(count(&reader), 0);
        let writer = pool.begin(true).await.unwrap();
        exec(writer.connection(), &Q::new("INSERT INTO t VALUES (1)")).unwrap();
        writer.commit().unwrap();
        assert_eq!(count(&reader), 0, "the open snapshot does not move");
        drop(reader);
        let after = pool.begin(false).await.unwrap();
        assert_eq!(count(&after), 1);
        drop(after);
        drop(pool);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
        }
    }

    /// One text read as two row types keeps a map for each, and a connection that has run
    /// more texts than it remembers starts again without losing any answer.
    #[tokio::test]
    async fn remembered_texts_map_each_row_type_and_stay_bounded() {
        let dir = std::env::temp_dir().join(format!("portico-lite-{}.db", uuid::Uuid::now_v7()));
        let pool = LitePool::open(&dir, 1, SqliteLocking::Shared).unwrap();
        struct Named {
            b: String,
            a: i64,
        }
        crate::sql::db_row!(Named { b, a });
        pool.with_connection(|c| {
            let q = Q::with(
                "SELECT $1 AS a, $2 AS b",
                vec![Arg::from(7i64), Arg::from("x")],
            );
            let named: Named = optional(c, &q)?.unwrap();
            assert_eq!((named.a, named.b.as_str()), (7, "x"), "found by name");
            let (a, b): (i64, String) = optional(c, &q)?.unwrap();
            assert_eq!((a, b.as_str()), (7, "x"), "by position");
            let named: Named = optional(c, &q)?.unwrap();
            assert_eq!(named.b, "x", "the first map still there");
            assert_eq!(c.memo.borrow().entries.len(), 1);
            for n in 0..(MEMO_ENTRIES as i64 + 10) {
                let q = Q::with(&format!("SELECT $1 + {n}"), vec![Arg::from(1i64)]);
                let (v,): (i64,) = optional(c, &q)?.unwrap();
                assert_eq!(v, n + 1);
            }
            assert!(c.memo.borrow().entries.len() <= MEMO_ENTRIES);
            Ok(())
        })
        .await
        .unwrap();
        drop(pool);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
        }
    }

    #[tokio::test]
    async fn dropped_transaction_rolls_back() {
        let dir = std::env::temp_dir().join(format!("portico-lite-{}.db", uuid::Uuid::now_v7()));
        let pool = LitePool::open(&dir, 2, SqliteLocking::Shared).unwrap();
        pool.with_connection(|c| Ok(c.execute_batch("CREATE TABLE t (v INTEGER)")?))
            .await
            .unwrap();
        {
            let tx = pool.begin(true).await.unwrap();
            exec(tx.connection(), &Q::new("INSERT INTO t VALUES (1)")).unwrap();
        }
        let tx = pool.begin(true).await.unwrap();
        exec(tx.connection(), &Q::new("INSERT INTO t VALUES (2)")).unwrap();
        tx.commit().unwrap();
        let rows: Vec<(i64,)> = pool
            .with_connection(|c| all(c, &Q::new("SELECT v FROM t")))
            .await
            .unwrap();
        assert_eq!(rows, vec![(2,)]);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
        }
    }
}
