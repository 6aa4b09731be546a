//! P5's alerts: what a connector read from the client's security tools (Microsoft Defender),
//! through the same fence as everything else. Read-only: no remediation from Portico.

use portico_core::{Action, CompanyId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};

/// Alerts shown per list.
pub const ALERTS_SHOWN: i64 = 200;

/// A security alert of a company.
#[derive(Debug, Clone)]
pub struct SecurityAlert {
    pub external_id: String,
    pub title: String,
    /// unknown, informational, low, medium or high.
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
            "high" => "bad",
            "medium" => "warn",
            _ => "",
        }
    }

    /// The product that raised it, as people name it.
    pub fn source_label(&self) -> &str {
        match self.service_source.as_str() {
            "microsoftDefenderForEndpoint" => "Defender for Endpoint",
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
        let mut query = self.select(
            "s.external_id, s.title, s.severity, s.status, s.service_source, s.category, s.subject, \
             s.created_at, s.updated_at, s.resolved_at",
            &fence::SECURITY_ALERTS,
            "s",
        );
        query
            .sql(" AND s.company_id = ")
            .arg(company)
            .sql(
                " ORDER BY (s.status = 'resolved'), CASE s.severity WHEN 'high' THEN 0 \
                 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 ELSE 3 END, s.created_at DESC LIMIT ",
            )
            .arg(ALERTS_SHOWN);
        self.tx.all(query).await
    }
}
