//! Connectors (I2), the workspace's side: owners configure a vendor account (its credentials
//! sealed, never shown again), map the vendor's tenants to companies, ask for a sync and read
//! each tenant's runs. Readers of a section a connector feeds see when its records were last
//! read and may ask for a refresh of their company, throttled. The sync itself is system work:
//! [`crate::connector_sync`].

use portico_core::{
    Action, AuditAction, AuditTarget, CompanyId, ConnectorId, Section, TicketStatus,
};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// The vendors a connector may speak to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    /// Microsoft 365 through Microsoft Graph: licences and directory users.
    Microsoft365,
    /// NinjaOne's RMM: devices into Assets, patch activity into Maintenance.
    NinjaOne,
    /// Huntress's managed EDR and ITDR: agents (coverage), identities and incident reports into
    /// Security.
    Huntress,
    /// Acronis Cyber Protect Cloud: each protection plan's backups of each machine or Microsoft
    /// 365 resource into Backup.
    Acronis,
    /// HaloPSA, two ways: tickets raised in Portico are created there, public replies cross
    /// both ways and status changes follow (the PSA's internal notes never come out).
    HaloPsa,
    /// Xero, the MSP's accounting: the invoices it issued each customer (a contact mapped to a
    /// company), with their PDFs, into Invoices.
    Xero,
}

impl ConnectorKind {
    pub const ALL: &'static [ConnectorKind] = &[
        ConnectorKind::Microsoft365,
        ConnectorKind::NinjaOne,
        ConnectorKind::Huntress,
        ConnectorKind::Acronis,
        ConnectorKind::HaloPsa,
        ConnectorKind::Xero,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorKind::Microsoft365 => "microsoft365",
            ConnectorKind::NinjaOne => "ninjaone",
            ConnectorKind::Huntress => "huntress",
            ConnectorKind::Acronis => "acronis",
            ConnectorKind::HaloPsa => "halopsa",
            ConnectorKind::Xero => "xero",
        }
    }

    pub fn parse(text: &str) -> Option<ConnectorKind> {
        Self::ALL.iter().copied().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ConnectorKind::Microsoft365 => "Microsoft 365",
            ConnectorKind::NinjaOne => "NinjaOne",
            ConnectorKind::Huntress => "Huntress",
            ConnectorKind::Acronis => "Acronis",
            ConnectorKind::HaloPsa => "HaloPSA",
            ConnectorKind::Xero => "Xero",
        }
    }

    /// The vendor's sign-in and API addresses, unless the MSP points them at a proxy.
    pub fn default_urls(self) -> (&'static str, &'static str) {
        match self {
            ConnectorKind::Microsoft365 => (
                "https://login.microsoftonline.com",
                "https://graph.microsoft.com",
            ),
            // One address for both; eu., ca. and oc. for the other regions.
            ConnectorKind::NinjaOne => ("https://app.ninjarmm.com", "https://app.ninjarmm.com"),
            // An API key and secret sent with every request: no separate sign-in.
            ConnectorKind::Huntress => ("https://api.huntress.io", "https://api.huntress.io"),
            // The partner account's data centre (eu2-cloud., us5-cloud., …) for both: its token
            // endpoint and its APIs share the address.
            ConnectorKind::Acronis => (
                "https://eu2-cloud.acronis.com",
                "https://eu2-cloud.acronis.com",
            ),
            // Every MSP has its own instance (https://<name>.halopsa.com/auth and …/api):
            // nothing to suggest.
            ConnectorKind::HaloPsa => ("", ""),
            // A custom connection's token, then the Accounting API.
            ConnectorKind::Xero => ("https://identity.xero.com", "https://api.xero.com"),
        }
    }

    /// The portal sections its records appear in.
    pub fn feeds(self) -> &'static [Section] {
        match self {
            // Defender's alerts, with the licences and users.
            ConnectorKind::Microsoft365 => &[Section::Licences, Section::Users, Section::Security],
            ConnectorKind::NinjaOne => &[Section::Assets, Section::Maintenance],
            ConnectorKind::Huntress => &[Section::Security],
            ConnectorKind::Acronis => &[Section::Backup],
            ConnectorKind::HaloPsa => &[Section::Tickets],
            ConnectorKind::Xero => &[Section::Invoices],
        }
    }
}

/// The kinds of connector feeding a section.
pub fn kinds_feeding(section: Section) -> Vec<ConnectorKind> {
    ConnectorKind::ALL
        .iter()
        .copied()
        .filter(|k| k.feeds().contains(&section))
        .collect()
}

/// A connector as the owners' pages show it (never its secret).
#[derive(Debug, Clone)]
pub struct Connector {
    pub id: ConnectorId,
    pub kind: ConnectorKind,
    pub name: String,
    pub auth_url: String,
    pub api_url: String,
    pub home_tenant: String,
    pub client_id: String,
    pub secret_hint: String,
    pub sync_every_minutes: i64,
    pub inactive_after_days: i64,
    pub enabled: bool,
    /// Fed by pushes over the REST API, never read from a vendor: nothing to configure or sync.
    pub pushed: bool,
    pub discover_requested_at: Option<i64>,
    pub discovered_at: Option<i64>,
    pub discovery_error: String,
    pub created_at: i64,
    pub tenants: i64,
    pub mapped: i64,
    pub failing: i64,
}

struct ConnectorRow {
    id: String,
    kind: String,
    name: String,
    auth_url: String,
    api_url: String,
    home_tenant: String,
    client_id: String,
    secret_hint: String,
    sync_every_minutes: i64,
    inactive_after_days: i64,
    enabled: bool,
    pushed: bool,
    discover_requested_at: Option<i64>,
    discovered_at: Option<i64>,
    discovery_error: String,
    created_at: i64,
    tenants: i64,
    mapped: i64,
    failing: i64,
}
crate::sql::db_row!(ConnectorRow {
    id,
    kind,
    name,
    auth_url,
    api_url,
    home_tenant,
    client_id,
    secret_hint,
    sync_every_minutes,
    inactive_after_days,
    enabled,
    pushed,
    discover_requested_at,
    discovered_at,
    discovery_error,
    created_at,
    tenants,
    mapped,
    failing
});

impl ConnectorRow {
    fn into_connector(self) -> Result<Connector, StoreError> {
        Ok(Connector {
            id: ConnectorId::from_stored(&self.id),
            kind: ConnectorKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("connector kind {}", self.kind)))?,
            name: self.name,
            auth_url: self.auth_url,
            api_url: self.api_url,
            home_tenant: self.home_tenant,
            client_id: self.client_id,
            secret_hint: self.secret_hint,
            sync_every_minutes: self.sync_every_minutes,
            inactive_after_days: self.inactive_after_days,
            enabled: self.enabled,
            pushed: self.pushed,
            discover_requested_at: self.discover_requested_at,
            discovered_at: self.discovered_at,
            discovery_error: self.discovery_error,
            created_at: self.created_at,
            tenants: self.tenants,
            mapped: self.mapped,
            failing: self.failing,
        })
    }
}

/// A connector's settings as an owner typed them. An empty `secret` keeps the stored one.
#[derive(Clone, Default)]
pub struct ConnectorSettings {
    pub name: String,
    pub auth_url: String,
    pub api_url: String,
    pub home_tenant: String,
    pub client_id: String,
    pub secret: String,
    pub sync_every_minutes: String,
    pub inactive_after_days: String,
}

impl std::fmt::Debug for ConnectorSettings {
    // The secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorSettings")
            .field("name", &self.name)
            .field("auth_url", &self.auth_url)
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The context a connector's secret is sealed for: its workspace and connector.
pub(crate) fn secret_context(workspace: &str, connector: &str) -> String {
    format!("connector:{workspace}:{connector}")
}

/// Sync intervals an owner may choose between, in minutes.
pub const SYNC_EVERY_MIN: i64 = 15;
pub const SYNC_EVERY_MAX: i64 = 24 * 60;
/// How often one company may ask for a refresh of its connector-fed records.
pub const REFRESH_EVERY_SECS: i64 = 5 * 60;
/// Runs shown on a connector's page.
pub const RUNS_SHOWN: i64 = 50;

/// A vendor base address: absolute https (http only on the loopback, for a local proxy or
/// replay server), no credentials, query or fragment.
pub(crate) fn check_base_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|_| "Enter a full address, starting with https://.".to_owned())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => return Err("The address names no host.".to_owned()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("The address must start with https://.".to_owned()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Leave credentials out of the address.".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("The address may not have a ?query or #fragment.".to_owned());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A Microsoft Entra tenant id (a GUID) or one of its domains.
fn check_tenant(text: &str) -> Result<String, String> {
    let t = text.trim().to_ascii_lowercase();
    let guid = t.len() == 36
        && t.chars().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let domain = !t.is_empty()
        && t.len() <= 253
        && t.contains('.')
        && t.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if guid || domain {
        Ok(t)
    } else {
        Err("Enter your partner tenant's id (a GUID) or its primary domain.".to_owned())
    }
}

struct Checked {
    name: String,
    auth_url: String,
    api_url: String,
    home_tenant: String,
    client_id: String,
    secret: Option<String>,
    sync_every_minutes: i64,
    inactive_after_days: i64,
}

/// A HaloPSA tenant name: empty (a self-hosted instance) or the hosted instance's short name.
fn check_halo_tenant(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        Ok(text.to_owned())
    } else {
        Err("Enter the tenant name HaloPSA shows with the API details (letters, digits, - and _), or leave it empty.".into())
    }
}

/// A Xero organisation's tenant id: empty (the one the connection reaches) or a UUID.
fn check_xero_tenant(text: &str) -> Result<String, String> {
    let text = text.trim();
    let uuid = text.len() == 36 && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if text.is_empty() || uuid {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("Enter the organisation's tenant id (a UUID), or leave it empty when the connection reaches one organisation.".into())
    }
}

fn check_settings(
    kind: ConnectorKind,
    s: &ConnectorSettings,
    new: bool,
) -> Result<Checked, StoreError> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut refuse = |field: &str, message: String| errors.push((field.to_owned(), message));
    let name = s.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        refuse(
            "name",
            "Name the connector in 1 to 100 characters, on one line.".into(),
        );
    }
    let auth_url = check_base_url(&s.auth_url).unwrap_or_else(|m| {
        refuse("auth_url", m);
        String::new()
    });
    let api_url = check_base_url(&s.api_url).unwrap_or_else(|m| {
        refuse("api_url", m);
        String::new()
    });
    // Only Microsoft 365 lists customers from a partner tenant; an RMM lists its organisations.
    let home_tenant = match kind {
        ConnectorKind::Microsoft365 => check_tenant(&s.home_tenant).unwrap_or_else(|m| {
            refuse("home_tenant", m);
            String::new()
        }),
        // A hosted HaloPSA instance may name its tenant (sent as `?tenant=` with the sign-in).
        ConnectorKind::HaloPsa => check_halo_tenant(&s.home_tenant).unwrap_or_else(|m| {
            refuse("home_tenant", m);
            String::new()
        }),
        // The Xero organisation, when the app reaches more than one.
        ConnectorKind::Xero => check_xero_tenant(&s.home_tenant).unwrap_or_else(|m| {
            refuse("home_tenant", m);
            String::new()
        }),
        ConnectorKind::NinjaOne | ConnectorKind::Huntress | ConnectorKind::Acronis => String::new(),
    };
    let client_id = s.client_id.trim().to_owned();
    if client_id.is_empty()
        || client_id.len() > 100
        || !client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        refuse(
            "client_id",
            match kind {
                ConnectorKind::Huntress => {
                    "Enter the API key Huntress generated (its public half)."
                }
                ConnectorKind::HaloPsa => {
                    "Enter the client id of the API application set up in HaloPSA."
                }
                ConnectorKind::Xero => "Enter the client id of your Xero custom connection.",
                _ => "Enter the application (client) id of your app registration.",
            }
            .into(),
        );
    }
    let secret = s.secret.trim();
    let secret = if secret.is_empty() {
        if new {
            refuse(
                "secret",
                match kind {
                    ConnectorKind::Huntress => "Enter the API secret Huntress showed with the key.",
                    ConnectorKind::HaloPsa => "Enter the API application's client secret.",
                    ConnectorKind::Xero => "Enter the custom connection's client secret.",
                    _ => "Enter the app registration's client secret.",
                }
                .into(),
            );
        }
        None
    } else if secret.len() > 500 || secret.chars().any(char::is_control) {
        refuse(
            "secret",
            "That secret is not one a vendor issues (at most 500 characters).".into(),
        );
        None
    } else {
        Some(secret.to_owned())
    };
    let sync_every_minutes = match s.sync_every_minutes.trim().parse::<i64>() {
        Ok(m) if (SYNC_EVERY_MIN..=SYNC_EVERY_MAX).contains(&m) => m,
        _ => {
            refuse(
                "sync_every_minutes",
                format!("Sync every {SYNC_EVERY_MIN} to {SYNC_EVERY_MAX} minutes."),
            );
            0
        }
    };
    let inactive_after_days = match s.inactive_after_days.trim().parse::<i64>() {
        Ok(d) if (7..=365).contains(&d) => d,
        _ if kind != ConnectorKind::Microsoft365 && s.inactive_after_days.trim().is_empty() => 30,
        _ => {
            refuse(
                "inactive_after_days",
                "Count a licence unused after 7 to 365 days without a sign-in.".into(),
            );
            0
        }
    };
    if !errors.is_empty() {
        return Err(StoreError::InvalidFields(errors));
    }
    Ok(Checked {
        name,
        auth_url,
        api_url,
        home_tenant,
        client_id,
        secret,
        sync_every_minutes,
        inactive_after_days,
    })
}

/// A vendor tenant the connector reaches, with its mapping and sync state.
#[derive(Debug, Clone)]
pub struct ConnectorTenant {
    pub external_id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub company: Option<(CompanyId, String)>,
    pub next_sync_at: i64,
    pub refresh_requested_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_error: String,
    pub failures: i64,
    pub last_counts: String,
    /// For an unmapped tenant: the company it most likely is, and why.
    pub suggestion: Option<(CompanyId, String, &'static str)>,
}

struct TenantRow {
    external_id: String,
    name: String,
    domains: String,
    company_id: Option<String>,
    company_name: Option<String>,
    next_sync_at: i64,
    refresh_requested_at: Option<i64>,
    last_attempt_at: Option<i64>,
    last_success_at: Option<i64>,
    last_error: String,
    failures: i64,
    last_counts: String,
}
crate::sql::db_row!(TenantRow {
    external_id,
    name,
    domains,
    company_id,
    company_name,
    next_sync_at,
    refresh_requested_at,
    last_attempt_at,
    last_success_at,
    last_error,
    failures,
    last_counts
});

/// One run of a tenant's sync.
#[derive(Debug, Clone)]
pub struct ConnectorRun {
    pub external_id: String,
    pub tenant_name: String,
    pub company_name: Option<String>,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub succeeded: bool,
    pub error: String,
    pub requests: i64,
    pub seen: i64,
    pub added: i64,
    pub changed: i64,
    pub retired: i64,
}
crate::sql::db_row!(ConnectorRun {
    external_id,
    tenant_name,
    company_name,
    started_by,
    started_at,
    finished_at,
    succeeded,
    error,
    requests,
    seen,
    added,
    changed,
    retired
});

/// How fresh a company's connector-fed records are, for the line above a section.
#[derive(Debug, Clone, Default)]
pub struct Freshness {
    /// Some tenant of a connector feeding the section is mapped to the company.
    pub connected: bool,
    /// The oldest of the mapped tenants' last successes (the section is as fresh as its
    /// stalest source); `None` before every one has succeeded once.
    pub updated_at: Option<i64>,
    /// A refresh was asked for and has not run yet.
    pub refreshing: bool,
    /// The last attempt of some tenant failed.
    pub failing: bool,
    /// When the company may next ask for a refresh.
    pub refresh_allowed_at: i64,
    /// Some source is switched on, so a refresh would run.
    pub refreshable: bool,
}

/// One tenant of a company, as [`Freshness`] sums it.
struct FreshnessRow {
    kind: String,
    last_success_at: Option<i64>,
    refresh_requested_at: Option<i64>,
    failures: i64,
    refresh_asked_at: Option<i64>,
    connector_enabled: bool,
}
crate::sql::db_row!(FreshnessRow {
    kind,
    last_success_at,
    refresh_requested_at,
    failures,
    refresh_asked_at,
    connector_enabled
});

/// What asking for a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    Queued,
    /// Asked too recently: allowed again at this time.
    TooSoon(i64),
    /// Nothing feeds the section for this company.
    NotConnected,
}

/// Words of a name, lowercased, without the usual company suffixes, for suggestions.
fn name_key(name: &str) -> String {
    const SUFFIXES: &[&str] = &[
        "ltd", "limited", "llc", "inc", "pty", "plc", "gmbh", "co", "corp", "the", "and",
    ];
    name.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !SUFFIXES.contains(&w.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A PSA's ticket status and what it means in Portico.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsaStatus {
    /// The PSA's id of it.
    pub external_id: String,
    pub name: String,
    /// An owner's choice; `None` follows [`PsaStatus::by_name`].
    pub chosen: Option<TicketStatus>,
    /// What its name suggests.
    pub by_name: TicketStatus,
}

impl PsaStatus {
    /// What the connector reads it as.
    pub fn meaning(&self) -> TicketStatus {
        self.chosen.unwrap_or(self.by_name)
    }
}

/// What a PSA status means in Portico while no owner has chosen, from its name: PSAs let
/// each MSP name its own statuses, so this reads the usual words ("Closed", "With User",
/// "Waiting on Supplier"); the connector page lets an owner correct it.
pub fn psa_status_by_name(name: &str) -> TicketStatus {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["closed", "resolved", "cancel", "complete"]) {
        TicketStatus::Resolved
    } else if has(&["user replied", "customer replied", "client replied"]) {
        // The client answered: the desk's turn.
        TicketStatus::Open
    } else if has(&[
        "with user",
        "with customer",
        "with client",
        "awaiting",
        "waiting on",
    ]) {
        TicketStatus::AwaitingClient
    } else if has(&["hold", "supplier", "scheduled", "pending"]) {
        TicketStatus::OnHold
    } else if n.trim() == "new" {
        TicketStatus::New
    } else {
        TicketStatus::Open
    }
}

/// The Portico statuses a PSA status can be read as: a closed ticket is a resolved one there.
pub const PSA_STATUS_MEANINGS: &[TicketStatus] = &[
    TicketStatus::New,
    TicketStatus::Open,
    TicketStatus::AwaitingClient,
    TicketStatus::OnHold,
    TicketStatus::Resolved,
];

impl ScopedTx<'_> {
    fn connector_query(&self) -> crate::sql::Q {
        self.select(
            "c.id, c.kind, c.name, c.auth_url, c.api_url, c.home_tenant, c.client_id, c.secret_hint, \
             c.sync_every_minutes, c.inactive_after_days, c.enabled, c.pushed, c.discover_requested_at, \
             c.discovered_at, c.discovery_error, c.created_at, \
             (SELECT COUNT(*) FROM connector_tenants t WHERE t.connector_id = c.id) AS tenants, \
             (SELECT COUNT(*) FROM connector_tenants t WHERE t.connector_id = c.id \
              AND t.company_id IS NOT NULL) AS mapped, \
             (SELECT COUNT(*) FROM connector_tenants t WHERE t.connector_id = c.id \
              AND t.company_id IS NOT NULL AND t.failures > 0) AS failing",
            &fence::CONNECTORS,
            "c",
        )
    }

    /// The workspace's connectors, oldest first.
    pub async fn connectors(&mut self) -> Result<Vec<Connector>, StoreError> {
        self.scope.may(Action::ManageConnectors)?;
        let mut query = self.connector_query();
        query.sql(" ORDER BY c.created_at, c.id");
        let rows: Vec<ConnectorRow> = self.tx.all(query).await?;
        rows.into_iter().map(ConnectorRow::into_connector).collect()
    }

    /// A connector that reads from its vendor: the pushed one has nothing to configure or sync.
    async fn vendor_connector(&mut self, id: ConnectorId) -> Result<Connector, StoreError> {
        let connector = self.connector(id).await?;
        if connector.pushed {
            return Err(StoreError::Invalid(
                "Its records are pushed over the REST API: there is nothing to configure or sync."
                    .into(),
            ));
        }
        Ok(connector)
    }

    /// One connector of the workspace.
    pub async fn connector(&mut self, id: ConnectorId) -> Result<Connector, StoreError> {
        self.scope.may(Action::ManageConnectors)?;
        let mut query = self.connector_query();
        query.sql(" AND c.id = ").arg(id);
        let row: Option<ConnectorRow> = self.tx.optional(query).await?;
        row.ok_or(StoreError::NotFound)?.into_connector()
    }

    /// Adds a connector; its customers are discovered at once.
    pub async fn create_connector(
        &mut self,
        kind: ConnectorKind,
        settings: &ConnectorSettings,
    ) -> Result<ConnectorId, StoreError> {
        self.scope.may(Action::ManageConnectors)?;
        let checked = check_settings(kind, settings, true)?;
        let id = ConnectorId::new();
        let workspace = self.scope.workspace();
        let secret = checked.secret.unwrap_or_default();
        let sealed = self.audit.sealer().seal(
            &secret_context(&workspace.as_text(), &id.as_text()),
            secret.as_bytes(),
        );
        let at = now();
        self.tx
            .exec(q!(
                "INSERT INTO connectors (id, workspace_id, kind, name, auth_url, api_url, home_tenant, \
                 client_id, secret_sealed, secret_hint, sync_every_minutes, inactive_after_days, \
                 discover_requested_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                id,
                workspace,
                kind.as_str(),
                &checked.name,
                &checked.auth_url,
                &checked.api_url,
                &checked.home_tenant,
                &checked.client_id,
                sealed,
                hint(&secret),
                checked.sync_every_minutes,
                checked.inactive_after_days,
                at,
                at
            ))
            .await?;
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("connector", id, &checked.name),
            &format!(
                "{} connector added with credentials for client {}",
                kind.label(),
                checked.client_id
            ),
        )
        .await?;
        Ok(id)
    }

    /// Changes a connector's settings; a new secret replaces the stored one.
    pub async fn update_connector(
        &mut self,
        id: ConnectorId,
        settings: &ConnectorSettings,
    ) -> Result<(), StoreError> {
        let current = self.vendor_connector(id).await?;
        let checked = check_settings(current.kind, settings, false)?;
        // The stored secret goes only where it went when it was typed: a new address needs it
        // typed again, or an owner could send it to a host of their own and read it.
        if checked.secret.is_none()
            && (checked.auth_url != current.auth_url || checked.api_url != current.api_url)
        {
            return Err(StoreError::InvalidFields(vec![(
                "secret".into(),
                "Enter the client secret again to use it at the new addresses.".into(),
            )]));
        }
        let workspace = self.scope.workspace();
        let sealed = checked.secret.as_ref().map(|secret| {
            (
                self.audit.sealer().seal(
                    &secret_context(&workspace.as_text(), &id.as_text()),
                    secret.as_bytes(),
                ),
                hint(secret),
            )
        });
        let mut query = self.update(&fence::CONNECTORS, |set| {
            set.sql("name = ")
                .arg(&checked.name)
                .sql(", auth_url = ")
                .arg(&checked.auth_url)
                .sql(", api_url = ")
                .arg(&checked.api_url)
                .sql(", home_tenant = ")
                .arg(&checked.home_tenant)
                .sql(", client_id = ")
                .arg(&checked.client_id)
                .sql(", sync_every_minutes = ")
                .arg(checked.sync_every_minutes)
                .sql(", inactive_after_days = ")
                .arg(checked.inactive_after_days);
            if let Some((sealed, hint)) = &sealed {
                set.sql(", secret_sealed = ")
                    .arg(sealed)
                    .sql(", secret_hint = ")
                    .arg(hint);
            }
        });
        query.sql(" AND id = ").arg(id);
        self.tx.exec(query).await?;
        let credentials_changed = sealed.is_some()
            || current.client_id != checked.client_id
            || current.auth_url != checked.auth_url
            || current.api_url != checked.api_url
            || current.home_tenant != checked.home_tenant;
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("connector", id, &checked.name),
            if sealed.is_some() {
                "connector settings changed, with a new client secret"
            } else if credentials_changed {
                "connector settings changed (its addresses or client)"
            } else {
                "connector settings changed"
            },
        )
        .await
    }

    /// Switches a connector on or off; switched off, none of its tenants syncs.
    pub async fn set_connector_enabled(
        &mut self,
        id: ConnectorId,
        enabled: bool,
    ) -> Result<(), StoreError> {
        let connector = self.vendor_connector(id).await?;
        let mut query = self.update(&fence::CONNECTORS, |set| {
            set.sql("enabled = ").arg(enabled);
        });
        query.sql(" AND id = ").arg(id);
        self.tx.exec(query).await?;
        let mut tenants = self.update(&fence::CONNECTOR_TENANTS, |set| {
            set.sql("connector_enabled = ")
                .arg(enabled)
                .sql(", refresh_requested_at = NULL");
        });
        tenants.sql(" AND connector_id = ").arg(id);
        self.tx.exec(tenants).await?;
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("connector", id, connector.name),
            if enabled {
                "connector switched on"
            } else {
                "connector switched off"
            },
        )
        .await
    }

    /// A PSA connector's statuses as its last run read them, in the PSA's order of ids.
    pub async fn psa_statuses(&mut self, id: ConnectorId) -> Result<Vec<PsaStatus>, StoreError> {
        self.connector(id).await?;
        let mut query = self.select(
            "s.external_id, s.name, s.meaning",
            &fence::PSA_STATUSES,
            "s",
        );
        query
            .sql(" AND s.connector_id = ")
            .arg(id)
            .sql(" ORDER BY LENGTH(s.external_id), s.external_id");
        let rows: Vec<(String, String, Option<String>)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|(external_id, name, meaning)| PsaStatus {
                by_name: psa_status_by_name(&name),
                chosen: meaning.as_deref().and_then(TicketStatus::parse),
                external_id,
                name,
            })
            .collect())
    }

    /// Sets what PSA statuses mean (`None`: follow the name), each named by the PSA's id; a
    /// status the last run did not read is refused. Audited, naming each change.
    pub async fn set_psa_status_meanings(
        &mut self,
        id: ConnectorId,
        choices: &[(String, Option<TicketStatus>)],
    ) -> Result<(), StoreError> {
        let connector = self.vendor_connector(id).await?;
        if connector.kind != ConnectorKind::HaloPsa {
            return Err(StoreError::Invalid(
                "Only a PSA connector has ticket statuses to map.".into(),
            ));
        }
        let known = self.psa_statuses(id).await?;
        // The desk sets a status in the PSA by its meaning (the first status, by id, meaning
        // it): a choice may not leave a meaning that had a status without one.
        let after = |status: &PsaStatus| {
            choices
                .iter()
                .find(|(external, _)| *external == status.external_id)
                .map_or(status.meaning(), |(_, chosen)| {
                    chosen.unwrap_or(status.by_name)
                })
        };
        // (New needs none: a new ticket is set to an open status.)
        for meaning in PSA_STATUS_MEANINGS
            .iter()
            .filter(|m| **m != TicketStatus::New)
        {
            let had = known.iter().any(|s| s.meaning() == *meaning);
            if had && !known.iter().any(|s| after(s) == *meaning) {
                return Err(StoreError::Invalid(format!(
                    "No status would mean “{}”: the desk could not set it in the PSA. Leave one \
                     status meaning it.",
                    meaning.desk_label()
                )));
            }
        }
        let mut changes = Vec::new();
        for (external_id, chosen) in choices {
            let Some(status) = known.iter().find(|s| &s.external_id == external_id) else {
                return Err(StoreError::Invalid(
                    "That status is no longer in the PSA: list the statuses again with a sync."
                        .into(),
                ));
            };
            if let Some(meaning) = chosen
                && !PSA_STATUS_MEANINGS.contains(meaning)
            {
                return Err(StoreError::Invalid(format!(
                    "A PSA status cannot mean “{}”.",
                    meaning.desk_label()
                )));
            }
            if status.chosen == *chosen {
                continue;
            }
            let mut query = self.update(&fence::PSA_STATUSES, |set| {
                set.sql("meaning = ")
                    .arg(chosen.map(|m| m.as_str().to_owned()));
            });
            query
                .sql(" AND connector_id = ")
                .arg(id)
                .sql(" AND external_id = ")
                .arg(external_id.as_str());
            self.tx.exec(query).await?;
            changes.push(match chosen {
                Some(meaning) => format!("“{}” means {}", status.name, meaning.desk_label()),
                None => format!(
                    "“{}” follows its name ({})",
                    status.name,
                    status.by_name.desk_label()
                ),
            });
        }
        if changes.is_empty() {
            return Ok(());
        }
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("connector", id, &connector.name),
            &format!("PSA statuses mapped: {}", changes.join("; ")),
        )
        .await
    }

    /// Asks for the partner's customers to be listed again.
    pub async fn request_discovery(&mut self, id: ConnectorId) -> Result<(), StoreError> {
        self.vendor_connector(id).await?;
        let mut query = self.update(&fence::CONNECTORS, |set| {
            set.sql("discover_requested_at = ").arg(now());
        });
        query.sql(" AND id = ").arg(id);
        self.tx.exec(query).await?;
        Ok(())
    }

    /// The tenants a connector reaches, unmapped first, each unmapped one with a suggested
    /// company: one owning a domain of the tenant, else one of the same name.
    pub async fn connector_tenants(
        &mut self,
        id: ConnectorId,
    ) -> Result<Vec<ConnectorTenant>, StoreError> {
        self.connector(id).await?;
        let mut query = self.select_joined(
            "t.external_id, t.name, t.domains, t.company_id, co.name AS company_name, t.next_sync_at, \
             t.refresh_requested_at, t.last_attempt_at, t.last_success_at, t.last_error, t.failures, \
             t.last_counts",
            &fence::CONNECTOR_TENANTS,
            "t",
            " LEFT JOIN companies co ON co.workspace_id = t.workspace_id AND co.id = t.company_id",
        );
        query
            .sql(" AND t.connector_id = ")
            .arg(id)
            .sql(" ORDER BY (t.company_id IS NOT NULL), t.name, t.external_id");
        let rows: Vec<TenantRow> = self.tx.all(query).await?;
        let mut companies = self.select("c.id, c.name", &fence::COMPANIES, "c");
        companies.sql(" AND c.archived_at IS NULL ORDER BY c.name");
        let companies: Vec<(String, String)> = self.tx.all(companies).await?;
        let domains = self.select("d.company_id, d.domain", &fence::COMPANY_EMAIL_DOMAINS, "d");
        let domains: Vec<(String, String)> = self.tx.all(domains).await?;
        let name_of = |company: &str| {
            companies
                .iter()
                .find(|(id, _)| id == company)
                .map(|(_, name)| name.clone())
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let tenant_domains: Vec<String> =
                    r.domains.split_whitespace().map(str::to_owned).collect();
                let suggestion = if r.company_id.is_some() {
                    None
                } else {
                    domains
                        .iter()
                        .find(|(_, d)| tenant_domains.iter().any(|t| t.eq_ignore_ascii_case(d)))
                        .and_then(|(company, _)| {
                            name_of(company).map(|name| {
                                (CompanyId::from_stored(company), name, "same e-mail domain")
                            })
                        })
                        .or_else(|| {
                            let key = name_key(&r.name);
                            companies
                                .iter()
                                .find(|(_, name)| !key.is_empty() && name_key(name) == key)
                                .map(|(id, name)| {
                                    (CompanyId::from_stored(id), name.clone(), "same name")
                                })
                        })
                };
                ConnectorTenant {
                    company: r.company_id.map(|id| {
                        (
                            CompanyId::from_stored(&id),
                            r.company_name.unwrap_or_default(),
                        )
                    }),
                    external_id: r.external_id,
                    name: r.name,
                    domains: tenant_domains,
                    next_sync_at: r.next_sync_at,
                    refresh_requested_at: r.refresh_requested_at,
                    last_attempt_at: r.last_attempt_at,
                    last_success_at: r.last_success_at,
                    last_error: r.last_error,
                    failures: r.failures,
                    last_counts: r.last_counts,
                    suggestion,
                }
            })
            .collect())
    }

    /// Maps a tenant to a company (syncing it at once), or unmaps it (`None`): what it fed the
    /// company it was mapped to is retired there (kept, marked).
    pub async fn map_connector_tenant(
        &mut self,
        id: ConnectorId,
        external_id: &str,
        company: Option<CompanyId>,
    ) -> Result<(), StoreError> {
        let connector = self.connector(id).await?;
        let tenant = self
            .connector_tenants(id)
            .await?
            .into_iter()
            .find(|t| t.external_id == external_id)
            .ok_or(StoreError::NotFound)?;
        let company_name = match company {
            Some(company) => Some(self.company_name(company).await?),
            None => None,
        };
        if let Some(company) = company {
            // One tenant per company and vendor: two would double its licences.
            let mut taken = self.select("t.name", &fence::CONNECTOR_TENANTS, "t");
            taken
                .sql(" AND t.kind = ")
                .arg(connector.kind.as_str())
                .sql(" AND t.company_id = ")
                .arg(company)
                .sql(" AND NOT (t.connector_id = ")
                .arg(id)
                .sql(" AND t.external_id = ")
                .arg(external_id)
                .sql(")");
            let taken: Option<(String,)> = self.tx.optional(taken).await?;
            if let Some((other,)) = taken {
                return Err(StoreError::InvalidFields(vec![(
                    "company".into(),
                    format!(
                        "{} is already fed by the {} tenant {other}: unmap that one first.",
                        company_name.clone().unwrap_or_default(),
                        connector.kind.label()
                    ),
                )]));
            }
        }
        // What the tenant fed its former company is that company's no longer: the vendor's
        // copies (licences, directory users, alerts, patching) go, devices the connector added are
        // archived, and assets entered by hand that it was matched to are unlinked and kept.
        if let Some(former) = tenant
            .company
            .as_ref()
            .map(|(c, _)| *c)
            .filter(|c| Some(*c) != company)
        {
            self.forget_connector_records(id, external_id, former)
                .await?;
        }
        // A run under way for the former company loses its claim: it may no longer write. Mapped
        // anew, the tenant is read whole again (incremental reads start over).
        let mut query = self.update(&fence::CONNECTOR_TENANTS, |set| {
            set.sql("company_id = ")
                .arg(company)
                .sql(", next_sync_at = ")
                .arg(now())
                .sql(
                    ", failures = 0, claim_token = NULL, claimed_until = NULL, \
                     last_success_at = NULL, last_counts = '', alerts_watermark = ''",
                );
        });
        query
            .sql(" AND connector_id = ")
            .arg(id)
            .sql(" AND external_id = ")
            .arg(external_id);
        match self.tx.exec(query).await {
            Ok(_) => {}
            // Another tenant came to feed the company since the check above (the index holds
            // one a company and vendor).
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::InvalidFields(vec![(
                    "company".into(),
                    format!(
                        "{} is already fed by another {} tenant: unmap that one first.",
                        company_name.clone().unwrap_or_default(),
                        connector.kind.label()
                    ),
                )]));
            }
            Err(e) => return Err(e),
        }
        let detail = match &company_name {
            Some(name) => format!(
                "{} tenant {} mapped to {name}",
                connector.kind.label(),
                tenant.name
            ),
            None => format!("{} tenant {} unmapped", connector.kind.label(), tenant.name),
        };
        self.audit(
            AuditAction::SettingsChanged,
            company.or(tenant.company.as_ref().map(|(c, _)| *c)),
            AuditTarget::new("connector_tenant", external_id, &tenant.name),
            &detail,
        )
        .await
    }

    /// Removes from `company` what tenant `external_id` of connector `id` fed it.
    async fn forget_connector_records(
        &mut self,
        id: ConnectorId,
        external_id: &str,
        company: CompanyId,
    ) -> Result<(), StoreError> {
        for table in [
            &fence::LICENCES,
            &fence::DIRECTORY_USERS,
            &fence::SECURITY_ALERTS,
            &fence::EDR_AGENTS,
            &fence::IDENTITY_PROTECTION,
            &fence::BACKUP_JOBS,
        ] {
            let mut gone = self.delete(table);
            gone.sql(" AND company_id = ")
                .arg(company)
                .sql(" AND connector_id = ")
                .arg(id)
                .sql(" AND external_tenant = ")
                .arg(external_id);
            self.tx.exec(gone).await?;
        }
        // Invoices an accounting tool issued this customer, with their lines and PDFs.
        for table in [&fence::INVOICE_DOCUMENTS, &fence::INVOICE_LINES] {
            let mut gone = self.delete(table);
            gone.sql(" AND company_id = ")
                .arg(company)
                .sql(" AND invoice_id IN (SELECT i.id FROM invoices i WHERE i.source <> '' AND i.connector_id = ")
                .arg(id)
                .sql(" AND i.external_tenant = ")
                .arg(external_id)
                .sql(")");
            self.tx.exec(gone).await?;
        }
        let mut invoices = self.delete(&fence::INVOICES);
        invoices
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND source <> '' AND connector_id = ")
            .arg(id)
            .sql(" AND external_tenant = ")
            .arg(external_id);
        self.tx.exec(invoices).await?;
        // An RMM's tenant is one organisation per company: everything of the connector's there.
        let mut targets = self.delete(&fence::MAINTENANCE_TARGETS);
        targets
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND record_id IN (SELECT r.id FROM maintenance_records r WHERE r.source_connector = ")
            .arg(id)
            .sql(")");
        self.tx.exec(targets).await?;
        let mut records = self.delete(&fence::MAINTENANCE_RECORDS);
        records
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND source_connector = ")
            .arg(id);
        self.tx.exec(records).await?;
        let at = now();
        let mut added = self.update(&fence::ASSETS, |set| {
            set.sql("archived_at = COALESCE(archived_at, ")
                .arg(at)
                .sql("), updated_at = ")
                .arg(at)
                .sql(", source_connector = NULL, source_id = NULL");
        });
        added
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND source_added AND source_connector = ")
            .arg(id);
        self.tx.exec(added).await?;
        let mut matched = self.update(&fence::ASSETS, |set| {
            set.sql("source_connector = NULL, source_id = NULL");
        });
        matched
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND source_connector = ")
            .arg(id);
        self.tx.exec(matched).await?;
        Ok(())
    }

    /// Syncs one mapped tenant as soon as a worker is free (the console's "Sync now").
    pub async fn sync_connector_tenant_now(
        &mut self,
        id: ConnectorId,
        external_id: &str,
    ) -> Result<(), StoreError> {
        if !self.vendor_connector(id).await?.enabled {
            return Err(StoreError::Invalid(
                "The connector is switched off: switch it on to sync.".into(),
            ));
        }
        let at = now();
        let mut query = self.update(&fence::CONNECTOR_TENANTS, |set| {
            set.sql("refresh_requested_at = ")
                .arg(at)
                .sql(", refresh_by = 'console', next_sync_at = ")
                .arg(at);
        });
        query
            .sql(" AND connector_id = ")
            .arg(id)
            .sql(" AND external_id = ")
            .arg(external_id)
            .sql(" AND company_id IS NOT NULL");
        if self.tx.exec(query).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A connector's latest runs, newest first.
    pub async fn connector_runs(
        &mut self,
        id: ConnectorId,
    ) -> Result<Vec<ConnectorRun>, StoreError> {
        self.connector(id).await?;
        let mut query = self.select_joined(
            "r.external_id, COALESCE(t.name, r.external_id) AS tenant_name, co.name AS company_name, \
             r.started_by, r.started_at, r.finished_at, r.succeeded, r.error, r.requests, r.seen, \
             r.added, r.changed, r.retired",
            &fence::CONNECTOR_RUNS,
            "r",
            " LEFT JOIN connector_tenants t ON t.connector_id = r.connector_id \
             AND t.external_id = r.external_id \
             LEFT JOIN companies co ON co.workspace_id = r.workspace_id AND co.id = r.company_id",
        );
        query
            .sql(" AND r.connector_id = ")
            .arg(id)
            .sql(" ORDER BY r.started_at DESC, r.id DESC LIMIT ")
            .arg(RUNS_SHOWN);
        self.tx.all(query).await
    }

    /// How fresh `company`'s records of `section` are.
    pub async fn connector_freshness(
        &mut self,
        company: CompanyId,
        section: Section,
    ) -> Result<Freshness, StoreError> {
        // Whoever may read the section's records may know how fresh they are.
        self.scope.may(Action::RefreshConnectorData(section))?;
        if kinds_feeding(section).is_empty() {
            return Ok(Freshness::default());
        }
        // The company's few tenants of every kind, those feeding the section picked here: an
        // `IN` list of kinds would make SQLite build a temporary index of them per execution.
        let mut query = self.select(
            "t.kind, t.last_success_at, t.refresh_requested_at, t.failures, t.refresh_asked_at, \
             t.connector_enabled",
            &fence::CONNECTOR_TENANTS,
            "t",
        );
        query.sql(" AND t.company_id = ").arg(company);
        let rows: Vec<FreshnessRow> = self.tx.all(query).await?;
        let feeding = rows.iter().filter(|r| {
            ConnectorKind::parse(&r.kind).is_some_and(|k| k.feeds().contains(&section))
        });
        let (mut count, mut oldest, mut requested, mut failures, mut asked, mut enabled) =
            (0, None::<i64>, None::<i64>, 0, None::<i64>, 0);
        for row in feeding {
            count += 1;
            let success = row.last_success_at.unwrap_or(0);
            oldest = Some(oldest.map_or(success, |o| o.min(success)));
            requested = requested.max(row.refresh_requested_at);
            failures = failures.max(row.failures);
            asked = asked.max(row.refresh_asked_at);
            enabled += i64::from(row.connector_enabled);
        }
        let refreshing = requested.is_some_and(|r| r > 0);
        Ok(Freshness {
            connected: count > 0,
            updated_at: oldest.filter(|&at| at > 0),
            refreshing,
            failing: failures > 0,
            refresh_allowed_at: asked.map(|r| r + REFRESH_EVERY_SECS).unwrap_or(0),
            refreshable: enabled > 0,
        })
    }

    /// Asks for `company`'s records of `section` to be read again now, at most once every
    /// [`REFRESH_EVERY_SECS`] per company: only that company's tenants run.
    pub async fn refresh_connector_data(
        &mut self,
        company: CompanyId,
        section: Section,
    ) -> Result<RefreshOutcome, StoreError> {
        self.scope.may(Action::RefreshConnectorData(section))?;
        let kinds: Vec<String> = kinds_feeding(section)
            .into_iter()
            .map(|k| k.as_str().to_owned())
            .collect();
        if kinds.is_empty() {
            return Ok(RefreshOutcome::NotConnected);
        }
        let at = now();
        // The throttle is per company, whichever section asked: a refresh reads everything.
        let mut last = self.select(
            "COUNT(*), MAX(t.refresh_asked_at), MAX(t.refresh_requested_at)",
            &fence::CONNECTOR_TENANTS,
            "t",
        );
        last.sql(" AND t.connector_enabled AND t.company_id = ")
            .arg(company)
            .sql(" AND ");
        last.in_list("t.kind", &kinds);
        let (count, asked, pending): (i64, Option<i64>, Option<i64>) = self.tx.one(last).await?;
        if count == 0 {
            return Ok(RefreshOutcome::NotConnected);
        }
        let allowed_at = asked.map_or(0, |a| a + REFRESH_EVERY_SECS);
        if pending.is_some() || allowed_at > at {
            return Ok(RefreshOutcome::TooSoon(allowed_at.max(at)));
        }
        let by = if self.scope.is_portal() {
            "portal"
        } else {
            "console"
        };
        // The throttle holds in the UPDATE itself, so two requests at once cannot both pass; a
        // tenant backing off after failures (or told to wait by its vendor) keeps its time.
        let mut query = self.update(&fence::CONNECTOR_TENANTS, |set| {
            set.sql("refresh_requested_at = ")
                .arg(at)
                .sql(", refresh_asked_at = ")
                .arg(at)
                .sql(", refresh_by = ")
                .arg(by)
                .sql(", next_sync_at = CASE WHEN failures > 0 AND next_sync_at > ")
                .arg(at)
                .sql(" THEN next_sync_at ELSE ")
                .arg(at)
                .sql(" END");
        });
        query
            .sql(" AND connector_enabled AND company_id = ")
            .arg(company)
            .sql(" AND refresh_requested_at IS NULL AND (refresh_asked_at IS NULL OR refresh_asked_at <= ")
            .arg(at - REFRESH_EVERY_SECS)
            .sql(") AND ");
        query.in_list("kind", &kinds);
        if self.tx.exec(query).await? == 0 {
            return Ok(RefreshOutcome::TooSoon(allowed_at.max(at + 1)));
        }
        Ok(RefreshOutcome::Queued)
    }
}

/// The last four characters of a secret, to tell stored ones apart.
pub(crate) fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psa_statuses_are_understood_by_name() {
        for (name, meaning) in [
            ("New", TicketStatus::New),
            ("In Progress", TicketStatus::Open),
            ("Action Required", TicketStatus::Open),
            ("With User", TicketStatus::AwaitingClient),
            ("Waiting on Customer", TicketStatus::AwaitingClient),
            ("User Replied", TicketStatus::Open),
            ("On Hold", TicketStatus::OnHold),
            ("With Supplier", TicketStatus::OnHold),
            ("Resolved", TicketStatus::Resolved),
            ("Closed", TicketStatus::Resolved),
            ("Cancelled", TicketStatus::Resolved),
        ] {
            assert_eq!(psa_status_by_name(name), meaning, "{name}");
        }
    }

    #[test]
    fn base_addresses_are_https_or_loopback_http() {
        assert_eq!(
            check_base_url("https://graph.microsoft.com/").unwrap(),
            "https://graph.microsoft.com"
        );
        assert!(check_base_url("http://127.0.0.1:9000").is_ok());
        assert!(check_base_url("http://graph.example.com").is_err());
        assert!(check_base_url("https://u:p@graph.example.com").is_err());
        assert!(check_base_url("https://graph.example.com/?x=1").is_err());
        assert!(check_base_url("graph").is_err());
    }

    #[test]
    fn tenants_are_guids_or_domains() {
        assert!(check_tenant("11111111-1111-4111-8111-111111111111").is_ok());
        assert_eq!(
            check_tenant(" Contoso.onmicrosoft.com ").unwrap(),
            "contoso.onmicrosoft.com"
        );
        assert!(check_tenant("not a tenant").is_err());
        assert!(check_tenant("../etc").is_err());
    }

    #[test]
    fn names_match_without_their_suffixes() {
        assert_eq!(name_key("Acme Dental Pty Ltd"), name_key("acme dental"));
        assert_ne!(name_key("Acme Dental"), name_key("Acme Legal"));
        assert_eq!(name_key("Ltd"), "");
    }

    #[test]
    fn a_hint_is_the_last_four_characters() {
        assert_eq!(hint("abcdefgh"), "efgh");
        assert_eq!(hint("ab"), "ab");
    }
}
