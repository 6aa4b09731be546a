//! The only code in Portico that speaks SQL.
//!
//! Callers never touch a pool. They ask the [`Store`] for a handle that already carries what it
//! may see: [`Store::scoped`] for tenant data (the scope is written into every query and, on
//! PostgreSQL, into row-level-security settings of the transaction), [`Store::auth`] for sign-in
//! flows within one workspace, [`Store::public`] for host and branding lookups, and
//! [`Store::system_unscoped`] for the rare work that truly spans tenants.

#[cfg(feature = "system")]
pub mod accounting_sync;
pub mod api_auth;
pub mod audit;
mod auth;
#[cfg(feature = "system")]
pub mod backup_sync;
#[cfg(feature = "system")]
pub mod connector_sync;
#[cfg(feature = "system")]
pub mod delivery;
#[cfg(feature = "system")]
pub mod demo;
mod desk_names;
#[cfg(feature = "system")]
pub mod domain_checks;
#[cfg(feature = "system")]
pub mod edr_sync;
pub mod explain;
mod lite;
pub mod mfa;
mod migrate;
pub mod password;
mod pg_lane;
mod pg_reads;
mod principals;
#[cfg(feature = "system")]
pub mod psa_sync;
mod public;
#[cfg(feature = "system")]
pub mod scale;
pub mod scoped;
mod sealed;
#[cfg(feature = "system")]
pub mod search_index;
mod sql;
pub mod sso_sign_in;
#[cfg(feature = "system")]
pub mod system;
#[cfg(feature = "test-hooks")]
pub mod test_support;
mod ticket_pages;
pub mod token;
#[cfg(feature = "system")]
pub mod webhook_delivery;

use std::str::FromStr;
use std::time::Duration;

use portico_core::{Denied, Scope};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use auth::{
    AuthTx, Credentials, NewSession, OneTimePurpose, SessionInfo, SessionUser, SessionVersions,
    SignInOutcome, ThrottleVerdict, ViewAsSession,
};
pub use lite::SqliteLocking;
pub use public::{Branding, HostBinding, PublicTx, SurfaceKind};
pub use scoped::ScopedTx;
#[cfg(feature = "system")]
pub use system::SystemTx;

/// A cache of this instance and the tables whose every change must reach it: each has a trigger
/// on both backends that writes a new version of what the cache keeps, in the same transaction
/// as the change (a test holds the schema to this list). A table read into a kept page or
/// principal but missing here would leave instances serving what it said before.
#[derive(Debug, Clone, Copy)]
pub struct CacheSources {
    pub cache: &'static str,
    /// The version table its triggers write.
    pub versions: &'static str,
    pub tables: &'static [&'static str],
}

/// Every cache and its source tables.
pub const CACHE_SOURCES: &[CacheSources] = &[
    // The principal built for a session (principals.rs): user, role, companies, grants,
    // sites, sections and their labels.
    CacheSources {
        cache: "principals",
        versions: "principal_versions",
        tables: &[
            "companies",
            "company_section_settings",
            "portal_user_companies",
            "portal_user_sites",
            "portal_users",
            "staff_assignments",
            "staff_users",
            "workspace_section_defaults",
        ],
    },
    // Names on the desk's lists (desk_names.rs): companies, sites, clients and staff.
    CacheSources {
        cache: "desk names",
        versions: "principal_versions",
        tables: &["companies", "portal_users", "sites", "staff_users"],
    },
    // Pages of a client's ticket list (ticket_pages.rs): the company's tickets, who is copied
    // on them and its sites' names; the names of its people come through the principal
    // version, which a kept page checks as well.
    CacheSources {
        cache: "ticket pages",
        versions: "ticket_list_versions",
        tables: &["tickets", "ticket_cc", "sites"],
    },
];

/// Failures of the data layer. `NotFound` covers absent, foreign and hidden records alike.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("you do not have permission to do that")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    /// A form refused field by field, every problem at once: (field name, message), in the
    /// form's order, so that each message can be shown beside its field.
    #[error("{}", .0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" "))]
    InvalidFields(Vec<(String, String)>),
    #[error("that {0} already exists")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("password hashing failed")]
    Hash,
    /// A stored value the store cannot read back: a fault of the data, never of the request.
    #[error("malformed stored data: {0}")]
    Corrupt(String),
}

impl From<Denied> for StoreError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::NotVisible => StoreError::NotFound,
            Denied::Forbidden => StoreError::Forbidden,
        }
    }
}

impl StoreError {
    /// True when a unique constraint refused the write.
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }
}

#[derive(Clone)]
enum Pool {
    Sqlite(lite::LitePool),
    Postgres(sqlx::PgPool),
}

/// The data layer. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// PostgreSQL: the small pool of the role that bypasses row-level security, for system work
    /// (seeding, the CLI, mail delivery) and the store's few cross-surface lookups (see
    /// [`Store::with_system_database`]). Without it, the application pool stands in, which
    /// suits only a role that bypasses row-level security itself.
    system: Option<sqlx::PgPool>,
    /// PostgreSQL: the connections of the lookup each request starts with (`pg_lane`).
    lookups: Option<pg_lane::PgLane>,
    /// PostgreSQL: the pool's connections kept inside their read-only transactions (`pg_reads`).
    reads: Option<pg_reads::ReadLane>,
    principals: std::sync::Arc<principals::PrincipalCache>,
    ticket_pages: std::sync::Arc<scoped::tickets::PortalPageCache>,
    /// The overview's ticket figures, kept like list pages and under the same versions.
    ticket_kpis: std::sync::Arc<scoped::tickets::KpiCache>,
    desk_names: std::sync::Arc<desk_names::DeskNames>,
    /// The audit log's signing key and the views waiting to be appended.
    audit: std::sync::Arc<audit::AuditLog>,
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// A pooled connection idle for longer than this is tested (a round trip) before it is lent
/// again; one used more recently is lent as it is.
const POSTGRES_IDLE_TEST_AFTER: Duration = Duration::from_secs(5);

/// Both PostgreSQL pools' settings. sqlx tests every connection it takes back (a round trip,
/// which also sends a dropped transaction's ROLLBACK) and, by default, again before lending it:
/// two round trips per use, each a wake-up of the server process, on top of a page's one or
/// two statements. A connection returned tested moments ago needs no second test; one idle for
/// a while may have been closed meanwhile (a restart, `idle_session_timeout`), so it is tested.
fn postgres_pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= POSTGRES_IDLE_TEST_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

impl Store {
    /// Opens the database at `url` (`sqlite://path` or `postgres://…`), creating an SQLite file
    /// when missing, with shared locking (other processes may open it too). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Store::connect_with(url, max_connections, SqliteLocking::Shared).await
    }

    /// Like [`Store::connect`], choosing how an SQLite file is locked (ignored for PostgreSQL).
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        sqlite_locking: SqliteLocking,
    ) -> Result<Store, StoreError> {
        let mut lookups = None;
        let mut reads = None;
        let pool = match Backend::of_url(url) {
            Some(Backend::Sqlite) => {
                let path = lite::path_of_url(url).ok_or_else(|| {
                    StoreError::Invalid(format!("no file path in the SQLite URL {url:?}"))
                })?;
                Pool::Sqlite(lite::LitePool::open(
                    std::path::Path::new(path),
                    max_connections,
                    sqlite_locking,
                )?)
            }
            Some(Backend::Postgres) => {
                let options = PgConnectOptions::from_str(url)?;
                // A quarter of the connections serve the lookups (two from four on, so that one
                // slow lookup holds up no other), the rest the pool; at least one each.
                let for_lookups = if max_connections >= 4 {
                    (max_connections / 4).max(2)
                } else {
                    1
                };
                lookups = Some(pg_lane::PgLane::new(options.clone(), for_lookups));
                let pool = postgres_pool_options()
                    .max_connections(max_connections.saturating_sub(for_lookups).max(1))
                    .connect_with(options)
                    .await?;
                reads = Some(pg_reads::ReadLane::new(pool.clone()));
                Pool::Postgres(pool)
            }
            None => {
                return Err(StoreError::Invalid(format!(
                    "unsupported database URL (expected sqlite:// or postgres://): {url}"
                )));
            }
        };
        Ok(Store {
            pool,
            system: None,
            lookups,
            reads,
            principals: Default::default(),
            ticket_pages: std::sync::Arc::new(ticket_pages::PageCache::new(true)),
            ticket_kpis: std::sync::Arc::new(ticket_pages::PageCache::new(true)),
            desk_names: std::sync::Arc::new(desk_names::DeskNames::new(true)),
            // A key of this process only, until the binary sets the configured one
            // ([`Store::with_audit_key`]).
            audit: std::sync::Arc::new(audit::AuditLog::new(
                audit::AuditKey::generate(),
                audit::DEFAULT_CHECKPOINT_EVERY,
            )),
        })
    }

    /// PostgreSQL: opens the pool for system work as the role at `url`, which must bypass
    /// row-level security (`BYPASSRLS`): the application role cannot lift the fence, so work
    /// that spans tenants (seeding, the CLI, mail delivery) runs as its own role, in its own
    /// small pool. Ignored on SQLite, which has no roles.
    pub async fn with_system_database(
        mut self,
        url: &str,
        max_connections: u32,
    ) -> Result<Store, StoreError> {
        if matches!(self.pool, Pool::Postgres(_)) {
            let options = PgConnectOptions::from_str(url)?;
            self.system = Some(
                postgres_pool_options()
                    .max_connections(max_connections)
                    .min_connections(0)
                    .connect_with(options)
                    .await?,
            );
        }
        Ok(self)
    }

    /// PostgreSQL: confirms that system work will see every tenant's rows, i.e. that its role
    /// bypasses row-level security; a clear error instead of a seeder or mail worker that
    /// silently finds nothing. Always fine on SQLite.
    pub async fn check_system_role(&self) -> Result<(), StoreError> {
        let Pool::Postgres(app) = &self.pool else {
            return Ok(());
        };
        let pool = self.system.as_ref().unwrap_or(app);
        let (user, bypass): (String, bool) = sqlx::query_as(
            "SELECT current_user::text, rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(pool)
        .await?;
        if bypass {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "the PostgreSQL role {user:?} used for system work (seeding, mail delivery) does not \
                 bypass row-level security: give it BYPASSRLS, or name a role that has it with \
                 --system-database-url"
            )))
        }
    }

    /// The pool that system work uses on PostgreSQL.
    fn system_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.pool {
            Pool::Postgres(app) => Some(self.system.as_ref().unwrap_or(app)),
            Pool::Sqlite(_) => None,
        }
    }

    /// Whether this instance keeps pages of clients' ticket lists it has read, for reuse while
    /// nothing in them changes (on by default; see `ticket_pages.rs`), and in how many bytes
    /// at most by their estimate. Off, every page is read from the database.
    pub fn with_ticket_page_cache(mut self, enabled: bool, max_bytes: usize) -> Store {
        self.ticket_pages =
            std::sync::Arc::new(ticket_pages::PageCache::new(enabled).with_max_bytes(max_bytes));
        self.ticket_kpis = std::sync::Arc::new(ticket_pages::PageCache::new(enabled));
        self.desk_names = std::sync::Arc::new(desk_names::DeskNames::new(enabled));
        self
    }

    /// How many ticket list pages this instance has served from memory since it started.
    pub fn ticket_page_hits(&self) -> u64 {
        self.ticket_pages.hits()
    }

    /// Of [`Store::ticket_page_hits`], the pages served without a statement, checked against
    /// the versions read with the request's session.
    pub fn ticket_page_hits_without_query(&self) -> u64 {
        self.ticket_pages.unread_hits()
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations. On PostgreSQL, grants each of `roles` (the roles the
    /// application and its system work connect as, where they differ from the migrating owner)
    /// row access to the tables and nothing else.
    pub async fn migrate(&self, roles: &[&str]) -> Result<(), StoreError> {
        migrate::run(&self.pool, roles).await
    }

    /// SQLite: gathers planner statistics for the tables that lack them or have grown or shrunk
    /// tenfold since, and only those (PostgreSQL's autovacuum does this itself). Without it an
    /// index a migration added has none, and the planner may prefer it blindly: the console
    /// queue once fell from 3,000 to 6 pages a second that way. Full analysis, not sampled: a
    /// sample of a one-workspace index reads as if it held many workspaces. For `serve` and
    /// `migrate` only: on a large file it takes seconds, holding the write lock.
    pub async fn refresh_planner_statistics(&self) -> Result<(), StoreError> {
        if let Pool::Sqlite(p) = &self.pool {
            let started = std::time::Instant::now();
            p.with_connection(|c| Ok(c.execute_batch("PRAGMA optimize = 0x10002")?))
                .await?;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "planner statistics checked"
            );
        }
        Ok(())
    }

    /// An unfenced transaction, for system work on SQLite (see [`Store::begin_fenced`] for
    /// everyone else's).
    async fn begin(&self, write: bool) -> Result<sql::Tx, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => sql::Tx::Sqlite(p.begin(write).await?),
            // `sql::begin_with` boxes sqlx's `begin` future: it is 8 KB, and inline it sized
            // every transaction's caller, on SQLite too (see `sql::Tx`).
            Pool::Postgres(p) => sql::Tx::Postgres(sql::begin_with(p, "BEGIN").await?),
        })
    }

    fn read_lane(&self) -> &pg_reads::ReadLane {
        self.reads
            .as_ref()
            .expect("a PostgreSQL store has its read connections")
    }

    /// A read-only transaction fenced by `fence`, begun with its first statement (see
    /// [`sql::Tx::PendingSqlite`]).
    fn begin_read_deferred(&self, fence: sql::Fence) -> sql::Tx {
        match &self.pool {
            Pool::Sqlite(p) => sql::Tx::PendingSqlite(p.clone()),
            Pool::Postgres(_) => sql::Tx::PendingPostgres(Box::new(sql::PendingPostgres {
                reads: self.read_lane().clone(),
                fence,
                lookups: self
                    .lookups
                    .clone()
                    .expect("a PostgreSQL store has its lookup connections"),
            })),
        }
    }

    /// A transaction fenced by `fence` (PostgreSQL's row-level-security context, set with the
    /// BEGIN in one round trip; nothing to set on SQLite).
    pub(crate) async fn begin_fenced(
        &self,
        write: bool,
        fence: &sql::Fence,
    ) -> Result<sql::Tx, StoreError> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => sql::Tx::Sqlite(p.begin(write).await?),
            Pool::Postgres(p) if write => sql::Tx::Postgres(sql::begin_fenced(p, fence).await?),
            Pool::Postgres(_) => {
                sql::Tx::PostgresReadOnly(sql::begin_read(self.read_lane(), fence).await?)
            }
        })
    }

    /// A transaction of the system role (PostgreSQL) or an ordinary one (SQLite): for the
    /// `system` feature's handle, and on PostgreSQL for the audit recorder, which appends
    /// entries of every workspace (see [`Store::begin_recording`]).
    pub(crate) async fn begin_system(&self) -> Result<sql::Tx, StoreError> {
        match self.system_pool() {
            Some(p) => Ok(sql::Tx::Postgres(sql::begin_with(p, "BEGIN").await?)),
            None => self.begin(true).await,
        }
    }

    /// The audit recorder's transaction: the system role's on PostgreSQL; on SQLite one on the
    /// recorder's own connection (see `LitePool::begin_recording`).
    pub(crate) async fn begin_recording(&self) -> Result<sql::Tx, StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => Ok(sql::Tx::Sqlite(p.begin_recording().await?)),
            Pool::Postgres(_) => self.begin_system().await,
        }
    }

    /// Single statements of the system role (PostgreSQL), for the store's lookups that no
    /// caller's fence may see through, such as whether a staff user may be mailed about a
    /// portal ticket; `None` on SQLite, where the caller's own transaction serves.
    pub(crate) fn system_statements(&self) -> Option<sql::Tx> {
        self.system_pool().map(|p| sql::Tx::PostgresAuto(p.clone()))
    }

    /// A read-only transaction fenced to `scope`.
    pub async fn scoped<'s>(&self, scope: &'s Scope) -> Result<ScopedTx<'s>, StoreError> {
        ScopedTx::begin(self, scope, false).await
    }

    /// A read-write transaction fenced to `scope`.
    pub async fn scoped_write<'s>(&self, scope: &'s Scope) -> Result<ScopedTx<'s>, StoreError> {
        ScopedTx::begin(self, scope, true).await
    }

    /// Host and branding lookups: tables that carry no client data.
    pub async fn public(&self) -> Result<PublicTx, StoreError> {
        // Single lookups in tables without row-level security: no transaction needed.
        let tx = match &self.pool {
            Pool::Sqlite(p) => sql::Tx::SqliteAuto(p.clone()),
            Pool::Postgres(p) => sql::Tx::PostgresAuto(p.clone()),
        };
        Ok(PublicTx { tx })
    }

    /// Sign-in, sessions and one-time tokens within one workspace. Workspace-wide by necessity
    /// (who the caller is is not known yet), so it offers only those operations.
    pub async fn auth(&self, workspace: portico_core::WorkspaceId) -> Result<AuthTx, StoreError> {
        self.ensure_audit_recorder();
        let tx = self
            .begin_fenced(true, &sql::Fence::auth(workspace.as_text()))
            .await?;
        Ok(AuthTx {
            tx,
            workspace,
            principals: self.principals.clone(),
            audit: self.audit.clone(),
        })
    }

    /// Like [`Store::auth`] but read-only, for resolving the session of every request: SQLite
    /// has one writer, so a write transaction per request would queue every page behind it.
    pub async fn auth_read(
        &self,
        workspace: portico_core::WorkspaceId,
    ) -> Result<AuthTx, StoreError> {
        // Begun only if more than the session lookup is needed: on PostgreSQL that lookup runs
        // on a connection that keeps the sign-in fence (see `AuthTx::resolve_session`), so a
        // request whose principal is kept costs one round trip.
        let tx = self.begin_read_deferred(sql::Fence::auth(workspace.as_text()));
        Ok(AuthTx {
            tx,
            workspace,
            principals: self.principals.clone(),
            audit: self.audit.clone(),
        })
    }

    /// Like [`Store::system_unscoped`], for bulk loads of rows derived from rows already in the
    /// database: on SQLite, foreign keys are not checked in it.
    #[cfg(feature = "system")]
    pub(crate) async fn system_bulk_load(&self) -> Result<SystemTx, StoreError> {
        let tx = match &self.pool {
            Pool::Sqlite(p) => sql::Tx::Sqlite(p.begin_bulk().await?),
            Pool::Postgres(_) => self.begin_system().await?,
        };
        Ok(SystemTx { tx })
    }

    /// Records `framework`'s scorecard of `company` as an assessment, exactly as staff user
    /// `staff` would from the console (seeding and tests: the store builds the principal).
    #[cfg(feature = "system")]
    pub async fn record_assessment_as(
        &self,
        workspace: portico_core::WorkspaceId,
        staff: portico_core::StaffUserId,
        company: portico_core::CompanyId,
        framework: &str,
    ) -> Result<portico_core::AssessmentId, StoreError> {
        let mut auth = self.auth(workspace).await?;
        let principal = auth
            .staff_principal(staff)
            .await?
            .ok_or(StoreError::NotFound)?;
        auth.commit().await?;
        let scope = portico_core::Scope::of(&principal);
        let mut tx = self.scoped_write(&scope).await?;
        let id = tx.record_assessment(company, framework).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every tenant's data, unfenced: for the demo seeder, the CLI and background jobs only.
    /// Never hand this to request handling: it exists only with the `system` feature, which
    /// the binary and the tests enable and `portico-web` does not. On PostgreSQL it runs as the
    /// system role ([`Store::with_system_database`]).
    #[cfg(feature = "system")]
    pub async fn system_unscoped(&self) -> Result<SystemTx, StoreError> {
        Ok(SystemTx {
            tx: self.begin_system().await?,
        })
    }
}

/// Seconds since the Unix epoch; the store's one notion of time.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
