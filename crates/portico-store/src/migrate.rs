//! Forward-only migrations, embedded in the binary, one folder per backend. sqlx records what
//! ran (with checksums) and, on PostgreSQL, holds an advisory lock so that several instances
//! starting together migrate once.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::{Pool, StoreError};

pub(crate) const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "grant billing",
        include_str!("../migrations/sqlite/0002_grant_billing.sql"),
    ),
    (
        3,
        "ticket workflow",
        include_str!("../migrations/sqlite/0003_ticket_workflow.sql"),
    ),
    (
        4,
        "queue index",
        include_str!("../migrations/sqlite/0004_queue_index.sql"),
    ),
    (
        5,
        "attachments",
        include_str!("../migrations/sqlite/0005_attachments.sql"),
    ),
    (
        6,
        "sla targets",
        include_str!("../migrations/sqlite/0006_sla_targets.sql"),
    ),
    (
        7,
        "routing rules",
        include_str!("../migrations/sqlite/0007_routing_rules.sql"),
    ),
    (
        8,
        "saved views",
        include_str!("../migrations/sqlite/0008_saved_views.sql"),
    ),
    (
        9,
        "ticket order indexes",
        include_str!("../migrations/sqlite/0009_ticket_order_indexes.sql"),
    ),
    (
        10,
        "company name index",
        include_str!("../migrations/sqlite/0010_company_name_index.sql"),
    ),
    (
        11,
        "principal versions",
        include_str!("../migrations/sqlite/0011_principal_versions.sql"),
    ),
    (
        12,
        "ticket page index",
        include_str!("../migrations/sqlite/0012_ticket_page_index.sql"),
    ),
    (
        13,
        "ticket list versions",
        include_str!("../migrations/sqlite/0013_ticket_list_versions.sql"),
    ),
    (
        14,
        "principal versions random",
        include_str!("../migrations/sqlite/0014_principal_versions_random.sql"),
    ),
    (
        15,
        "company email domains",
        include_str!("../migrations/sqlite/0015_company_email_domains.sql"),
    ),
    (
        16,
        "outbox delivery",
        include_str!("../migrations/sqlite/0016_outbox_delivery.sql"),
    ),
    (
        17,
        "ticket numbers",
        include_str!("../migrations/sqlite/0017_ticket_numbers.sql"),
    ),
    (
        18,
        "ticket search",
        include_str!("../migrations/sqlite/0018_ticket_search.sql"),
    ),
    (
        19,
        "staff notifications",
        include_str!("../migrations/sqlite/0019_staff_notifications.sql"),
    ),
    (
        20,
        "canned responses",
        include_str!("../migrations/sqlite/0020_canned_responses.sql"),
    ),
    (
        21,
        "kept uploads",
        include_str!("../migrations/sqlite/0021_kept_uploads.sql"),
    ),
    (
        22,
        "local time",
        include_str!("../migrations/sqlite/0022_local_time.sql"),
    ),
    (
        23,
        "ticket visibility",
        include_str!("../migrations/sqlite/0023_ticket_visibility.sql"),
    ),
    (
        24,
        "ticket presence",
        include_str!("../migrations/sqlite/0024_ticket_presence.sql"),
    ),
    (
        25,
        "outbox notices",
        include_str!("../migrations/sqlite/0025_outbox_notices.sql"),
    ),
    (
        26,
        "site names principal version",
        include_str!("../migrations/sqlite/0026_site_names_principal_version.sql"),
    ),
    (
        27,
        "open tickets index",
        include_str!("../migrations/sqlite/0027_open_tickets_index.sql"),
    ),
    (
        28,
        "company records",
        include_str!("../migrations/sqlite/0028_company_records.sql"),
    ),
    (
        29,
        "assets",
        include_str!("../migrations/sqlite/0029_assets.sql"),
    ),
    (
        30,
        "time entries",
        include_str!("../migrations/sqlite/0030_time_entries.sql"),
    ),
    (
        31,
        "asset list index",
        include_str!("../migrations/sqlite/0031_asset_list_index.sql"),
    ),
    (
        32,
        "maintenance",
        include_str!("../migrations/sqlite/0032_maintenance.sql"),
    ),
    (
        33,
        "invoices",
        include_str!("../migrations/sqlite/0033_invoices.sql"),
    ),
    (
        34,
        "change requests",
        include_str!("../migrations/sqlite/0034_change_requests.sql"),
    ),
    (
        35,
        "record history",
        include_str!("../migrations/sqlite/0035_record_history.sql"),
    ),
    (
        36,
        "pending imports",
        include_str!("../migrations/sqlite/0036_pending_imports.sql"),
    ),
    (
        37,
        "asset tallies",
        include_str!("../migrations/sqlite/0037_asset_tallies.sql"),
    ),
    (
        38,
        "asset list covering index",
        include_str!("../migrations/sqlite/0038_asset_list_covering.sql"),
    ),
    (
        39,
        "audit log",
        include_str!("../migrations/sqlite/0039_audit_log.sql"),
    ),
    (
        40,
        "view as",
        include_str!("../migrations/sqlite/0040_view_as.sql"),
    ),
    (
        41,
        "two-step verification",
        include_str!("../migrations/sqlite/0041_mfa.sql"),
    ),
    (
        42,
        "api tokens",
        include_str!("../migrations/sqlite/0042_api_tokens.sql"),
    ),
    (
        43,
        "single sign-on",
        include_str!("../migrations/sqlite/0043_sso.sql"),
    ),
    (
        44,
        "audit sign-in index",
        include_str!("../migrations/sqlite/0044_audit_sign_in_index.sql"),
    ),
    (
        45,
        "view as a role",
        include_str!("../migrations/sqlite/0045_view_as_role.sql"),
    ),
    (
        46,
        "webhooks",
        include_str!("../migrations/sqlite/0046_webhooks.sql"),
    ),
    (
        47,
        "api idempotency",
        include_str!("../migrations/sqlite/0047_api_idempotency.sql"),
    ),
    (
        48,
        "connectors",
        include_str!("../migrations/sqlite/0048_connectors.sql"),
    ),
    (
        49,
        "pushed connector",
        include_str!("../migrations/sqlite/0049_pushed_connector.sql"),
    ),
    (
        50,
        "domain health",
        include_str!("../migrations/sqlite/0050_domain_health.sql"),
    ),
    (
        51,
        "breach monitoring",
        include_str!("../migrations/sqlite/0051_breach_monitoring.sql"),
    ),
    (
        52,
        "backup jobs",
        include_str!("../migrations/sqlite/0052_backup_jobs.sql"),
    ),
    (
        53,
        "edr and identity protection",
        include_str!("../migrations/sqlite/0053_edr_and_identity_protection.sql"),
    ),
    (
        54,
        "penetration tests",
        include_str!("../migrations/sqlite/0054_pentests.sql"),
    ),
    (
        55,
        "edr coverage",
        include_str!("../migrations/sqlite/0055_edr_coverage.sql"),
    ),
    (
        56,
        "compliance",
        include_str!("../migrations/sqlite/0056_compliance.sql"),
    ),
    (
        57,
        "backup connector",
        include_str!("../migrations/sqlite/0057_backup_connector.sql"),
    ),
    (
        58,
        "psa links",
        include_str!("../migrations/sqlite/0058_psa_links.sql"),
    ),
    (
        59,
        "accounting invoices",
        include_str!("../migrations/sqlite/0059_accounting_invoices.sql"),
    ),
    (
        60,
        "security and compliance reads",
        include_str!("../migrations/sqlite/0060_security_and_compliance_reads.sql"),
    ),
    (
        61,
        "security alerts shown",
        include_str!("../migrations/sqlite/0061_security_alerts_shown.sql"),
    ),
    (
        62,
        "compliance findings text",
        include_str!("../migrations/sqlite/0062_compliance_findings_text.sql"),
    ),
    (
        63,
        "open tickets queue",
        include_str!("../migrations/sqlite/0063_open_tickets_queue.sql"),
    ),
    (
        64,
        "asset field visibility unique",
        include_str!("../migrations/sqlite/0064_asset_field_visibility_unique.sql"),
    ),
    (
        65,
        "psa statuses",
        include_str!("../migrations/sqlite/0065_psa_statuses.sql"),
    ),
    (
        66,
        "psa attachment links",
        include_str!("../migrations/sqlite/0066_psa_attachment_links.sql"),
    ),
    (
        67,
        "psa replies held back",
        include_str!("../migrations/sqlite/0067_psa_held_back.sql"),
    ),
    (
        68,
        "psa files seen",
        include_str!("../migrations/sqlite/0068_psa_files_seen.sql"),
    ),
    (
        69,
        "ticket page index numbered",
        include_str!("../migrations/sqlite/0069_ticket_page_index_numbered.sql"),
    ),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "grant billing",
        include_str!("../migrations/postgres/0002_grant_billing.sql"),
    ),
    (
        3,
        "ticket workflow",
        include_str!("../migrations/postgres/0003_ticket_workflow.sql"),
    ),
    (
        4,
        "queue index",
        include_str!("../migrations/postgres/0004_queue_index.sql"),
    ),
    (
        5,
        "attachments",
        include_str!("../migrations/postgres/0005_attachments.sql"),
    ),
    (
        6,
        "sla targets",
        include_str!("../migrations/postgres/0006_sla_targets.sql"),
    ),
    (
        7,
        "routing rules",
        include_str!("../migrations/postgres/0007_routing_rules.sql"),
    ),
    (
        8,
        "saved views",
        include_str!("../migrations/postgres/0008_saved_views.sql"),
    ),
    (
        9,
        "ticket order indexes",
        include_str!("../migrations/postgres/0009_ticket_order_indexes.sql"),
    ),
    (
        10,
        "company name index",
        include_str!("../migrations/postgres/0010_company_name_index.sql"),
    ),
    (
        11,
        "principal versions",
        include_str!("../migrations/postgres/0011_principal_versions.sql"),
    ),
    (
        12,
        "ticket page index",
        include_str!("../migrations/postgres/0012_ticket_page_index.sql"),
    ),
    (
        13,
        "outbox workspace mail",
        include_str!("../migrations/postgres/0013_outbox_workspace_mail.sql"),
    ),
    (
        14,
        "ticket list versions",
        include_str!("../migrations/postgres/0014_ticket_list_versions.sql"),
    ),
    (
        15,
        "principal versions scope",
        include_str!("../migrations/postgres/0015_principal_versions_scope.sql"),
    ),
    (
        16,
        "principal versions random",
        include_str!("../migrations/postgres/0016_principal_versions_random.sql"),
    ),
    (
        17,
        "company email domains",
        include_str!("../migrations/postgres/0017_company_email_domains.sql"),
    ),
    (
        18,
        "outbox delivery",
        include_str!("../migrations/postgres/0018_outbox_delivery.sql"),
    ),
    (
        19,
        "ticket numbers",
        include_str!("../migrations/postgres/0019_ticket_numbers.sql"),
    ),
    (
        20,
        "fence surfaces",
        include_str!("../migrations/postgres/0020_fence_surfaces.sql"),
    ),
    (
        21,
        "ticket search",
        include_str!("../migrations/postgres/0021_ticket_search.sql"),
    ),
    (
        22,
        "staff notifications",
        include_str!("../migrations/postgres/0022_staff_notifications.sql"),
    ),
    (
        23,
        "canned responses",
        include_str!("../migrations/postgres/0023_canned_responses.sql"),
    ),
    (
        24,
        "kept uploads",
        include_str!("../migrations/postgres/0024_kept_uploads.sql"),
    ),
    (
        25,
        "session lookup",
        include_str!("../migrations/postgres/0025_session_lookup.sql"),
    ),
    (
        26,
        "local time",
        include_str!("../migrations/postgres/0026_local_time.sql"),
    ),
    (
        27,
        "ticket visibility",
        include_str!("../migrations/postgres/0027_ticket_visibility.sql"),
    ),
    (
        28,
        "ticket presence",
        include_str!("../migrations/postgres/0028_ticket_presence.sql"),
    ),
    (
        29,
        "outbox notices",
        include_str!("../migrations/postgres/0029_outbox_notices.sql"),
    ),
    (
        30,
        "site names principal version",
        include_str!("../migrations/postgres/0030_site_names_principal_version.sql"),
    ),
    (
        31,
        "open tickets index",
        include_str!("../migrations/postgres/0031_open_tickets_index.sql"),
    ),
    (
        32,
        "company records",
        include_str!("../migrations/postgres/0032_company_records.sql"),
    ),
    (
        33,
        "assets",
        include_str!("../migrations/postgres/0033_assets.sql"),
    ),
    (
        34,
        "time entries",
        include_str!("../migrations/postgres/0034_time_entries.sql"),
    ),
    (
        35,
        "asset list index",
        include_str!("../migrations/postgres/0035_asset_list_index.sql"),
    ),
    (
        36,
        "maintenance",
        include_str!("../migrations/postgres/0036_maintenance.sql"),
    ),
    (
        37,
        "invoices",
        include_str!("../migrations/postgres/0037_invoices.sql"),
    ),
    (
        38,
        "change requests",
        include_str!("../migrations/postgres/0038_change_requests.sql"),
    ),
    (
        39,
        "record history",
        include_str!("../migrations/postgres/0039_record_history.sql"),
    ),
    (
        40,
        "pending imports",
        include_str!("../migrations/postgres/0040_pending_imports.sql"),
    ),
    (
        41,
        "portal admin fence",
        include_str!("../migrations/postgres/0041_portal_admin_fence.sql"),
    ),
    (
        42,
        "asset tallies",
        include_str!("../migrations/postgres/0042_asset_tallies.sql"),
    ),
    (
        43,
        "portal user self",
        include_str!("../migrations/postgres/0043_portal_user_self.sql"),
    ),
    (
        44,
        "asset list covering index",
        include_str!("../migrations/postgres/0044_asset_list_covering.sql"),
    ),
    (
        45,
        "current asset indexes",
        include_str!("../migrations/postgres/0045_current_asset_indexes.sql"),
    ),
    (
        46,
        "asset tallies backfill",
        include_str!("../migrations/postgres/0046_asset_tallies_backfill.sql"),
    ),
    (
        47,
        "audit log",
        include_str!("../migrations/postgres/0047_audit_log.sql"),
    ),
    (
        48,
        "view as",
        include_str!("../migrations/postgres/0048_view_as.sql"),
    ),
    (
        49,
        "two-step verification",
        include_str!("../migrations/postgres/0049_mfa.sql"),
    ),
    (
        50,
        "api tokens",
        include_str!("../migrations/postgres/0050_api_tokens.sql"),
    ),
    (
        51,
        "single sign-on",
        include_str!("../migrations/postgres/0051_sso.sql"),
    ),
    (
        52,
        "audit sign-in index",
        include_str!("../migrations/postgres/0052_audit_sign_in_index.sql"),
    ),
    (
        53,
        "view as a role",
        include_str!("../migrations/postgres/0053_view_as_role.sql"),
    ),
    (
        54,
        "webhooks",
        include_str!("../migrations/postgres/0054_webhooks.sql"),
    ),
    (
        55,
        "api idempotency",
        include_str!("../migrations/postgres/0055_api_idempotency.sql"),
    ),
    (
        56,
        "connectors",
        include_str!("../migrations/postgres/0056_connectors.sql"),
    ),
    (
        57,
        "pushed connector",
        include_str!("../migrations/postgres/0057_pushed_connector.sql"),
    ),
    (
        58,
        "domain health",
        include_str!("../migrations/postgres/0058_domain_health.sql"),
    ),
    (
        59,
        "breach monitoring",
        include_str!("../migrations/postgres/0059_breach_monitoring.sql"),
    ),
    (
        60,
        "backup jobs",
        include_str!("../migrations/postgres/0060_backup_jobs.sql"),
    ),
    (
        61,
        "edr and identity protection",
        include_str!("../migrations/postgres/0061_edr_and_identity_protection.sql"),
    ),
    (
        62,
        "penetration tests",
        include_str!("../migrations/postgres/0062_pentests.sql"),
    ),
    (
        63,
        "edr coverage",
        include_str!("../migrations/postgres/0063_edr_coverage.sql"),
    ),
    (
        64,
        "compliance",
        include_str!("../migrations/postgres/0064_compliance.sql"),
    ),
    (
        65,
        "backup connector",
        include_str!("../migrations/postgres/0065_backup_connector.sql"),
    ),
    (
        66,
        "psa links",
        include_str!("../migrations/postgres/0066_psa_links.sql"),
    ),
    (
        67,
        "accounting invoices",
        include_str!("../migrations/postgres/0067_accounting_invoices.sql"),
    ),
    (
        68,
        "security and compliance reads",
        include_str!("../migrations/postgres/0068_security_and_compliance_reads.sql"),
    ),
    (
        69,
        "security alerts shown",
        include_str!("../migrations/postgres/0069_security_alerts_shown.sql"),
    ),
    (
        70,
        "compliance findings text",
        include_str!("../migrations/postgres/0070_compliance_findings_text.sql"),
    ),
    (
        71,
        "api token lookup",
        include_str!("../migrations/postgres/0071_api_token_lookup.sql"),
    ),
    (
        72,
        "open tickets queue",
        include_str!("../migrations/postgres/0072_open_tickets_queue.sql"),
    ),
    (
        73,
        "asset field visibility unique",
        include_str!("../migrations/postgres/0073_asset_field_visibility_unique.sql"),
    ),
    (
        74,
        "psa statuses",
        include_str!("../migrations/postgres/0074_psa_statuses.sql"),
    ),
    (
        75,
        "psa attachment links",
        include_str!("../migrations/postgres/0075_psa_attachment_links.sql"),
    ),
    (
        76,
        "psa replies held back",
        include_str!("../migrations/postgres/0076_psa_held_back.sql"),
    ),
    (
        77,
        "psa files seen",
        include_str!("../migrations/postgres/0077_psa_files_seen.sql"),
    ),
    (
        78,
        "lookup versions",
        include_str!("../migrations/postgres/0078_lookup_versions.sql"),
    ),
    (
        79,
        "tickets autovacuum",
        include_str!("../migrations/postgres/0079_tickets_autovacuum.sql"),
    ),
    (
        80,
        "lookups as statements",
        include_str!("../migrations/postgres/0080_lookups_as_statements.sql"),
    ),
    (
        81,
        "ticket page index numbered",
        include_str!("../migrations/postgres/0081_ticket_page_index_numbered.sql"),
    ),
    (
        82,
        "scope one company first",
        include_str!("../migrations/postgres/0082_scope_one_company_first.sql"),
    ),
    (
        83,
        "counters per statement",
        include_str!("../migrations/postgres/0083_counters_per_statement.sql"),
    ),
    (
        84,
        "audit company key on heads",
        include_str!("../migrations/postgres/0084_audit_company_key_on_heads.sql"),
    ),
];

/// How a migration that manages its own transaction begins.
const NO_TRANSACTION: &str = "-- no-transaction:";

fn migrator(files: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = files
        .iter()
        .map(|(version, name, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(*sql),
                // A migration that must run outside a transaction (a SQLite table rebuild
                // switches foreign keys off first) brings its own BEGIN and COMMIT.
                sql.starts_with(NO_TRANSACTION),
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

pub(crate) async fn run(pool: &Pool, roles: &[&str]) -> Result<(), StoreError> {
    match pool {
        Pool::Sqlite(p) => {
            // Migrations stay on sqlx's migrator; one short-lived connection is enough.
            use sqlx::Connection;
            let mut options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(p.path())
                .foreign_keys(true);
            if p.locking() == crate::SqliteLocking::Exclusive {
                // Through the same VFS as the pool: a connection with ordinary locks would
                // replace the process's exclusive lock with its own and drop it when done,
                // while the pool's connections went on believing it held.
                options = options.vfs("unix-excl");
            }
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            migrator(SQLITE).run(&mut conn).await?;
            conn.close().await?;
        }
        Pool::Postgres(p) => {
            migrator(POSTGRES).run(p).await?;
            for role in roles {
                grant_row_access(p, role).await?;
            }
        }
    }
    Ok(())
}

/// The application and system roles get row access and nothing else: they own no table, so
/// they cannot alter policies. (Whether a role bypasses row-level security is its attribute,
/// given by whoever created it: the system role's, never the application role's.)
async fn grant_row_access(pool: &sqlx::PgPool, role: &str) -> Result<(), StoreError> {
    if role.is_empty() || !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Invalid(format!(
            "unusable database role name: {role:?}"
        )));
    }
    let statements = [
        format!("GRANT USAGE ON SCHEMA public TO \"{role}\""),
        format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \"{role}\""
        ),
        format!("REVOKE ALL ON _sqlx_migrations FROM \"{role}\""),
        // The audit log is append-only for every role the application connects as...
        format!("REVOKE UPDATE, DELETE ON audit_entries, audit_checkpoints FROM \"{role}\""),
        // ...but the system role, which prunes entries past the retention period.
        format!(
            "DO $$ BEGIN IF (SELECT rolbypassrls FROM pg_roles WHERE rolname = '{role}') THEN \
             GRANT DELETE ON audit_entries, audit_checkpoints TO \"{role}\"; END IF; END $$"
        ),
    ];
    // The role name was checked above to be a plain identifier.
    for statement in statements {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(pool)
            .await?;
    }
    Ok(())
}
