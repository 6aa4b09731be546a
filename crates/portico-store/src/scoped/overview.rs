//! The portal Overview's figures beyond tickets (P1): devices, warranties ending soon, the
//! plan's included hours used this month, open change requests and the next planned maintenance, each only when its
//! section is open to the reader, read as that section reads them (the same fences; a warranty
//! figure only where the warranty field is shown).

use portico_core::{Action, AssetField, CompanyId, Section, Zone};

use crate::scoped::change_requests::OPEN_REQUEST;
use crate::scoped::json_rows::{Cells, json_rows, parse_rows};
use crate::scoped::{ScopedTx, fence};
use crate::sql::Q;
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

/// The Overview's figures but the compliance scores, read in one statement (NULL: the section
/// is closed to the reader).
struct FigureRow {
    devices: Option<i64>,
    warranties_ending: Option<i64>,
    warranty_shown: Option<bool>,
    included_used: Option<i64>,
    included_allowance: Option<i64>,
    maintenance_title: Option<String>,
    maintenance_at: Option<i64>,
    open_changes: Option<i64>,
    licence_products: Option<i64>,
    licences_assigned: Option<i64>,
    licences_purchased: Option<i64>,
    open_alerts: Option<i64>,
    /// The backup jobs in service, as [`json_rows`] of (last result, last success, expected
    /// interval in hours).
    backup_jobs: Option<String>,
}
crate::sql::db_row!(FigureRow {
    devices,
    warranties_ending,
    warranty_shown,
    included_used,
    included_allowance,
    maintenance_title,
    maintenance_at,
    open_changes,
    licence_products,
    licences_assigned,
    licences_purchased,
    open_alerts,
    backup_jobs
});

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
        // Every figure but the compliance scores in one statement (on PostgreSQL one round trip
        // rather than one a figure); a section closed to the reader reads nothing (NULL).
        let mut query = Q::new("SELECT ");
        let none = "CAST(NULL AS BIGINT)";
        if assets_open {
            self.tallied_in(&mut query, company, &super::assets::AssetQuery::default());
            query.sql(" AS devices, ");
            let soon = zone.date_after(at, WARRANTY_SOON_DAYS).unwrap_or_default();
            self.sub_select(&mut query, "COUNT(*)", &fence::ASSETS, "a");
            query
                .sql(" AND a.company_id = ")
                .arg(company)
                .sql(" AND a.archived_at IS NULL AND a.warranty_end >= ")
                .arg(today.as_str())
                .sql(" AND a.warranty_end <= ")
                .arg(soon)
                .sql(") AS warranties_ending, ");
            // Whether the warranty field is shown here: the company's own choice where it has
            // made any, else the workspace's (NULL: its default), as the asset pages decide.
            self.field_shown_in(&mut query, company, AssetField::WarrantyEnd);
            query.sql(" AS warranty_shown, ");
        } else {
            query.sql(&format!(
                "{none} AS devices, {none} AS warranties_ending, \
                 CAST(NULL AS BOOLEAN) AS warranty_shown, "
            ));
        }
        if work_open {
            let month = today.get(..7).unwrap_or_default();
            self.sub_select(
                &mut query,
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
                .arg(format!("{month}-31"))
                .sql(") AS included_used, ");
            self.sub_select(&mut query, "c.included_minutes", &fence::COMPANIES, "c");
            query
                .sql(" AND c.id = ")
                .arg(company)
                .sql(") AS included_allowance, ");
        } else {
            query.sql(&format!(
                "{none} AS included_used, {none} AS included_allowance, "
            ));
        }
        if maintenance_open {
            query.sql("mt.title AS maintenance_title, mt.starts_at AS maintenance_at, ");
        } else {
            query.sql(&format!(
                "CAST(NULL AS TEXT) AS maintenance_title, {none} AS maintenance_at, "
            ));
        }
        if changes_open {
            self.sub_select(&mut query, "COUNT(*)", &fence::CHANGE_REQUESTS, "r");
            query
                .sql(" AND r.company_id = ")
                .arg(company)
                .sql(OPEN_REQUEST)
                .sql(") AS open_changes, ");
        } else {
            query.sql(&format!("{none} AS open_changes, "));
        }
        if licences_open {
            query.sql(
                "lic.products AS licence_products, lic.assigned AS licences_assigned, \
                 lic.purchased AS licences_purchased, ",
            );
        } else {
            query.sql(&format!(
                "{none} AS licence_products, {none} AS licences_assigned, \
                 {none} AS licences_purchased, "
            ));
        }
        if security_open {
            self.sub_select(&mut query, "COUNT(*)", &fence::SECURITY_ALERTS, "s");
            query
                .sql(" AND s.company_id = ")
                .arg(company)
                .sql(" AND s.status <> 'resolved') AS open_alerts, ");
        } else {
            query.sql(&format!("{none} AS open_alerts, "));
        }
        if backup_open {
            self.scope.may(Action::ViewBackups)?;
            // Only what the figure needs, unsorted: reading every job's whole row in name order
            // was most of the member's Overview.
            let columns = json_rows(
                self.tx.is_postgres(),
                "b.last_result, b.last_success_at, b.expected_every_hours",
            );
            self.sub_select(&mut query, &columns, &fence::BACKUP_JOBS, "b");
            query
                .sql(" AND b.company_id = ")
                .arg(company)
                .sql(" AND b.retired_at IS NULL) AS backup_jobs");
        } else {
            query.sql("CAST(NULL AS TEXT) AS backup_jobs");
        }
        // The figures read from one row each: every licence figure from one pass over the
        // company's products, the next maintenance window's title and start from one walk of
        // its index (no tie-break in the order: SQLite would sort rather than walk it). A
        // subquery a figure cost PostgreSQL's executor the set-up of each, on every request.
        if maintenance_open || licences_open {
            query.sql(" FROM (SELECT 1 AS one) o");
        }
        if licences_open {
            query.sql(" CROSS JOIN ");
            self.sub_select(
                &mut query,
                "COUNT(*) AS products, CAST(COALESCE(SUM(l.assigned), 0) AS BIGINT) AS assigned, \
                 CAST(COALESCE(SUM(l.purchased), 0) AS BIGINT) AS purchased",
                &fence::LICENCES,
                "l",
            );
            query
                .sql(" AND l.company_id = ")
                .arg(company)
                .sql(" AND l.retired_at IS NULL) lic");
        }
        if maintenance_open {
            // Planned or none: a left join of the one row.
            query.sql(" LEFT JOIN ");
            self.sub_select(
                &mut query,
                "m.title, m.starts_at",
                &fence::MAINTENANCE_RECORDS,
                "m",
            );
            query
                .sql(" AND m.company_id = ")
                .arg(company)
                .sql(" AND m.outcome = 'planned' AND COALESCE(m.ends_at, m.starts_at) >= ")
                .arg(at)
                .sql(" ORDER BY m.starts_at LIMIT 1) mt ON 1 = 1");
        }
        let row: FigureRow = self.tx.one(query).await?;
        if assets_open {
            figures.devices = Some(row.devices.unwrap_or(0));
            let shown = row
                .warranty_shown
                .unwrap_or(AssetField::WarrantyEnd.shown_by_default());
            if shown || !self.scope.is_portal() {
                figures.warranties_ending = Some(row.warranties_ending.unwrap_or(0));
            }
        }
        if work_open {
            figures.included_used = Some((row.included_used.unwrap_or(0), row.included_allowance));
        }
        figures.next_maintenance = row.maintenance_title.zip(row.maintenance_at);
        figures.open_changes = row.open_changes;
        if let (Some(products), Some(assigned), Some(purchased)) = (
            row.licence_products,
            row.licences_assigned,
            row.licences_purchased,
        ) {
            figures.licences_in_use = (products > 0).then_some((assigned, purchased));
        }
        figures.open_alerts = row.open_alerts;
        if let Some(jobs) = &row.backup_jobs {
            let jobs = parse_rows(jobs, "backup jobs")?;
            let mut attention = 0;
            for job in &jobs {
                let job = Cells(job);
                if super::backups::needs_attention(
                    &job.text(0)?,
                    job.optional_int(1)?,
                    job.int(2)?,
                    at,
                ) {
                    attention += 1;
                }
            }
            figures.backup = (!jobs.is_empty()).then_some((attention, jobs.len() as i64));
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
