//! The worker: claims due domains (every company's e-mail domains, daily, and at once when
//! someone asks) and keeps each check's report. One domain's failure never stops another's.

use std::time::Duration;

use portico_store::domain_checks::DueDomain;
use portico_store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::DomainChecker;

/// Domains checked at once.
const CONCURRENCY: usize = 4;
/// How long a claim holds: past it, another instance may take the domain over.
const LEASE_SECS: i64 = 300;
/// How long the worker rests when nothing is due.
const POLL: Duration = Duration::from_secs(5);

/// Checks the domains due now, at most `limit`; answers how many were checked.
pub async fn run_due(
    store: &Store,
    checker: &DomainChecker,
    limit: i64,
) -> Result<usize, StoreError> {
    let now = portico_store::now();
    let mut tx = store.system_unscoped().await?;
    let due = tx
        .claim_due_domain_checks(now, now + LEASE_SECS, limit)
        .await?;
    tx.commit().await?;
    let count = due.len();
    let mut tasks = JoinSet::new();
    let mut queue = due.into_iter();
    loop {
        while tasks.len() < CONCURRENCY {
            let Some(due) = queue.next() else { break };
            let (store, checker) = (store.clone(), checker.clone());
            tasks.spawn(async move { check_one(&store, &checker, &due).await });
        }
        match tasks.join_next().await {
            Some(Ok(Err(e))) => {
                tracing::error!(target: "portico::domains", error = %e, "keeping a domain's check failed");
            }
            Some(_) => {}
            None => break,
        }
    }
    Ok(count)
}

async fn check_one(
    store: &Store,
    checker: &DomainChecker,
    due: &DueDomain,
) -> Result<(), StoreError> {
    let report = match checker.check(&due.domain, &due.dkim_selectors).await {
        Ok(report) => report,
        Err(e) => {
            // The claim lapses and the domain is tried again later.
            tracing::error!(target: "portico::domains", domain = %due.domain, error = %e, "a domain could not be checked");
            return Ok(());
        }
    };
    let json = serde_json::to_string(&report.findings).unwrap_or_else(|_| "[]".into());
    let mut tx = store.system_unscoped().await?;
    tx.save_domain_report(due, &json, report.worst().as_str(), portico_store::now())
        .await?;
    tx.commit().await
}

/// Runs until `shutdown` turns true.
pub async fn run(store: Store, checker: DomainChecker, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(target: "portico::domains", "domain health worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let busy = tokio::select! {
            round = run_due(&store, &checker, CONCURRENCY as i64 * 4) => match round {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::error!(target: "portico::domains", error = %e, "a domain round failed");
                    false
                }
            },
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
