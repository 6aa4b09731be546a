//! Huntress's managed EDR and ITDR through its public REST API v1 (`api.huntress.io`): an API
//! key and secret sent as HTTP Basic with every request (no token exchange). Organisations are
//! the tenants; a sync reads an organisation's agents (the coverage of its computers), its
//! incident reports (the Security section's alerts, EDR or ITDR by platform) and its identities
//! (how many the ITDR watches). Lists answer `{<items>: [...], pagination: {next_page_token}}`
//! and take `limit` (1 to 500) and `page_token`; the account may make 60 requests a minute,
//! past which it answers 429.

use std::collections::HashMap;

use portico_store::connector_sync::{AlertRecord, DiscoveredTenant};
use portico_store::edr_sync::{AgentRecord, EdrSnapshot, IdentityCounts};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::SyncError;
use crate::http::{Answer, VendorClient};

/// Pages read at most per list: a runaway token ends the run instead of looping.
const MAX_PAGES: usize = 1_000;
/// The most items Huntress gives per page.
const MOST_PER_PAGE: usize = 500;

/// A Huntress API session (key and secret on every request).
pub struct Huntress<'a> {
    client: &'a VendorClient,
    api_url: &'a str,
    key: &'a str,
    secret: &'a str,
    pub requests: i64,
}

#[derive(Deserialize, Default)]
struct Pagination {
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Organization {
    id: i64,
    name: String,
}

#[derive(Deserialize)]
struct Agent {
    id: i64,
    #[serde(default)]
    organization_id: Option<i64>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    serial_number: Option<String>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    last_callback_at: Option<String>,
}

#[derive(Deserialize)]
struct IncidentReport {
    id: i64,
    #[serde(default)]
    organization_id: Option<i64>,
    #[serde(default)]
    agent_id: Option<i64>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    indicator_types: Vec<String>,
    #[serde(default)]
    sent_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    status_updated_at: Option<String>,
    #[serde(default)]
    closed_at: Option<String>,
}

#[derive(Deserialize)]
struct Identity {
    #[serde(default)]
    organization: Option<IdentityOrganization>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    external: Option<bool>,
    #[serde(default)]
    enabled_products: Vec<String>,
    #[serde(default)]
    mfa_enabled: Option<bool>,
    #[serde(default)]
    risk_level: Option<String>,
}

#[derive(Deserialize)]
struct IdentityOrganization {
    id: i64,
}

/// ISO-8601 as epoch seconds.
fn seconds(at: Option<&str>) -> Option<i64> {
    at.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
}

/// Huntress's status in the words the Security section uses (those of Microsoft's alerts).
fn status_of(status: &str) -> &'static str {
    match status {
        "sent" => "new",
        "auto_remediating" => "inProgress",
        "closed" | "dismissed" | "partner_dismissed" | "deleting" => "resolved",
        _ => "new",
    }
}

/// Whether an incident concerns identities (Microsoft 365, Google Workspace) rather than a
/// computer.
fn is_identity_incident(report: &IncidentReport) -> bool {
    matches!(report.platform.as_deref(), Some("microsoft_365" | "google"))
        || report
            .indicator_types
            .iter()
            .any(|t| t == "managed_identity")
}

fn incident_record(report: IncidentReport, hosts: &HashMap<i64, String>, now: i64) -> AlertRecord {
    let identity = is_identity_incident(&report);
    let status = status_of(report.status.as_deref().unwrap_or(""));
    let created_at = seconds(report.sent_at.as_deref())
        .or(seconds(report.updated_at.as_deref()))
        .unwrap_or(now);
    let updated_at = seconds(report.updated_at.as_deref())
        .or(seconds(report.status_updated_at.as_deref()))
        .unwrap_or(created_at);
    let resolved_at = (status == "resolved").then(|| {
        seconds(report.closed_at.as_deref())
            .or(seconds(report.status_updated_at.as_deref()))
            .unwrap_or(updated_at)
    });
    let subject = report
        .agent_id
        .and_then(|a| hosts.get(&a).cloned())
        .unwrap_or_else(|| match report.platform.as_deref() {
            Some("microsoft_365") => "Microsoft 365".to_owned(),
            Some("google") => "Google Workspace".to_owned(),
            _ => String::new(),
        });
    let severity = match report.severity.as_deref().map(str::to_ascii_lowercase) {
        Some(s) if matches!(s.as_str(), "low" | "medium" | "high" | "critical") => s,
        _ => "unknown".to_owned(),
    };
    AlertRecord {
        external_id: report.id.to_string(),
        title: report
            .subject
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.chars().take(300).collect())
            .unwrap_or_else(|| format!("Huntress incident report {}", report.id)),
        severity,
        status: status.to_owned(),
        service_source: if identity {
            "huntressItdr"
        } else {
            "huntressEdr"
        }
        .to_owned(),
        category: report.indicator_types.join(", "),
        subject,
        created_at,
        updated_at,
        resolved_at,
    }
}

/// The identities the ITDR watches; `None` when it watches none of the organisation's.
fn identity_counts(identities: &[Identity]) -> Option<IdentityCounts> {
    let mut counts = IdentityCounts::default();
    let mut watched = false;
    for identity in identities {
        if identity.enabled == Some(false) || identity.external == Some(true) {
            continue;
        }
        counts.identities += 1;
        if identity.enabled_products.iter().any(|p| p == "itdr") {
            watched = true;
            counts.protected += 1;
        }
        if identity.mfa_enabled == Some(false) {
            counts.without_mfa += 1;
        }
        if matches!(identity.risk_level.as_deref(), Some("medium" | "high")) {
            counts.at_risk += 1;
        }
    }
    watched.then_some(counts)
}

impl<'a> Huntress<'a> {
    pub fn new(
        client: &'a VendorClient,
        api_url: &'a str,
        key: &'a str,
        secret: &'a str,
    ) -> Huntress<'a> {
        Huntress {
            client,
            api_url,
            key,
            secret,
            requests: 0,
        }
    }

    /// One GET of `path` (with its query); `None` when the key may not read it (403).
    async fn get<T: DeserializeOwned>(
        &mut self,
        path: &str,
        what: &str,
    ) -> Result<Option<T>, SyncError> {
        let url = format!("{}{path}", self.api_url);
        let (key, secret) = (self.key, self.secret);
        let answer: Answer<T> = self
            .client
            .send(&mut self.requests, what, |c| {
                c.get(&url)
                    .basic_auth(key, Some(secret))
                    .header(reqwest::header::ACCEPT, "application/json")
            })
            .await?;
        match answer {
            Answer::Ok(value) => Ok(Some(value)),
            Answer::Unauthorized(e) => Err(SyncError::Credentials(format!(
                "Huntress refused the API key: {e}"
            ))),
            Answer::Forbidden(_) => Ok(None),
        }
    }

    /// Every item of a list under `key`, following `page_token` to the end; `None` when the
    /// API key may not read the list.
    async fn list<T: DeserializeOwned>(
        &mut self,
        path: &str,
        key: &str,
        what: &str,
    ) -> Result<Option<Vec<T>>, SyncError> {
        let join = if path.contains('?') { '&' } else { '?' };
        let limit = self.client.page_size().min(MOST_PER_PAGE);
        let mut items: Vec<T> = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page_path = match &token {
                Some(t) => format!(
                    "{path}{join}limit={limit}&page_token={}",
                    url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
                ),
                None => format!("{path}{join}limit={limit}"),
            };
            let Some(mut page): Option<serde_json::Map<String, serde_json::Value>> =
                self.get(&page_path, what).await?
            else {
                return Ok(None);
            };
            // An answer without its list is not an empty list: reading it as one would retire
            // every agent.
            let list = page.remove(key).ok_or_else(|| {
                SyncError::Vendor(format!("{what}: an answer without its `{key}` list"))
            })?;
            let found: Vec<T> = serde_json::from_value(list).map_err(|e| {
                SyncError::Vendor(format!("{what}: an answer we cannot read ({e})"))
            })?;
            let pagination: Pagination = page
                .remove("pagination")
                .and_then(|p| serde_json::from_value(p).ok())
                .unwrap_or_default();
            let empty = found.is_empty();
            items.extend(found);
            match pagination.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) if !empty => {
                    if token.as_deref() == Some(next.as_str()) {
                        return Err(SyncError::Vendor(format!("{what}: a page did not move on")));
                    }
                    token = Some(next);
                }
                _ => return Ok(Some(items)),
            }
        }
        Err(SyncError::Vendor(format!(
            "{what}: more than {MAX_PAGES} pages"
        )))
    }

    /// A list the run cannot do without: a refusal is a credentials error.
    async fn required<T: DeserializeOwned>(
        &mut self,
        path: &str,
        key: &str,
        what: &str,
    ) -> Result<Vec<T>, SyncError> {
        self.list(path, key, what).await?.ok_or_else(|| {
            SyncError::Credentials(format!(
                "{what}: Huntress refused the API key this read (403)"
            ))
        })
    }

    /// The organisations the account holds: the tenants to map to companies.
    pub async fn discover(&mut self) -> Result<Vec<DiscoveredTenant>, SyncError> {
        let organizations: Vec<Organization> = self
            .required(
                "/v1/organizations",
                "organizations",
                "listing organisations",
            )
            .await?;
        Ok(organizations
            .into_iter()
            .map(|o| DiscoveredTenant {
                external_id: o.id.to_string(),
                name: o.name,
                domains: Vec::new(),
            })
            .collect())
    }

    /// Everything a run reads for organisation `organization` (its id as text).
    pub async fn snapshot(&mut self, organization: &str) -> Result<EdrSnapshot, SyncError> {
        let org: i64 = organization.parse().map_err(|_| {
            SyncError::Vendor(format!("{organization} is not a Huntress organisation id"))
        })?;
        let mut agents: Vec<Agent> = self
            .required(
                &format!("/v1/agents?organization_id={org}"),
                "agents",
                "reading the agents",
            )
            .await?;
        // The filter is the vendor's: another organisation's record never reaches this company.
        agents.retain(|a| a.organization_id == Some(org));
        let mut reports: Vec<IncidentReport> = self
            .required(
                &format!("/v1/incident_reports?organization_id={org}"),
                "incident_reports",
                "reading the incident reports",
            )
            .await?;
        reports.retain(|r| r.organization_id == Some(org));
        // An account without Managed ITDR (or a key without its permission) is answered 403,
        // or 404 ("does not hold correct permissions to access it"): no identities watched.
        const IDENTITIES: &str = "reading the identities";
        let identities: Option<Vec<Identity>> = match self
            .list(
                &format!("/v1/identities?organization_id={org}"),
                "identities",
                IDENTITIES,
            )
            .await
        {
            Err(SyncError::Vendor(m)) if m.starts_with(&format!("{IDENTITIES}: 404")) => None,
            read => read?,
        };
        let identities = identities
            .map(|mut list| {
                list.retain(|i| i.organization.as_ref().is_some_and(|o| o.id == org));
                list
            })
            .and_then(|list| identity_counts(&list));
        let hosts: HashMap<i64, String> = agents
            .iter()
            .filter_map(|a| a.hostname.clone().map(|h| (a.id, h)))
            .collect();
        let now = portico_store::now();
        let incidents = reports
            .into_iter()
            .map(|r| incident_record(r, &hosts, now))
            .collect();
        let agents = agents
            .into_iter()
            .map(|a| AgentRecord {
                external_id: a.id.to_string(),
                hostname: a
                    .hostname
                    .filter(|h| !h.trim().is_empty())
                    .unwrap_or_else(|| format!("Agent {}", a.id)),
                serial: a.serial_number.unwrap_or_default(),
                platform: a.platform.unwrap_or_default(),
                os: a.os.unwrap_or_default(),
                last_seen_at: seconds(a.last_callback_at.as_deref()),
            })
            .collect();
        Ok(EdrSnapshot {
            agents,
            incidents,
            identities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> IncidentReport {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn incident_reports_become_alerts_of_the_right_product() {
        let hosts = HashMap::from([(12, "RECEPTION-PC".to_owned())]);
        let edr = incident_record(
            report(
                r#"{"id": 7, "agent_id": 12, "subject": "Foothold on RECEPTION-PC", "severity": "critical",
                "status": "sent", "platform": "windows", "indicator_types": ["footholds"],
                "sent_at": "2026-11-30T09:00:00Z", "updated_at": "2026-11-30T09:05:00Z"}"#,
            ),
            &hosts,
            0,
        );
        assert_eq!(
            (
                edr.service_source.as_str(),
                edr.status.as_str(),
                edr.severity.as_str(),
                edr.subject.as_str()
            ),
            ("huntressEdr", "new", "critical", "RECEPTION-PC")
        );
        assert_eq!(edr.created_at, 1_796_029_200);
        let itdr = incident_record(
            report(
                r#"{"id": 8, "severity": "high", "status": "closed", "platform": "microsoft_365",
                "sent_at": "2026-11-30T09:00:00Z", "closed_at": "2026-12-01T10:00:00Z"}"#,
            ),
            &hosts,
            0,
        );
        assert_eq!(itdr.service_source, "huntressItdr");
        assert_eq!(itdr.status, "resolved");
        assert_eq!(itdr.subject, "Microsoft 365");
        assert!(itdr.resolved_at.is_some());
    }

    #[test]
    fn only_watched_internal_identities_count() {
        let list: Vec<Identity> = serde_json::from_str(
            r#"[{"enabled": true, "external": false, "enabled_products": ["itdr"], "mfa_enabled": true, "risk_level": "none"},
                {"enabled": true, "external": false, "enabled_products": ["itdr"], "mfa_enabled": false, "risk_level": "high"},
                {"enabled": true, "external": false, "enabled_products": [], "mfa_enabled": true},
                {"enabled": false, "enabled_products": ["itdr"]},
                {"enabled": true, "external": true, "enabled_products": ["itdr"]}]"#,
        )
        .unwrap();
        assert_eq!(
            identity_counts(&list),
            Some(IdentityCounts {
                identities: 3,
                protected: 2,
                without_mfa: 1,
                at_risk: 1
            })
        );
        let unwatched: Vec<Identity> =
            serde_json::from_str(r#"[{"enabled": true, "enabled_products": ["ispm"]}]"#).unwrap();
        assert_eq!(identity_counts(&unwatched), None);
    }
}
