//! NinjaOne's RMM through its public API v2: a client-credentials token (`monitoring` scope) at
//! `/ws/oauth/token`; organisations are the tenants; a sync reads an organisation's locations,
//! its devices in detail (serial, maker, model, system, last contact) and its patch
//! installations of the last 30 days. Lists page by `after` (the last id of the page before)
//! and end with a page shorter than asked for; queries page by `cursor` (the same name all
//! through a scan) and end the same way, or with no results. Times are epoch seconds as
//! doubles; `installedAfter`'s format is not documented, so the window is also applied here.

use std::collections::{BTreeMap, HashMap};

use portico_core::AssetKind;
use portico_store::connector_sync::{DeviceRecord, DiscoveredTenant, PatchDay, RmmSnapshot};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::SyncError;
use crate::http::{Answer, VendorClient};

/// Patching read back this far, in days.
const PATCH_DAYS: i64 = 30;
/// Pages read at most per list: a runaway cursor ends the run instead of looping.
const MAX_PAGES: usize = 1_000;

/// A NinjaOne session: its token, fetched when first needed and again once if refused.
pub struct Ninja<'a> {
    client: &'a VendorClient,
    auth_url: &'a str,
    api_url: &'a str,
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
struct Organization {
    id: i64,
    name: String,
}

#[derive(Deserialize)]
struct Location {
    id: i64,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Device {
    id: i64,
    #[serde(default)]
    organization_id: Option<i64>,
    #[serde(default)]
    location_id: Option<i64>,
    #[serde(default)]
    node_class: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    system_name: Option<String>,
    #[serde(default)]
    dns_name: Option<String>,
    #[serde(default)]
    last_contact: Option<f64>,
    #[serde(default)]
    os: Option<DeviceOs>,
    #[serde(default)]
    system: Option<DeviceSystem>,
}

#[derive(Deserialize)]
struct DeviceOs {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceSystem {
    #[serde(default)]
    manufacturer: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    serial_number: Option<String>,
    #[serde(default)]
    bios_serial_number: Option<String>,
    #[serde(default)]
    chassis_type: Option<String>,
}

#[derive(Deserialize)]
struct QueryPage<T> {
    #[serde(default)]
    cursor: Option<QueryCursor>,
    #[serde(default = "Vec::new")]
    results: Vec<T>,
}

#[derive(Deserialize)]
struct QueryCursor {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchInstall {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kb_number: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    installed_at: Option<f64>,
    #[serde(default)]
    timestamp: Option<f64>,
    device_id: i64,
}

/// What a device is, from NinjaOne's node class (and the chassis, for a laptop).
fn kind_of(node_class: &str, chassis: Option<&str>) -> AssetKind {
    let class = node_class.to_ascii_uppercase();
    if class.contains("SERVER") || class.contains("HYPERV") || class.contains("VMWARE") {
        AssetKind::Server
    } else if class.starts_with("NMS") || class.contains("NETWORK") {
        AssetKind::Network
    } else if class.contains("PRINTER") {
        AssetKind::Printer
    } else if class.contains("ANDROID") || class.contains("APPLE_IOS") {
        AssetKind::Phone
    } else if class.contains("IPADOS") {
        AssetKind::Tablet
    } else if chassis.is_some_and(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("laptop") || c.contains("notebook") || c.contains("portable")
    }) {
        AssetKind::Laptop
    } else if class.contains("WORKSTATION") || class == "MAC" || class.contains("LINUX") {
        AssetKind::Workstation
    } else {
        AssetKind::Other
    }
}

/// Epoch seconds (a double, as NinjaOne writes them) as whole seconds; none for zero.
fn seconds(at: Option<f64>) -> Option<i64> {
    at.filter(|s| s.is_finite() && *s > 946_684_800.0)
        .map(|s| s as i64)
}

fn day_of(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
        .unwrap_or_default()
}

impl<'a> Ninja<'a> {
    pub fn new(
        client: &'a VendorClient,
        auth_url: &'a str,
        api_url: &'a str,
        client_id: &'a str,
        secret: &'a str,
    ) -> Ninja<'a> {
        Ninja {
            client,
            auth_url,
            api_url,
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
        let url = format!("{}/ws/oauth/token", self.auth_url);
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id),
                ("client_secret", self.secret),
                ("scope", "monitoring"),
            ])
            .finish();
        let answer: Answer<TokenAnswer> = self
            .client
            .send(&mut self.requests, "signing in to NinjaOne", |c| {
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
                "NinjaOne refused the client's credentials: {e}"
            ))),
        }
    }

    /// One GET of `path` (with its query) under the API address, the token renewed once.
    async fn get<T: DeserializeOwned>(&mut self, path: &str, what: &str) -> Result<T, SyncError> {
        let url = format!("{}{path}", self.api_url);
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
                    return Err(SyncError::Credentials(format!("{what}: {e}")));
                }
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Every item of a list paged by `after`, read until a page comes back empty.
    async fn list<T: DeserializeOwned>(
        &mut self,
        path: &str,
        id: impl Fn(&T) -> i64,
        what: &str,
    ) -> Result<Vec<T>, SyncError> {
        let join = if path.contains('?') { '&' } else { '?' };
        let size = self.client.page_size();
        let mut items: Vec<T> = Vec::new();
        let mut after: Option<i64> = None;
        for _ in 0..MAX_PAGES {
            let page_path = match after {
                Some(a) => format!("{path}{join}pageSize={size}&after={a}"),
                None => format!("{path}{join}pageSize={size}"),
            };
            let page: Vec<T> = self.get(&page_path, what).await?;
            let Some(last) = page.last().map(&id) else {
                return Ok(items);
            };
            if after.is_some_and(|a| last <= a) {
                return Err(SyncError::Vendor(format!("{what}: a page did not move on")));
            }
            let full = page.len() >= size;
            after = Some(last);
            items.extend(page);
            if !full {
                return Ok(items);
            }
        }
        Err(SyncError::Vendor(format!(
            "{what}: more than {MAX_PAGES} pages"
        )))
    }

    /// The organisations the client reaches: the tenants to map to companies.
    pub async fn discover(&mut self) -> Result<Vec<DiscoveredTenant>, SyncError> {
        let organizations: Vec<Organization> = self
            .list(
                "/v2/organizations",
                |o: &Organization| o.id,
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
    pub async fn snapshot(&mut self, organization: &str) -> Result<RmmSnapshot, SyncError> {
        let org: i64 = organization.parse().map_err(|_| {
            SyncError::Vendor(format!("{organization} is not a NinjaOne organisation id"))
        })?;
        let locations: Vec<Location> = self
            .get(
                &format!("/v2/organization/{org}/locations"),
                "reading the locations",
            )
            .await?;
        let location_names: HashMap<i64, String> =
            locations.into_iter().map(|l| (l.id, l.name)).collect();
        let filter = format!("org%3D{org}");
        let mut devices: Vec<Device> = self
            .list(
                &format!("/v2/devices-detailed?df={filter}"),
                |d: &Device| d.id,
                "reading the devices",
            )
            .await?;
        // The filter is the vendor's: a device of another organisation (a proxy or a vendor
        // that ignored it) never reaches this company.
        devices.retain(|d| d.organization_id == Some(org));
        let ours: std::collections::HashSet<i64> = devices.iter().map(|d| d.id).collect();
        let since = portico_store::now() - PATCH_DAYS * 24 * 3600;
        let size = self.client.page_size();
        let mut installs: Vec<PatchInstall> = Vec::new();
        let mut cursor: Option<String> = None;
        for page_number in 0..=MAX_PAGES {
            if page_number == MAX_PAGES {
                return Err(SyncError::Vendor(
                    "reading the patch installations: too many pages".into(),
                ));
            }
            let path = match &cursor {
                Some(c) => format!(
                    "/v2/queries/os-patch-installs?df={filter}&installedAfter={since}&pageSize={size}&cursor={}",
                    url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
                ),
                None => format!(
                    "/v2/queries/os-patch-installs?df={filter}&installedAfter={since}&pageSize={size}"
                ),
            };
            let page: QueryPage<PatchInstall> =
                self.get(&path, "reading the patch installations").await?;
            let full = page.results.len() >= size;
            installs.extend(page.results);
            match page.cursor.and_then(|c| c.name) {
                // The server keeps the cursor on its last page: a short page ends the scan.
                Some(next) if full => cursor = Some(next),
                _ => break,
            }
        }
        // One maintenance record per day (UTC) of patching.
        let mut days: BTreeMap<String, PatchDay> = BTreeMap::new();
        for install in installs {
            let Some(at) = seconds(install.installed_at).or(seconds(install.timestamp)) else {
                continue;
            };
            if at < since || !ours.contains(&install.device_id) {
                continue;
            }
            let installed = install.status.eq_ignore_ascii_case("INSTALLED");
            let failed = install.status.eq_ignore_ascii_case("FAILED");
            if !installed && !failed {
                continue;
            }
            let day = days.entry(day_of(at)).or_insert_with(|| PatchDay {
                day: day_of(at),
                installed: 0,
                failed: 0,
                starts_at: at,
                ends_at: at,
                devices: Vec::new(),
                failures: Vec::new(),
            });
            day.starts_at = day.starts_at.min(at);
            day.ends_at = day.ends_at.max(at);
            day.devices.push(install.device_id.to_string());
            if installed {
                day.installed += 1;
            } else {
                day.failed += 1;
                let label = install
                    .kb_number
                    .filter(|k| !k.is_empty())
                    .unwrap_or(install.name);
                if !day.failures.contains(&label) {
                    day.failures.push(label);
                }
            }
        }
        let devices = devices
            .into_iter()
            .map(|d| {
                let system = d.system.unwrap_or(DeviceSystem {
                    manufacturer: None,
                    model: None,
                    serial_number: None,
                    bios_serial_number: None,
                    chassis_type: None,
                });
                let name = d
                    .display_name
                    .filter(|n| !n.trim().is_empty())
                    .or(d.system_name)
                    .or(d.dns_name)
                    .unwrap_or_else(|| format!("Device {}", d.id));
                DeviceRecord {
                    kind: kind_of(&d.node_class, system.chassis_type.as_deref()),
                    external_id: d.id.to_string(),
                    name,
                    manufacturer: system.manufacturer.unwrap_or_default(),
                    model: system.model.unwrap_or_default(),
                    serial: system
                        .serial_number
                        .filter(|s| !s.trim().is_empty())
                        .or(system.bios_serial_number)
                        .unwrap_or_default(),
                    os: d.os.and_then(|o| o.name).unwrap_or_default(),
                    last_seen_at: seconds(d.last_contact),
                    location: d.location_id.and_then(|l| location_names.get(&l).cloned()),
                }
            })
            .collect();
        Ok(RmmSnapshot {
            devices,
            patch_days: days.into_values().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_classes_become_asset_kinds() {
        assert_eq!(kind_of("WINDOWS_SERVER", None), AssetKind::Server);
        assert_eq!(
            kind_of("WINDOWS_WORKSTATION", Some("Notebook")),
            AssetKind::Laptop
        );
        assert_eq!(
            kind_of("WINDOWS_WORKSTATION", Some("Desktop")),
            AssetKind::Workstation
        );
        assert_eq!(kind_of("MAC", None), AssetKind::Workstation);
        assert_eq!(kind_of("NMS_SWITCH", None), AssetKind::Network);
        assert_eq!(kind_of("SOMETHING_NEW", None), AssetKind::Other);
    }

    #[test]
    fn epoch_doubles_are_seconds_and_days_are_utc() {
        assert_eq!(seconds(Some(1_796_116_743.518)), Some(1_796_116_743));
        assert_eq!(seconds(Some(0.0)), None);
        assert_eq!(day_of(1_795_832_049), "2026-11-28");
    }
}
