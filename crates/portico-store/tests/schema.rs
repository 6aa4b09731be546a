//! The two schemas agree, migrations are forward-only and repeatable, and PostgreSQL's second
//! fence holds: every table with a workspace is fenced, the application role with no scope set
//! reads nothing and cannot lift the fence, and only the system role sees every tenant.

use std::collections::BTreeMap;

use portico_store::demo;
use portico_store::test_support::TestDatabase;
use sqlx::{Connection, Row};

type Columns = BTreeMap<(String, String), (String, bool)>;

/// The full-text search index differs by nature: FTS5 tables (and their key table) on SQLite, a
/// table of tsvector documents on PostgreSQL. Both are filled by triggers from the tables that
/// are compared.
fn is_search_index(table: &str) -> bool {
    table.starts_with("ticket_search")
}

async fn sqlite_columns(url: &str) -> Columns {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut columns = Columns::new();
    for table in tables.into_iter().filter(|t| !is_search_index(t)) {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA table_info({table})")))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for row in rows {
            let name: String = row.get("name");
            let declared: String = row.get("type");
            let not_null: bool = row.get::<i64, _>("notnull") == 1 || row.get::<i64, _>("pk") > 0;
            let kind = match declared.to_ascii_uppercase().as_str() {
                "TEXT" => "text",
                "BIGINT" => "bigint",
                "BOOLEAN" => "boolean",
                "BLOB" => "bytea",
                other => panic!(
                    "{table}.{name}: type {other} has no PostgreSQL counterpart in this test"
                ),
            };
            columns.insert((table.clone(), name), (kind.to_owned(), not_null));
        }
    }
    columns
}

async fn postgres_columns(url: &str) -> Columns {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS d, is_nullable::text AS n \
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter()
        .filter(|r| !is_search_index(&r.get::<String, _>("t")))
        .map(|r| {
            (
                (r.get("t"), r.get("c")),
                (r.get::<String, _>("d"), r.get::<String, _>("n") == "NO"),
            )
        })
        .collect()
}

#[tokio::test]
async fn migrations_apply_to_a_fresh_sqlite_database_and_rerun_as_no_ops() {
    let db = TestDatabase::create_sqlite().await;
    db.store.migrate(&[]).await.expect("second run is a no-op");
    assert!(
        demo::seed(&db.store).await.unwrap(),
        "demo seeds an empty database"
    );
    assert!(
        !demo::seed(&db.store).await.unwrap(),
        "demo never seeds twice"
    );
    let columns = sqlite_columns(&db.app_url).await;
    assert!(columns.contains_key(&("tickets".into(), "company_id".into())));
}

#[tokio::test]
async fn sqlite_and_postgresql_schemas_agree() {
    if !TestDatabase::postgres_requested() {
        eprintln!("PORTICO_TEST_POSTGRES_URL is not set: comparing with PostgreSQL is left to CI");
        return;
    }
    let sqlite = TestDatabase::create_sqlite().await;
    let postgres = TestDatabase::create().await;
    let left = sqlite_columns(&sqlite.app_url).await;
    let right = postgres_columns(&postgres.owner_url).await;
    let only_sqlite: Vec<_> = left.keys().filter(|k| !right.contains_key(*k)).collect();
    let only_postgres: Vec<_> = right.keys().filter(|k| !left.contains_key(*k)).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_postgres:?}"
    );
    for (key, sqlite_type) in &left {
        assert_eq!(Some(sqlite_type), right.get(key), "column {key:?} differs");
    }
}

/// Tables with a `workspace_id` column that PostgreSQL does not fence, each with its reason.
/// Everything else with that column must have forced row-level security and a policy.
const UNFENCED_WORKSPACE_TABLES: &[&str] = &[
    // Maps a request's Host header to its workspace: read before anyone (or any workspace) is
    // known, and holds hostnames only, no client data.
    "workspace_hostnames",
];

#[tokio::test]
async fn every_table_with_a_workspace_is_fenced_by_row_level_security() {
    if !TestDatabase::postgres_requested() {
        eprintln!("PORTICO_TEST_POSTGRES_URL is not set: row-level security is checked in CI");
        return;
    }
    let db = TestDatabase::create().await;
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let rows: Vec<(String, bool, bool, i64)> = sqlx::query_as(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity, \
                (SELECT COUNT(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                       AND a.attname = 'workspace_id' AND NOT a.attisdropped) \
         ORDER BY 1",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert!(rows.len() >= 30, "found only {} tables", rows.len());
    let unfenced: Vec<&str> = rows
        .iter()
        .filter(|(table, enabled, forced, policies)| {
            let fenced = *enabled && *forced && *policies > 0;
            !fenced && !UNFENCED_WORKSPACE_TABLES.contains(&table.as_str())
        })
        .map(|(table, ..)| table.as_str())
        .collect();
    assert!(
        unfenced.is_empty(),
        "tables with a workspace_id but without forced row-level security and a policy: {unfenced:?}"
    );
    for allowed in UNFENCED_WORKSPACE_TABLES {
        assert!(
            rows.iter().any(|(t, ..)| t == allowed),
            "{allowed} is allowed unfenced but no longer exists: drop it from the list"
        );
    }
}

#[tokio::test]
async fn application_role_reads_zero_rows_with_no_scope_and_cannot_lift_the_fence() {
    if !TestDatabase::postgres_requested() {
        eprintln!("PORTICO_TEST_POSTGRES_URL is not set: row-level security is checked in CI");
        return;
    }
    let db = TestDatabase::create().await;
    assert!(demo::seed(&db.store).await.unwrap());
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity AND c.relforcerowsecurity",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    let mut app = sqlx::PgConnection::connect(&db.app_url).await.unwrap();
    let (bypass, superuser): (bool, bool) =
        sqlx::query_as("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut app)
            .await
            .unwrap();
    assert!(
        !bypass && !superuser,
        "the application role must not bypass row-level security"
    );
    let owned: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user",
    )
    .fetch_one(&mut app)
    .await
    .unwrap();
    assert_eq!(owned, 0, "the application role must own no table");
    let counts = async |conn: &mut sqlx::PgConnection| -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for table in &tables {
            let count: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
            out.push((table.clone(), count));
        }
        out
    };
    for (table, count) in counts(&mut app).await {
        assert_eq!(
            count, 0,
            "{table} shows {count} rows to the application role with no scope set"
        );
    }
    // The switch that once let a transaction see every tenant is gone: set by the application
    // role, with or without other settings, it reveals nothing.
    sqlx::query("BEGIN").execute(&mut app).await.unwrap();
    sqlx::query(
        "SELECT set_config('app.system', 'on', true), set_config('app.surface', 'system', true), \
         set_config('app.company_ids', '*', true)",
    )
    .execute(&mut app)
    .await
    .unwrap();
    for (table, count) in counts(&mut app).await {
        assert_eq!(count, 0, "app.system='on' reveals {count} rows of {table}");
    }
    sqlx::query("COMMIT").execute(&mut app).await.unwrap();
    // The rows exist: the system role, which bypasses row-level security, sees them, and the
    // store's system handle runs as it.
    let mut system = sqlx::PgConnection::connect(&db.system_url).await.unwrap();
    let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut system)
        .await
        .unwrap();
    assert!(tickets >= 200);
    let mut tx = db.store.system_unscoped().await.unwrap();
    assert_eq!(tx.count_rows("tickets").await.unwrap(), tickets);
    tx.commit().await.unwrap();
    // A scope set for one transaction does not outlive it on the pooled connection.
    let workspace: String = sqlx::query_scalar("SELECT id FROM workspaces LIMIT 1")
        .fetch_one(&mut system)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut app).await.unwrap();
    sqlx::query(
        "SELECT set_config('app.workspace_id', $1, true), set_config('app.company_ids', '*', true)",
    )
    .bind(&workspace)
    .execute(&mut app)
    .await
    .unwrap();
    let inside: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut app)
        .await
        .unwrap();
    sqlx::query("COMMIT").execute(&mut app).await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut app)
        .await
        .unwrap();
    assert!(inside >= 200);
    assert_eq!(after, 0);
}

/// Queued mail without a company (staff invitations, password resets: one-time links) passes
/// PostgreSQL's policy only for scopes that cover every company, never a client's.
#[tokio::test]
async fn workspace_mail_is_hidden_from_company_scopes() {
    if !TestDatabase::postgres_requested() {
        eprintln!("PORTICO_TEST_POSTGRES_URL is not set: row-level security is checked in CI");
        return;
    }
    let db = TestDatabase::create().await;
    assert!(demo::seed(&db.store).await.unwrap());
    let mut system = sqlx::PgConnection::connect(&db.system_url).await.unwrap();
    let (workspace, company): (String, String) =
        sqlx::query_as("SELECT workspace_id, id FROM companies ORDER BY name LIMIT 1")
            .fetch_one(&mut system)
            .await
            .unwrap();
    for (id, company) in [("mail-workspace", None), ("mail-company", Some(&company))] {
        sqlx::query(
            "INSERT INTO outbox (workspace_id, id, company_id, to_address, subject, body, created_at) \
             VALUES ($1, $2, $3, 'someone@example.test', 'Set your password', 'one-time link', 0)",
        )
        .bind(&workspace)
        .bind(id)
        .bind(company)
        .execute(&mut system)
        .await
        .unwrap();
    }
    let mut app = sqlx::PgConnection::connect(&db.app_url).await.unwrap();

    let mut visible = async |companies: &str| -> Vec<String> {
        sqlx::query("BEGIN").execute(&mut app).await.unwrap();
        sqlx::query(
            "SELECT set_config('app.workspace_id', $1, true), set_config('app.company_ids', $2, true), \
             set_config('app.surface', 'console', true)",
        )
        .bind(&workspace)
        .bind(companies)
        .execute(&mut app)
        .await
        .unwrap();
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM outbox WHERE id LIKE 'mail-%' ORDER BY id")
                .fetch_all(&mut app)
                .await
                .unwrap();
        sqlx::query("COMMIT").execute(&mut app).await.unwrap();
        ids
    };
    assert_eq!(visible(&company).await, vec!["mail-company"]);
    assert_eq!(visible("*").await, vec!["mail-company", "mail-workspace"]);
}

/// Each cache's source tables (`CACHE_SOURCES`) have triggers that write its version table, on
/// SQLite for inserts, updates and deletes alike, and on PostgreSQL for all three.
#[tokio::test]
async fn every_cache_source_table_has_its_version_trigger_on_both_backends() {
    let sqlite = TestDatabase::create_sqlite().await;
    let mut conn = sqlx::SqliteConnection::connect(&sqlite.app_url)
        .await
        .unwrap();
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for source in portico_store::CACHE_SOURCES {
        for table in source.tables {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                let found = triggers.iter().any(|(t, sql)| {
                    t == table
                        && sql.contains(&format!("AFTER {event} ON {table}"))
                        && sql.contains(source.versions)
                });
                assert!(
                    found,
                    "SQLite: {table} has no {event} trigger writing {} (the {} cache)",
                    source.versions, source.cache
                );
            }
        }
    }
    if !TestDatabase::postgres_requested() {
        eprintln!("PORTICO_TEST_POSTGRES_URL is not set: PostgreSQL's triggers are checked in CI");
        return;
    }
    let db = TestDatabase::create().await;
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    // Each trigger with its table, the events it fires on, and its function's body.
    let triggers: Vec<(String, i16, String)> = sqlx::query_as(
        "SELECT c.relname::text, t.tgtype, p.prosrc FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid \
         WHERE NOT t.tgisinternal",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    // pg_trigger.tgtype bits: 4 INSERT, 8 DELETE, 16 UPDATE.
    for source in portico_store::CACHE_SOURCES {
        for table in source.tables {
            for (event, bit) in [("INSERT", 4), ("DELETE", 8), ("UPDATE", 16)] {
                let found = triggers.iter().any(|(t, kind, body)| {
                    t == table && kind & bit != 0 && body.contains(source.versions)
                });
                assert!(
                    found,
                    "PostgreSQL: {table} has no {event} trigger writing {} (the {} cache)",
                    source.versions, source.cache
                );
            }
        }
    }
}
