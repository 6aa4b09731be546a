//! Microsoft 365 through Microsoft Graph, as MSPs connect with GDAP: one multi-tenant app
//! registration of the MSP, a client-credentials token per customer tenant. Discovery lists
//! the partner's customers (`/tenantRelationships/delegatedAdminCustomers`, with the partner
//! tenant's token) and their domains; a sync reads one customer's organisation, subscribed SKUs,
//! subscriptions (renewal dates), users (with sign-in activity where the tenant's licence gives
//! it) and the users' MFA registration. Lists follow `@odata.nextLink` verbatim, and only while
//! it stays on the configured Graph address, so that a token never leaves for another host.
//!
//! Users are read whole each run rather than by delta query: `/users/delta` cannot return
//! `signInActivity`, which unused-licence detection needs. Writes are still incremental: the
//! store writes only what changed.

use std::collections::HashMap;

use portico_store::connector_sync::{
    AlertRecord, DirectoryUserRecord, DiscoveredTenant, Microsoft365Snapshot, SkuRecord,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::SyncError;
use crate::http::{Answer, VendorClient};
use crate::sku_names::product_name;

/// A Graph session for one tenant: its token, fetched when first needed and again once if
/// Graph refuses it (expired or revoked).
pub struct Graph<'a> {
    client: &'a VendorClient,
    auth_url: &'a str,
    api_url: &'a str,
    client_id: &'a str,
    secret: &'a str,
    tenant: String,
    token: Option<String>,
    /// Requests sent so far, retries included.
    pub requests: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
}

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Customer {
    tenant_id: Option<String>,
    id: String,
    display_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Organization {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    verified_domains: Vec<VerifiedDomain>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifiedDomain {
    name: String,
    #[serde(default)]
    is_default: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribedSku {
    sku_id: String,
    sku_part_number: String,
    #[serde(default)]
    capability_status: String,
    #[serde(default)]
    consumed_units: i64,
    #[serde(default)]
    prepaid_units: PrepaidUnits,
    #[serde(default)]
    applies_to: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PrepaidUnits {
    #[serde(default)]
    enabled: i64,
    #[serde(default)]
    suspended: i64,
    #[serde(default)]
    warning: i64,
    #[serde(default)]
    locked_out: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    sku_id: String,
    #[serde(default)]
    status: String,
    next_lifecycle_date_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    mail: Option<String>,
    #[serde(default)]
    account_enabled: Option<bool>,
    #[serde(default)]
    assigned_licenses: Vec<AssignedLicence>,
    #[serde(default)]
    sign_in_activity: Option<SignInActivity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssignedLicence {
    sku_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignInActivity {
    last_sign_in_date_time: Option<String>,
    last_non_interactive_sign_in_date_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    id: String,
    #[serde(default)]
    is_mfa_registered: Option<bool>,
    #[serde(default)]
    is_admin: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Alert {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    service_source: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    created_date_time: Option<String>,
    #[serde(default)]
    last_update_date_time: Option<String>,
    #[serde(default)]
    resolved_date_time: Option<String>,
    #[serde(default)]
    evidence: Vec<serde_json::Value>,
}

/// What an alert concerns, named from its first evidence that names something.
fn subject_of(evidence: &[serde_json::Value]) -> String {
    evidence
        .iter()
        .find_map(|e| {
            [
                "deviceDnsName",
                "hostName",
                "recipientEmailAddress",
                "mailboxPrimaryAddress",
            ]
            .iter()
            .find_map(|k| e.get(*k).and_then(|v| v.as_str()))
            .map(str::to_owned)
            .or_else(|| {
                e.get("userAccount")
                    .and_then(|u| u.get("userPrincipalName").or_else(|| u.get("accountName")))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
        })
        .unwrap_or_default()
}

/// Unix seconds as Graph writes a time (seconds precision, UTC).
fn graph_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Alerts read back this far on a tenant's first read, in days.
const FIRST_ALERTS_DAYS: i64 = 90;

/// Unix seconds of a Graph time; `None` for none, and for the "never" Graph writes as year 1.
fn seconds(text: Option<&str>) -> Option<i64> {
    let at: jiff::Timestamp = text?.parse().ok()?;
    let secs = at.as_second();
    (secs > 946_684_800).then_some(secs)
}

impl<'a> Graph<'a> {
    pub fn new(
        client: &'a VendorClient,
        auth_url: &'a str,
        api_url: &'a str,
        client_id: &'a str,
        secret: &'a str,
        tenant: &str,
    ) -> Graph<'a> {
        Graph {
            client,
            auth_url,
            api_url,
            client_id,
            secret,
            tenant: tenant.to_owned(),
            token: None,
            requests: 0,
        }
    }

    async fn token(&mut self) -> Result<String, SyncError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.auth_url,
            url::form_urlencoded::byte_serialize(self.tenant.as_bytes()).collect::<String>()
        );
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id),
            ("client_secret", self.secret),
            ("scope", &format!("{}/.default", self.graph_resource())),
        ];
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let answer: Answer<TokenAnswer> = self
            .client
            .send(&mut self.requests, "signing in to the tenant", |c| {
                c.post(&url)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body.clone())
            })
            .await?;
        match answer {
            Answer::Ok(t) => {
                self.token = Some(t.access_token.clone());
                Ok(t.access_token)
            }
            Answer::Unauthorized(e) | Answer::Forbidden(e) => Err(SyncError::Credentials(format!(
                "the tenant refused the app's credentials: {e}"
            ))),
        }
    }

    /// The resource the token is for: Graph's public address, whatever proxy `api_url` names.
    fn graph_resource(&self) -> &'static str {
        "https://graph.microsoft.com"
    }

    /// One GET of a Graph address (absolute), with the token renewed once if refused.
    async fn get<T: DeserializeOwned>(
        &mut self,
        url: &str,
        what: &str,
    ) -> Result<Answer<T>, SyncError> {
        for renewed in [false, true] {
            let token = self.token().await?;
            let answer: Answer<T> = self
                .client
                .send(&mut self.requests, what, |c| {
                    c.get(url)
                        .bearer_auth(&token)
                        .header(reqwest::header::ACCEPT, "application/json")
                })
                .await?;
            match answer {
                Answer::Unauthorized(e) if renewed => {
                    return Err(SyncError::Credentials(format!(
                        "{what}: Graph refused a fresh token: {e}"
                    )));
                }
                Answer::Unauthorized(_) => self.token = None,
                other => return Ok(other),
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Every item of a Graph list, following `@odata.nextLink` while it stays on Graph.
    /// `Ok(None)` when the tenant forbids the read.
    async fn list<T: DeserializeOwned>(
        &mut self,
        path: &str,
        what: &str,
    ) -> Result<Option<Vec<T>>, SyncError> {
        let mut url = format!("{}{path}", self.api_url);
        let mut items = Vec::new();
        loop {
            let page: Page<T> = match self.get(&url, what).await? {
                Answer::Ok(page) => page,
                Answer::Forbidden(_) if items.is_empty() => return Ok(None),
                Answer::Forbidden(e) | Answer::Unauthorized(e) => {
                    return Err(SyncError::Vendor(format!("{what}: {e}")));
                }
            };
            items.extend(page.value);
            match page.next {
                None => return Ok(Some(items)),
                Some(next) if next.starts_with(&format!("{}/", self.api_url)) => url = next,
                Some(_) => {
                    return Err(SyncError::Vendor(format!(
                        "{what}: the next page is on another host than {}",
                        self.api_url
                    )));
                }
            }
        }
    }

    /// The partner's customers (with the partner tenant's session), each with its domains
    /// read with its own token where the app may.
    pub async fn discover(&mut self) -> Result<Vec<DiscoveredTenant>, SyncError> {
        let customers: Vec<Customer> = self
            .list(
                "/v1.0/tenantRelationships/delegatedAdminCustomers",
                "listing the partner's customers",
            )
            .await?
            .ok_or_else(|| {
                SyncError::Credentials(
                    "the app may not list customers: grant it DelegatedAdminRelationship.Read.All \
                     in the partner tenant"
                        .into(),
                )
            })?;
        let mut found = Vec::with_capacity(customers.len());
        for customer in customers {
            let id = customer.tenant_id.unwrap_or(customer.id);
            let mut session = Graph::new(
                self.client,
                self.auth_url,
                self.api_url,
                self.client_id,
                self.secret,
                &id,
            );
            let domains = match session.organization().await {
                Ok((_, domains)) => domains,
                Err(e) => {
                    tracing::info!(target: "portico::connectors", tenant = %id, error = %e, "a customer's domains could not be read");
                    Vec::new()
                }
            };
            self.requests += session.requests;
            found.push(DiscoveredTenant {
                external_id: id,
                name: customer.display_name,
                domains,
            });
        }
        Ok(found)
    }

    /// The tenant's name and domains, the default first.
    async fn organization(&mut self) -> Result<(String, Vec<String>), SyncError> {
        let orgs: Vec<Organization> = self
            .list(
                "/v1.0/organization?$select=id,displayName,verifiedDomains",
                "reading the organisation",
            )
            .await?
            .unwrap_or_default();
        let Some(mut org) = orgs.into_iter().next() else {
            return Ok((String::new(), Vec::new()));
        };
        org.verified_domains.sort_by_key(|d| !d.is_default);
        Ok((
            org.display_name.unwrap_or_default(),
            org.verified_domains
                .into_iter()
                .map(|d| d.name.to_ascii_lowercase())
                .collect(),
        ))
    }

    /// Security alerts changed since `watermark` (a Graph time; empty: the last 90 days), with
    /// the latest change among them; `None` where the tenant does not let the app read them.
    async fn alerts(
        &mut self,
        watermark: &str,
    ) -> Result<(Option<Vec<AlertRecord>>, Option<String>), SyncError> {
        let since = if watermark.is_empty() {
            graph_time(portico_store::now() - FIRST_ALERTS_DAYS * 24 * 3600)
        } else {
            watermark.to_owned()
        };
        // No `$top`: alerts_v2 documents none, and pages by `@odata.nextLink` anyway.
        let path = format!("/v1.0/security/alerts_v2?$filter=lastUpdateDateTime%20ge%20{since}");
        let Some(alerts) = self
            .list::<Alert>(&path, "reading the security alerts")
            .await?
        else {
            return Ok((None, None));
        };
        let mut latest: Option<i64> = None;
        let records = alerts
            .into_iter()
            .filter_map(|a| {
                let updated = seconds(a.last_update_date_time.as_deref())
                    .or(seconds(a.created_date_time.as_deref()))?;
                latest = Some(latest.map_or(updated, |l| l.max(updated)));
                Some(AlertRecord {
                    subject: subject_of(&a.evidence),
                    external_id: a.id,
                    title: a.title.unwrap_or_default(),
                    severity: a.severity.unwrap_or_else(|| "unknown".into()),
                    status: a.status.unwrap_or_else(|| "new".into()),
                    service_source: a.service_source.unwrap_or_default(),
                    category: a.category.unwrap_or_default(),
                    created_at: seconds(a.created_date_time.as_deref()).unwrap_or(updated),
                    updated_at: updated,
                    resolved_at: seconds(a.resolved_date_time.as_deref()),
                })
            })
            .collect();
        Ok((Some(records), latest.map(graph_time)))
    }

    /// Everything a run reads from the tenant; alerts changed since `alerts_watermark`.
    pub async fn snapshot(
        &mut self,
        alerts_watermark: &str,
    ) -> Result<Microsoft365Snapshot, SyncError> {
        let (name, domains) = self.organization().await?;
        let skus: Vec<SubscribedSku> = self
            .list("/v1.0/subscribedSkus", "reading the subscribed licences")
            .await?
            .ok_or_else(|| {
                SyncError::Credentials(
                    "the app may not read licences: grant it Organization.Read.All".into(),
                )
            })?;
        // Renewal dates: the earliest coming lifecycle date of a SKU's live subscriptions.
        let mut renewals: HashMap<String, String> = HashMap::new();
        let subscriptions: Vec<Subscription> = self
            .list("/v1.0/directory/subscriptions", "reading the subscriptions")
            .await?
            .unwrap_or_default();
        for s in subscriptions {
            if s.status.eq_ignore_ascii_case("suspended")
                || s.status.eq_ignore_ascii_case("deleted")
            {
                continue;
            }
            let Some(at) = seconds(s.next_lifecycle_date_time.as_deref()) else {
                continue;
            };
            let date = jiff::Timestamp::from_second(at)
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
                .unwrap_or_default();
            let entry = renewals
                .entry(s.sku_id.to_ascii_lowercase())
                .or_insert(date.clone());
            if date < *entry {
                *entry = date;
            }
        }
        // Sign-in activity needs an Entra ID P1 licence: without one Graph refuses the read,
        // and the users are read again without it.
        let mut sign_ins_known = true;
        let users: Vec<User> = match self
            .list(
                "/v1.0/users?$select=id,displayName,userPrincipalName,mail,accountEnabled,\
                 assignedLicenses,signInActivity&$top=500",
                "reading the users",
            )
            .await?
        {
            Some(users) => users,
            None => {
                sign_ins_known = false;
                self.list(
                    "/v1.0/users?$select=id,displayName,userPrincipalName,mail,accountEnabled,\
                     assignedLicenses&$top=999",
                    "reading the users",
                )
                .await?
                .ok_or_else(|| {
                    SyncError::Credentials(
                        "the app may not read users: grant it User.Read.All".into(),
                    )
                })?
            }
        };
        let registrations: HashMap<String, (Option<bool>, bool)> = self
            .list::<Registration>(
                "/v1.0/reports/authenticationMethods/userRegistrationDetails",
                "reading MFA registration",
            )
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.id, (r.is_mfa_registered, r.is_admin.unwrap_or(false))))
            .collect();
        let skus = skus
            .into_iter()
            .filter(|s| s.applies_to.is_empty() || s.applies_to.eq_ignore_ascii_case("user"))
            .map(|s| {
                let sku_id = s.sku_id.to_ascii_lowercase();
                SkuRecord {
                    renews_on: renewals.get(&sku_id).cloned(),
                    product_name: product_name(&s.sku_part_number),
                    sku_id,
                    sku_part_number: s.sku_part_number,
                    capability_status: s.capability_status,
                    purchased: s.prepaid_units.enabled + s.prepaid_units.warning,
                    assigned: s.consumed_units,
                    suspended: s.prepaid_units.suspended + s.prepaid_units.locked_out,
                    warning: s.prepaid_units.warning,
                }
            })
            .collect();
        let users = users
            .into_iter()
            .map(|u| {
                let (mfa, admin) = registrations.get(&u.id).copied().unwrap_or((None, false));
                let last = u.sign_in_activity.as_ref().and_then(|a| {
                    let interactive = seconds(a.last_sign_in_date_time.as_deref());
                    let other = seconds(a.last_non_interactive_sign_in_date_time.as_deref());
                    interactive.max(other)
                });
                let mut licence_skus: Vec<String> = u
                    .assigned_licenses
                    .into_iter()
                    .map(|l| l.sku_id.to_ascii_lowercase())
                    .collect();
                licence_skus.sort();
                licence_skus.dedup();
                DirectoryUserRecord {
                    display_name: u.display_name.unwrap_or_default(),
                    user_principal_name: u.user_principal_name.unwrap_or_default(),
                    mail: u.mail.unwrap_or_default(),
                    enabled: u.account_enabled.unwrap_or(true),
                    licence_skus,
                    mfa_registered: mfa,
                    is_admin: admin,
                    last_sign_in_at: last,
                    external_id: u.id,
                }
            })
            .collect();
        let (alerts, alerts_watermark) = self.alerts(alerts_watermark).await?;
        Ok(Microsoft365Snapshot {
            name,
            domains,
            skus,
            users,
            sign_ins_known,
            alerts,
            alerts_watermark,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn graph_times_parse_and_year_one_is_never() {
        assert_eq!(seconds(Some("2026-11-30T14:22:05Z")), Some(1_796_048_525));
        assert_eq!(
            seconds(Some("2026-12-01T03:12:44.1234567Z")),
            Some(1_796_094_764)
        );
        assert_eq!(seconds(Some("0001-01-01T00:00:00Z")), None);
        assert_eq!(seconds(Some("")), None);
        assert_eq!(seconds(None), None);
    }
}
