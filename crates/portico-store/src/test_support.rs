//! Fresh databases for tests: a temporary SQLite file by default, or — when
//! `PORTICO_TEST_POSTGRES_URL` names a role allowed to create databases — a new PostgreSQL
//! database migrated by that (owner) role and opened as the unprivileged application role
//! (`PORTICO_TEST_POSTGRES_APP_USER` / `_PASSWORD`, default `portico_app`), with system work
//! on the role that bypasses row-level security (`PORTICO_TEST_POSTGRES_SYSTEM_USER` /
//! `_PASSWORD`, default `portico_system`), exactly as in production, so row-level security is
//! in force during the tests.

use std::path::PathBuf;

use crate::Store;

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "PORTICO_TEST_POSTGRES_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    /// The application's handle (the app role on PostgreSQL).
    pub store: Store,
    /// URL of the application role.
    pub app_url: String,
    /// URL of the owning role (equal to `app_url` on SQLite).
    pub owner_url: String,
    /// URL of the system role, which bypasses row-level security (equal to `app_url` on
    /// SQLite).
    pub system_url: String,
    /// The database file on SQLite (removed with its WAL when dropped).
    pub sqlite_path: Option<PathBuf>,
    /// The database's name on PostgreSQL (dropped when this is dropped).
    postgres_database: Option<String>,
}

fn app_credentials() -> (String, String) {
    (
        std::env::var("PORTICO_TEST_POSTGRES_APP_USER").unwrap_or_else(|_| "portico_app".into()),
        std::env::var("PORTICO_TEST_POSTGRES_APP_PASSWORD")
            .unwrap_or_else(|_| "portico_app".into()),
    )
}

fn system_credentials() -> (String, String) {
    (
        std::env::var("PORTICO_TEST_POSTGRES_SYSTEM_USER")
            .unwrap_or_else(|_| "portico_system".into()),
        std::env::var("PORTICO_TEST_POSTGRES_SYSTEM_PASSWORD")
            .unwrap_or_else(|_| "portico_system".into()),
    )
}

/// Splits `postgres://user:pass@host:port/db?x` into (`user:pass`, `host:port`, `?x`).
fn split_url(url: &str) -> (String, String, String) {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (credentials, rest) = rest.rsplit_once('@').unwrap_or(("", rest));
    let (host, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .find('?')
        .map(|i| tail[i..].to_owned())
        .unwrap_or_default();
    (credentials.to_owned(), host.to_owned(), query)
}

impl TestDatabase {
    /// Whether tests run on PostgreSQL (the variable is set).
    pub fn postgres_requested() -> bool {
        std::env::var(POSTGRES_URL_VAR).is_ok_and(|v| !v.is_empty())
    }

    /// Creates, migrates and opens a fresh database. Panics on failure: it is test scaffolding.
    pub async fn create() -> TestDatabase {
        Self::create_with(crate::SqliteLocking::Exclusive).await
    }

    /// Like [`TestDatabase::create`], an SQLite file locked as `locking` says (the CLI's
    /// commands use shared locking, `portico serve` exclusive).
    pub async fn create_with(locking: crate::SqliteLocking) -> TestDatabase {
        if Self::postgres_requested() {
            Self::create_postgres().await
        } else {
            Self::create_sqlite_with(locking).await
        }
    }

    /// A fresh SQLite database, whatever the environment says, held as `portico serve` holds it.
    pub async fn create_sqlite() -> TestDatabase {
        Self::create_sqlite_with(crate::SqliteLocking::Exclusive).await
    }

    async fn create_sqlite_with(locking: crate::SqliteLocking) -> TestDatabase {
        let path =
            std::env::temp_dir().join(format!("portico-test-{}.db", uuid::Uuid::now_v7().simple()));
        let url = format!("sqlite://{}", path.display());
        let store = Store::connect_with(&url, 4, locking)
            .await
            .expect("open test SQLite database");
        store
            .migrate(&[])
            .await
            .expect("migrate test SQLite database");
        TestDatabase {
            store,
            app_url: url.clone(),
            system_url: url.clone(),
            owner_url: url,
            sqlite_path: Some(path),
            postgres_database: None,
        }
    }

    /// Another instance's handle on this database (its own pools, caches and principal
    /// cache), as a second server would open it.
    pub async fn another_instance(&self) -> Store {
        if self.sqlite_path.is_some() {
            Store::connect(&self.app_url, 2)
                .await
                .expect("open the test database again")
        } else {
            Self::open_instance(&self.app_url, &self.system_url).await
        }
    }

    async fn open_instance(app_url: &str, system_url: &str) -> Store {
        let store = Store::connect(app_url, 4)
            .await
            .expect("open test database as the application role")
            .with_system_database(system_url, 2)
            .await
            .expect("open test database as the system role (PORTICO_TEST_POSTGRES_SYSTEM_USER)");
        store
            .check_system_role()
            .await
            .expect("the system role bypasses row-level security");
        store
    }

    async fn create_postgres() -> TestDatabase {
        let admin = std::env::var(POSTGRES_URL_VAR).expect("PORTICO_TEST_POSTGRES_URL");
        let name = format!("portico_t_{}", uuid::Uuid::now_v7().simple());
        {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to PORTICO_TEST_POSTGRES_URL");
            drop_stale_databases(&mut conn).await;
            // The name is generated above from hex digits only.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            conn.close().await.ok();
        }
        let (credentials, host, query) = split_url(&admin);
        let owner_url = format!("postgres://{credentials}@{host}/{name}{query}");
        let (app_user, app_password) = app_credentials();
        let app_url = format!("postgres://{app_user}:{app_password}@{host}/{name}{query}");
        let (system_user, system_password) = system_credentials();
        let system_url = format!("postgres://{system_user}:{system_password}@{host}/{name}{query}");
        let owner = Store::connect(&owner_url, 2)
            .await
            .expect("open test database as owner");
        owner
            .migrate(&[&app_user, &system_user])
            .await
            .expect("migrate test database");
        let store = Self::open_instance(&app_url, &system_url).await;
        TestDatabase {
            store,
            app_url,
            system_url,
            owner_url,
            sqlite_path: None,
            postgres_database: Some(name),
        }
    }
}

/// Drops a test database, ending whatever connections its pools (or a server the test
/// started) still hold. The name was generated from hex digits only.
async fn drop_database(conn: &mut sqlx::PgConnection, name: &str) {
    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(&mut *conn)
        .await;
}

/// A test's database is dropped when the test ends (see `Drop`); one whose test was killed
/// before that is dropped by a later run once it is over an hour old, when no running test
/// still uses it. The UUIDv7 in the name says when it was created.
async fn drop_stale_databases(conn: &mut sqlx::PgConnection) {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'portico\\_t\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    for (name,) in names {
        let hex = name.trim_start_matches("portico_t_");
        let created_ms = hex.get(..12).and_then(|h| u128::from_str_radix(h, 16).ok());
        let is_ours = hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if is_ours && created_ms.is_some_and(|c| now_ms.saturating_sub(c) > 3_600_000) {
            drop_database(conn, &name).await;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        // Each database is about 12 MB of catalogue and indexes; a whole suite's worth would
        // fill a small disk, so each goes when its test ends. A failing test's is left for a
        // look (a later run drops it an hour on). `Drop` cannot await, and the test's own
        // runtime may be the current-thread kind, so the drop runs on a thread of its own with
        // a runtime of its own, and gives up after a while rather than hang the suite.
        if std::thread::panicking() {
            return;
        }
        if let (Some(name), Ok(admin)) = (
            self.postgres_database.take(),
            std::env::var(POSTGRES_URL_VAR),
        ) {
            let dropper = std::thread::Builder::new().spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async {
                    use sqlx::Connection;
                    let drop = async {
                        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                            drop_database(&mut conn, &name).await;
                            conn.close().await.ok();
                        }
                    };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), drop).await;
                });
            });
            if let Ok(dropper) = dropper {
                let _ = dropper.join();
            }
        }
    }
}
