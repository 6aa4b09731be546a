//! Records a tool pushes over the REST API for a source Portico has no connector for (I1): a
//! company's Microsoft 365 licences and directory users as the MSP's own scripts read them,
//! and its security alerts. A push of licences or users is the whole list of one tenant: what
//! it names is added or changed, what it no longer names is retired (kept, marked); alerts come
//! as they change, so a push of them adds and changes only. An unchanged push writes nothing,
//! as a connector's run. They are kept under the workspace's pushed connector (made at the first
//! push, never scheduled), so the pages, freshness lines, run history and unmapping treat them
//! as any connector's.

use std::collections::{HashMap, HashSet};

use portico_core::{Action, AuditAction, AuditTarget, CompanyId, ConnectorId};

use super::ScopedTx;
use super::connectors::ConnectorKind;
use super::fence;
use crate::sql::{Q, q};
use crate::{StoreError, now};

/// Products or users one push may name: a tenant larger than this pushes nothing here.
pub const MAX_PUSHED: usize = 20_000;

/// Refused fields named in one answer at most (a list of thousands helps nobody).
const MAX_REFUSALS: usize = 100;

/// Rows one INSERT adds.
const INSERT_BATCH: usize = 200;

/// Refuses with `refusals`, at most [`MAX_REFUSALS`] of them.
pub(crate) fn refused(mut refusals: Vec<(String, String)>) -> Result<(), StoreError> {
    if refusals.is_empty() {
        return Ok(());
    }
    refusals.truncate(MAX_REFUSALS);
    Err(StoreError::InvalidFields(refusals))
}

/// The tenant a record of `company` came from, as its source names it: a pushed tenant is kept
/// under a key holding the company's id ([`ScopedTx::push_licences`]), shown without it.
pub fn tenant_name(company: CompanyId, external_tenant: &str) -> &str {
    external_tenant
        .strip_prefix(company.as_text().as_str())
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(external_tenant)
}

/// What a push changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushOutcome {
    pub seen: i64,
    pub added: i64,
    pub changed: i64,
    pub retired: i64,
}

/// A product as a tool pushes it.
#[derive(Debug, Clone, Default)]
pub struct PushedLicence {
    pub sku_id: String,
    pub sku_part_number: String,
    pub product_name: String,
    /// The vendor's word for its state; `Enabled` when left empty.
    pub capability_status: String,
    pub purchased: i64,
    pub assigned: i64,
    pub suspended: i64,
    pub unused_disabled: i64,
    pub unused_inactive: i64,
    /// `YYYY-MM-DD`.
    pub renews_on: Option<String>,
}

/// A directory user as a tool pushes it.
#[derive(Debug, Clone, Default)]
pub struct PushedUser {
    pub external_id: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: String,
    pub enabled: bool,
    pub licence_skus: Vec<String>,
    pub mfa_registered: Option<bool>,
    pub is_admin: bool,
    pub last_sign_in_at: Option<i64>,
}

/// A security alert as a tool pushes it (P5), in Microsoft Defender's words.
#[derive(Debug, Clone, Default)]
pub struct PushedAlert {
    pub external_id: String,
    pub title: String,
    /// unknown, informational, low, medium or high.
    pub severity: String,
    /// new, inProgress or resolved.
    pub status: String,
    pub service_source: String,
    pub category: String,
    /// What it concerns (a device, a mailbox, a user).
    pub subject: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// When left out of a resolved alert: its last change.
    pub resolved_at: Option<i64>,
}

/// Severities an alert may have, as Defender names them.
pub const ALERT_SEVERITIES: [&str; 5] = ["unknown", "informational", "low", "medium", "high"];

/// States an alert may be in, as Defender names them.
pub const ALERT_STATUSES: [&str; 3] = ["new", "inProgress", "resolved"];

struct StoredAlert {
    external_id: String,
    title: String,
    severity: String,
    status: String,
    service_source: String,
    category: String,
    subject: String,
    created_at: i64,
    updated_at: i64,
    resolved_at: Option<i64>,
}
crate::sql::db_row!(StoredAlert {
    external_id,
    title,
    severity,
    status,
    service_source,
    category,
    subject,
    created_at,
    updated_at,
    resolved_at
});

struct StoredLicence {
    sku_id: String,
    sku_part_number: String,
    product_name: String,
    capability_status: String,
    purchased: i64,
    assigned: i64,
    suspended: i64,
    unused_disabled: i64,
    unused_inactive: i64,
    renews_on: Option<String>,
    retired_at: Option<i64>,
}
crate::sql::db_row!(StoredLicence {
    sku_id,
    sku_part_number,
    product_name,
    capability_status,
    purchased,
    assigned,
    suspended,
    unused_disabled,
    unused_inactive,
    renews_on,
    retired_at
});

struct StoredUser {
    external_id: String,
    display_name: String,
    user_principal_name: String,
    mail: String,
    enabled: bool,
    licence_skus: String,
    mfa_registered: Option<bool>,
    is_admin: bool,
    last_sign_in_at: Option<i64>,
    retired_at: Option<i64>,
}
crate::sql::db_row!(StoredUser {
    external_id,
    display_name,
    user_principal_name,
    mail,
    enabled,
    licence_skus,
    mfa_registered,
    is_admin,
    last_sign_in_at,
    retired_at
});

/// Text a push names something by: one line, not empty, at most `max` characters.
pub(crate) fn refuse_text(
    refusals: &mut Vec<(String, String)>,
    field: String,
    text: &str,
    max: usize,
    required: bool,
) {
    let text = text.trim();
    if (required && text.is_empty())
        || text.chars().count() > max
        || text.chars().any(char::is_control)
    {
        refusals.push((
            field,
            format!(
                "{}one line of at most {max} characters.",
                if required { "Required: " } else { "At most " }
            ),
        ));
    }
}

fn check_tenant(tenant: &str) -> Result<(), StoreError> {
    let mut refusals = Vec::new();
    refuse_text(&mut refusals, "tenant".into(), tenant, 200, true);
    refused(refusals)
}

/// A product's id: the users' lists name products by it, separated by spaces when stored.
fn refuse_sku(refusals: &mut Vec<(String, String)>, field: String, sku: &str) {
    if sku.trim().is_empty() || sku.len() > 100 || sku.contains(char::is_whitespace) {
        refusals.push((
            field,
            "A product's id: 1 to 100 characters, no spaces.".into(),
        ));
    }
}

fn check_licences(licences: &[PushedLicence]) -> Result<(), StoreError> {
    let mut refusals = Vec::new();
    if licences.len() > MAX_PUSHED {
        refusals.push((
            "licences".into(),
            format!("Push at most {MAX_PUSHED} products at once."),
        ));
    }
    let mut ids = HashSet::new();
    for (i, l) in licences.iter().enumerate().take(MAX_PUSHED) {
        let at = |field: &str| format!("licences[{i}].{field}");
        refuse_sku(&mut refusals, at("sku_id"), &l.sku_id);
        if !ids.insert(l.sku_id.trim()) {
            refusals.push((at("sku_id"), "Each product once.".into()));
        }
        refuse_text(
            &mut refusals,
            at("sku_part_number"),
            &l.sku_part_number,
            100,
            true,
        );
        refuse_text(
            &mut refusals,
            at("product_name"),
            &l.product_name,
            200,
            true,
        );
        refuse_text(
            &mut refusals,
            at("capability_status"),
            &l.capability_status,
            40,
            false,
        );
        for (field, value) in [
            ("purchased", l.purchased),
            ("assigned", l.assigned),
            ("suspended", l.suspended),
            ("unused_disabled", l.unused_disabled),
            ("unused_inactive", l.unused_inactive),
        ] {
            if !(0..=10_000_000).contains(&value) {
                refusals.push((at(field), "A count from 0 to 10,000,000.".into()));
            }
        }
        if let Some(date) = &l.renews_on
            && portico_core::parse_date(date).is_none()
        {
            refusals.push((at("renews_on"), "A date as YYYY-MM-DD.".into()));
        }
    }
    refused(refusals)
}

fn check_users(users: &[PushedUser]) -> Result<(), StoreError> {
    let mut refusals = Vec::new();
    if users.len() > MAX_PUSHED {
        refusals.push((
            "users".into(),
            format!("Push at most {MAX_PUSHED} users at once."),
        ));
    }
    let mut ids = HashSet::new();
    for (i, u) in users.iter().enumerate().take(MAX_PUSHED) {
        let at = |field: &str| format!("users[{i}].{field}");
        refuse_text(&mut refusals, at("id"), &u.external_id, 100, true);
        if !ids.insert(u.external_id.trim()) {
            refusals.push((at("id"), "Each user once.".into()));
        }
        refuse_text(
            &mut refusals,
            at("display_name"),
            &u.display_name,
            200,
            true,
        );
        refuse_text(
            &mut refusals,
            at("user_principal_name"),
            &u.user_principal_name,
            320,
            true,
        );
        refuse_text(&mut refusals, at("mail"), &u.mail, 320, false);
        if u.licence_skus.len() > 100 {
            refusals.push((at("licence_sku_ids"), "At most 100 products a user.".into()));
        }
        if let Some(sku) = u.licence_skus.iter().find(|sku| {
            sku.trim().is_empty() || sku.len() > 100 || sku.contains(char::is_whitespace)
        }) {
            refuse_sku(&mut refusals, at("licence_sku_ids"), sku);
        }
    }
    refused(refusals)
}

/// Refuses alerts a push may not name, each field with its reason (the push itself checks
/// again; the API's edge asks first, to answer its own refusals with these at once).
pub fn check_alerts(alerts: &[PushedAlert]) -> Result<(), StoreError> {
    let mut refusals = Vec::new();
    if alerts.len() > MAX_PUSHED {
        refusals.push((
            "alerts".into(),
            format!("Push at most {MAX_PUSHED} alerts at once."),
        ));
    }
    let mut ids = HashSet::new();
    for (i, a) in alerts.iter().enumerate().take(MAX_PUSHED) {
        let at = |field: &str| format!("alerts[{i}].{field}");
        refuse_text(&mut refusals, at("id"), &a.external_id, 200, true);
        if !ids.insert(a.external_id.trim()) {
            refusals.push((at("id"), "Each alert once.".into()));
        }
        refuse_text(&mut refusals, at("title"), &a.title, 500, true);
        refuse_text(
            &mut refusals,
            at("service_source"),
            &a.service_source,
            100,
            false,
        );
        refuse_text(&mut refusals, at("category"), &a.category, 100, false);
        refuse_text(&mut refusals, at("subject"), &a.subject, 300, false);
        if !ALERT_SEVERITIES.contains(&a.severity.as_str()) {
            refusals.push((
                at("severity"),
                format!("One of {}.", ALERT_SEVERITIES.join(", ")),
            ));
        }
        if !ALERT_STATUSES.contains(&a.status.as_str()) {
            refusals.push((
                at("status"),
                format!("One of {}.", ALERT_STATUSES.join(", ")),
            ));
        }
        if a.updated_at < a.created_at {
            refusals.push((
                at("updated_at"),
                "An alert changes after it is raised: not before `created_at`.".into(),
            ));
        }
        if a.resolved_at.is_some_and(|r| r < a.created_at) {
            refusals.push((
                at("resolved_at"),
                "An alert is resolved after it is raised: not before `created_at`.".into(),
            ));
        }
    }
    refused(refusals)
}

impl ScopedTx<'_> {
    /// Adds or changes the security alerts tenant `tenant` feeds `company` as `alerts` name
    /// them, as a connector's incremental read does: alerts are reported as they change, so
    /// those not named are left as they are (a tool resolves an alert by pushing it resolved).
    /// A repeat changes nothing.
    pub async fn push_security_alerts(
        &mut self,
        company: CompanyId,
        tenant: &str,
        alerts: &[PushedAlert],
    ) -> Result<PushOutcome, StoreError> {
        // Records of a company, as licences pushed over the API.
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        check_tenant(tenant)?;
        check_alerts(alerts)?;
        let (connector, key) = self.pushed_tenant(company, tenant.trim()).await?;
        let tenant = key.as_str();
        let mut stored: HashMap<String, StoredAlert> = HashMap::new();
        let ids: Vec<String> = alerts
            .iter()
            .map(|a| a.external_id.trim().to_owned())
            .collect();
        for chunk in ids.chunks(INSERT_BATCH) {
            let mut query = self.select(
                "s.external_id, s.title, s.severity, s.status, s.service_source, s.category, \
                 s.subject, s.created_at, s.updated_at, s.resolved_at",
                &fence::SECURITY_ALERTS,
                "s",
            );
            query
                .sql(" AND s.company_id = ")
                .arg(company)
                .sql(" AND s.external_tenant = ")
                .arg(tenant)
                .sql(" AND ");
            query.in_list("s.external_id", chunk);
            let rows: Vec<StoredAlert> = self.tx.all(query).await?;
            stored.extend(rows.into_iter().map(|s| (s.external_id.clone(), s)));
        }
        let at = now();
        let mut outcome = PushOutcome {
            seen: alerts.len() as i64,
            ..PushOutcome::default()
        };
        let mut fresh = Vec::new();
        for a in alerts {
            let id = a.external_id.trim();
            let resolved_at = match a.status.as_str() {
                "resolved" => Some(a.resolved_at.unwrap_or(a.updated_at)),
                _ => None,
            };
            let Some(s) = stored.get(id) else {
                fresh.push((a, resolved_at));
                continue;
            };
            let same = s.title == a.title.trim()
                && s.severity == a.severity
                && s.status == a.status
                && s.service_source == a.service_source.trim()
                && s.category == a.category.trim()
                && s.subject == a.subject.trim()
                && s.created_at == a.created_at
                && s.updated_at == a.updated_at
                && s.resolved_at == resolved_at;
            if same {
                continue;
            }
            outcome.changed += 1;
            let mut update = self.update(&fence::SECURITY_ALERTS, |set| {
                set.sql("title = ")
                    .arg(a.title.trim())
                    .sql(", severity = ")
                    .arg(a.severity.as_str())
                    .sql(", status = ")
                    .arg(a.status.as_str())
                    .sql(", service_source = ")
                    .arg(a.service_source.trim())
                    .sql(", category = ")
                    .arg(a.category.trim())
                    .sql(", subject = ")
                    .arg(a.subject.trim())
                    .sql(", created_at = ")
                    .arg(a.created_at)
                    .sql(", updated_at = ")
                    .arg(a.updated_at)
                    .sql(", resolved_at = ")
                    .arg(resolved_at)
                    .sql(", synced_at = ")
                    .arg(at);
            });
            update
                .sql(" AND company_id = ")
                .arg(company)
                .sql(" AND external_tenant = ")
                .arg(tenant)
                .sql(" AND external_id = ")
                .arg(id);
            self.tx.exec(update).await?;
        }
        outcome.added = fresh.len() as i64;
        for chunk in fresh.chunks(INSERT_BATCH) {
            let mut insert = Q::new(
                "INSERT INTO security_alerts (workspace_id, company_id, connector_id, external_tenant, \
                 external_id, title, severity, status, service_source, category, subject, \
                 created_at, updated_at, resolved_at, synced_at) VALUES ",
            );
            for (i, (a, resolved_at)) in chunk.iter().enumerate() {
                insert
                    .sql(if i == 0 { "(" } else { ", (" })
                    .arg(self.scope.workspace())
                    .sql(", ")
                    .arg(company)
                    .sql(", ")
                    .arg(connector)
                    .sql(", ")
                    .arg(tenant)
                    .sql(", ")
                    .arg(a.external_id.trim())
                    .sql(", ")
                    .arg(a.title.trim())
                    .sql(", ")
                    .arg(a.severity.as_str())
                    .sql(", ")
                    .arg(a.status.as_str())
                    .sql(", ")
                    .arg(a.service_source.trim())
                    .sql(", ")
                    .arg(a.category.trim())
                    .sql(", ")
                    .arg(a.subject.trim())
                    .sql(", ")
                    .arg(a.created_at)
                    .sql(", ")
                    .arg(a.updated_at)
                    .sql(", ")
                    .arg(*resolved_at)
                    .sql(", ")
                    .arg(at)
                    .sql(")");
            }
            self.tx.exec(insert).await?;
        }
        self.pushed(connector, company, tenant, "Security alerts", outcome)
            .await?;
        Ok(outcome)
    }

    /// Replaces the licences tenant `tenant` feeds `company` with `licences`: new products added,
    /// changed ones changed, products no longer named retired.
    pub async fn push_licences(
        &mut self,
        company: CompanyId,
        tenant: &str,
        licences: &[PushedLicence],
    ) -> Result<PushOutcome, StoreError> {
        // Records of a company, as an asset pushed over the API: a token may, though it never
        // manages connectors (their credentials); the pushed connector has none.
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        check_tenant(tenant)?;
        check_licences(licences)?;
        let (connector, key) = self.pushed_tenant(company, tenant.trim()).await?;
        let tenant = key.as_str();
        let mut query = self.select(
            "l.sku_id, l.sku_part_number, l.product_name, l.capability_status, l.purchased, \
             l.assigned, l.suspended, l.unused_disabled, l.unused_inactive, l.renews_on, l.retired_at",
            &fence::LICENCES,
            "l",
        );
        query
            .sql(" AND l.company_id = ")
            .arg(company)
            .sql(" AND l.connector_id = ")
            .arg(connector)
            .sql(" AND l.external_tenant = ")
            .arg(tenant);
        let stored: Vec<StoredLicence> = self.tx.all(query).await?;
        let stored: HashMap<String, StoredLicence> =
            stored.into_iter().map(|s| (s.sku_id.clone(), s)).collect();
        let at = now();
        let mut outcome = PushOutcome {
            seen: licences.len() as i64,
            ..PushOutcome::default()
        };
        let mut named = HashSet::new();
        let mut fresh = Vec::new();
        for l in licences {
            let sku_id = l.sku_id.trim();
            named.insert(sku_id);
            let status = match l.capability_status.trim() {
                "" => "Enabled",
                given => given,
            };
            let renews_on = l.renews_on.as_deref().and_then(portico_core::parse_date);
            match stored.get(sku_id) {
                None => fresh.push((l, status, renews_on)),
                Some(s) => {
                    let same = s.sku_part_number == l.sku_part_number.trim()
                        && s.product_name == l.product_name.trim()
                        && s.capability_status == status
                        && s.purchased == l.purchased
                        && s.assigned == l.assigned
                        && s.suspended == l.suspended
                        && s.unused_disabled == l.unused_disabled
                        && s.unused_inactive == l.unused_inactive
                        && s.renews_on == renews_on
                        && s.retired_at.is_none();
                    if same {
                        continue;
                    }
                    outcome.changed += 1;
                    let mut update = self.update(&fence::LICENCES, |set| {
                        set.sql("sku_part_number = ")
                            .arg(l.sku_part_number.trim())
                            .sql(", product_name = ")
                            .arg(l.product_name.trim())
                            .sql(", capability_status = ")
                            .arg(status)
                            .sql(", purchased = ")
                            .arg(l.purchased)
                            .sql(", assigned = ")
                            .arg(l.assigned)
                            .sql(", suspended = ")
                            .arg(l.suspended)
                            .sql(", unused_disabled = ")
                            .arg(l.unused_disabled)
                            .sql(", unused_inactive = ")
                            .arg(l.unused_inactive)
                            .sql(", renews_on = ")
                            .arg(renews_on.clone())
                            .sql(", retired_at = NULL, synced_at = ")
                            .arg(at);
                    });
                    update
                        .sql(" AND company_id = ")
                        .arg(company)
                        .sql(" AND external_tenant = ")
                        .arg(tenant)
                        .sql(" AND sku_id = ")
                        .arg(sku_id);
                    self.tx.exec(update).await?;
                }
            }
        }
        outcome.added = fresh.len() as i64;
        for chunk in fresh.chunks(INSERT_BATCH) {
            let mut insert = Q::new(
                "INSERT INTO licences (workspace_id, company_id, connector_id, external_tenant, sku_id, \
                 sku_part_number, product_name, capability_status, purchased, assigned, suspended, \
                 unused_disabled, unused_inactive, renews_on, synced_at) VALUES ",
            );
            for (i, (l, status, renews_on)) in chunk.iter().enumerate() {
                insert
                    .sql(if i == 0 { "(" } else { ", (" })
                    .arg(self.scope.workspace())
                    .sql(", ")
                    .arg(company)
                    .sql(", ")
                    .arg(connector)
                    .sql(", ")
                    .arg(tenant)
                    .sql(", ")
                    .arg(l.sku_id.trim())
                    .sql(", ")
                    .arg(l.sku_part_number.trim())
                    .sql(", ")
                    .arg(l.product_name.trim())
                    .sql(", ")
                    .arg(*status)
                    .sql(", ")
                    .arg(l.purchased)
                    .sql(", ")
                    .arg(l.assigned)
                    .sql(", ")
                    .arg(l.suspended)
                    .sql(", ")
                    .arg(l.unused_disabled)
                    .sql(", ")
                    .arg(l.unused_inactive)
                    .sql(", ")
                    .arg(renews_on.clone())
                    .sql(", ")
                    .arg(at)
                    .sql(")");
            }
            self.tx.exec(insert).await?;
        }
        let gone = stored
            .iter()
            .filter(|(sku_id, s)| s.retired_at.is_none() && !named.contains(sku_id.as_str()))
            .map(|(sku_id, _)| sku_id.as_str())
            .collect();
        outcome.retired = self
            .retire(&fence::LICENCES, "sku_id", company, tenant, gone, at)
            .await?;
        self.pushed(connector, company, tenant, "Licences", outcome)
            .await?;
        Ok(outcome)
    }

    /// Replaces the directory users tenant `tenant` feeds `company` with `users`, as
    /// [`ScopedTx::push_licences`] does its products.
    pub async fn push_directory_users(
        &mut self,
        company: CompanyId,
        tenant: &str,
        users: &[PushedUser],
    ) -> Result<PushOutcome, StoreError> {
        // Records of a company, as an asset pushed over the API: a token may, though it never
        // manages connectors (their credentials); the pushed connector has none.
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        check_tenant(tenant)?;
        check_users(users)?;
        let (connector, key) = self.pushed_tenant(company, tenant.trim()).await?;
        let tenant = key.as_str();
        let mut query = self.select(
            "u.external_id, u.display_name, u.user_principal_name, u.mail, u.enabled, u.licence_skus, \
             u.mfa_registered, u.is_admin, u.last_sign_in_at, u.retired_at",
            &fence::DIRECTORY_USERS,
            "u",
        );
        query
            .sql(" AND u.company_id = ")
            .arg(company)
            .sql(" AND u.connector_id = ")
            .arg(connector)
            .sql(" AND u.external_tenant = ")
            .arg(tenant);
        let stored: Vec<StoredUser> = self.tx.all(query).await?;
        let stored: HashMap<String, StoredUser> = stored
            .into_iter()
            .map(|s| (s.external_id.clone(), s))
            .collect();
        let at = now();
        let mut outcome = PushOutcome {
            seen: users.len() as i64,
            ..PushOutcome::default()
        };
        let mut named = HashSet::new();
        let mut fresh = Vec::new();
        for u in users {
            let id = u.external_id.trim();
            named.insert(id);
            let skus = u
                .licence_skus
                .iter()
                .map(|s| s.trim())
                .collect::<Vec<_>>()
                .join(" ");
            match stored.get(id) {
                None => fresh.push((u, skus)),
                Some(s) => {
                    let same = s.display_name == u.display_name.trim()
                        && s.user_principal_name == u.user_principal_name.trim()
                        && s.mail == u.mail.trim()
                        && s.enabled == u.enabled
                        && s.licence_skus == skus
                        && s.mfa_registered == u.mfa_registered
                        && s.is_admin == u.is_admin
                        && s.last_sign_in_at == u.last_sign_in_at
                        && s.retired_at.is_none();
                    if same {
                        continue;
                    }
                    outcome.changed += 1;
                    let mut update = self.update(&fence::DIRECTORY_USERS, |set| {
                        set.sql("display_name = ")
                            .arg(u.display_name.trim())
                            .sql(", user_principal_name = ")
                            .arg(u.user_principal_name.trim())
                            .sql(", mail = ")
                            .arg(u.mail.trim())
                            .sql(", enabled = ")
                            .arg(u.enabled)
                            .sql(", licence_skus = ")
                            .arg(&skus)
                            .sql(", mfa_registered = ")
                            .arg(u.mfa_registered)
                            .sql(", is_admin = ")
                            .arg(u.is_admin)
                            .sql(", last_sign_in_at = ")
                            .arg(u.last_sign_in_at)
                            .sql(", retired_at = NULL, synced_at = ")
                            .arg(at);
                    });
                    update
                        .sql(" AND company_id = ")
                        .arg(company)
                        .sql(" AND external_tenant = ")
                        .arg(tenant)
                        .sql(" AND external_id = ")
                        .arg(id);
                    self.tx.exec(update).await?;
                }
            }
        }
        outcome.added = fresh.len() as i64;
        for chunk in fresh.chunks(INSERT_BATCH) {
            let mut insert = Q::new(
                "INSERT INTO directory_users (workspace_id, company_id, connector_id, external_tenant, \
                 external_id, display_name, user_principal_name, mail, enabled, licence_skus, \
                 mfa_registered, is_admin, last_sign_in_at, synced_at) VALUES ",
            );
            for (i, (u, skus)) in chunk.iter().enumerate() {
                insert
                    .sql(if i == 0 { "(" } else { ", (" })
                    .arg(self.scope.workspace())
                    .sql(", ")
                    .arg(company)
                    .sql(", ")
                    .arg(connector)
                    .sql(", ")
                    .arg(tenant)
                    .sql(", ")
                    .arg(u.external_id.trim())
                    .sql(", ")
                    .arg(u.display_name.trim())
                    .sql(", ")
                    .arg(u.user_principal_name.trim())
                    .sql(", ")
                    .arg(u.mail.trim())
                    .sql(", ")
                    .arg(u.enabled)
                    .sql(", ")
                    .arg(skus.as_str())
                    .sql(", ")
                    .arg(u.mfa_registered)
                    .sql(", ")
                    .arg(u.is_admin)
                    .sql(", ")
                    .arg(u.last_sign_in_at)
                    .sql(", ")
                    .arg(at)
                    .sql(")");
            }
            self.tx.exec(insert).await?;
        }
        let gone = stored
            .iter()
            .filter(|(id, s)| s.retired_at.is_none() && !named.contains(id.as_str()))
            .map(|(id, _)| id.as_str())
            .collect();
        outcome.retired = self
            .retire(
                &fence::DIRECTORY_USERS,
                "external_id",
                company,
                tenant,
                gone,
                at,
            )
            .await?;
        // The directory page's counts, kept with the tenant as a run keeps them.
        let without_mfa = users
            .iter()
            .filter(|u| u.enabled && u.mfa_registered == Some(false))
            .count() as i64;
        let mut counts = self.update(&fence::CONNECTOR_TENANTS, |set| {
            set.sql("users_total = ")
                .arg(users.len() as i64)
                .sql(", users_without_mfa = ")
                .arg(without_mfa);
        });
        counts
            .sql(" AND connector_id = ")
            .arg(connector)
            .sql(" AND external_id = ")
            .arg(tenant);
        self.tx.exec(counts).await?;
        self.pushed(connector, company, tenant, "Users", outcome)
            .await?;
        Ok(outcome)
    }

    /// Marks retired (kept, never deleted) the rows of `tenant` in `table` whose `key` is one
    /// of `gone`, in the keys' order, so that concurrent writers meet the rows in one order.
    async fn retire(
        &mut self,
        table: &fence::Tenant,
        key: &str,
        company: CompanyId,
        tenant: &str,
        mut gone: Vec<&str>,
        at: i64,
    ) -> Result<i64, StoreError> {
        gone.sort_unstable();
        for id in &gone {
            let mut retire = self.update(table, |set| {
                set.sql("retired_at = ").arg(at);
            });
            retire
                .sql(" AND company_id = ")
                .arg(company)
                .sql(" AND external_tenant = ")
                .arg(tenant)
                .sql(" AND ")
                .sql(key)
                .sql(" = ")
                .arg(*id);
            self.tx.exec(retire).await?;
        }
        Ok(gone.len() as i64)
    }

    /// The workspace's pushed connector and the key of tenant `tenant` under it, mapped to
    /// `company`: both made at the first push. The key holds the company's id, so that no
    /// company's push can run into (or learn of) another's tenant of the same name. A company
    /// another Microsoft 365 tenant feeds is refused (two would double its licences), as is a
    /// tenant an owner unmapped or moved. The tenant's row stays locked to the end of the push,
    /// so that two pushes of one tenant take turns.
    async fn pushed_tenant(
        &mut self,
        company: CompanyId,
        tenant: &str,
    ) -> Result<(ConnectorId, String), StoreError> {
        let kind = ConnectorKind::Microsoft365;
        let connector = match self.pushed_connector().await? {
            Some(id) => id,
            None => {
                let id = ConnectorId::new();
                // Switched off: no worker claims it and no portal offers Refresh; nothing of it
                // is read from a vendor, so it has no addresses or credentials. Two first pushes
                // at once make one (the unique index on the workspace's pushed connector).
                let made = self
                    .tx
                    .exec(q!(
                        "INSERT INTO connectors (id, workspace_id, kind, name, auth_url, api_url, home_tenant, \
                         client_id, secret_sealed, secret_hint, enabled, pushed, created_at) \
                         VALUES ($1, $2, $3, $4, '', '', '', '', '', '', false, true, $5) ON CONFLICT DO NOTHING",
                        id,
                        self.scope.workspace(),
                        kind.as_str(),
                        "Pushed over the REST API",
                        now()
                    ))
                    .await?;
                if made == 1 {
                    self.audit(
                        AuditAction::SettingsChanged,
                        None,
                        AuditTarget::new("connector", id, "Pushed over the REST API"),
                        "connector for records pushed over the REST API added at the first push",
                    )
                    .await?;
                }
                self.pushed_connector().await?.ok_or(StoreError::NotFound)?
            }
        };
        let key = format!("{company}/{tenant}");
        let moved = || {
            StoreError::InvalidFields(vec![(
                "tenant".into(),
                "This tenant was unmapped or moved to another company on the connector's page \
                 (Settings › Connectors): an owner can map it back."
                    .into(),
            )])
        };
        let mut query = self.select("t.company_id", &fence::CONNECTOR_TENANTS, "t");
        query
            .sql(" AND t.connector_id = ")
            .arg(connector)
            .sql(" AND t.external_id = ")
            .arg(key.as_str());
        let mapped: Option<(Option<String>,)> = self.tx.optional(query).await?;
        match mapped {
            Some((Some(to),)) if to == company.as_text() => {}
            Some(_) => return Err(moved()),
            None => {
                let mut taken = self.select("t.name", &fence::CONNECTOR_TENANTS, "t");
                taken
                    .sql(" AND t.kind = ")
                    .arg(kind.as_str())
                    .sql(" AND t.company_id = ")
                    .arg(company);
                let taken: Option<(String,)> = self.tx.optional(taken).await?;
                if let Some((other,)) = taken {
                    return Err(StoreError::InvalidFields(vec![(
                        "tenant".into(),
                        format!(
                            "The company is already fed by the {} tenant {other}.",
                            kind.label()
                        ),
                    )]));
                }
                // Nothing made when a row of the key exists out of sight (unmapped, or moved to
                // a company this caller does not reach), or another tenant came to feed the
                // company meanwhile (one tenant per company and vendor, an index).
                let made = self
                    .tx
                    .exec(q!(
                        "INSERT INTO connector_tenants (workspace_id, connector_id, kind, connector_enabled, \
                         external_id, name, company_id, next_sync_at, seen_at) \
                         VALUES ($1, $2, $3, false, $4, $5, $6, 0, $7) ON CONFLICT DO NOTHING",
                        self.scope.workspace(),
                        connector,
                        kind.as_str(),
                        key.as_str(),
                        tenant,
                        company,
                        now()
                    ))
                    .await?;
                if made == 0 {
                    return Err(moved());
                }
            }
        }
        let mut lock = self.update(&fence::CONNECTOR_TENANTS, |set| {
            set.sql("seen_at = ").arg(now());
        });
        lock.sql(" AND connector_id = ")
            .arg(connector)
            .sql(" AND external_id = ")
            .arg(key.as_str())
            .sql(" AND company_id = ")
            .arg(company);
        if self.tx.exec(lock).await? != 1 {
            return Err(moved());
        }
        Ok((connector, key))
    }

    /// The workspace's pushed connector, if a push made it.
    async fn pushed_connector(&mut self) -> Result<Option<ConnectorId>, StoreError> {
        let mut query = self.select("c.id", &fence::CONNECTORS, "c");
        query.sql(" AND c.pushed");
        let found: Option<(String,)> = self.tx.optional(query).await?;
        Ok(found.map(|(id,)| ConnectorId::from_stored(&id)))
    }

    /// Records a push as its connector's run: the tenant's last success, the history and the
    /// audit log.
    async fn pushed(
        &mut self,
        connector: ConnectorId,
        company: CompanyId,
        tenant: &str,
        what: &str,
        outcome: PushOutcome,
    ) -> Result<(), StoreError> {
        let at = now();
        let summary = format!(
            "{what} pushed: {} named; {} added, {} changed, {} retired",
            outcome.seen, outcome.added, outcome.changed, outcome.retired
        );
        let mut tenant_row = self.update(&fence::CONNECTOR_TENANTS, |set| {
            set.sql("last_attempt_at = ")
                .arg(at)
                .sql(", last_success_at = ")
                .arg(at)
                .sql(", last_error = '', failures = 0, last_counts = ")
                .arg(&summary)
                .sql(", seen_at = ")
                .arg(at);
        });
        tenant_row
            .sql(" AND connector_id = ")
            .arg(connector)
            .sql(" AND external_id = ")
            .arg(tenant);
        self.tx.exec(tenant_row).await?;
        self.tx
            .exec(q!(
                "INSERT INTO connector_runs (id, workspace_id, connector_id, external_id, company_id, \
                 started_by, started_at, finished_at, succeeded, error, requests, seen, added, changed, \
                 retired) VALUES ($1, $2, $3, $4, $5, 'api', $6, $6, true, '', 1, $7, $8, $9, $10)",
                format!("run_{}", portico_core::MessageId::new()),
                self.scope.workspace(),
                connector,
                tenant,
                company,
                at,
                outcome.seen,
                outcome.added,
                outcome.changed,
                outcome.retired
            ))
            .await?;
        self.audit(
            AuditAction::ConnectorSynced,
            Some(company),
            AuditTarget::new("connector_tenant", tenant, tenant_name(company, tenant)),
            &format!("Pushed over the REST API: {summary}"),
        )
        .await
    }
}
