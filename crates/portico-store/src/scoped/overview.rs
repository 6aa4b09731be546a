//! The portal Overview's figures beyond tickets (P1): devices, warranties ending soon, the
//! plan's included hours used this month, open change requests and the next planned maintenance, each only when its
//! section is open to the reader, read as that section reads them (the same fences; a warranty
//! figure only where the warranty field is shown).

use portico_core::{Action, AssetField, CompanyId, Section, Zone};

use crate::scoped::change_requests::OPEN_REQUEST;
use crate::scoped::{ScopedTx, fence};
use crate::{StoreError, now};

/// Warranties ending within this many days count as ending soon.
pub const WARRANTY_SOON_DAYS: i64 = 30;

#[derive(Debug, Clone, Default)]
pub struct OverviewFigures {
    /// Current (not archived) assets the reader may see.
    pub devices: Option<i64>,
    /// Of those, warranties ending today or within [`WARRANTY_SOON_DAYS`].
    pub warranties_ending: Option<i64>,
    /// Work logged against the plan's included hours this month, in minutes, and the plan's
    /// allowance (`None`: it includes none).
    pub included_used: Option<(i64, Option<i64>)>,
    /// The next planned maintenance window: its title and start.
    pub next_maintenance: Option<(String, i64)>,
    /// Change requests the reader may see that are still to be acted on.
    pub open_changes: Option<i64>,
    /// Licences assigned of those purchased (current products a connector read), when there
    /// are any.
    pub licences_in_use: Option<(i64, i64)>,
    /// The latest compliance assessment of each framework assessed: its name, score (0–100)
    /// and maturity level (maturity frameworks).
    pub compliance: Vec<(String, i64, Option<i64>)>,
    /// Backup jobs in service failing or stale, of those in service (when there are any).
    pub backup: Option<(i64, i64)>,
    /// Security alerts not yet resolved (the Security section's readers).
    pub open_alerts: Option<i64>,
}

impl ScopedTx<'_> {
    /// The figures of a portal reader's company, in the reader's calendar (`zone`).
    pub async fn overview_figures(
        &mut self,
        company: CompanyId,
        zone: &Zone,
    ) -> Result<OverviewFigures, StoreError> {
        self.scope.may(Action::ViewSection(Section::Overview))?;
        let open = |s: Section| self.scope.may(Action::ViewSection(s)).is_ok();
        let (assets_open, work_open, maintenance_open, changes_open, licences_open) = (
            open(Section::Assets),
            open(Section::Work),
            open(Section::Maintenance),
            open(Section::ChangeRequests),
            open(Section::Licences),
        );
        let compliance_open = open(Section::Compliance);
        let (backup_open, security_open) = (open(Section::Backup), open(Section::Security));
        let at = now();
        let today = zone.date_after(at, 0).unwrap_or_default();
        let mut figures = OverviewFigures::default();
        if assets_open {
            let shows_warranty = self
                .shown_asset_fields(company)
                .await?
                .shows(&AssetField::WarrantyEnd);
            // Summed from the company's tallies (within a site restriction, its sites'), as
            // the asset list counts: counting the assets themselves was 60% of the page.
            let query = self.tallied(company, &super::assets::AssetQuery::default());
            figures.devices = Some(self.tx.count(query).await?);
            if shows_warranty {
                let soon = zone.date_after(at, WARRANTY_SOON_DAYS).unwrap_or_default();
                let mut query = self.select("COUNT(*)", &fence::ASSETS, "a");
                query
                    .sql(" AND a.company_id = ")
                    .arg(company)
                    .sql(" AND a.archived_at IS NULL AND a.warranty_end >= ")
                    .arg(today.as_str())
                    .sql(" AND a.warranty_end <= ")
                    .arg(soon);
                figures.warranties_ending = Some(self.tx.count(query).await?);
            }
        }
        if work_open {
            let month = today.get(..7).unwrap_or_default();
            let mut query = self.select(
                "CAST(COALESCE(SUM(e.minutes), 0) AS BIGINT)",
                &fence::TIME_ENTRIES,
                "e",
            );
            query
                .sql(" AND e.company_id = ")
                .arg(company)
                .sql(" AND e.billable = ")
                .arg(false)
                .sql(" AND e.worked_on >= ")
                .arg(format!("{month}-01"))
                .sql(" AND e.worked_on <= ")
                .arg(format!("{month}-31"));
            let (used,): (i64,) = self.tx.one(query).await?;
            let mut query = self.select("c.included_minutes", &fence::COMPANIES, "c");
            query.sql(" AND c.id = ").arg(company);
            let (allowance,): (Option<i64>,) = self.tx.one(query).await?;
            figures.included_used = Some((used, allowance));
        }
        if maintenance_open {
            let mut query = self.select("m.title, m.starts_at", &fence::MAINTENANCE_RECORDS, "m");
            query
                .sql(" AND m.company_id = ")
                .arg(company)
                .sql(" AND m.outcome = 'planned' AND COALESCE(m.ends_at, m.starts_at) >= ")
                .arg(at)
                .sql(" ORDER BY m.starts_at LIMIT 1");
            figures.next_maintenance = self.tx.optional(query).await?;
        }
        if changes_open {
            let mut query = self.select("COUNT(*)", &fence::CHANGE_REQUESTS, "r");
            query
                .sql(" AND r.company_id = ")
                .arg(company)
                .sql(OPEN_REQUEST);
            figures.open_changes = Some(self.tx.count(query).await?);
        }
        if licences_open {
            let mut query = self.select(
                "COUNT(*), CAST(COALESCE(SUM(l.assigned), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(l.purchased), 0) AS BIGINT)",
                &fence::LICENCES,
                "l",
            );
            query
                .sql(" AND l.company_id = ")
                .arg(company)
                .sql(" AND l.retired_at IS NULL");
            let (products, assigned, purchased): (i64, i64, i64) = self.tx.one(query).await?;
            figures.licences_in_use = (products > 0).then_some((assigned, purchased));
        }
        if backup_open {
            self.scope.may(Action::ViewBackups)?;
            // Only what the figure needs, unsorted: reading every job's whole row in name order
            // was most of the member's Overview.
            let mut query = self.select(
                "b.last_result, b.last_success_at, b.expected_every_hours",
                &fence::BACKUP_JOBS,
                "b",
            );
            query
                .sql(" AND b.company_id = ")
                .arg(company)
                .sql(" AND b.retired_at IS NULL");
            let jobs: Vec<(String, Option<i64>, i64)> = self.tx.all(query).await?;
            let attention = jobs
                .iter()
                .filter(|(result, success, every)| {
                    super::backups::needs_attention(result, *success, *every, at)
                })
                .count() as i64;
            figures.backup = (!jobs.is_empty()).then_some((attention, jobs.len() as i64));
        }
        if security_open {
            let mut query = self.select("COUNT(*)", &fence::SECURITY_ALERTS, "s");
            query
                .sql(" AND s.company_id = ")
                .arg(company)
                .sql(" AND s.status <> 'resolved'");
            figures.open_alerts = Some(self.tx.count(query).await?);
        }
        if compliance_open {
            for latest in self.compliance_scores(company).await? {
                let name = portico_core::compliance::framework(&latest.framework)
                    .map_or_else(|| latest.framework.clone(), |f| f.name.clone());
                figures
                    .compliance
                    .push((name, latest.percent, latest.level));
            }
        }
        Ok(figures)
    }
}
