//! Acronis Cyber Protect Cloud through its public APIs, at the partner account's data centre
//! (`https://<dc>-cloud.acronis.com`): a client-credentials token at `/api/2/idp/token` (the API
//! client's id and secret as HTTP Basic). The tenants are the partner's customers (Account
//! Management API: the client's own tenant, then its subtree). A sync reads a customer's
//! resources (Resource Management API), its protection plans with their settings and the
//! plans' applications to resources (Policy Management API): each backup policy applied to a
//! resource is one backup job, with its last run, last success and status; retention and the
//! expected interval come from the plan's settings. Lists answer `{items, paging: {cursors:
//! {after}}}` and continue with `after`. The archives' sizes (Vault Manager API) cannot be
//! filtered by tenant, so jobs carry no protected size.

use std::collections::HashMap;

use portico_store::backup_sync::BackupSnapshot;
use portico_store::connector_sync::DiscoveredTenant;
use portico_store::scoped::backups::{PushedBackupJob, check_jobs};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::SyncError;
use crate::http::{Answer, VendorClient};

/// Pages read at most per list: a runaway cursor ends the run instead of looping.
const MAX_PAGES: usize = 1_000;

/// An Acronis API session: its token, fetched when first needed and again once if refused.
pub struct Acronis<'a> {
    client: &'a VendorClient,
    url: &'a str,
    client_id: &'a str,
    secret: &'a str,
    token: Option<String>,
    pub requests: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
}

#[derive(Deserialize)]
struct ApiClient {
    tenant_id: String,
}

#[derive(Deserialize)]
struct Tenant {
    id: String,
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Deserialize)]
struct Resource {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    user_defined_name: Option<String>,
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct BoundPolicy {
    /// The plan: its root policy and its sub-policies (backup, antimalware, …).
    policy: Vec<Policy>,
}

#[derive(Deserialize)]
struct Policy {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parent_ids: Vec<String>,
    #[serde(default)]
    settings: Value,
}

#[derive(Deserialize)]
struct Application {
    #[serde(default)]
    context: Option<Context>,
    policy: PolicyRef,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    last_run_time: Option<String>,
    #[serde(default)]
    last_success_time: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct Context {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default, rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct PolicyRef {
    id: String,
    #[serde(default, rename = "type")]
    kind: String,
}

/// RFC 3339 as epoch seconds.
fn seconds(at: Option<&str>) -> Option<i64> {
    at.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
}

/// The job's last result in the Backup section's words, from the application's status.
fn result_of(status: &str, last_run: Option<i64>, last_success: Option<i64>) -> &'static str {
    match status {
        "error" | "critical" => "failed",
        "warning" | "interaction_required" => "warning",
        "running" | "cancelling" => "running",
        // Idle or scheduled: the last run ended as its times say.
        _ => match (last_run, last_success) {
            (None, _) => "unknown",
            (Some(run), Some(success)) if success >= run => "success",
            _ => "warning",
        },
    }
}

/// What a resource is, as the Backup section groups jobs.
fn kind_of(resource_type: &str) -> &'static str {
    let t = resource_type.to_ascii_lowercase();
    if [
        "365",
        "m365",
        "o365",
        "exchange",
        "onedrive",
        "sharepoint",
        "teams",
    ]
    .iter()
    .any(|k| t.contains(k))
    {
        "microsoft365"
    } else if t.contains("nas") {
        "nas"
    } else if t.contains("google") || t.contains("cloud") {
        "cloud"
    } else if t.contains("server") || t.contains("virtual") {
        "server"
    } else {
        "other"
    }
}

/// A plan's retention in words: "7 days", "daily: 7 days; weekly: 4 weeks", "10 backups".
fn retention_of(settings: &Value) -> String {
    let Some(rules) = settings
        .pointer("/retention/rules")
        .and_then(Value::as_array)
    else {
        return String::new();
    };
    let mut parts = Vec::new();
    for rule in rules {
        let kept = if let Some(age) = rule.get("max_age") {
            let count = age.get("count").and_then(Value::as_i64);
            let unit = age.get("type").and_then(Value::as_str).unwrap_or("days");
            count.map(|c| {
                let unit = unit.trim_end_matches('s');
                format!("{c} {unit}{}", if c == 1 { "" } else { "s" })
            })
        } else {
            rule.get("max_count")
                .and_then(Value::as_i64)
                .map(|c| format!("{c} backup{}", if c == 1 { "" } else { "s" }))
        };
        let Some(kept) = kept else { continue };
        let sets: Vec<&str> = rule
            .get("backup_set")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        parts.push(if sets.is_empty() {
            kept
        } else {
            format!("{}: {kept}", sets.join(", "))
        });
    }
    let text = parts.join("; ");
    text.chars().take(100).collect()
}

/// Hours between successes past which the job is stale: the plan's own alert
/// (`max_days_without_backup`), else the longest gap its schedule leaves, else a day.
fn expected_hours(settings: &Value) -> i64 {
    if let Some(days) = settings
        .pointer("/alerts/max_days_without_backup")
        .and_then(Value::as_i64)
        .filter(|d| (1..=366).contains(d))
    {
        return days * 24;
    }
    let mut longest = 0;
    for set in settings
        .pointer("/scheduling/backup_sets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let schedule = set.get("schedule").unwrap_or(&Value::Null);
        let hours = match schedule.get("type").and_then(Value::as_str) {
            Some("monthly") => 24 * 31,
            Some("weekly") => {
                let days: Vec<i64> = schedule
                    .pointer("/alarms/time/weekdays")
                    .and_then(Value::as_array)
                    .map(|d| d.iter().filter_map(weekday).collect())
                    .unwrap_or_default();
                longest_gap_days(&days) * 24
            }
            Some(_) => 24,
            None => continue,
        };
        longest = longest.max(hours);
    }
    if longest == 0 { 24 } else { longest }
}

/// A weekday as 0 (Sunday) to 6, from a name or a number.
fn weekday(day: &Value) -> Option<i64> {
    if let Some(n) = day.as_i64() {
        return (0..=6).contains(&n).then_some(n);
    }
    let name = day.as_str()?.to_ascii_lowercase();
    ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        .iter()
        .position(|d| name.starts_with(d))
        .map(|p| p as i64)
}

/// The longest wait, in days, between consecutive backup days of a week (7 with one day).
fn longest_gap_days(days: &[i64]) -> i64 {
    let mut days: Vec<i64> = days.to_vec();
    days.sort_unstable();
    days.dedup();
    if days.is_empty() {
        return 1;
    }
    let mut longest = 7 - days[days.len() - 1] + days[0];
    for pair in days.windows(2) {
        longest = longest.max(pair[1] - pair[0]);
    }
    longest
}

fn truncated(text: &str, most: usize) -> String {
    text.trim().chars().take(most).collect()
}

impl<'a> Acronis<'a> {
    pub fn new(
        client: &'a VendorClient,
        url: &'a str,
        client_id: &'a str,
        secret: &'a str,
    ) -> Acronis<'a> {
        Acronis {
            client,
            url,
            client_id,
            secret,
            token: None,
            requests: 0,
        }
    }

    async fn token(&mut self) -> Result<String, SyncError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let url = format!("{}/api/2/idp/token", self.url);
        let (id, secret) = (self.client_id, self.secret);
        let answer: Answer<TokenAnswer> = self
            .client
            .send(&mut self.requests, "signing in to Acronis", |c| {
                c.post(&url)
                    .basic_auth(id, Some(secret))
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body("grant_type=client_credentials")
            })
            .await?;
        match answer {
            Answer::Ok(t) => {
                self.token = Some(t.access_token.clone());
                Ok(t.access_token)
            }
            Answer::Unauthorized(e) | Answer::Forbidden(e) => Err(SyncError::Credentials(format!(
                "Acronis refused the API client's credentials: {e}"
            ))),
        }
    }

    /// One GET of `path` (with its query), the token renewed once if refused.
    async fn get<T: DeserializeOwned>(&mut self, path: &str, what: &str) -> Result<T, SyncError> {
        let url = format!("{}{path}", self.url);
        for renewed in [false, true] {
            let token = self.token().await?;
            let answer: Answer<T> = self
                .client
                .send(&mut self.requests, what, |c| {
                    c.get(&url)
                        .bearer_auth(&token)
                        .header(reqwest::header::ACCEPT, "application/json")
                })
                .await?;
            match answer {
                Answer::Ok(value) => return Ok(value),
                Answer::Unauthorized(_) if !renewed => self.token = None,
                Answer::Unauthorized(e) | Answer::Forbidden(e) => {
                    return Err(SyncError::Credentials(format!(
                        "{what}: Acronis refused the API client ({e})"
                    )));
                }
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Every item of a list, following `paging.cursors.after` to the end.
    async fn list<T: DeserializeOwned>(
        &mut self,
        path: &str,
        what: &str,
    ) -> Result<Vec<T>, SyncError> {
        let join = if path.contains('?') { '&' } else { '?' };
        let limit = self.client.page_size();
        let mut items: Vec<T> = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page_path = match &after {
                Some(a) => format!(
                    "{path}{join}limit={limit}&after={}",
                    url::form_urlencoded::byte_serialize(a.as_bytes()).collect::<String>()
                ),
                None => format!("{path}{join}limit={limit}"),
            };
            let mut page: serde_json::Map<String, Value> = self.get(&page_path, what).await?;
            // An answer without its list is not an empty list: reading it as one would retire
            // every job.
            let list = page.remove("items").ok_or_else(|| {
                SyncError::Vendor(format!("{what}: an answer without its `items` list"))
            })?;
            let found: Vec<T> = serde_json::from_value(list).map_err(|e| {
                SyncError::Vendor(format!("{what}: an answer we cannot read ({e})"))
            })?;
            let next = page
                .get("paging")
                .and_then(|p| p.pointer("/cursors/after"))
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty())
                .map(str::to_owned);
            let empty = found.is_empty();
            items.extend(found);
            match next {
                Some(next) if !empty => {
                    if after.as_deref() == Some(next.as_str()) {
                        return Err(SyncError::Vendor(format!("{what}: a page did not move on")));
                    }
                    after = Some(next);
                }
                _ => return Ok(items),
            }
        }
        Err(SyncError::Vendor(format!(
            "{what}: more than {MAX_PAGES} pages"
        )))
    }

    /// The partner's customers under the API client's tenant: the tenants to map.
    pub async fn discover(&mut self) -> Result<Vec<DiscoveredTenant>, SyncError> {
        let me: ApiClient = self
            .get(
                &format!("/api/2/clients/{}", encode(self.client_id)),
                "reading the API client",
            )
            .await?;
        let tenants: Vec<Tenant> = self
            .list(
                &format!(
                    "/api/2/tenants?subtree_root_id={}&lod=basic",
                    encode(&me.tenant_id)
                ),
                "listing customers",
            )
            .await?;
        Ok(tenants
            .into_iter()
            .filter(|t| t.kind == "customer" && t.enabled != Some(false))
            .map(|t| DiscoveredTenant {
                external_id: t.id,
                name: t.name,
                domains: Vec::new(),
            })
            .collect())
    }

    /// Everything a run reads for customer `tenant` (its UUID).
    pub async fn snapshot(&mut self, tenant: &str) -> Result<BackupSnapshot, SyncError> {
        let t = encode(tenant);
        let resources: Vec<Resource> = self
            .list(
                &format!("/api/resource_management/v4/resources?tenant_id={t}"),
                "listing resources",
            )
            .await?;
        let plans: Vec<BoundPolicy> = self
            .list(
                &format!("/api/policy_management/v4/policies?tenant_id={t}&include_settings=true"),
                "listing protection plans",
            )
            .await?;
        let applications: Vec<Vec<Application>> = self
            .list(
                &format!("/api/policy_management/v4/applications?tenant_id={t}"),
                "listing plans' applications",
            )
            .await?;
        let jobs = jobs_of(&resources, &plans, applications.into_iter().flatten());
        check_jobs("Acronis", &jobs)
            .map_err(|e| SyncError::Vendor(format!("Acronis answered jobs we cannot keep: {e}")))?;
        Ok(BackupSnapshot { jobs })
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Each backup policy applied to a resource, as a job: named after its plan, protecting the
/// resource.
fn jobs_of(
    resources: &[Resource],
    plans: &[BoundPolicy],
    applications: impl Iterator<Item = Application>,
) -> Vec<PushedBackupJob> {
    let resources: HashMap<&str, &Resource> =
        resources.iter().map(|r| (r.id.as_str(), r)).collect();
    // Each policy with its plan's name (the root's) and its own settings.
    let mut policies: HashMap<&str, (String, &Policy)> = HashMap::new();
    for plan in plans {
        let root = plan.policy.iter().find(|p| p.parent_ids.is_empty());
        let plan_name = root
            .and_then(|r| r.name.as_deref())
            .or_else(|| plan.policy.iter().find_map(|p| p.name.as_deref()))
            .unwrap_or("Protection plan")
            .to_owned();
        for policy in &plan.policy {
            policies.insert(policy.id.as_str(), (plan_name.clone(), policy));
        }
    }
    let mut jobs: Vec<PushedBackupJob> = Vec::new();
    for app in applications {
        if !app.policy.kind.contains("backup") || app.enabled == Some(false) {
            continue;
        }
        if app.status.as_deref() == Some("no_policies_applied") {
            continue;
        }
        let Some(context) = app.context.as_ref() else {
            continue;
        };
        let Some(resource_id) = context.id.as_deref().filter(|i| !i.is_empty()) else {
            continue;
        };
        let resource = resources.get(resource_id);
        let item = resource
            .and_then(|r| {
                r.user_defined_name
                    .as_deref()
                    .filter(|n| !n.trim().is_empty())
                    .or(Some(r.name.as_str()))
            })
            .filter(|n| !n.trim().is_empty())
            .or(context.external_id.as_deref())
            .unwrap_or(resource_id);
        let resource_type = resource.map_or(context.kind.as_str(), |r| r.kind.as_str());
        let (plan_name, settings) = match policies.get(app.policy.id.as_str()) {
            Some((name, policy)) => (name.clone(), &policy.settings),
            None => ("Protection plan".to_owned(), &Value::Null),
        };
        let last_run_at = seconds(app.last_run_time.as_deref());
        let last_success_at = seconds(app.last_success_time.as_deref());
        jobs.push(PushedBackupJob {
            external_id: truncated(&format!("{}:{resource_id}", app.policy.id), 200),
            name: truncated(&plan_name, 200),
            kind: kind_of(resource_type).to_owned(),
            protected_item: truncated(item, 300),
            last_result: result_of(
                app.status.as_deref().unwrap_or(""),
                last_run_at,
                last_success_at,
            )
            .to_owned(),
            last_run_at,
            last_success_at,
            protected_bytes: None,
            retention: retention_of(settings),
            expected_every_hours: expected_hours(settings),
        });
    }
    // One job per policy and resource, whatever the vendor repeats.
    jobs.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    jobs.dedup_by(|a, b| a.external_id == b.external_id);
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_results() {
        assert_eq!(result_of("error", Some(10), Some(5)), "failed");
        assert_eq!(result_of("critical", None, None), "failed");
        assert_eq!(result_of("warning", Some(10), Some(10)), "warning");
        assert_eq!(result_of("running", Some(10), Some(5)), "running");
        assert_eq!(result_of("idle", Some(10), Some(10)), "success");
        assert_eq!(result_of("scheduled", Some(10), Some(5)), "warning");
        assert_eq!(result_of("idle", None, None), "unknown");
    }

    #[test]
    fn plans_settings_give_retention_and_the_expected_interval() {
        let settings = serde_json::json!({
            "retention": {"rules": [
                {"backup_set": ["daily"], "max_age": {"type": "days", "count": 7}},
                {"backup_set": ["weekly"], "max_age": {"type": "weeks", "count": 4}}
            ]},
            "scheduling": {"backup_sets": [{"type": "auto", "schedule": {"type": "weekly",
                "alarms": {"time": {"weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"]}}}}]}
        });
        assert_eq!(retention_of(&settings), "daily: 7 days; weekly: 4 weeks");
        // Friday to Monday.
        assert_eq!(expected_hours(&settings), 72);
        let alert = serde_json::json!({"alerts": {"max_days_without_backup": 2}});
        assert_eq!(expected_hours(&alert), 48);
        assert_eq!(expected_hours(&Value::Null), 24);
        assert_eq!(retention_of(&Value::Null), "");
        assert_eq!(longest_gap_days(&[3]), 7);
        assert_eq!(longest_gap_days(&[0, 1, 2, 3, 4, 5, 6]), 1);
    }

    #[test]
    fn resources_become_kinds() {
        assert_eq!(kind_of("resource.microsoft365.mailbox"), "microsoft365");
        assert_eq!(kind_of("resource.virtual_machine.vmwesx"), "server");
        assert_eq!(kind_of("resource.machine"), "other");
    }
}
