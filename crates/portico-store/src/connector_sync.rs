//! Connectors (I2), the sync side: due tenants claimed by one instance at a time, what a run
//! read applied as idempotent upserts (a record unchanged is not written; one gone upstream is
//! retired, never deleted), and every run's outcome kept in the history and the audit log.
//! System work (the connector worker, `portico-connectors`), across workspaces.

use std::collections::HashMap;

use portico_core::{AuditAction, AuditTarget, CompanyId, ConnectorId, Origin, WorkspaceId};

use crate::StoreError;
use crate::audit::{EntryActor, Pending, append};
use crate::scoped::connectors::{ConnectorKind, secret_context};
use crate::sql::{Q, q};
use crate::system::SystemTx;

/// A mapped tenant claimed for a sync, with what calling the vendor needs.
#[derive(Clone)]
pub struct DueTenant {
    pub workspace_id: WorkspaceId,
    pub connector_id: ConnectorId,
    pub connector_name: String,
    pub kind: ConnectorKind,
    pub auth_url: String,
    pub api_url: String,
    /// The connector's own tenant setting (a hosted HaloPSA instance's tenant name).
    pub home_tenant: String,
    pub client_id: String,
    pub secret: String,
    pub external_id: String,
    pub tenant_name: String,
    pub company_id: CompanyId,
    pub sync_every_minutes: i64,
    pub inactive_after_days: i64,
    /// `schedule`, `console` or `portal`.
    pub started_by: String,
    /// Failed runs in a row before this one.
    pub failures: i64,
    /// Where the last incremental read of alerts ended ('' before the first).
    pub alerts_watermark: String,
}

impl std::fmt::Debug for DueTenant {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueTenant")
            .field("connector_id", &self.connector_id)
            .field("external_id", &self.external_id)
            .field("company_id", &self.company_id)
            .finish_non_exhaustive()
    }
}

struct DueRow {
    workspace_id: String,
    connector_id: String,
    connector_name: String,
    kind: String,
    auth_url: String,
    api_url: String,
    home_tenant: String,
    client_id: String,
    secret_sealed: String,
    external_id: String,
    tenant_name: String,
    company_id: String,
    sync_every_minutes: i64,
    inactive_after_days: i64,
    refresh_by: String,
    refresh_requested_at: Option<i64>,
    failures: i64,
    alerts_watermark: String,
}
crate::sql::db_row!(DueRow {
    workspace_id,
    connector_id,
    connector_name,
    kind,
    auth_url,
    api_url,
    home_tenant,
    client_id,
    secret_sealed,
    external_id,
    tenant_name,
    company_id,
    sync_every_minutes,
    inactive_after_days,
    refresh_by,
    refresh_requested_at,
    failures,
    alerts_watermark
});

struct DiscoveryRow {
    workspace_id: String,
    kind: String,
    auth_url: String,
    api_url: String,
    home_tenant: String,
    client_id: String,
    secret_sealed: String,
}
crate::sql::db_row!(DiscoveryRow {
    workspace_id,
    kind,
    auth_url,
    api_url,
    home_tenant,
    client_id,
    secret_sealed
});

struct StoredUser {
    external_id: String,
    display_name: String,
    user_principal_name: String,
    mail: String,
    enabled: bool,
    licence_skus: String,
    mfa_registered: Option<bool>,
    is_admin: bool,
    last_sign_in_at: Option<i64>,
    retired_at: Option<i64>,
}
crate::sql::db_row!(StoredUser {
    external_id,
    display_name,
    user_principal_name,
    mail,
    enabled,
    licence_skus,
    mfa_registered,
    is_admin,
    last_sign_in_at,
    retired_at
});

struct StoredLicence {
    sku_id: String,
    sku_part_number: String,
    product_name: String,
    capability_status: String,
    purchased: i64,
    assigned: i64,
    suspended: i64,
    warning: i64,
    unused_disabled: i64,
    unused_inactive: i64,
    renews_on: Option<String>,
    retired_at: Option<i64>,
}
crate::sql::db_row!(StoredLicence {
    sku_id,
    sku_part_number,
    product_name,
    capability_status,
    purchased,
    assigned,
    suspended,
    warning,
    unused_disabled,
    unused_inactive,
    renews_on,
    retired_at
});

/// A connector whose partner's customers are to be listed.
#[derive(Clone)]
pub struct DueDiscovery {
    pub workspace_id: WorkspaceId,
    pub connector_id: ConnectorId,
    pub kind: ConnectorKind,
    pub auth_url: String,
    pub api_url: String,
    pub home_tenant: String,
    pub client_id: String,
    pub secret: String,
}

/// A tenant a discovery found.
#[derive(Debug, Clone)]
pub struct DiscoveredTenant {
    pub external_id: String,
    pub name: String,
    pub domains: Vec<String>,
}

/// A subscribed product as the vendor reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SkuRecord {
    pub sku_id: String,
    pub sku_part_number: String,
    pub product_name: String,
    pub capability_status: String,
    pub purchased: i64,
    pub assigned: i64,
    pub suspended: i64,
    pub warning: i64,
    pub renews_on: Option<String>,
}

/// A directory user as the vendor reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryUserRecord {
    pub external_id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: String,
    pub enabled: bool,
    pub licence_skus: Vec<String>,
    pub mfa_registered: Option<bool>,
    pub is_admin: bool,
    pub last_sign_in_at: Option<i64>,
}

/// Everything one Microsoft 365 run read from a tenant.
#[derive(Debug, Clone, Default)]
pub struct Microsoft365Snapshot {
    pub name: String,
    pub domains: Vec<String>,
    pub skus: Vec<SkuRecord>,
    pub users: Vec<DirectoryUserRecord>,
    /// Whether the vendor gave sign-in times (it needs an Entra ID P1 licence): without them,
    /// no licence counts as unused for inactivity.
    pub sign_ins_known: bool,
    /// Security alerts changed since the tenant's watermark; `None` when the tenant does not
    /// let the app read them (no Defender licence, no permission).
    pub alerts: Option<Vec<AlertRecord>>,
    /// The latest change among them (the vendor's time text), the next read's start.
    pub alerts_watermark: Option<String>,
}

/// A security alert as the vendor reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    pub external_id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub service_source: String,
    pub category: String,
    pub subject: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

/// What a run did to the stored records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub seen: i64,
    pub added: i64,
    pub changed: i64,
    pub retired: i64,
}

impl SyncCounts {
    pub fn wrote_nothing(&self) -> bool {
        self.added == 0 && self.changed == 0 && self.retired == 0
    }
}

/// How a run ended, for the history.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub started_at: i64,
    pub finished_at: i64,
    pub requests: i64,
}

/// Why a connector whose stored secret no longer opens does not run.
const SECRET_UNREADABLE: &str = "The stored secret cannot be read with this server's key file \
     (was the key file replaced?): enter the secret again.";

/// Rows per multi-row INSERT.
pub(crate) const INSERT_BATCH: usize = 200;

impl SystemTx {
    /// Claims up to `limit` mapped tenants of enabled connectors due at `now`, until
    /// `lease_until`, under `token`: never the same tenant to two instances. Asked-for
    /// refreshes come first. Each comes with its connector's secret, opened with the store's key.
    pub async fn claim_due_tenants(
        &mut self,
        store: &crate::Store,
        now: i64,
        lease_until: i64,
        limit: i64,
        token: &str,
    ) -> Result<Vec<DueTenant>, StoreError> {
        let mut query = Q::new(
            "SELECT t.connector_id, t.external_id FROM connector_tenants t JOIN connectors c \
             ON c.workspace_id = t.workspace_id AND c.id = t.connector_id \
             WHERE c.enabled AND t.company_id IS NOT NULL AND t.next_sync_at <= ",
        );
        let at = query.placeholder(now);
        query.sql(&format!(
            "{at} AND (t.claimed_until IS NULL OR t.claimed_until < {at}) \
             ORDER BY (t.refresh_requested_at IS NULL), t.next_sync_at LIMIT "
        ));
        query.arg(limit.clamp(1, 100));
        let mut candidates: Vec<(String, String)> = self.tx.all(query).await?;
        // A PSA's tenant is due too as soon as one of its company's tickets changed since its
        // last run (a portal ticket or reply goes out within seconds, not at the next interval);
        // not while it is failing, when its backoff decides.
        let mut query = Q::new(
            "SELECT t.connector_id, t.external_id FROM connector_tenants t JOIN connectors c \
             ON c.workspace_id = t.workspace_id AND c.id = t.connector_id \
             WHERE t.kind = 'halopsa' AND t.company_id IS NOT NULL AND c.enabled AND t.failures = 0 \
             AND t.last_attempt_at < ",
        );
        // Times are whole seconds: a change in the second the last run began counts (`>=`),
        // and a run waits for that second to pass, so that its own writes call for one more
        // run at most.
        let at = query.placeholder(now);
        query.sql(&format!(
            "{at} AND (t.claimed_until IS NULL OR t.claimed_until < {at}) \
             AND EXISTS (SELECT 1 FROM tickets tk WHERE tk.workspace_id = t.workspace_id \
             AND tk.company_id = t.company_id AND tk.updated_at >= t.last_attempt_at) LIMIT "
        ));
        query.arg(limit.clamp(1, 100));
        let changed: Vec<(String, String)> = self.tx.all(query).await?;
        for pair in changed {
            if !candidates.contains(&pair) {
                candidates.push(pair);
            }
        }
        let mut claimed = Vec::new();
        for (connector, external) in candidates {
            // The guard makes the claim: a twin instance's UPDATE finds it taken.
            let n = self
                .tx
                .exec(q!(
                    "UPDATE connector_tenants SET claim_token = $1, claimed_until = $2 \
                     WHERE connector_id = $3 AND external_id = $4 \
                     AND (claimed_until IS NULL OR claimed_until < $5)",
                    token,
                    lease_until,
                    &connector,
                    &external,
                    now
                ))
                .await?;
            if n == 1 {
                claimed.push((connector, external));
            }
        }
        let sealer = store.audit_log().sealer();
        let mut due = Vec::new();
        for (connector, external) in claimed {
            let row: DueRow = self
                .tx
                .one(q!(
                    "SELECT t.workspace_id, t.connector_id, c.name AS connector_name, c.kind, c.auth_url, \
                     c.api_url, c.home_tenant, c.client_id, c.secret_sealed, t.external_id, t.name AS tenant_name, \
                     t.company_id, c.sync_every_minutes, c.inactive_after_days, t.refresh_by, \
                     t.refresh_requested_at, t.failures, t.alerts_watermark \
                     FROM connector_tenants t JOIN connectors c \
                     ON c.workspace_id = t.workspace_id AND c.id = t.connector_id \
                     WHERE t.connector_id = $1 AND t.external_id = $2",
                    &connector,
                    &external
                ))
                .await?;
            let Some(secret) = sealer
                .open(
                    &secret_context(&row.workspace_id, &row.connector_id),
                    &row.secret_sealed,
                )
                .ok()
                .and_then(|s| String::from_utf8(s).ok())
            else {
                // This connector's tenants wait (an hour) with the reason shown; the others run.
                self.tx
                    .exec(q!(
                        "UPDATE connector_tenants SET last_error = $1, last_attempt_at = $2, \
                         failures = failures + 1, next_sync_at = $3, refresh_requested_at = NULL, \
                         claim_token = NULL, claimed_until = NULL \
                         WHERE connector_id = $4 AND external_id = $5",
                        SECRET_UNREADABLE,
                        now,
                        now + 3600,
                        &connector,
                        &external
                    ))
                    .await?;
                continue;
            };
            due.push(DueTenant {
                secret,
                workspace_id: WorkspaceId::from_stored(&row.workspace_id),
                connector_id: ConnectorId::from_stored(&row.connector_id),
                connector_name: row.connector_name,
                kind: ConnectorKind::parse(&row.kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("connector kind {}", row.kind)))?,
                auth_url: row.auth_url,
                api_url: row.api_url,
                home_tenant: row.home_tenant,
                client_id: row.client_id,
                external_id: row.external_id,
                tenant_name: row.tenant_name,
                company_id: CompanyId::from_stored(&row.company_id),
                sync_every_minutes: row.sync_every_minutes,
                inactive_after_days: row.inactive_after_days,
                started_by: match (row.refresh_requested_at, row.refresh_by.as_str()) {
                    (Some(_), "portal") => "portal".to_owned(),
                    (Some(_), _) => "console".to_owned(),
                    (None, _) => "schedule".to_owned(),
                },
                failures: row.failures,
                alerts_watermark: row.alerts_watermark,
            });
        }
        Ok(due)
    }

    /// Claims up to `limit` connectors whose customers are to be listed: asked for, or not
    /// listed for a day.
    pub async fn claim_due_discoveries(
        &mut self,
        store: &crate::Store,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<DueDiscovery>, StoreError> {
        let candidates: Vec<(String,)> = self
            .tx
            .all(q!(
                "SELECT id FROM connectors WHERE enabled \
                 AND (discover_requested_at IS NOT NULL OR discovered_at IS NULL OR discovered_at < $1) \
                 AND (discovery_claimed_until IS NULL OR discovery_claimed_until < $2) \
                 ORDER BY created_at LIMIT $3",
                now - 24 * 3600,
                now,
                limit.clamp(1, 20)
            ))
            .await?;
        let sealer = store.audit_log().sealer();
        let mut due = Vec::new();
        for (id,) in candidates {
            let n = self
                .tx
                .exec(q!(
                    "UPDATE connectors SET discovery_claimed_until = $1 WHERE id = $2 \
                     AND (discovery_claimed_until IS NULL OR discovery_claimed_until < $3)",
                    lease_until,
                    &id,
                    now
                ))
                .await?;
            if n != 1 {
                continue;
            }
            let DiscoveryRow {
                workspace_id: workspace,
                kind,
                auth_url,
                api_url,
                home_tenant,
                client_id,
                secret_sealed: sealed,
            } = self
                .tx
                .one(q!(
                    "SELECT workspace_id, kind, auth_url, api_url, home_tenant, client_id, secret_sealed \
                     FROM connectors WHERE id = $1",
                    &id
                ))
                .await?;
            // A secret that no longer opens (the key file replaced) stops this connector only,
            // with an error its owners see, never the worker's rounds for every other one.
            let Some(secret) = sealer
                .open(&secret_context(&workspace, &id), &sealed)
                .ok()
                .and_then(|s| String::from_utf8(s).ok())
            else {
                self.tx
                    .exec(q!(
                        "UPDATE connectors SET discovery_error = $1, discovered_at = $2, \
                         discover_requested_at = NULL, discovery_claimed_until = NULL WHERE id = $3",
                        SECRET_UNREADABLE,
                        now,
                        &id
                    ))
                    .await?;
                continue;
            };
            due.push(DueDiscovery {
                workspace_id: WorkspaceId::from_stored(&workspace),
                connector_id: ConnectorId::from_stored(&id),
                kind: ConnectorKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("connector kind {kind}")))?,
                auth_url,
                api_url,
                home_tenant,
                client_id,
                secret,
            });
        }
        Ok(due)
    }

    /// Records what a discovery found (new tenants added unmapped, known ones renamed), or
    /// why it failed.
    pub async fn discovered(
        &mut self,
        due: &DueDiscovery,
        found: Result<Vec<DiscoveredTenant>, String>,
        now: i64,
    ) -> Result<(), StoreError> {
        let error = match found {
            Ok(tenants) => {
                for t in tenants {
                    let domains = t.domains.join(" ");
                    let updated = self
                        .tx
                        .exec(q!(
                            "UPDATE connector_tenants SET name = $1, domains = $2, seen_at = $3 \
                             WHERE connector_id = $4 AND external_id = $5",
                            &t.name,
                            &domains,
                            now,
                            due.connector_id,
                            &t.external_id
                        ))
                        .await?;
                    if updated == 0 {
                        self.tx
                            .exec(q!(
                                "INSERT INTO connector_tenants (workspace_id, connector_id, kind, external_id, \
                                 name, domains, seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                due.workspace_id,
                                due.connector_id,
                                due.kind.as_str(),
                                &t.external_id,
                                &t.name,
                                &domains,
                                now
                            ))
                            .await?;
                    }
                }
                String::new()
            }
            Err(error) => error.chars().take(500).collect(),
        };
        self.tx
            .exec(q!(
                "UPDATE connectors SET discovered_at = $1, discovery_error = $2, \
                 discover_requested_at = NULL, discovery_claimed_until = NULL WHERE id = $3",
                now,
                &error,
                due.connector_id
            ))
            .await?;
        Ok(())
    }

    /// Applies what a Microsoft 365 run read: products and users upserted (only what changed
    /// is written), those gone upstream retired, the run kept in the history and the audit
    /// log. False (and nothing written) when the claim `token` no longer holds the tenant.
    pub async fn apply_microsoft365(
        &mut self,
        store: &crate::Store,
        due: &DueTenant,
        token: &str,
        snapshot: &Microsoft365Snapshot,
        report: &RunReport,
    ) -> Result<Option<SyncCounts>, StoreError> {
        if !self.holds_claim(due, token).await? {
            return Ok(None);
        }
        let now = report.finished_at;
        let mut counts = SyncCounts::default();
        let users = self
            .upsert_directory_users(due, &snapshot.users, now)
            .await?;
        let without_mfa = snapshot
            .users
            .iter()
            .filter(|u| u.enabled && u.mfa_registered == Some(false))
            .count() as i64;
        self.tx
            .exec(q!(
                "UPDATE connector_tenants SET users_total = $1, users_without_mfa = $2 \
                 WHERE connector_id = $3 AND external_id = $4 \
                 AND (users_total <> $5 OR users_without_mfa <> $6)",
                snapshot.users.len() as i64,
                without_mfa,
                due.connector_id,
                &due.external_id,
                snapshot.users.len() as i64,
                without_mfa
            ))
            .await?;
        counts.seen += users.seen;
        counts.added += users.added;
        counts.changed += users.changed;
        counts.retired += users.retired;
        let inactive_before = now - due.inactive_after_days * 24 * 3600;
        let licences = self
            .upsert_licences(due, snapshot, inactive_before, now)
            .await?;
        counts.seen += licences.seen;
        counts.added += licences.added;
        counts.changed += licences.changed;
        counts.retired += licences.retired;
        if let Some(alerts) = &snapshot.alerts {
            let read = self.upsert_alerts(due, alerts, now).await?;
            counts.seen += read.seen;
            counts.added += read.added;
            counts.changed += read.changed;
        }
        if let Some(watermark) = &snapshot.alerts_watermark {
            self.tx
                .exec(q!(
                    "UPDATE connector_tenants SET alerts_watermark = $1 WHERE connector_id = $2 \
                     AND external_id = $3 AND alerts_watermark <> $4",
                    watermark,
                    due.connector_id,
                    &due.external_id,
                    watermark
                ))
                .await?;
        }
        let summary = format!(
            "{} products, {} users; {} added, {} changed, {} retired",
            snapshot.skus.len(),
            snapshot.users.len(),
            counts.added,
            counts.changed,
            counts.retired
        );
        self.run_succeeded(store, due, report, counts, &summary, &snapshot.domains)
            .await?;
        Ok(Some(counts))
    }

    /// Records a failed run: the error kept on the tenant and in the history, the next try at
    /// `retry_at`, the run audited on the workspace's chain and, where the workspace
    /// subscribes, sent as a `connector.sync_failed` webhook. False when the claim is lost.
    pub async fn connector_run_failed(
        &mut self,
        store: &crate::Store,
        due: &DueTenant,
        token: &str,
        error: &str,
        retry_at: i64,
        report: &RunReport,
    ) -> Result<bool, StoreError> {
        if !self.holds_claim(due, token).await? {
            return Ok(false);
        }
        let error: String = error.chars().take(500).collect();
        self.tx
            .exec(q!(
                "UPDATE connector_tenants SET last_attempt_at = $1, last_error = $2, \
                 failures = failures + 1, next_sync_at = $3, refresh_requested_at = NULL, \
                 refresh_by = '', claim_token = NULL, claimed_until = NULL \
                 WHERE connector_id = $4 AND external_id = $5",
                report.started_at,
                &error,
                retry_at,
                due.connector_id,
                &due.external_id
            ))
            .await?;
        self.record_run(due, report, Some(&error), SyncCounts::default())
            .await?;
        append(
            &mut self.tx,
            store.audit_log(),
            &Pending::new(
                due.workspace_id,
                Some(due.company_id),
                EntryActor::system(&format!("{} connector", due.kind.label())),
                AuditAction::ConnectorSyncFailed,
                AuditTarget::new("connector_tenant", &due.external_id, &due.tenant_name),
                &format!("{} ({}): {error}", due.connector_name, due.started_by),
                &Origin::default(),
            ),
        )
        .await?;
        crate::webhook_delivery::emit_connector_sync_failed(
            &mut self.tx,
            due,
            &error,
            due.failures + 1,
            report.finished_at,
        )
        .await?;
        Ok(true)
    }

    /// Records a run that succeeded: the tenant's state (next run at its interval, the claim and
    /// any asked-for refresh cleared, the domains it reported), the history and the audit log.
    pub(crate) async fn run_succeeded(
        &mut self,
        store: &crate::Store,
        due: &DueTenant,
        report: &RunReport,
        counts: SyncCounts,
        summary: &str,
        domains: &[String],
    ) -> Result<(), StoreError> {
        let now = report.finished_at;
        let domains = domains.join(" ");
        self.tx
            .exec(q!(
                "UPDATE connector_tenants SET last_attempt_at = $1, last_success_at = $2, last_error = '', \
                 failures = 0, next_sync_at = $3, refresh_requested_at = NULL, refresh_by = '', \
                 claim_token = NULL, claimed_until = NULL, last_counts = $4, \
                 domains = CASE WHEN $5 = '' THEN domains ELSE $6 END \
                 WHERE connector_id = $7 AND external_id = $8",
                report.started_at,
                now,
                now + due.sync_every_minutes * 60,
                summary,
                &domains,
                &domains,
                due.connector_id,
                &due.external_id
            ))
            .await?;
        self.record_run(due, report, None, counts).await?;
        append(
            &mut self.tx,
            store.audit_log(),
            &Pending::new(
                due.workspace_id,
                Some(due.company_id),
                EntryActor::system(&format!("{} connector", due.kind.label())),
                AuditAction::ConnectorSynced,
                AuditTarget::new("connector_tenant", &due.external_id, &due.tenant_name),
                &format!("{} ({}): {summary}", due.connector_name, due.started_by),
                &Origin::default(),
            ),
        )
        .await
    }

    /// Whether the run may still write: its claim holds, the tenant is still mapped to the
    /// company it was claimed for (an owner may have remapped it meanwhile), and the connector
    /// is still switched on.
    pub(crate) async fn holds_claim(
        &mut self,
        due: &DueTenant,
        token: &str,
    ) -> Result<bool, StoreError> {
        let held: Option<(String,)> = self
            .tx
            .optional(q!(
                "SELECT t.external_id FROM connector_tenants t JOIN connectors c \
                 ON c.workspace_id = t.workspace_id AND c.id = t.connector_id \
                 WHERE t.connector_id = $1 AND t.external_id = $2 AND t.claim_token = $3 \
                 AND t.company_id = $4 AND c.enabled",
                due.connector_id,
                &due.external_id,
                token,
                due.company_id
            ))
            .await?;
        Ok(held.is_some())
    }

    async fn record_run(
        &mut self,
        due: &DueTenant,
        report: &RunReport,
        error: Option<&str>,
        counts: SyncCounts,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO connector_runs (id, workspace_id, connector_id, external_id, company_id, \
                 started_by, started_at, finished_at, succeeded, error, requests, seen, added, changed, \
                 retired) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                format!("run_{}", portico_core::MessageId::new()),
                due.workspace_id,
                due.connector_id,
                &due.external_id,
                due.company_id,
                &due.started_by,
                report.started_at,
                report.finished_at,
                error.is_none(),
                error.unwrap_or(""),
                report.requests,
                counts.seen,
                counts.added,
                counts.changed,
                counts.retired
            ))
            .await?;
        Ok(())
    }

    /// Forgets runs older than `before` (the history keeps 90 days).
    pub async fn prune_connector_runs(&mut self, before: i64) -> Result<u64, StoreError> {
        self.tx
            .exec(q!(
                "DELETE FROM connector_runs WHERE started_at < $1",
                before
            ))
            .await
    }

    async fn upsert_directory_users(
        &mut self,
        due: &DueTenant,
        users: &[DirectoryUserRecord],
        now: i64,
    ) -> Result<SyncCounts, StoreError> {
        let stored: Vec<StoredUser> = self
            .tx
            .all(q!(
                "SELECT external_id, display_name, user_principal_name, mail, enabled, licence_skus, \
                 mfa_registered, is_admin, last_sign_in_at, retired_at FROM directory_users \
                 WHERE company_id = $1 AND external_tenant = $2",
                due.company_id,
                &due.external_id
            ))
            .await?;
        let stored: HashMap<String, StoredUser> = stored
            .into_iter()
            .map(|s| (s.external_id.clone(), s))
            .collect();
        let mut counts = SyncCounts {
            seen: users.len() as i64,
            ..SyncCounts::default()
        };
        let mut fresh: Vec<&DirectoryUserRecord> = Vec::new();
        let mut present = std::collections::HashSet::with_capacity(users.len());
        for user in users {
            present.insert(user.external_id.as_str());
            let skus = user.licence_skus.join(" ");
            match stored.get(&user.external_id) {
                None => fresh.push(user),
                Some(s) => {
                    let same = s.display_name == user.display_name
                        && s.user_principal_name == user.user_principal_name
                        && s.mail == user.mail
                        && s.enabled == user.enabled
                        && s.licence_skus == skus
                        && s.mfa_registered == user.mfa_registered
                        && s.is_admin == user.is_admin
                        && s.last_sign_in_at == user.last_sign_in_at
                        && s.retired_at.is_none();
                    if !same {
                        counts.changed += 1;
                        self.tx
                            .exec(q!(
                                "UPDATE directory_users SET display_name = $1, user_principal_name = $2, \
                                 mail = $3, enabled = $4, licence_skus = $5, mfa_registered = $6, \
                                 is_admin = $7, last_sign_in_at = $8, retired_at = NULL, synced_at = $9 \
                                 WHERE company_id = $10 AND external_tenant = $11 AND external_id = $12",
                                &user.display_name,
                                &user.user_principal_name,
                                &user.mail,
                                user.enabled,
                                &skus,
                                user.mfa_registered,
                                user.is_admin,
                                user.last_sign_in_at,
                                now,
                                due.company_id,
                                &due.external_id,
                                &user.external_id
                            ))
                            .await?;
                    }
                }
            }
        }
        counts.added = fresh.len() as i64;
        for chunk in fresh.chunks(INSERT_BATCH) {
            let mut insert = Q::new(
                "INSERT INTO directory_users (workspace_id, company_id, connector_id, external_tenant, \
                 external_id, display_name, user_principal_name, mail, enabled, licence_skus, \
                 mfa_registered, is_admin, last_sign_in_at, synced_at) VALUES ",
            );
            for (i, user) in chunk.iter().enumerate() {
                insert.sql(if i == 0 { "(" } else { ", (" });
                insert
                    .arg(due.workspace_id)
                    .sql(", ")
                    .arg(due.company_id)
                    .sql(", ")
                    .arg(due.connector_id)
                    .sql(", ")
                    .arg(&due.external_id)
                    .sql(", ")
                    .arg(&user.external_id)
                    .sql(", ")
                    .arg(&user.display_name)
                    .sql(", ")
                    .arg(&user.user_principal_name)
                    .sql(", ")
                    .arg(&user.mail)
                    .sql(", ")
                    .arg(user.enabled)
                    .sql(", ")
                    .arg(user.licence_skus.join(" "))
                    .sql(", ")
                    .arg(user.mfa_registered)
                    .sql(", ")
                    .arg(user.is_admin)
                    .sql(", ")
                    .arg(user.last_sign_in_at)
                    .sql(", ")
                    .arg(now)
                    .sql(")");
            }
            self.tx.exec(insert).await?;
        }
        for (id, s) in &stored {
            if s.retired_at.is_none() && !present.contains(id.as_str()) {
                counts.retired += 1;
                self.tx
                    .exec(q!(
                        "UPDATE directory_users SET retired_at = $1 WHERE company_id = $2 \
                         AND external_tenant = $3 AND external_id = $4",
                        now,
                        due.company_id,
                        &due.external_id,
                        id
                    ))
                    .await?;
            }
        }
        Ok(counts)
    }

    pub(crate) async fn upsert_alerts(
        &mut self,
        due: &DueTenant,
        alerts: &[AlertRecord],
        now: i64,
    ) -> Result<SyncCounts, StoreError> {
        let mut counts = SyncCounts {
            seen: alerts.len() as i64,
            ..SyncCounts::default()
        };
        for alert in alerts {
            let stored: Option<(String, i64, Option<i64>)> = self
                .tx
                .optional(q!(
                    "SELECT status, updated_at, resolved_at FROM security_alerts WHERE company_id = $1 \
                     AND external_tenant = $2 AND external_id = $3",
                    due.company_id,
                    &due.external_id,
                    &alert.external_id
                ))
                .await?;
            match stored {
                Some((status, updated, resolved))
                    if status == alert.status
                        && updated == alert.updated_at
                        && resolved == alert.resolved_at => {}
                Some(_) => {
                    counts.changed += 1;
                    self.tx
                        .exec(q!(
                            "UPDATE security_alerts SET title = $1, severity = $2, status = $3, \
                             service_source = $4, category = $5, subject = $6, updated_at = $7, \
                             resolved_at = $8, synced_at = $9 WHERE company_id = $10 \
                             AND external_tenant = $11 AND external_id = $12",
                            &alert.title,
                            &alert.severity,
                            &alert.status,
                            &alert.service_source,
                            &alert.category,
                            &alert.subject,
                            alert.updated_at,
                            alert.resolved_at,
                            now,
                            due.company_id,
                            &due.external_id,
                            &alert.external_id
                        ))
                        .await?;
                }
                None => {
                    counts.added += 1;
                    self.tx
                        .exec(q!(
                            "INSERT INTO security_alerts (workspace_id, company_id, connector_id, external_tenant, \
                             external_id, title, severity, status, service_source, category, subject, \
                             created_at, updated_at, resolved_at, synced_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                            due.workspace_id,
                            due.company_id,
                            due.connector_id,
                            &due.external_id,
                            &alert.external_id,
                            &alert.title,
                            &alert.severity,
                            &alert.status,
                            &alert.service_source,
                            &alert.category,
                            &alert.subject,
                            alert.created_at,
                            alert.updated_at,
                            alert.resolved_at,
                            now
                        ))
                        .await?;
                }
            }
        }
        Ok(counts)
    }

    async fn upsert_licences(
        &mut self,
        due: &DueTenant,
        snapshot: &Microsoft365Snapshot,
        inactive_before: i64,
        now: i64,
    ) -> Result<SyncCounts, StoreError> {
        let stored: Vec<StoredLicence> = self
            .tx
            .all(q!(
                "SELECT sku_id, sku_part_number, product_name, capability_status, purchased, assigned, \
                 suspended, warning, unused_disabled, unused_inactive, renews_on, retired_at \
                 FROM licences WHERE company_id = $1 AND external_tenant = $2",
                due.company_id,
                &due.external_id
            ))
            .await?;
        let stored: HashMap<String, StoredLicence> =
            stored.into_iter().map(|s| (s.sku_id.clone(), s)).collect();
        let mut counts = SyncCounts {
            seen: snapshot.skus.len() as i64,
            ..SyncCounts::default()
        };
        for sku in &snapshot.skus {
            let holders = snapshot
                .users
                .iter()
                .filter(|u| u.licence_skus.iter().any(|s| s == &sku.sku_id));
            let (mut disabled, mut inactive) = (0, 0);
            for user in holders {
                if !user.enabled {
                    disabled += 1;
                } else if snapshot.sign_ins_known
                    && user.last_sign_in_at.is_none_or(|at| at < inactive_before)
                {
                    inactive += 1;
                }
            }
            match stored.get(&sku.sku_id) {
                None => {
                    counts.added += 1;
                    self.tx
                        .exec(q!(
                            "INSERT INTO licences (workspace_id, company_id, connector_id, external_tenant, \
                             sku_id, sku_part_number, product_name, capability_status, purchased, assigned, \
                             suspended, warning, unused_disabled, unused_inactive, renews_on, synced_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                            due.workspace_id,
                            due.company_id,
                            due.connector_id,
                            &due.external_id,
                            &sku.sku_id,
                            &sku.sku_part_number,
                            &sku.product_name,
                            &sku.capability_status,
                            sku.purchased,
                            sku.assigned,
                            sku.suspended,
                            sku.warning,
                            disabled,
                            inactive,
                            sku.renews_on.clone(),
                            now
                        ))
                        .await?;
                }
                Some(s) => {
                    let same = s.sku_part_number == sku.sku_part_number
                        && s.product_name == sku.product_name
                        && s.capability_status == sku.capability_status
                        && s.purchased == sku.purchased
                        && s.assigned == sku.assigned
                        && s.suspended == sku.suspended
                        && s.warning == sku.warning
                        && s.unused_disabled == disabled
                        && s.unused_inactive == inactive
                        && s.renews_on == sku.renews_on
                        && s.retired_at.is_none();
                    if !same {
                        counts.changed += 1;
                        self.tx
                            .exec(q!(
                                "UPDATE licences SET sku_part_number = $1, product_name = $2, \
                                 capability_status = $3, purchased = $4, assigned = $5, suspended = $6, \
                                 warning = $7, unused_disabled = $8, unused_inactive = $9, renews_on = $10, \
                                 retired_at = NULL, synced_at = $11 \
                                 WHERE company_id = $12 AND external_tenant = $13 AND sku_id = $14",
                                &sku.sku_part_number,
                                &sku.product_name,
                                &sku.capability_status,
                                sku.purchased,
                                sku.assigned,
                                sku.suspended,
                                sku.warning,
                                disabled,
                                inactive,
                                sku.renews_on.clone(),
                                now,
                                due.company_id,
                                &due.external_id,
                                &sku.sku_id
                            ))
                            .await?;
                    }
                }
            }
        }
        for (id, s) in &stored {
            if s.retired_at.is_none() && !snapshot.skus.iter().any(|k| &k.sku_id == id) {
                counts.retired += 1;
                self.tx
                    .exec(q!(
                        "UPDATE licences SET retired_at = $1 WHERE company_id = $2 \
                         AND external_tenant = $3 AND sku_id = $4",
                        now,
                        due.company_id,
                        &due.external_id,
                        id
                    ))
                    .await?;
            }
        }
        Ok(counts)
    }
}

/// A tenant of a seeded connector: mapped to `company` when given, with what it "read".
pub struct SeedTenant<'a> {
    pub external_id: &'a str,
    pub name: &'a str,
    pub domains: &'a [&'a str],
    pub company: Option<CompanyId>,
    pub snapshot: Option<SeedSnapshot<'a>>,
}

/// What a seeded tenant "read", by vendor.
#[derive(Clone, Copy)]
pub enum SeedSnapshot<'a> {
    Microsoft365(&'a Microsoft365Snapshot),
    Rmm(&'a RmmSnapshot),
    Edr(&'a crate::edr_sync::EdrSnapshot),
}

impl SystemTx {
    /// A connector whose tenants' records were already read at `read_at` (demo
    /// data without any network, and test fixtures): switched off, so that it never calls out
    /// until an owner gives it real credentials. The records go through the same upserts as a
    /// real run, so they are marked as the connector's.
    pub async fn add_connector_with_records(
        &mut self,
        store: &crate::Store,
        workspace: WorkspaceId,
        kind: ConnectorKind,
        name: &str,
        tenants: &[SeedTenant<'_>],
        read_at: i64,
    ) -> Result<ConnectorId, StoreError> {
        let id = ConnectorId::new();
        let (auth_url, api_url) = kind.default_urls();
        let secret = "seeded-connector-without-credentials";
        let sealed = store.audit_log().sealer().seal(
            &secret_context(&workspace.as_text(), &id.as_text()),
            secret.as_bytes(),
        );
        self.tx
            .exec(q!(
                "INSERT INTO connectors (id, workspace_id, kind, name, auth_url, api_url, home_tenant, \
                 client_id, secret_sealed, secret_hint, enabled, discovered_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                id,
                workspace,
                kind.as_str(),
                name,
                auth_url,
                api_url,
                if kind == ConnectorKind::Microsoft365 {
                    "northwind.onmicrosoft.com"
                } else {
                    ""
                },
                "00000000-0000-4000-8000-000000000000",
                sealed,
                "ials",
                // Switched on while its records go through the run's own checks, off after.
                true,
                read_at,
                read_at
            ))
            .await?;
        for t in tenants {
            self.tx
                .exec(q!(
                    "INSERT INTO connector_tenants (workspace_id, connector_id, kind, external_id, name, \
                     domains, company_id, next_sync_at, seen_at, connector_enabled) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false)",
                    workspace,
                    id,
                    kind.as_str(),
                    t.external_id,
                    t.name,
                    t.domains.join(" "),
                    t.company,
                    read_at + 3600,
                    read_at
                ))
                .await?;
            let (Some(company), Some(snapshot)) = (t.company, t.snapshot) else {
                continue;
            };
            let token = "seed";
            self.tx
                .exec(q!(
                    "UPDATE connector_tenants SET claim_token = $1 WHERE connector_id = $2 AND external_id = $3",
                    token,
                    id,
                    t.external_id
                ))
                .await?;
            let due = DueTenant {
                workspace_id: workspace,
                connector_id: id,
                connector_name: name.to_owned(),
                kind,
                auth_url: auth_url.to_owned(),
                api_url: api_url.to_owned(),
                home_tenant: String::new(),
                client_id: String::new(),
                secret: String::new(),
                external_id: t.external_id.to_owned(),
                tenant_name: t.name.to_owned(),
                company_id: company,
                sync_every_minutes: 60,
                inactive_after_days: 30,
                started_by: "schedule".to_owned(),
                failures: 0,
                alerts_watermark: String::new(),
            };
            let report = RunReport {
                started_at: read_at - 4,
                finished_at: read_at,
                requests: 6,
            };
            let applied = match snapshot {
                SeedSnapshot::Microsoft365(snapshot) => {
                    self.apply_microsoft365(store, &due, token, snapshot, &report)
                        .await?
                }
                SeedSnapshot::Rmm(snapshot) => {
                    self.apply_rmm(store, &due, token, snapshot, &report)
                        .await?
                }
                SeedSnapshot::Edr(snapshot) => {
                    self.apply_edr(store, &due, token, snapshot, &report)
                        .await?
                }
            };
            if applied.is_none() {
                return Err(StoreError::Invalid(
                    "a seeded connector's records were not applied".into(),
                ));
            }
        }
        self.tx
            .exec(q!(
                "UPDATE connectors SET enabled = false WHERE id = $1",
                id
            ))
            .await?;
        Ok(id)
    }
}

impl SystemTx {
    /// Sets the MSP's price per user and month for a product (demo data, tests).
    pub async fn set_licence_price(
        &mut self,
        workspace: WorkspaceId,
        sku_part_number: &str,
        monthly_cents: i64,
        currency: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO licence_prices (workspace_id, sku_part_number, monthly_cents, currency) \
                 VALUES ($1, $2, $3, $4)",
                workspace,
                sku_part_number,
                monthly_cents,
                currency
            ))
            .await?;
        Ok(())
    }
}

/// A device as an RMM reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    pub external_id: String,
    pub name: String,
    pub kind: portico_core::AssetKind,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub os: String,
    pub last_seen_at: Option<i64>,
    /// The RMM's location: the company's site of that name, when there is one.
    pub location: Option<String>,
}

/// One day's patching on a company's devices, as an RMM reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchDay {
    /// YYYY-MM-DD (UTC).
    pub day: String,
    pub installed: i64,
    pub failed: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    /// The devices patched (the RMM's ids).
    pub devices: Vec<String>,
    /// The updates that failed (KB numbers or names).
    pub failures: Vec<String>,
}

/// Everything one RMM run read for an organisation.
#[derive(Debug, Clone, Default)]
pub struct RmmSnapshot {
    pub devices: Vec<DeviceRecord>,
    pub patch_days: Vec<PatchDay>,
}

struct StoredAsset {
    id: String,
    name: String,
    site_id: Option<String>,
    manufacturer: String,
    model: String,
    serial: String,
    os: String,
    last_seen_at: Option<i64>,
    archived_at: Option<i64>,
    source_connector: Option<String>,
    source_id: Option<String>,
}
crate::sql::db_row!(StoredAsset {
    id,
    name,
    site_id,
    manufacturer,
    model,
    serial,
    os,
    last_seen_at,
    archived_at,
    source_connector,
    source_id
});

struct StoredPatchDay {
    id: String,
    title: String,
    summary: String,
    outcome: String,
    starts_at: i64,
    ends_at: Option<i64>,
    source_id: Option<String>,
}
crate::sql::db_row!(StoredPatchDay {
    id,
    title,
    summary,
    outcome,
    starts_at,
    ends_at,
    source_id
});

impl SystemTx {
    /// Applies what an RMM run read: devices matched to the company's assets (linked first,
    /// then by serial, then by name; else added), kept fresh (last seen, system, site by the
    /// location's name), those gone upstream archived; each day's patching as one maintenance
    /// record with the devices it touched. Only what changed is written. `None` (nothing
    /// written) when the claim `token` no longer holds the tenant.
    pub async fn apply_rmm(
        &mut self,
        store: &crate::Store,
        due: &DueTenant,
        token: &str,
        snapshot: &RmmSnapshot,
        report: &RunReport,
    ) -> Result<Option<SyncCounts>, StoreError> {
        if !self.holds_claim(due, token).await? {
            return Ok(None);
        }
        let now = report.finished_at;
        let connector = due.connector_id.as_text();
        let (mut counts, asset_of) = self.upsert_devices(due, &connector, snapshot, now).await?;
        let patches = self
            .upsert_patch_days(due, &connector, snapshot, &asset_of, now)
            .await?;
        counts.seen += patches.seen;
        counts.added += patches.added;
        counts.changed += patches.changed;
        // The run may have added, renamed or retired computers an EDR's agents cover.
        self.refresh_edr_coverage(due.workspace_id, due.company_id, now)
            .await?;
        let summary = format!(
            "{} devices, {} days of patching; {} added, {} changed, {} retired",
            snapshot.devices.len(),
            snapshot.patch_days.len(),
            counts.added,
            counts.changed,
            counts.retired
        );
        self.run_succeeded(store, due, report, counts, &summary, &[])
            .await?;
        Ok(Some(counts))
    }

    async fn upsert_devices(
        &mut self,
        due: &DueTenant,
        connector: &str,
        snapshot: &RmmSnapshot,
        now: i64,
    ) -> Result<(SyncCounts, HashMap<String, (String, Option<String>)>), StoreError> {
        let assets: Vec<StoredAsset> = self
            .tx
            .all(q!(
                "SELECT id, name, site_id, manufacturer, model, serial, os, last_seen_at, archived_at, \
                 source_connector, source_id FROM assets WHERE workspace_id = $1 AND company_id = $2",
                due.workspace_id,
                due.company_id
            ))
            .await?;
        let sites: Vec<(String, String)> = self
            .tx
            .all(q!(
                "SELECT id, name FROM sites WHERE workspace_id = $1 AND company_id = $2 \
                 AND archived_at IS NULL",
                due.workspace_id,
                due.company_id
            ))
            .await?;
        let mut counts = SyncCounts {
            seen: snapshot.devices.len() as i64,
            ..SyncCounts::default()
        };
        // Each device's asset and its site (a maintenance target names both, for the site fence).
        let mut asset_of: HashMap<String, (String, Option<String>)> = HashMap::new();
        let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
        let linked = |a: &StoredAsset, id: &str| {
            a.source_connector.as_deref() == Some(connector) && a.source_id.as_deref() == Some(id)
        };
        // Looked up by key, not by scanning: an organisation of 10,000 devices would otherwise
        // compare every device with every asset (a repeat sync took longer than the first).
        let key = |text: &str| text.trim().to_ascii_lowercase();
        let mut by_source: HashMap<&str, usize> = HashMap::new();
        let mut by_serial: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, a) in assets.iter().enumerate() {
            match a.source_id.as_deref() {
                Some(id) if a.source_connector.as_deref() == Some(connector) => {
                    by_source.entry(id).or_insert(i);
                }
                Some(_) => {}
                None => {
                    if !a.serial.trim().is_empty() {
                        by_serial.entry(key(&a.serial)).or_default().push(i);
                    }
                    by_name.entry(key(&a.name)).or_default().push(i);
                }
            }
        }
        for device in &snapshot.devices {
            let site = device.location.as_deref().and_then(|l| {
                sites
                    .iter()
                    .find(|(_, name)| name.eq_ignore_ascii_case(l.trim()))
                    .map(|(id, _)| id.clone())
            });
            // The first asset entered by hand under `key` that no other device took.
            let free = |index: &HashMap<String, Vec<usize>>, text: &str| {
                index
                    .get(&key(text))
                    .and_then(|found| found.iter().find(|&&i| !taken.contains(&assets[i].id)))
                    .map(|&i| &assets[i])
            };
            let found = by_source
                .get(device.external_id.as_str())
                .map(|&i| &assets[i])
                .or_else(|| {
                    (!device.serial.trim().is_empty())
                        .then(|| free(&by_serial, &device.serial))
                        .flatten()
                })
                .or_else(|| free(&by_name, &device.name));
            match found {
                Some(asset) => {
                    taken.insert(asset.id.clone());
                    // What the RMM knows better wins; what it does not say stays as entered.
                    let keep = |ours: &str, theirs: &str| {
                        if theirs.trim().is_empty() {
                            ours.to_owned()
                        } else {
                            theirs.to_owned()
                        }
                    };
                    let manufacturer = keep(&asset.manufacturer, &device.manufacturer);
                    let model = keep(&asset.model, &device.model);
                    let serial = keep(&asset.serial, &device.serial);
                    let os = keep(&asset.os, &device.os);
                    let site_id = site.clone().or_else(|| asset.site_id.clone());
                    let last_seen = device.last_seen_at.or(asset.last_seen_at);
                    asset_of.insert(
                        device.external_id.clone(),
                        (asset.id.clone(), site_id.clone()),
                    );
                    let same = linked(asset, &device.external_id)
                        && asset.archived_at.is_none()
                        && asset.manufacturer == manufacturer
                        && asset.model == model
                        && asset.serial == serial
                        && asset.os == os
                        && asset.site_id == site_id
                        && asset.last_seen_at == last_seen;
                    if !same {
                        counts.changed += 1;
                        self.tx
                            .exec(q!(
                                "UPDATE assets SET manufacturer = $1, model = $2, serial = $3, os = $4, \
                                 site_id = $5, last_seen_at = $6, source_connector = $7, source_id = $8, \
                                 archived_at = NULL, updated_at = $9 WHERE workspace_id = $10 AND id = $11",
                                &manufacturer,
                                &model,
                                &serial,
                                &os,
                                site_id,
                                last_seen,
                                connector,
                                &device.external_id,
                                now,
                                due.workspace_id,
                                &asset.id
                            ))
                            .await?;
                    }
                }
                None => {
                    counts.added += 1;
                    let id = portico_core::AssetId::new();
                    asset_of.insert(device.external_id.clone(), (id.as_text(), site.clone()));
                    self.tx
                        .exec(q!(
                            "INSERT INTO assets (workspace_id, company_id, id, site_id, name, kind, manufacturer, \
                             model, serial, os, last_seen_at, assigned_user, notes, created_at, updated_at, \
                             source_connector, source_id, source_added) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '', '', $12, $12, $13, $14, true)",
                            due.workspace_id,
                            due.company_id,
                            id,
                            site,
                            &device.name,
                            device.kind.as_str(),
                            &device.manufacturer,
                            &device.model,
                            &device.serial,
                            &device.os,
                            device.last_seen_at,
                            now,
                            connector,
                            &device.external_id
                        ))
                        .await?;
                }
            }
        }
        // Devices gone upstream: archived (kept with their history), never deleted.
        let listed: std::collections::HashSet<&str> = snapshot
            .devices
            .iter()
            .map(|d| d.external_id.as_str())
            .collect();
        for asset in &assets {
            let ours = asset.source_connector.as_deref() == Some(connector);
            let gone = asset
                .source_id
                .as_deref()
                .is_some_and(|id| !listed.contains(id));
            if ours && gone && asset.archived_at.is_none() {
                counts.retired += 1;
                self.tx
                    .exec(q!(
                        "UPDATE assets SET archived_at = $1, updated_at = $1 WHERE workspace_id = $2 AND id = $3",
                        now,
                        due.workspace_id,
                        &asset.id
                    ))
                    .await?;
            }
        }
        Ok((counts, asset_of))
    }

    async fn upsert_patch_days(
        &mut self,
        due: &DueTenant,
        connector: &str,
        snapshot: &RmmSnapshot,
        asset_of: &HashMap<String, (String, Option<String>)>,
        now: i64,
    ) -> Result<SyncCounts, StoreError> {
        let stored: Vec<StoredPatchDay> = self
            .tx
            .all(q!(
                "SELECT id, title, summary, outcome, starts_at, ends_at, source_id FROM maintenance_records \
                 WHERE workspace_id = $1 AND company_id = $2 AND source_connector = $3",
                due.workspace_id,
                due.company_id,
                connector
            ))
            .await?;
        let mut counts = SyncCounts {
            seen: snapshot.patch_days.len() as i64,
            ..SyncCounts::default()
        };
        for day in &snapshot.patch_days {
            let source = format!("patches:{}", day.day);
            let mut devices: Vec<&String> = day.devices.iter().collect();
            devices.sort();
            devices.dedup();
            let title = format!(
                "Patching: {} update{} installed",
                day.installed,
                if day.installed == 1 { "" } else { "s" }
            );
            let mut summary = format!(
                "{} update{} installed on {} device{}.",
                day.installed,
                if day.installed == 1 { "" } else { "s" },
                devices.len(),
                if devices.len() == 1 { "" } else { "s" }
            );
            if day.failed > 0 {
                summary.push_str(&format!(
                    " {} failed{}: they are tried again at the next window.",
                    day.failed,
                    if day.failures.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", day.failures.join(", "))
                    }
                ));
            }
            let outcome = match (day.installed, day.failed) {
                (_, 0) => "succeeded",
                (0, _) => "failed",
                _ => "partial",
            };
            let existing = stored
                .iter()
                .find(|r| r.source_id.as_deref() == Some(source.as_str()));
            let id = match existing {
                Some(r)
                    if r.title == title
                        && r.summary == summary
                        && r.outcome == outcome
                        && r.starts_at == day.starts_at
                        && r.ends_at == Some(day.ends_at) =>
                {
                    continue;
                }
                Some(r) => {
                    counts.changed += 1;
                    self.tx
                        .exec(q!(
                            "UPDATE maintenance_records SET title = $1, summary = $2, outcome = $3, starts_at = $4, \
                             ends_at = $5, updated_at = $6 WHERE workspace_id = $7 AND id = $8",
                            &title,
                            &summary,
                            outcome,
                            day.starts_at,
                            day.ends_at,
                            now,
                            due.workspace_id,
                            &r.id
                        ))
                        .await?;
                    self.tx
                        .exec(q!(
                            "DELETE FROM maintenance_targets WHERE workspace_id = $1 AND record_id = $2",
                            due.workspace_id,
                            &r.id
                        ))
                        .await?;
                    r.id.clone()
                }
                None => {
                    counts.added += 1;
                    let id = portico_core::MaintenanceId::new().as_text();
                    self.tx
                        .exec(q!(
                            "INSERT INTO maintenance_records (workspace_id, company_id, id, kind, outcome, title, \
                             summary, starts_at, ends_at, staff_name, created_at, updated_at, source_connector, \
                             source_id) VALUES ($1, $2, $3, 'patching', $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)",
                            due.workspace_id,
                            due.company_id,
                            &id,
                            outcome,
                            &title,
                            &summary,
                            day.starts_at,
                            day.ends_at,
                            &due.connector_name,
                            now,
                            connector,
                            &source
                        ))
                        .await?;
                    id
                }
            };
            for device in devices {
                if let Some((asset, site)) = asset_of.get(device) {
                    self.tx
                        .exec(q!(
                            "INSERT INTO maintenance_targets (workspace_id, company_id, record_id, site_id, asset_id) \
                             VALUES ($1, $2, $3, $4, $5)",
                            due.workspace_id,
                            due.company_id,
                            &id,
                            site.clone(),
                            asset
                        ))
                        .await?;
                }
            }
        }
        Ok(counts)
    }
}
