//! The worker: claims due domains (every company's e-mail domains, daily, and at once when
//! someone asks) and keeps each check's report. One domain's failure never stops another's.

use std::time::Duration;

use portico_store::domain_checks::{BreachKey, DueDomain};
use portico_store::{Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::DomainChecker;
use crate::breaches::BreachClient;

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
    let key = tx.breach_key(store, &due.workspace_id).await?;
    tx.commit().await?;
    if let Some(key) = key
        && due.breaches_due(portico_store::now())
    {
        search_breaches(store, checker, due, &key).await?;
    }
    Ok(())
}

/// Searches HIBP for the domain's breached accounts with the MSP's key, keeps what it found
/// (and the details of breaches not seen before), and mails what is new.
async fn search_breaches(
    store: &Store,
    checker: &DomainChecker,
    due: &DueDomain,
    key: &BreachKey,
) -> Result<(), StoreError> {
    let client = match BreachClient::new(
        &key.api_url,
        checker.timeout(),
        checker.allows_private_addresses(),
    ) {
        Ok(c) => c,
        Err(e) => return keep_breach_error(store, due, &e.to_string()).await,
    };
    let found = match client.breached_domain(&key.key, &due.domain).await {
        Ok(found) => found,
        Err(e) => return keep_breach_error(store, due, &e.to_string()).await,
    };
    let names: Vec<String> = found.values().flatten().cloned().collect();
    let mut tx = store.system_unscoped().await?;
    let unknown = tx.unknown_breaches(&due.workspace_id, &names).await?;
    tx.commit().await?;
    // Details of breaches not seen before, from HIBP's public catalogue (no key spent).
    let mut details = Vec::new();
    for name in unknown {
        match client.breach(&name).await {
            Ok(Some(breach)) => details.push(breach),
            Ok(None) => {}
            // Shown by name until a later round reads them.
            Err(_) => break,
        }
    }
    let now = portico_store::now();
    let mut tx = store.system_unscoped().await?;
    for b in &details {
        tx.keep_breach(
            &due.workspace_id,
            &b.name,
            &b.title,
            &b.breach_date,
            &b.data_classes.join(", "),
            b.pwn_count,
            now,
        )
        .await?;
    }
    let new = tx.save_breach_search(due, &found, now).await?;
    if !new.is_empty() {
        let to = tx.breach_recipients(due).await?;
        let named: Vec<String> = new.iter().flat_map(|f| f.breaches.clone()).collect();
        let titles = tx.breach_titles(&due.workspace_id, &named).await?;
        let lines: Vec<String> = new
            .iter()
            .map(|f| {
                let breaches: Vec<&str> = f
                    .breaches
                    .iter()
                    .map(|b| titles.get(b).map(String::as_str).unwrap_or(b.as_str()))
                    .collect();
                format!("- {}: {}", f.address, breaches.join(", "))
            })
            .collect();
        let subject = format!(
            "{} account{} of {} found in known breaches",
            new.len(),
            if new.len() == 1 { "" } else { "s" },
            due.domain
        );
        let body = format!(
            "Hello,\n\nHave I Been Pwned lists {} of {}'s accounts at {} in data breaches it did not \
             list them in before:\n\n{}\n\nWhere passwords leaked, have these people change the \
             password everywhere they used it, and make sure two-step verification is on.\n\n{}",
            new.len(),
            to.company_name,
            due.domain,
            lines.join("\n"),
            to.workspace_name
        );
        for address in to.owners.iter().chain(&to.client_admins) {
            tx.queue_breach_mail(due, address, &subject, &body).await?;
        }
    }
    tx.commit().await
}

async fn keep_breach_error(store: &Store, due: &DueDomain, error: &str) -> Result<(), StoreError> {
    tracing::warn!(target: "portico::domains", domain = %due.domain, error, "a breach search failed");
    let mut tx = store.system_unscoped().await?;
    tx.save_breach_error(due, error).await?;
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
