//! The two schemas agree, migrations are forward-only and repeatable, and PostgreSQL's second
//! fence holds: the application role with no scope set reads nothing.

use std::collections::BTreeMap;

use portico_store::demo;
use portico_store::test_support::TestDatabase;
use sqlx::{Connection, Row};

type Columns = BTreeMap<(String, String), (String, bool)>;

async fn sqlite_columns(url: &str) -> Columns {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut columns = Columns::new();
    for table in tables {
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
    db.store.migrate(None).await.expect("second run is a no-op");
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

#[tokio::test]
async fn application_role_with_no_scope_set_reads_zero_rows() {
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
    for expected in [
        "companies",
        "tickets",
        "ticket_messages",
        "portal_users",
        "staff_users",
        "sessions",
        "contacts",
        "outbox",
        "principal_versions",
        "ticket_list_versions",
    ] {
        assert!(
            tables.iter().any(|t| t == expected),
            "{expected} lacks forced row-level security"
        );
    }
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
    for table in &tables {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut app)
                .await
                .unwrap();
        assert_eq!(
            count, 0,
            "{table} shows {count} rows to the application role with no scope set"
        );
    }
    // The same rows exist: the owner, fenced too, sees them only as the system.
    let mut tx = db.store.system_unscoped().await.unwrap();
    assert!(tx.count_rows("tickets").await.unwrap() >= 200);
    tx.commit().await.unwrap();
    // A scope set for one transaction does not outlive it on the pooled connection.
    sqlx::query("BEGIN").execute(&mut app).await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)")
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
    let mut app = sqlx::PgConnection::connect(&db.app_url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut app).await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)")
        .execute(&mut app)
        .await
        .unwrap();
    let (workspace, company): (String, String) =
        sqlx::query_as("SELECT workspace_id, id FROM companies ORDER BY name LIMIT 1")
            .fetch_one(&mut app)
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
        .execute(&mut app)
        .await
        .unwrap();
    }
    sqlx::query("COMMIT").execute(&mut app).await.unwrap();

    let mut visible = async |companies: &str| -> Vec<String> {
        sqlx::query("BEGIN").execute(&mut app).await.unwrap();
        sqlx::query(
            "SELECT set_config('app.workspace_id', $1, true), set_config('app.company_ids', $2, true), \
             set_config('app.system', 'off', true)",
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
