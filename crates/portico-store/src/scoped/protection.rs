//! P5 Security's cards: per protection kind — endpoint detection and response (EDR/MDR) and
//! identity threat detection (ITDR) — the vendors reporting, the coverage (the company's
//! computers with an agent, the identities watched), open incidents by severity and the last
//! activity. Read from what connectors (and tools pushing over the API) recorded, through the
//! same fence as everything else; read-only.

use std::collections::{BTreeSet, HashSet};

use portico_core::{Action, CompanyId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};

/// Alert sources that are endpoint protection.
pub const ENDPOINT_SOURCES: &[&str] = &["huntressEdr", "microsoftDefenderForEndpoint"];
/// Alert sources that are identity threat detection.
pub const IDENTITY_SOURCES: &[&str] = &[
    "huntressItdr",
    "microsoftDefenderForIdentity",
    "azureAdIdentityProtection",
    "microsoftEntraIdProtection",
];
/// Computers without an agent named at most on a card.
pub const MISSING_SHOWN: usize = 12;
/// An agent not heard from in this long is counted as silent.
pub const SILENT_AFTER_SECS: i64 = 14 * 24 * 3600;

/// A kind of protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectionKind {
    Endpoint,
    Identity,
}

impl ProtectionKind {
    pub fn label(self) -> &'static str {
        match self {
            ProtectionKind::Endpoint => "Endpoint detection and response",
            ProtectionKind::Identity => "Identity threat detection",
        }
    }
}

/// Open incidents of one kind, by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
}

impl SeverityCounts {
    pub fn total(&self) -> i64 {
        self.critical + self.high + self.medium + self.low
    }

    /// The non-zero counts, most severe first, as (label, count, badge tone).
    pub fn shown(&self) -> Vec<(&'static str, i64, &'static str)> {
        [
            ("critical", self.critical, "bad"),
            ("high", self.high, "bad"),
            ("medium", self.medium, "warn"),
            ("low", self.low, ""),
        ]
        .into_iter()
        .filter(|(_, n, _)| *n > 0)
        .collect()
    }

    fn add(&mut self, severity: &str, n: i64) {
        match severity {
            "critical" => self.critical += n,
            "high" => self.high += n,
            "medium" => self.medium += n,
            // low, informational, unknown
            _ => self.low += n,
        }
    }
}

/// How much of the company a protection covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub protected: i64,
    /// The company's total (computers recorded, identities in the directory); `None` when
    /// unknown (no computers recorded: the agents are counted alone).
    pub total: Option<i64>,
    /// "computers" or "identities".
    pub unit: &'static str,
    /// Computers recorded without an agent (the first [`MISSING_SHOWN`] by name), and how many.
    pub missing: Vec<String>,
    pub missing_count: i64,
    /// Further facts worth a line ("2 agents silent for 14 days", "3 identities without MFA").
    pub notes: Vec<String>,
}

impl Coverage {
    /// Whole per cent covered, when the total is known.
    pub fn percent(&self) -> Option<i64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.protected.min(t) * 100) / t)
    }

    /// Whether the coverage is complete.
    pub fn complete(&self) -> bool {
        self.total.is_none_or(|t| self.protected >= t) && self.missing_count == 0
    }
}

/// One card of the Security section.
#[derive(Debug, Clone)]
pub struct ProtectionCard {
    pub kind: ProtectionKind,
    /// The products reporting, as people name them.
    pub vendors: Vec<String>,
    pub coverage: Option<Coverage>,
    pub open: SeverityCounts,
    /// The latest change to one of its incidents, or an agent's latest check-in.
    pub last_activity_at: Option<i64>,
}

pub(crate) struct Agent {
    pub(crate) vendor: String,
    pub(crate) hostname: String,
    pub(crate) serial: String,
    pub(crate) last_seen_at: Option<i64>,
}
crate::sql::db_row!(Agent {
    vendor,
    hostname,
    serial,
    last_seen_at
});

pub(crate) struct Computer {
    pub(crate) name: String,
    pub(crate) serial: String,
}

/// The endpoint card's vendors, coverage and last check-in.
pub(crate) struct EndpointView {
    pub(crate) vendors: BTreeSet<String>,
    pub(crate) coverage: Option<Coverage>,
    pub(crate) last_check_in: Option<i64>,
}

struct CoverageRow {
    vendors: String,
    computers: i64,
    covered: i64,
    silent: i64,
    uncovered: String,
    uncovered_count: i64,
    last_check_in: Option<i64>,
}
crate::sql::db_row!(CoverageRow {
    vendors,
    computers,
    covered,
    silent,
    uncovered,
    uncovered_count,
    last_check_in
});
crate::sql::db_row!(Computer { name, serial });

struct AlertTally {
    service_source: String,
    severity: String,
    open_count: i64,
    latest: i64,
}
crate::sql::db_row!(AlertTally {
    service_source,
    severity,
    open_count,
    latest
});

struct IdentityRow {
    vendor: String,
    identities: i64,
    protected: i64,
    without_mfa: i64,
    at_risk: i64,
}
crate::sql::db_row!(IdentityRow {
    vendor,
    identities,
    protected,
    without_mfa,
    at_risk
});

/// A name as matched: lower case, the host part of a fully qualified name.
fn host_key(name: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    name.split('.').next().unwrap_or("").to_owned()
}

/// Serials that identify nothing (virtual machines and unset firmware fields).
fn serial_key(serial: &str) -> Option<String> {
    let s = serial.trim().to_ascii_lowercase();
    let junk = s.is_empty()
        || s.len() < 4
        || [
            "default string",
            "to be filled by o.e.m.",
            "none",
            "system serial number",
            "0",
        ]
        .contains(&s.as_str());
    (!junk).then_some(s)
}

fn source_label(source: &str) -> &'static str {
    match source {
        "huntressEdr" => "Huntress Managed EDR",
        "huntressItdr" => "Huntress Managed ITDR",
        "microsoftDefenderForEndpoint" => "Microsoft Defender for Endpoint",
        "microsoftDefenderForIdentity" => "Microsoft Defender for Identity",
        _ => "Microsoft Entra ID Protection",
    }
}

impl ScopedTx<'_> {
    /// `company`'s protection cards: those with anything recorded, endpoint first.
    pub async fn protection_cards(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<ProtectionCard>, StoreError> {
        self.scope.may(Action::ViewSecurityAlerts)?;
        // Every source's tallies, the cards' sources picked below: a company has a handful of
        // rows here, and an `IN` list of sources would make SQLite build a temporary index of
        // them on every execution, which cost more than the whole read.
        let mut query = self.select(
            "s.service_source, s.severity, \
             SUM(CASE WHEN s.status <> 'resolved' THEN 1 ELSE 0 END) AS open_count, \
             MAX(s.updated_at) AS latest",
            &fence::SECURITY_ALERTS,
            "s",
        );
        query
            .sql(" AND s.company_id = ")
            .arg(company)
            .sql(" GROUP BY s.service_source, s.severity");
        let tallies: Vec<AlertTally> = self.tx.all(query).await?;

        let endpoint = self.endpoint_view(company).await?;

        let mut identity_query = self.select(
            "i.vendor, i.identities, i.protected, i.without_mfa, i.at_risk",
            &fence::IDENTITY_PROTECTION,
            "i",
        );
        // In no order: the card sums the rows and names their vendors in a sorted set.
        identity_query.sql(" AND i.company_id = ").arg(company);
        let identities: Vec<IdentityRow> = self.tx.all(identity_query).await?;

        let mut cards = Vec::new();
        // Endpoint: the agents against the computers recorded for the company.
        let endpoint_tallies: Vec<&AlertTally> = tallies
            .iter()
            .filter(|t| ENDPOINT_SOURCES.contains(&t.service_source.as_str()))
            .collect();
        if endpoint.coverage.is_some() || !endpoint_tallies.is_empty() {
            let EndpointView {
                mut vendors,
                coverage,
                last_check_in,
            } = endpoint;
            // The vendors' alert products, where no agent names them.
            for t in &endpoint_tallies {
                let label = source_label(&t.service_source);
                if !vendors.iter().any(|v| label.starts_with(v.as_str())) {
                    vendors.insert(label.to_owned());
                }
            }
            let mut open = SeverityCounts::default();
            for t in &endpoint_tallies {
                open.add(&t.severity, t.open_count);
            }
            let last_incident = endpoint_tallies.iter().map(|t| t.latest).max();
            cards.push(ProtectionCard {
                kind: ProtectionKind::Endpoint,
                vendors: vendors.into_iter().collect(),
                coverage,
                open,
                last_activity_at: last_incident.max(last_check_in),
            });
        }
        let identity_tallies: Vec<&AlertTally> = tallies
            .iter()
            .filter(|t| IDENTITY_SOURCES.contains(&t.service_source.as_str()))
            .collect();
        if !identities.is_empty() || !identity_tallies.is_empty() {
            let mut vendors: BTreeSet<String> =
                identities.iter().map(|i| i.vendor.clone()).collect();
            for t in &identity_tallies {
                let label = source_label(&t.service_source);
                if !vendors.iter().any(|v| label.starts_with(v.as_str())) {
                    vendors.insert(label.to_owned());
                }
            }
            let coverage = (!identities.is_empty()).then(|| {
                let total: i64 = identities.iter().map(|i| i.identities).sum();
                let without_mfa: i64 = identities.iter().map(|i| i.without_mfa).sum();
                let at_risk: i64 = identities.iter().map(|i| i.at_risk).sum();
                let mut notes = Vec::new();
                if without_mfa > 0 {
                    notes.push(format!(
                        "{without_mfa} {} without multi-factor sign-in",
                        if without_mfa == 1 {
                            "identity"
                        } else {
                            "identities"
                        }
                    ));
                }
                if at_risk > 0 {
                    notes.push(format!("{at_risk} rated at risk by the identity provider"));
                }
                Coverage {
                    protected: identities.iter().map(|i| i.protected).sum(),
                    total: Some(total),
                    unit: "identities",
                    missing: Vec::new(),
                    missing_count: 0,
                    notes,
                }
            });
            let mut open = SeverityCounts::default();
            for t in &identity_tallies {
                open.add(&t.severity, t.open_count);
            }
            cards.push(ProtectionCard {
                kind: ProtectionKind::Identity,
                vendors: vendors.into_iter().collect(),
                coverage,
                open,
                last_activity_at: identity_tallies.iter().map(|t| t.latest).max(),
            });
        }
        Ok(cards)
    }
}

impl ScopedTx<'_> {
    /// The endpoint card's figures: as the connectors' last runs computed them for the whole
    /// company, or — for a reader restricted to some sites, who may not see other sites'
    /// computers — computed now over the computers it sees.
    pub(crate) async fn endpoint_view(
        &mut self,
        company: CompanyId,
    ) -> Result<EndpointView, StoreError> {
        if self.scope.sites().is_none() {
            let mut query = self.select(
                "c.vendors, c.computers, c.covered, c.silent, c.uncovered, c.uncovered_count, \
                 c.last_check_in",
                &fence::EDR_COVERAGE,
                "c",
            );
            query
                .sql(" AND c.company_id = ")
                .arg(company)
                .sql(" AND c.stale = 0 AND c.computed_at >= ")
                .arg(crate::now() - COVERAGE_KEPT_SECS)
                .sql(" AND (c.valid_until IS NULL OR c.valid_until > ")
                .arg(crate::now())
                .sql(")");
            if let Some(row) = self.tx.optional::<CoverageRow>(query).await? {
                let total = (row.computers > 0).then_some(row.computers);
                return Ok(EndpointView {
                    vendors: row.vendors.lines().map(str::to_owned).collect(),
                    coverage: Some(Coverage {
                        protected: row.covered,
                        total,
                        unit: if total.is_some() {
                            "computers"
                        } else {
                            "agents"
                        },
                        missing: row.uncovered.lines().map(str::to_owned).collect(),
                        missing_count: row.uncovered_count,
                        notes: silent_note(row.silent as usize).into_iter().collect(),
                    }),
                    last_check_in: row.last_check_in,
                });
            }
        }
        let mut agents_query = self.select(
            "a.vendor, a.hostname, a.serial, a.last_seen_at",
            &fence::EDR_AGENTS,
            "a",
        );
        agents_query
            .sql(" AND a.company_id = ")
            .arg(company)
            .sql(" AND a.retired_at IS NULL");
        let agents: Vec<Agent> = self.tx.all(agents_query).await?;
        if agents.is_empty() {
            return Ok(EndpointView {
                vendors: BTreeSet::new(),
                coverage: None,
                last_check_in: None,
            });
        }
        let mut computers_query = self.select("a.name, a.serial", &fence::ASSETS, "a");
        computers_query
            .sql(" AND a.company_id = ")
            .arg(company)
            .sql(
                " AND a.archived_at IS NULL \
                 AND a.kind IN ('workstation', 'laptop', 'server') ORDER BY a.name, a.id",
            );
        let computers: Vec<Computer> = self.tx.all(computers_query).await?;
        Ok(EndpointView {
            vendors: agents.iter().map(|a| a.vendor.clone()).collect(),
            coverage: Some(endpoint_coverage(&agents, &computers, crate::now())),
            last_check_in: agents.iter().filter_map(|a| a.last_seen_at).max(),
        })
    }
}

/// How long a company's kept coverage is shown (a connector that stopped running leaves the
/// figures to be computed live, against the present time).
const COVERAGE_KEPT_SECS: i64 = 86_400;

/// "2 agents not heard from in 14 days", when any are.
fn silent_note(silent: usize) -> Option<String> {
    (silent > 0).then(|| {
        format!(
            "{silent} {} not heard from in {} days",
            if silent == 1 { "agent" } else { "agents" },
            SILENT_AFTER_SECS / 86_400
        )
    })
}

/// The computers with an agent that reports (matched by serial, then by host name), those
/// without, and the agents silent for [`SILENT_AFTER_SECS`] — which protect nothing they can
/// tell anyone about, so their computers count as uncovered.
pub(crate) fn endpoint_coverage(agents: &[Agent], computers: &[Computer], now: i64) -> Coverage {
    let is_silent = |a: &Agent| a.last_seen_at.is_none_or(|at| at < now - SILENT_AFTER_SECS);
    let live: Vec<&Agent> = agents.iter().filter(|a| !is_silent(a)).collect();
    let serials: HashSet<String> = live.iter().filter_map(|a| serial_key(&a.serial)).collect();
    let hosts: HashSet<String> = live.iter().map(|a| host_key(&a.hostname)).collect();
    let mut missing = Vec::new();
    let mut missing_count = 0;
    for computer in computers {
        let covered = serial_key(&computer.serial).is_some_and(|s| serials.contains(&s))
            || hosts.contains(&host_key(&computer.name));
        if !covered {
            missing_count += 1;
            if missing.len() < MISSING_SHOWN {
                missing.push(computer.name.clone());
            }
        }
    }
    let silent = agents.len() - live.len();
    let notes: Vec<String> = silent_note(silent).into_iter().collect();
    let (protected, total) = if computers.is_empty() {
        (live.len() as i64, None)
    } else {
        let total = computers.len() as i64;
        (total - missing_count, Some(total))
    };
    Coverage {
        protected,
        total,
        unit: if total.is_some() {
            "computers"
        } else {
            "agents"
        },
        missing,
        missing_count,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(hostname: &str, serial: &str, seen: i64) -> Agent {
        Agent {
            vendor: "Huntress".into(),
            hostname: hostname.into(),
            serial: serial.into(),
            last_seen_at: Some(seen),
        }
    }

    fn computer(name: &str, serial: &str) -> Computer {
        Computer {
            name: name.into(),
            serial: serial.into(),
        }
    }

    #[test]
    fn computers_are_covered_by_serial_or_host_name() {
        let now = 10_000_000;
        let agents = [
            agent("RECEPTION-PC.acme.local", "", now),
            agent("anything", "SN-0002", now),
            agent("OLD-LAPTOP", "", now - SILENT_AFTER_SECS - 1),
        ];
        let computers = [
            computer("reception-pc", ""),
            computer("Practice Server", "sn-0002"),
            computer("Front Desk", "Default string"),
            computer("Spare", ""),
            computer("old-laptop", ""),
        ];
        let c = endpoint_coverage(&agents, &computers, now);
        // The silent agent's laptop is not counted as protected.
        assert_eq!((c.protected, c.total), (2, Some(5)));
        assert_eq!(c.missing, vec!["Front Desk", "Spare", "old-laptop"]);
        assert_eq!(c.percent(), Some(40));
        assert!(!c.complete());
        assert_eq!(c.notes, vec!["1 agent not heard from in 14 days"]);
    }

    #[test]
    fn without_computers_recorded_the_agents_are_counted_alone() {
        let c = endpoint_coverage(&[agent("a", "", 5), agent("b", "", 5)], &[], 5);
        assert_eq!((c.protected, c.total, c.unit), (2, None, "agents"));
        assert!(c.complete());
    }
}
