//! Connectors (I2): the MSP's tools feed the portal. Every instance runs the worker; each
//! mapped tenant is claimed by one instance at a time (a lease in the store), synced in its own
//! task with a time limit, and its outcome recorded — so one failing connector or tenant never
//! stops another. Due tenants are those whose interval has passed, or whose company (or the
//! console) asked for a refresh. A failed run is tried again with growing pauses and jitter, or
//! when the vendor's `Retry-After` says.

pub mod acronis;
pub mod halopsa;
pub mod http;
pub mod huntress;
pub mod microsoft365;
pub mod ninjaone;
pub mod sku_names;
pub mod xero;

use std::time::{Duration, Instant};

use portico_files::BlobStore;
use portico_store::connector_sync::{DueDiscovery, DueTenant, RunReport, SyncCounts};
use portico_store::scoped::connectors::ConnectorKind;
use portico_store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use http::VendorClient;

/// Tenants synced at once by one instance.
pub const CONCURRENCY: usize = 4;
/// The longest one tenant's run may take.
pub const RUN_LIMIT: Duration = Duration::from_secs(300);
/// How long a claim holds a tenant: the run's limit, with room.
const LEASE_SECS: i64 = 600;
/// Pause between rounds when nothing was due.
const POLL: Duration = Duration::from_secs(1);
/// How often the worker forgets old runs.
const UPKEEP_EVERY: Duration = Duration::from_secs(3600);
/// Runs kept in the history, in seconds.
pub const KEEP_RUNS_SECS: i64 = 90 * 24 * 3600;
/// The pauses after each failed run in a row, in seconds, before jitter (then the last one):
/// never longer than the connector's own interval.
const RETRY_AFTER: [i64; 5] = [60, 300, 900, 1800, 3600];

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("connector client: {0}")]
    Client(String),
    /// The vendor refused the credentials or a permission the sync needs.
    #[error("{0}")]
    Credentials(String),
    /// The vendor answered with an error.
    #[error("{0}")]
    Vendor(String),
    /// The vendor did not answer, or answered with a server error (after every try, for a
    /// request that may be repeated): worth trying again in a later run, where
    /// [`SyncError::Vendor`] is not.
    #[error("{0}")]
    Unavailable(String),
    /// The vendor asks us to wait longer than a run may.
    #[error("{what} (the vendor asks to wait {}s)", retry_after.as_secs())]
    Throttled { what: String, retry_after: Duration },
    #[error("the run took longer than {}s", RUN_LIMIT.as_secs())]
    TimedOut,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// When a tenant that has now failed `failures` runs in a row is tried again.
pub fn retry_at(now: i64, failures: i64, every_minutes: i64, error: &SyncError) -> i64 {
    let base = RETRY_AFTER[(failures - 1).clamp(0, RETRY_AFTER.len() as i64 - 1) as usize]
        .min(every_minutes * 60);
    let jittered = base + (base as f64 * 0.2 * rand::random::<f64>()) as i64;
    let asked = match error {
        SyncError::Throttled { retry_after, .. } => retry_after.as_secs() as i64,
        _ => 0,
    };
    now + jittered.max(asked)
}

/// How one tenant's run ended.
#[derive(Debug, Clone)]
pub struct TenantOutcome {
    pub external_id: String,
    /// What it wrote, or why it failed; `None` when its claim was lost to another instance.
    pub result: Option<Result<SyncCounts, String>>,
}

/// What one run read, by vendor.
enum Snapshot {
    Microsoft365(portico_store::connector_sync::Microsoft365Snapshot),
    Rmm(portico_store::connector_sync::RmmSnapshot),
    Edr(portico_store::edr_sync::EdrSnapshot),
    Backup(portico_store::backup_sync::BackupSnapshot),
    /// A PSA run writes as it goes (each send marked before it leaves): what is left is its record.
    Psa(halopsa::PsaRun),
    Accounting(portico_store::accounting_sync::AccountingSnapshot),
}

/// Reads one claimed tenant and records the outcome in one transaction.
pub async fn sync_tenant(
    store: &Store,
    client: &VendorClient,
    files: &BlobStore,
    due: &DueTenant,
    token: &str,
) -> Result<TenantOutcome, StoreError> {
    let started_at = portico_store::now();
    let mut requests = 0;
    let read = match due.kind {
        ConnectorKind::Microsoft365 => {
            let mut graph = microsoft365::Graph::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.client_id,
                &due.secret,
                &due.external_id,
            );
            let read = tokio::time::timeout(RUN_LIMIT, graph.snapshot(&due.alerts_watermark))
                .await
                .unwrap_or(Err(SyncError::TimedOut));
            requests += graph.requests;
            read.map(Snapshot::Microsoft365)
        }
        ConnectorKind::NinjaOne => {
            let mut ninja = ninjaone::Ninja::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.client_id,
                &due.secret,
            );
            let read = tokio::time::timeout(RUN_LIMIT, ninja.snapshot(&due.external_id))
                .await
                .unwrap_or(Err(SyncError::TimedOut));
            requests += ninja.requests;
            read.map(Snapshot::Rmm)
        }
        ConnectorKind::Huntress => {
            let mut huntress =
                huntress::Huntress::new(client, &due.api_url, &due.client_id, &due.secret);
            let read = tokio::time::timeout(RUN_LIMIT, huntress.snapshot(&due.external_id))
                .await
                .unwrap_or(Err(SyncError::TimedOut));
            requests += huntress.requests;
            read.map(Snapshot::Edr)
        }
        ConnectorKind::Acronis => {
            let mut acronis =
                acronis::Acronis::new(client, &due.api_url, &due.client_id, &due.secret);
            let read = tokio::time::timeout(RUN_LIMIT, acronis.snapshot(&due.external_id))
                .await
                .unwrap_or(Err(SyncError::TimedOut));
            requests += acronis.requests;
            read.map(Snapshot::Backup)
        }
        ConnectorKind::HaloPsa => {
            let mut halo = halopsa::Halo::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.home_tenant,
                &due.client_id,
                &due.secret,
            );
            let read = tokio::time::timeout(RUN_LIMIT, halo.sync(store, files, due))
                .await
                .unwrap_or(Err(SyncError::TimedOut));
            requests += halo.requests;
            read.map(Snapshot::Psa)
        }
        ConnectorKind::Xero => {
            let mut tx = store.system_unscoped().await?;
            let kept = tx.accounting_stamps(due).await?;
            tx.commit().await?;
            let mut xero = xero::Xero::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.home_tenant,
                &due.client_id,
                &due.secret,
            );
            let read = tokio::time::timeout(
                RUN_LIMIT,
                xero.snapshot(&due.external_id, &due.alerts_watermark, &kept),
            )
            .await
            .unwrap_or(Err(SyncError::TimedOut));
            requests += xero.requests;
            read.map(Snapshot::Accounting)
        }
    };
    let report = RunReport {
        started_at,
        finished_at: portico_store::now(),
        requests,
    };
    let mut tx = store.system_unscoped().await?;
    let result = match read {
        Ok(Snapshot::Microsoft365(snapshot)) => tx
            .apply_microsoft365(store, due, token, &snapshot, &report)
            .await?
            .map(Ok),
        Ok(Snapshot::Rmm(snapshot)) => tx
            .apply_rmm(store, due, token, &snapshot, &report)
            .await?
            .map(Ok),
        Ok(Snapshot::Edr(snapshot)) => tx
            .apply_edr(store, due, token, &snapshot, &report)
            .await?
            .map(Ok),
        Ok(Snapshot::Backup(snapshot)) => tx
            .apply_backups(store, due, token, &snapshot, &report)
            .await?
            .map(Ok),
        Ok(Snapshot::Psa(run)) => tx
            .psa_run_done(
                store,
                due,
                token,
                &portico_store::psa_sync::PsaRunRecord {
                    watermark: &run.watermark,
                    counts: run.counts,
                    summary: &run.summary,
                },
                &report,
            )
            .await?
            .then_some(Ok(run.counts)),
        Ok(Snapshot::Accounting(snapshot)) => tx
            .apply_invoices(store, due, token, &snapshot, &report)
            .await?
            .map(Ok),
        Err(error) => {
            if let SyncError::Store(e) = error {
                return Err(e);
            }
            let message = error.to_string();
            let next = retry_at(
                report.finished_at,
                due.failures + 1,
                due.sync_every_minutes,
                &error,
            );
            tracing::warn!(target: "portico::connectors", tenant = %due.external_id, connector = %due.connector_id, error = %message, "a sync failed");
            tx.connector_run_failed(store, due, token, &message, next, &report)
                .await?
                .then_some(Err(message))
        }
    };
    tx.commit().await?;
    Ok(TenantOutcome {
        external_id: due.external_id.clone(),
        result,
    })
}

/// Lists one connector's customers and records them.
pub async fn discover(
    store: &Store,
    client: &VendorClient,
    due: &DueDiscovery,
) -> Result<(), StoreError> {
    let found = match due.kind {
        ConnectorKind::Microsoft365 => {
            let mut graph = microsoft365::Graph::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.client_id,
                &due.secret,
                &due.home_tenant,
            );
            tokio::time::timeout(RUN_LIMIT, graph.discover())
                .await
                .unwrap_or(Err(SyncError::TimedOut))
        }
        ConnectorKind::NinjaOne => {
            let mut ninja = ninjaone::Ninja::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.client_id,
                &due.secret,
            );
            tokio::time::timeout(RUN_LIMIT, ninja.discover())
                .await
                .unwrap_or(Err(SyncError::TimedOut))
        }
        ConnectorKind::Huntress => {
            let mut huntress =
                huntress::Huntress::new(client, &due.api_url, &due.client_id, &due.secret);
            tokio::time::timeout(RUN_LIMIT, huntress.discover())
                .await
                .unwrap_or(Err(SyncError::TimedOut))
        }
        ConnectorKind::Acronis => {
            let mut acronis =
                acronis::Acronis::new(client, &due.api_url, &due.client_id, &due.secret);
            tokio::time::timeout(RUN_LIMIT, acronis.discover())
                .await
                .unwrap_or(Err(SyncError::TimedOut))
        }
        ConnectorKind::HaloPsa => {
            let mut halo = halopsa::Halo::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.home_tenant,
                &due.client_id,
                &due.secret,
            );
            tokio::time::timeout(RUN_LIMIT, halo.discover())
                .await
                .unwrap_or(Err(SyncError::TimedOut))
        }
        ConnectorKind::Xero => {
            let mut xero = xero::Xero::new(
                client,
                &due.auth_url,
                &due.api_url,
                &due.home_tenant,
                &due.client_id,
                &due.secret,
            );
            tokio::time::timeout(RUN_LIMIT, xero.discover())
                .await
                .unwrap_or(Err(SyncError::TimedOut))
        }
    };
    let found = match found {
        Ok(found) => Ok(found),
        Err(SyncError::Store(e)) => return Err(e),
        Err(e) => Err(e.to_string()),
    };
    let mut tx = store.system_unscoped().await?;
    tx.discovered(due, found, portico_store::now()).await?;
    tx.commit().await
}

/// What one round found and did.
#[derive(Debug, Default)]
pub struct Round {
    pub discoveries: usize,
    pub tenants: Vec<TenantOutcome>,
}

fn claim_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Claims what is due now and runs it all to the end: discoveries, then up to `limit` tenants,
/// [`CONCURRENCY`] at a time. The worker's rounds, and the tests' way to sync on demand.
pub async fn run_due(
    store: &Store,
    client: &VendorClient,
    files: &BlobStore,
    limit: i64,
) -> Result<Round, StoreError> {
    let now = portico_store::now();
    let mut tx = store.system_unscoped().await?;
    let discoveries = tx
        .claim_due_discoveries(store, now, now + LEASE_SECS, 5)
        .await?;
    tx.commit().await?;
    let mut round = Round {
        discoveries: discoveries.len(),
        ..Round::default()
    };
    for due in &discoveries {
        discover(store, client, due).await?;
    }
    let token = claim_token();
    let mut tx = store.system_unscoped().await?;
    let due = tx
        .claim_due_tenants(store, now, now + LEASE_SECS, limit, &token)
        .await?;
    tx.commit().await?;
    let mut tasks = JoinSet::new();
    let mut queue = due.into_iter();
    loop {
        while tasks.len() < CONCURRENCY {
            let Some(due) = queue.next() else { break };
            let (store, client, files, token) =
                (store.clone(), client.clone(), files.clone(), token.clone());
            tasks.spawn(async move { sync_tenant(&store, &client, &files, &due, &token).await });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined {
            Ok(Ok(outcome)) => round.tenants.push(outcome),
            Ok(Err(e)) => {
                tracing::error!(target: "portico::connectors", error = %e, "recording a sync failed")
            }
            Err(e) => {
                tracing::error!(target: "portico::connectors", error = %e, "a sync task failed")
            }
        }
    }
    Ok(round)
}

/// The worker: a round whenever something is due, until `shutdown`.
pub async fn run(
    store: Store,
    client: VendorClient,
    files: BlobStore,
    mut shutdown: watch::Receiver<bool>,
) {
    tracing::info!(target: "portico::connectors", "connector worker started");
    let mut last_upkeep: Option<Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_upkeep.is_none_or(|at| at.elapsed() >= UPKEEP_EVERY) {
            last_upkeep = Some(Instant::now());
            let pruned = async {
                let mut tx = store.system_unscoped().await?;
                tx.prune_connector_runs(portico_store::now() - KEEP_RUNS_SECS)
                    .await?;
                tx.commit().await
            };
            if let Err(e) = pruned.await {
                tracing::error!(target: "portico::connectors", error = %e, "forgetting old runs failed");
            }
        }
        let busy = tokio::select! {
            round = run_due(&store, &client, &files, CONCURRENCY as i64 * 4) => match round {
                Ok(round) => round.discoveries > 0 || !round.tenants.is_empty(),
                Err(e) => {
                    tracing::error!(target: "portico::connectors", error = %e, "a connector round failed");
                    false
                }
            },
            // Runs cut short leave their claims to lapse; another instance takes them over.
            _ = shutdown.changed() => break,
        };
        if !busy {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_runs_come_back_later_each_time_within_the_interval() {
        let e = SyncError::Vendor("x".into());
        for (failures, base) in [(1, 60), (2, 300), (3, 900), (9, 3600)] {
            let wait = retry_at(0, failures, 60, &e);
            assert!(
                wait >= base && wait <= base + base / 5,
                "{failures}: {wait}"
            );
        }
        assert!(retry_at(0, 9, 15, &e) <= 15 * 60 * 12 / 10);
        let throttled = SyncError::Throttled {
            what: "x".into(),
            retry_after: Duration::from_secs(7200),
        };
        assert!(retry_at(0, 1, 60, &throttled) >= 7200);
    }
}
