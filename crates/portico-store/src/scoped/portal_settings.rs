//! Per-company portal settings (C4): the portal switch, and each section's state and label as a
//! workspace default with per-company overrides. Read on every portal request, so a change takes
//! effect at once on every instance.

use portico_core::{Action, CompanyId, Section};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, Tx, q};

/// One section's effective state for a company, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSetting {
    pub section: Section,
    pub enabled: bool,
    pub label: String,
    /// Whether the company overrides the workspace default for `enabled` / `label`.
    pub enabled_override: Option<bool>,
    pub label_override: Option<String>,
    pub default_enabled: bool,
    pub default_label: String,
}

#[derive(Debug, Clone)]
pub struct PortalSettings {
    pub portal_enabled: bool,
    /// Client admins edit contact and asset details themselves instead of requesting changes.
    pub client_admin_edits: bool,
    pub sections: Vec<SectionSetting>,
}

/// A requested change to one section for one company. `None` returns to the workspace default.
#[derive(Debug, Clone)]
pub struct SectionChange {
    pub section: Section,
    pub enabled: Option<bool>,
    pub label: Option<String>,
}

pub const MAX_LABEL_LEN: usize = 40;

struct SettingRow {
    section: String,
    default_enabled: Option<bool>,
    default_label: Option<String>,
    company_enabled: Option<bool>,
    company_label: Option<String>,
}
crate::sql::db_row!(SettingRow {
    section,
    default_enabled,
    default_label,
    company_enabled,
    company_label
});

/// The columns [`read_section_settings`] reads, from workspace defaults `d` joined to one
/// company's overrides `o`.
pub(crate) const SECTION_COLUMNS: &str = "d.section, d.enabled AS default_enabled, \
     d.label AS default_label, o.enabled AS company_enabled, o.label AS company_label";

/// Every section's effective setting, from the rows `query` selects ([`SECTION_COLUMNS`]).
pub(crate) async fn read_section_settings(
    tx: &mut Tx,
    query: Q,
) -> Result<Vec<SectionSetting>, StoreError> {
    // Every known section is listed, so that sections without a stored row still show.
    let rows: Vec<SettingRow> = tx.all(query).await?;
    Ok(Section::ALL
        .iter()
        .map(|&section| {
            let row = rows.iter().find(|r| r.section == section.as_str());
            let default_enabled = row
                .and_then(|r| r.default_enabled)
                .unwrap_or(section.enabled_by_default());
            let default_label = row
                .and_then(|r| r.default_label.clone())
                .unwrap_or_else(|| section.label().to_owned());
            let enabled_override = row.and_then(|r| r.company_enabled);
            let label_override = row.and_then(|r| r.company_label.clone());
            SectionSetting {
                section,
                enabled: section.always_on() || enabled_override.unwrap_or(default_enabled),
                label: label_override
                    .clone()
                    .unwrap_or_else(|| default_label.clone()),
                enabled_override,
                label_override,
                default_enabled,
                default_label,
            }
        })
        .collect())
}

/// Trims a label and checks it fits the navigation.
pub fn clean_label(label: &str) -> Result<Option<String>, StoreError> {
    let label = label.trim();
    if label.is_empty() {
        return Ok(None);
    }
    if label.chars().count() > MAX_LABEL_LEN {
        return Err(StoreError::Invalid(format!(
            "Section labels are at most {MAX_LABEL_LEN} characters."
        )));
    }
    Ok(Some(label.to_owned()))
}

impl ScopedTx<'_> {
    /// The workspace defaults every company's portal starts from.
    pub async fn section_defaults(&mut self) -> Result<Vec<SectionSetting>, StoreError> {
        self.scope.may(Action::ManagePortalSettings)?;
        // A company id that cannot exist: no override applies, leaving the defaults.
        let query = self.section_query(CompanyId::from_stored(""));
        read_section_settings(&mut self.tx, query).await
    }

    /// The workspace's section defaults joined to `company`'s overrides.
    fn section_query(&self, company: CompanyId) -> Q {
        let mut query = Q::new(&format!(
            "SELECT {SECTION_COLUMNS} FROM workspace_section_defaults d LEFT JOIN company_section_settings o \
             ON o.workspace_id = d.workspace_id AND o.section = d.section AND o.company_id = "
        ));
        query.arg(company).sql(" WHERE 1 = 1");
        self.fenced(&mut query, &fence::WORKSPACE_SECTION_DEFAULTS, "d");
        query
    }

    /// Sets the workspace defaults; companies without an override follow them at once.
    pub async fn save_section_defaults(
        &mut self,
        defaults: &[(Section, bool, String)],
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManagePortalSettings)?;
        for (section, enabled, label) in defaults {
            let label = clean_label(label)?.unwrap_or_else(|| section.label().to_owned());
            self.tx
                .exec(q!(
                    "INSERT INTO workspace_section_defaults (workspace_id, section, enabled, label) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (workspace_id, section) DO UPDATE SET enabled = excluded.enabled, label = excluded.label",
                    self.scope.workspace(),
                    section.as_str(),
                    *enabled,
                    label
                ))
                .await?;
        }
        self.audit(
            portico_core::AuditAction::SettingsChanged,
            None,
            portico_core::AuditTarget::new(
                "portal_defaults",
                "",
                "Portal sections (workspace defaults)",
            ),
            "",
        )
        .await?;
        Ok(())
    }

    /// A company's portal settings.
    pub async fn portal_settings(
        &mut self,
        company: CompanyId,
    ) -> Result<PortalSettings, StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ManagePortalSettings)?;
        let mut query = self.select(
            "c.portal_enabled, c.client_admin_edits",
            &fence::COMPANIES,
            "c",
        );
        query.sql(" AND c.id = ").arg(company);
        let (portal_enabled, client_admin_edits): (bool, bool) = self.tx.one(query).await?;
        let query = self.section_query(company);
        let sections = read_section_settings(&mut self.tx, query).await?;
        Ok(PortalSettings {
            portal_enabled,
            client_admin_edits,
            sections,
        })
    }

    /// Switches a company's portal, says whether its client admins edit contacts and assets
    /// directly, and sets its section overrides.
    pub async fn save_portal_settings(
        &mut self,
        company: CompanyId,
        portal_enabled: bool,
        client_admin_edits: bool,
        changes: &[SectionChange],
    ) -> Result<(), StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ManagePortalSettings)?;
        if portal_enabled {
            // An archived company has no portal.
            self.company_taking_work(company).await?;
        }
        let mut query = self.update(&fence::COMPANIES, |set| {
            set.sql("portal_enabled = ")
                .arg(portal_enabled)
                .sql(", client_admin_edits = ")
                .arg(client_admin_edits);
        });
        query.sql(" AND id = ").arg(company);
        self.tx.exec(query).await?;
        for change in changes {
            if change
                .label
                .as_ref()
                .is_some_and(|l| l.chars().count() > MAX_LABEL_LEN)
            {
                return Err(StoreError::Invalid(format!(
                    "Section labels are at most {MAX_LABEL_LEN} characters."
                )));
            }
            self.tx
                .exec(q!(
                    "INSERT INTO company_section_settings (workspace_id, company_id, section, enabled, label) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (company_id, section) \
                     DO UPDATE SET enabled = excluded.enabled, label = excluded.label",
                    self.scope.workspace(),
                    company,
                    change.section.as_str(),
                    change.enabled,
                    change.label.clone()
                ))
                .await?;
        }
        self.audit(
            portico_core::AuditAction::SettingsChanged,
            Some(company),
            portico_core::AuditTarget::new("portal_settings", company, "Portal settings"),
            &format!(
                "portal {}; client admins {} details",
                if portal_enabled { "on" } else { "off" },
                if client_admin_edits {
                    "edit"
                } else {
                    "ask to change"
                }
            ),
        )
        .await?;
        Ok(())
    }
}

/// A company's yes/no sign-in requirements for its portal users, by column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompanyRequirement {
    TwoStepVerification,
    SingleSignOn,
}

impl CompanyRequirement {
    fn column(self) -> &'static str {
        match self {
            CompanyRequirement::TwoStepVerification => "portal_mfa_required",
            CompanyRequirement::SingleSignOn => "sso_required",
        }
    }
}

impl ScopedTx<'_> {
    /// Whether the company requires it of its portal users (those who manage its portal
    /// settings read it).
    pub(crate) async fn company_requires(
        &mut self,
        company: CompanyId,
        requirement: CompanyRequirement,
    ) -> Result<bool, StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ManagePortalSettings)?;
        let mut query = self.select(
            &format!("c.{}", requirement.column()),
            &fence::COMPANIES,
            "c",
        );
        query.sql(" AND c.id = ").arg(company);
        let (required,): (bool,) = self.tx.one(query).await?;
        Ok(required)
    }

    /// Sets it, recording `detail` on the company's audit chain when it changes.
    pub(crate) async fn set_company_requires(
        &mut self,
        company: CompanyId,
        requirement: CompanyRequirement,
        required: bool,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut query = self.update(&fence::COMPANIES, |set| {
            set.sql(requirement.column()).sql(" = ").arg(required);
        });
        query.sql(" AND id = ").arg(company);
        self.tx.exec(query).await?;
        self.audit(
            portico_core::AuditAction::SettingsChanged,
            Some(company),
            portico_core::AuditTarget::new("portal_settings", company, "Portal settings"),
            detail,
        )
        .await
    }
}
