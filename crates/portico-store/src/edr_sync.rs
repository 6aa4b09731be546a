//! Connectors (I2) for endpoint and identity protection (P5): what an EDR/MDR vendor's run read
//! — its agents on the company's computers, the identities it watches and its incident reports —
//! applied as idempotent upserts (only what changed is written; an agent gone upstream is
//! retired, kept), the run recorded as every connector's is.

use std::collections::{HashMap, HashSet};

use crate::StoreError;
use crate::connector_sync::{AlertRecord, DueTenant, INSERT_BATCH, RunReport, SyncCounts};
use crate::sql::{Q, q};
use crate::system::SystemTx;

/// An agent of the vendor's on one computer.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub external_id: String,
    pub hostname: String,
    pub serial: String,
    /// windows, darwin or linux.
    pub platform: String,
    pub os: String,
    pub last_seen_at: Option<i64>,
}

/// How many of a company's identities the vendor's identity protection watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IdentityCounts {
    /// Enabled, internal identities.
    pub identities: i64,
    pub protected: i64,
    pub without_mfa: i64,
    pub at_risk: i64,
}

/// Everything one EDR/MDR run read for an organisation.
#[derive(Debug, Clone, Default)]
pub struct EdrSnapshot {
    pub agents: Vec<AgentRecord>,
    /// Incident reports, as security alerts (their source names the product that raised them).
    pub incidents: Vec<AlertRecord>,
    /// `None` when the vendor does not watch the organisation's identities (no ITDR).
    pub identities: Option<IdentityCounts>,
}

struct StoredAgent {
    external_id: String,
    hostname: String,
    serial: String,
    platform: String,
    os: String,
    last_seen_at: Option<i64>,
    retired_at: Option<i64>,
}
crate::sql::db_row!(StoredAgent {
    external_id,
    hostname,
    serial,
    platform,
    os,
    last_seen_at,
    retired_at
});

impl SystemTx {
    /// Applies what an EDR/MDR run read. `None` (nothing written) when the claim `token` no
    /// longer holds the tenant.
    pub async fn apply_edr(
        &mut self,
        store: &crate::Store,
        due: &DueTenant,
        token: &str,
        snapshot: &EdrSnapshot,
        report: &RunReport,
    ) -> Result<Option<SyncCounts>, StoreError> {
        if !self.holds_claim(due, token).await? {
            return Ok(None);
        }
        let now = report.finished_at;
        let mut counts = self.upsert_agents(due, &snapshot.agents, now).await?;
        self.refresh_edr_coverage(due.workspace_id, due.company_id, now)
            .await?;
        let incidents = self.upsert_alerts(due, &snapshot.incidents, now).await?;
        counts.seen += incidents.seen;
        counts.added += incidents.added;
        counts.changed += incidents.changed;
        // The run reads every incident report of the organisation: one no longer listed (the
        // vendor deleted it) is no longer open.
        let open: Vec<(String,)> = self
            .tx
            .all(q!(
                "SELECT external_id FROM security_alerts WHERE company_id = $1 \
                 AND external_tenant = $2 AND connector_id = $3 AND status <> 'resolved'",
                due.company_id,
                &due.external_id,
                due.connector_id
            ))
            .await?;
        let listed: HashSet<&str> = snapshot
            .incidents
            .iter()
            .map(|i| i.external_id.as_str())
            .collect();
        for (id,) in open {
            if listed.contains(id.as_str()) {
                continue;
            }
            counts.retired += 1;
            self.tx
                .exec(q!(
                    "UPDATE security_alerts SET status = 'resolved', resolved_at = $1, \
                     updated_at = $2, synced_at = $3 WHERE company_id = $4 \
                     AND external_tenant = $5 AND external_id = $6",
                    now,
                    now,
                    now,
                    due.company_id,
                    &due.external_id,
                    &id
                ))
                .await?;
        }
        match snapshot.identities {
            Some(c) => {
                let changed = self
                    .tx
                    .exec(q!(
                        "UPDATE identity_protection SET vendor = $1, identities = $2, protected = $3, \
                         without_mfa = $4, at_risk = $5, synced_at = $6 WHERE company_id = $7 \
                         AND external_tenant = $8 AND (vendor <> $9 OR identities <> $10 \
                         OR protected <> $11 OR without_mfa <> $12 OR at_risk <> $13)",
                        due.kind.label(),
                        c.identities,
                        c.protected,
                        c.without_mfa,
                        c.at_risk,
                        now,
                        due.company_id,
                        &due.external_id,
                        due.kind.label(),
                        c.identities,
                        c.protected,
                        c.without_mfa,
                        c.at_risk
                    ))
                    .await?;
                counts.changed += changed as i64;
                let stored: Option<(i64,)> = self
                    .tx
                    .optional(q!(
                        "SELECT identities FROM identity_protection WHERE company_id = $1 \
                         AND external_tenant = $2",
                        due.company_id,
                        &due.external_id
                    ))
                    .await?;
                if stored.is_none() {
                    counts.added += 1;
                    self.tx
                        .exec(q!(
                            "INSERT INTO identity_protection (workspace_id, company_id, connector_id, \
                             external_tenant, vendor, identities, protected, without_mfa, at_risk, \
                             synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                            due.workspace_id,
                            due.company_id,
                            due.connector_id,
                            &due.external_id,
                            due.kind.label(),
                            c.identities,
                            c.protected,
                            c.without_mfa,
                            c.at_risk,
                            now
                        ))
                        .await?;
                }
            }
            // The vendor stopped watching identities: its old counts would claim a protection
            // the company no longer has.
            None => {
                counts.retired += self
                    .tx
                    .exec(q!(
                        "DELETE FROM identity_protection WHERE company_id = $1 AND external_tenant = $2",
                        due.company_id,
                        &due.external_id
                    ))
                    .await? as i64;
            }
        }
        let summary = format!(
            "{} agents, {} incident reports{}; {} added, {} changed, {} retired",
            snapshot.agents.len(),
            snapshot.incidents.len(),
            match snapshot.identities {
                Some(c) => format!(", {} identities", c.identities),
                None => String::new(),
            },
            counts.added,
            counts.changed,
            counts.retired
        );
        self.run_succeeded(store, due, report, counts, &summary, &[])
            .await?;
        Ok(Some(counts))
    }

    /// The company's endpoint coverage, computed from its agents (of every EDR tenant) and its
    /// computers as they stand now and kept, so that the Security page reads one row instead
    /// of matching every computer with every agent. A company without agents keeps no row.
    pub(crate) async fn refresh_edr_coverage(
        &mut self,
        workspace: portico_core::WorkspaceId,
        company: portico_core::CompanyId,
        now: i64,
    ) -> Result<(), StoreError> {
        use crate::scoped::protection::{Agent, Computer, MISSING_SHOWN, SILENT_AFTER_SECS};
        self.tx
            .exec(q!(
                "DELETE FROM edr_coverage WHERE workspace_id = $1 AND company_id = $2",
                workspace,
                company
            ))
            .await?;
        let agents: Vec<Agent> = self
            .tx
            .all(q!(
                "SELECT vendor, hostname, serial, last_seen_at FROM edr_agents \
                 WHERE workspace_id = $1 AND company_id = $2 AND retired_at IS NULL",
                workspace,
                company
            ))
            .await?;
        if agents.is_empty() {
            return Ok(());
        }
        let computers: Vec<Computer> = self
            .tx
            .all(q!(
                "SELECT name, serial FROM assets WHERE workspace_id = $1 AND company_id = $2 \
                 AND archived_at IS NULL AND kind IN ('workstation', 'laptop', 'server') \
                 ORDER BY name, id",
                workspace,
                company
            ))
            .await?;
        let coverage = crate::scoped::protection::endpoint_coverage(&agents, &computers, now);
        let silent = agents
            .iter()
            .filter(|a| a.last_seen_at.is_none_or(|at| at < now - SILENT_AFTER_SECS))
            .count() as i64;
        let vendors: std::collections::BTreeSet<&str> =
            agents.iter().map(|a| a.vendor.as_str()).collect();
        let uncovered: Vec<&str> = coverage
            .missing
            .iter()
            .take(MISSING_SHOWN)
            .map(String::as_str)
            .collect();
        self.tx
            .exec(q!(
                "INSERT INTO edr_coverage (workspace_id, company_id, vendors, computers, covered, \
                 agents, silent, uncovered, uncovered_count, last_check_in, computed_at, \
                 valid_until, stale) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)",
                workspace,
                company,
                vendors.into_iter().collect::<Vec<_>>().join("\n"),
                computers.len() as i64,
                coverage.protected,
                agents.len() as i64,
                silent,
                uncovered.join("\n"),
                coverage.missing_count,
                agents.iter().filter_map(|a| a.last_seen_at).max(),
                now,
                // Time alone turns a live agent silent; no trigger sees that.
                agents
                    .iter()
                    .filter_map(|a| a.last_seen_at)
                    .filter(|at| *at >= now - SILENT_AFTER_SECS)
                    .map(|at| at + SILENT_AFTER_SECS)
                    .min()
            ))
            .await?;
        Ok(())
    }

    async fn upsert_agents(
        &mut self,
        due: &DueTenant,
        agents: &[AgentRecord],
        now: i64,
    ) -> Result<SyncCounts, StoreError> {
        let stored: Vec<StoredAgent> = self
            .tx
            .all(q!(
                "SELECT external_id, hostname, serial, platform, os, last_seen_at, retired_at \
                 FROM edr_agents WHERE company_id = $1 AND external_tenant = $2",
                due.company_id,
                &due.external_id
            ))
            .await?;
        let stored: HashMap<String, StoredAgent> = stored
            .into_iter()
            .map(|s| (s.external_id.clone(), s))
            .collect();
        let mut counts = SyncCounts {
            seen: agents.len() as i64,
            ..SyncCounts::default()
        };
        let mut fresh: Vec<&AgentRecord> = Vec::new();
        let mut present = HashSet::with_capacity(agents.len());
        for agent in agents {
            if !present.insert(agent.external_id.as_str()) {
                continue;
            }
            match stored.get(&agent.external_id) {
                None => fresh.push(agent),
                Some(s) => {
                    let same = s.hostname == agent.hostname
                        && s.serial == agent.serial
                        && s.platform == agent.platform
                        && s.os == agent.os
                        && s.last_seen_at == agent.last_seen_at
                        && s.retired_at.is_none();
                    if !same {
                        counts.changed += 1;
                        self.tx
                            .exec(q!(
                                "UPDATE edr_agents SET hostname = $1, serial = $2, platform = $3, os = $4, \
                                 last_seen_at = $5, retired_at = NULL, synced_at = $6 \
                                 WHERE company_id = $7 AND external_tenant = $8 AND external_id = $9",
                                &agent.hostname,
                                &agent.serial,
                                &agent.platform,
                                &agent.os,
                                agent.last_seen_at,
                                now,
                                due.company_id,
                                &due.external_id,
                                &agent.external_id
                            ))
                            .await?;
                    }
                }
            }
        }
        counts.added = fresh.len() as i64;
        for chunk in fresh.chunks(INSERT_BATCH) {
            let mut insert = Q::new(
                "INSERT INTO edr_agents (workspace_id, company_id, connector_id, external_tenant, \
                 external_id, vendor, hostname, serial, platform, os, last_seen_at, synced_at) VALUES ",
            );
            for (i, agent) in chunk.iter().enumerate() {
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
                    .arg(&agent.external_id)
                    .sql(", ")
                    .arg(due.kind.label())
                    .sql(", ")
                    .arg(&agent.hostname)
                    .sql(", ")
                    .arg(&agent.serial)
                    .sql(", ")
                    .arg(&agent.platform)
                    .sql(", ")
                    .arg(&agent.os)
                    .sql(", ")
                    .arg(agent.last_seen_at)
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
                        "UPDATE edr_agents SET retired_at = $1 WHERE company_id = $2 \
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
}
