//! P5's alerts: what a connector read from the client's security tools (Microsoft Defender),
//! through the same fence as everything else. Read-only: no remediation from Portico.

use portico_core::{Action, CompanyId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};

/// Alerts shown per list.
pub const ALERTS_SHOWN: i64 = 200;

/// What a read of alerts selects, in [`SecurityAlert`]'s order.
const ALERT_COLUMNS: &str = "s.external_tenant, s.external_id, s.title, s.severity, s.status, \
     s.service_source, s.category, s.subject, s.created_at, s.updated_at, s.resolved_at";

/// Where a page of alerts starts: after the alert raised at `created_at` with these keys
/// (newest first).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertPosition {
    pub created_at: i64,
    pub tenant: String,
    pub id: String,
}

/// A page of alerts, newest first.
#[derive(Debug, Clone)]
pub struct AlertPage {
    pub alerts: Vec<SecurityAlert>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<AlertPosition>,
}

/// A security alert of a company.
#[derive(Debug, Clone)]
pub struct SecurityAlert {
    /// The vendor's tenant it came from (as stored: see `pushed_records::tenant_name`).
    pub external_tenant: String,
    pub external_id: String,
    pub title: String,
    /// unknown, informational, low, medium, high or critical.
    pub severity: String,
    /// new, inProgress or resolved.
    pub status: String,
    pub service_source: String,
    pub category: String,
    pub subject: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}
crate::sql::db_row!(SecurityAlert {
    external_tenant,
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

impl SecurityAlert {
    pub fn is_open(&self) -> bool {
        !self.status.eq_ignore_ascii_case("resolved")
    }

    /// The style a badge of its severity takes.
    pub fn tone(&self) -> &'static str {
        match self.severity.as_str() {
            "critical" | "high" => "bad",
            "medium" => "warn",
            _ => "",
        }
    }

    /// The product that raised it, as people name it.
    pub fn source_label(&self) -> &str {
        match self.service_source.as_str() {
            "microsoftDefenderForEndpoint" => "Defender for Endpoint",
            "huntressEdr" => "Huntress Managed EDR",
            "huntressItdr" => "Huntress Managed ITDR",
            "microsoftDefenderForOffice365" => "Defender for Office 365",
            "microsoftDefenderForIdentity" => "Defender for Identity",
            "microsoftDefenderForCloudApps" => "Defender for Cloud Apps",
            "azureAdIdentityProtection" | "microsoftEntraIdProtection" => "Entra ID Protection",
            "microsoft365Defender" | "microsoftDefenderXdr" => "Microsoft Defender XDR",
            other => other,
        }
    }
}

impl ScopedTx<'_> {
    /// `company`'s alerts, open ones first, then by severity and newest.
    pub async fn security_alerts(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<SecurityAlert>, StoreError> {
        self.scope.may(Action::ViewSecurityAlerts)?;
        let mut query = self.select(ALERT_COLUMNS, &fence::SECURITY_ALERTS, "s");
        query
            .sql(" AND s.company_id = ")
            .arg(company)
            .sql(
                " ORDER BY (s.status = 'resolved'), CASE s.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 0 \
                 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 ELSE 3 END, s.created_at DESC LIMIT ",
            )
            .arg(ALERTS_SHOWN);
        self.tx.all(query).await
    }

    /// A page of `limit` of `company`'s alerts, newest first (open ones only when
    /// `open_only`), starting after `after`.
    pub async fn security_alert_page(
        &mut self,
        company: CompanyId,
        open_only: bool,
        after: Option<&AlertPosition>,
        limit: i64,
    ) -> Result<AlertPage, StoreError> {
        self.scope.may(Action::ViewSecurityAlerts)?;
        let limit = limit.clamp(1, 500);
        let mut query = self.select(ALERT_COLUMNS, &fence::SECURITY_ALERTS, "s");
        query.sql(" AND s.company_id = ").arg(company);
        if open_only {
            query.sql(" AND s.status <> 'resolved'");
        }
        if let Some(after) = after {
            query
                .sql(" AND (s.created_at, s.external_tenant, s.external_id) < (")
                .arg(after.created_at)
                .sql(", ")
                .arg(after.tenant.as_str())
                .sql(", ")
                .arg(after.id.as_str())
                .sql(")");
        }
        query
            .sql(" ORDER BY s.created_at DESC, s.external_tenant DESC, s.external_id DESC LIMIT ")
            .arg(limit + 1);
        let mut alerts: Vec<SecurityAlert> = self.tx.all(query).await?;
        let more = alerts.len() as i64 > limit;
        alerts.truncate(limit as usize);
        let next = if more {
            alerts.last().map(|a| AlertPosition {
                created_at: a.created_at,
                tenant: a.external_tenant.clone(),
                id: a.external_id.clone(),
            })
        } else {
            None
        };
        Ok(AlertPage { alerts, next })
    }
}
