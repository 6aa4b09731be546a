//! Connectors (I2) for backup tools (P7): what a backup vendor's run read for a tenant — each
//! job (a protection plan backing up a machine or a Microsoft 365 resource) with its last run,
//! last success, size and retention — applied as idempotent upserts into the company's backup
//! jobs under the vendor's name: only what changed is written, a job gone upstream is retired
//! (kept, marked), and the run is recorded as every connector's is. Jobs pushed over the REST
//! API (no connector) are never touched by a run.

use std::collections::{HashMap, HashSet};

use crate::StoreError;
use crate::connector_sync::{DueTenant, RunReport, SyncCounts};
use crate::scoped::backups::{PushedBackupJob, StoredJob};
use crate::sql::q;
use crate::system::SystemTx;

/// Everything one backup run read for a tenant: its jobs, checked
/// ([`crate::scoped::backups::check_jobs`]) by the connector before they reach the store.
#[derive(Debug, Clone, Default)]
pub struct BackupSnapshot {
    pub jobs: Vec<PushedBackupJob>,
}

impl SystemTx {
    /// Applies what a backup run read. `None` (nothing written) when the claim `token` no
    /// longer holds the tenant.
    pub async fn apply_backups(
        &mut self,
        store: &crate::Store,
        due: &DueTenant,
        token: &str,
        snapshot: &BackupSnapshot,
        report: &RunReport,
    ) -> Result<Option<SyncCounts>, StoreError> {
        if !self.holds_claim(due, token).await? {
            return Ok(None);
        }
        let now = report.finished_at;
        let source = due.kind.label();
        let stored: Vec<StoredJob> = self
            .tx
            .all(q!(
                "SELECT external_id, name, kind, protected_item, last_result, last_run_at, \
                 last_success_at, protected_bytes, retention, expected_every_hours, retired_at \
                 FROM backup_jobs WHERE workspace_id = $1 AND company_id = $2 AND connector_id = $3 \
                 AND external_tenant = $4",
                due.workspace_id,
                due.company_id,
                due.connector_id,
                &due.external_id
            ))
            .await?;
        let stored: HashMap<&str, &StoredJob> =
            stored.iter().map(|s| (s.external_id.as_str(), s)).collect();
        let mut counts = SyncCounts {
            seen: snapshot.jobs.len() as i64,
            ..SyncCounts::default()
        };
        let mut named = HashSet::new();
        for j in &snapshot.jobs {
            named.insert(j.external_id.as_str());
            match stored.get(j.external_id.as_str()) {
                Some(s) if s.same_as(j) => {}
                Some(_) => {
                    counts.changed += 1;
                    self.tx
                        .exec(q!(
                            "UPDATE backup_jobs SET name = $1, kind = $2, protected_item = $3, \
                             last_result = $4, last_run_at = $5, last_success_at = $6, \
                             protected_bytes = $7, retention = $8, expected_every_hours = $9, \
                             synced_at = $10, retired_at = NULL WHERE workspace_id = $11 \
                             AND company_id = $12 AND source = $13 AND external_id = $14",
                            &j.name,
                            &j.kind,
                            &j.protected_item,
                            &j.last_result,
                            j.last_run_at,
                            j.last_success_at,
                            j.protected_bytes,
                            &j.retention,
                            j.expected_every_hours,
                            now,
                            due.workspace_id,
                            due.company_id,
                            source,
                            &j.external_id
                        ))
                        .await?;
                }
                None => {
                    counts.added += 1;
                    self.tx
                        .exec(q!(
                            "INSERT INTO backup_jobs (workspace_id, company_id, source, external_id, \
                             name, kind, protected_item, last_result, last_run_at, last_success_at, \
                             protected_bytes, retention, expected_every_hours, synced_at, \
                             connector_id, external_tenant) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                             $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                            due.workspace_id,
                            due.company_id,
                            source,
                            &j.external_id,
                            &j.name,
                            &j.kind,
                            &j.protected_item,
                            &j.last_result,
                            j.last_run_at,
                            j.last_success_at,
                            j.protected_bytes,
                            &j.retention,
                            j.expected_every_hours,
                            now,
                            due.connector_id,
                            &due.external_id
                        ))
                        .await?;
                }
            }
        }
        let mut gone: Vec<&str> = stored
            .iter()
            .filter(|(id, s)| s.retired_at.is_none() && !named.contains(*id))
            .map(|(id, _)| *id)
            .collect();
        gone.sort_unstable();
        for id in &gone {
            self.tx
                .exec(q!(
                    "UPDATE backup_jobs SET retired_at = $1 WHERE workspace_id = $2 \
                     AND company_id = $3 AND connector_id = $4 AND external_tenant = $5 \
                     AND external_id = $6",
                    now,
                    due.workspace_id,
                    due.company_id,
                    due.connector_id,
                    &due.external_id,
                    *id
                ))
                .await?;
        }
        counts.retired = gone.len() as i64;
        let summary = format!(
            "{} backup jobs; {} added, {} changed, {} retired",
            snapshot.jobs.len(),
            counts.added,
            counts.changed,
            counts.retired
        );
        self.run_succeeded(store, due, report, counts, &summary, &[])
            .await?;
        Ok(Some(counts))
    }
}
