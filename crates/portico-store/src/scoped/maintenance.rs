//! Maintenance (P4): what staff did on a company's systems, or plan to do — a patching run,
//! updates, scheduled work — with the sites and assets it touched. Staff record it; the portal
//! shows planned windows ahead and the history behind. A site-restricted reader sees the records
//! that touch one of their sites or concern the whole company, and only their sites' targets.

use portico_core::{
    Action, AssetId, CompanyId, MaintenanceId, MaintenanceKind, MaintenanceOutcome, Section,
    SiteId, Zone,
};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

const MAX_TITLE: usize = 120;
const MAX_SUMMARY: usize = 4_000;
/// Assets one record may name; more is a fleet-wide run, recorded against the sites instead.
const MAX_ASSETS: usize = 200;
/// Sites one record may name.
const MAX_SITES: usize = 500;
/// History records a page shows.
pub const HISTORY_PAGE: i64 = 50;

/// One piece of maintenance as the reader may see it.
#[derive(Debug, Clone)]
pub struct MaintenanceRecord {
    pub id: MaintenanceId,
    pub company_id: CompanyId,
    pub kind: MaintenanceKind,
    pub outcome: MaintenanceOutcome,
    pub title: String,
    pub summary: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub staff_name: String,
    /// The sites it touched as a whole; none and no assets: the whole company.
    pub sites: Vec<(SiteId, String)>,
    /// The assets it touched that the reader may see.
    pub assets: Vec<(AssetId, String)>,
    /// How many sites and assets it touched in all: none is the whole company; more than the
    /// reader is shown means some are beyond the reader's sites.
    pub target_count: i64,
}

impl MaintenanceRecord {
    /// Whether it touched things the reader is not shown.
    pub fn more_targets(&self) -> bool {
        (self.sites.len() + self.assets.len()) as i64 != self.target_count
    }
}

impl MaintenanceRecord {
    /// Planned and not yet over: shown ahead of the history.
    pub fn is_ahead(&self, at: i64) -> bool {
        self.outcome == MaintenanceOutcome::Planned && self.ends_at.unwrap_or(self.starts_at) >= at
    }
}

/// A company's maintenance: the planned windows ahead (soonest first) and one page of history
/// (latest first).
#[derive(Debug, Clone, Default)]
pub struct MaintenanceList {
    pub ahead: Vec<MaintenanceRecord>,
    pub history: Vec<MaintenanceRecord>,
    /// Whether an older page of history exists.
    pub more: bool,
}

/// Which history a list shows.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceFilter {
    pub kind: Option<MaintenanceKind>,
    /// Pages of [`HISTORY_PAGE`] records, from 0.
    pub page: i64,
}

/// What the maintenance form submits; times are the writer's wall clock.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceDraft {
    pub kind: String,
    pub outcome: String,
    pub title: String,
    pub summary: String,
    /// `YYYY-MM-DDTHH:MM`.
    pub starts_at: String,
    /// `YYYY-MM-DDTHH:MM`, or empty.
    pub ends_at: String,
    /// Ids of the company's sites touched as a whole.
    pub sites: Vec<String>,
    /// The assets touched, one name or serial number a line.
    pub assets: String,
}

struct RecordRow {
    id: String,
    company_id: String,
    kind: String,
    outcome: String,
    title: String,
    summary: String,
    starts_at: i64,
    ends_at: Option<i64>,
    staff_name: String,
    target_count: i64,
}
crate::sql::db_row!(RecordRow {
    id,
    company_id,
    kind,
    outcome,
    title,
    summary,
    starts_at,
    ends_at,
    staff_name,
    target_count
});

impl RecordRow {
    fn into_record(self) -> MaintenanceRecord {
        MaintenanceRecord {
            id: MaintenanceId::from_stored(&self.id),
            company_id: CompanyId::from_stored(&self.company_id),
            kind: MaintenanceKind::parse(&self.kind).unwrap_or(MaintenanceKind::Other),
            outcome: MaintenanceOutcome::parse(&self.outcome)
                .unwrap_or(MaintenanceOutcome::Planned),
            title: self.title,
            summary: self.summary,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            staff_name: self.staff_name,
            sites: Vec::new(),
            assets: Vec::new(),
            target_count: self.target_count,
        }
    }
}

struct TargetRow {
    record_id: String,
    site_id: Option<String>,
    site_name: Option<String>,
    asset_id: Option<String>,
    asset_name: Option<String>,
}
crate::sql::db_row!(TargetRow {
    record_id,
    site_id,
    site_name,
    asset_id,
    asset_name
});

// The count of targets is of the record's own rows (reached by key), whatever the reader sees.
const RECORD_COLUMNS: &str = "m.id, m.company_id, m.kind, m.outcome, m.title, m.summary, m.starts_at, m.ends_at, m.staff_name, \
     (SELECT COUNT(*) FROM maintenance_targets n WHERE n.record_id = m.id) AS target_count";

/// A checked draft, ready to store.
struct Checked {
    kind: MaintenanceKind,
    outcome: MaintenanceOutcome,
    title: String,
    summary: String,
    starts_at: i64,
    ends_at: Option<i64>,
    sites: Vec<SiteId>,
    /// Each asset with the site it stands at.
    assets: Vec<(AssetId, Option<String>)>,
}

impl ScopedTx<'_> {
    /// Checks the caller may read maintenance: the portal through its Maintenance section.
    fn may_read_maintenance(&self) -> Result<(), StoreError> {
        if self.scope.is_portal() {
            self.scope.may(Action::ViewSection(Section::Maintenance))?;
        } else {
            self.scope.may(Action::ViewCompanies)?;
        }
        Ok(())
    }

    /// A company's maintenance as the reader may see it.
    pub async fn maintenance(
        &mut self,
        company: CompanyId,
        filter: &MaintenanceFilter,
    ) -> Result<MaintenanceList, StoreError> {
        self.may_read_maintenance()?;
        if !self.scope.is_portal() {
            self.visible_company(company).await?;
        }
        let at = now();
        let mut query = self.select(RECORD_COLUMNS, &fence::MAINTENANCE_RECORDS, "m");
        query
            .sql(" AND m.company_id = ")
            .arg(company)
            .sql(" AND m.outcome = 'planned' AND COALESCE(m.ends_at, m.starts_at) >= ")
            .arg(at)
            .sql(" ORDER BY m.starts_at, m.id LIMIT 100");
        let ahead: Vec<RecordRow> = self.tx.all(query).await?;

        let mut query = self.select(RECORD_COLUMNS, &fence::MAINTENANCE_RECORDS, "m");
        query
            .sql(" AND m.company_id = ")
            .arg(company)
            .sql(" AND NOT (m.outcome = 'planned' AND COALESCE(m.ends_at, m.starts_at) >= ")
            .arg(at)
            .sql(")");
        if let Some(kind) = filter.kind {
            query.sql(" AND m.kind = ").arg(kind.as_str());
        }
        query
            .sql(" ORDER BY m.starts_at DESC, m.id DESC LIMIT ")
            .arg(HISTORY_PAGE + 1)
            .offset(filter.page.clamp(0, 10_000) * HISTORY_PAGE);
        let mut history: Vec<RecordRow> = self.tx.all(query).await?;
        let more = history.len() as i64 > HISTORY_PAGE;
        history.truncate(HISTORY_PAGE as usize);

        let mut ahead: Vec<MaintenanceRecord> =
            ahead.into_iter().map(RecordRow::into_record).collect();
        let mut history: Vec<MaintenanceRecord> =
            history.into_iter().map(RecordRow::into_record).collect();
        self.attach_targets(ahead.iter_mut().chain(history.iter_mut()))
            .await?;
        Ok(MaintenanceList {
            ahead,
            history,
            more,
        })
    }

    /// Up to `limit` of a company's records (planned and past), latest start first, after
    /// `after` (a start and id a page before ended at): keyset paging for the API.
    pub async fn maintenance_after(
        &mut self,
        company: CompanyId,
        kind: Option<MaintenanceKind>,
        after: Option<(i64, MaintenanceId)>,
        limit: i64,
    ) -> Result<Vec<MaintenanceRecord>, StoreError> {
        self.may_read_maintenance()?;
        if !self.scope.is_portal() {
            self.visible_company(company).await?;
        }
        let mut query = self.select(RECORD_COLUMNS, &fence::MAINTENANCE_RECORDS, "m");
        query.sql(" AND m.company_id = ").arg(company);
        if let Some(kind) = kind {
            query.sql(" AND m.kind = ").arg(kind.as_str());
        }
        if let Some((starts, id)) = after {
            let (t, i) = (query.placeholder(starts), query.placeholder(id));
            query.sql(&format!(
                " AND (m.starts_at < {t} OR (m.starts_at = {t} AND m.id < {i}))"
            ));
        }
        query
            .sql(" ORDER BY m.starts_at DESC, m.id DESC LIMIT ")
            .arg(limit.clamp(1, 201));
        let rows: Vec<RecordRow> = self.tx.all(query).await?;
        let mut records: Vec<MaintenanceRecord> =
            rows.into_iter().map(RecordRow::into_record).collect();
        self.attach_targets(records.iter_mut()).await?;
        Ok(records)
    }

    /// One record of a company, as the reader may see it.
    pub async fn maintenance_record(
        &mut self,
        company: CompanyId,
        id: MaintenanceId,
    ) -> Result<MaintenanceRecord, StoreError> {
        self.may_read_maintenance()?;
        let mut query = self.select(RECORD_COLUMNS, &fence::MAINTENANCE_RECORDS, "m");
        query
            .sql(" AND m.company_id = ")
            .arg(company)
            .sql(" AND m.id = ")
            .arg(id);
        let row: RecordRow = self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        let mut record = row.into_record();
        self.attach_targets(std::iter::once(&mut record)).await?;
        Ok(record)
    }

    /// The maintenance that touched one asset the reader may see, latest first.
    pub async fn asset_maintenance(
        &mut self,
        company: CompanyId,
        asset: AssetId,
    ) -> Result<Vec<MaintenanceRecord>, StoreError> {
        self.may_read_maintenance()?;
        let mut query = self.select(RECORD_COLUMNS, &fence::MAINTENANCE_RECORDS, "m");
        query
            .sql(" AND m.company_id = ")
            .arg(company)
            .sql(" AND EXISTS (SELECT 1 FROM maintenance_targets t WHERE t.record_id = m.id");
        self.fenced(&mut query, &fence::MAINTENANCE_TARGETS, "t");
        query
            .sql(" AND t.asset_id = ")
            .arg(asset)
            .sql(") ORDER BY m.starts_at DESC, m.id DESC LIMIT 20");
        let rows: Vec<RecordRow> = self.tx.all(query).await?;
        let mut records: Vec<MaintenanceRecord> =
            rows.into_iter().map(RecordRow::into_record).collect();
        self.attach_targets(records.iter_mut()).await?;
        Ok(records)
    }

    /// Fills in each record's sites and assets, those the reader may see, in one statement.
    async fn attach_targets<'r>(
        &mut self,
        records: impl Iterator<Item = &'r mut MaintenanceRecord>,
    ) -> Result<(), StoreError> {
        let mut records: Vec<&mut MaintenanceRecord> = records.collect();
        if records.is_empty() {
            return Ok(());
        }
        let ids: Vec<MaintenanceId> = records.iter().map(|r| r.id).collect();
        let mut query = self.select_joined(
            "t.record_id, t.site_id, s.name AS site_name, t.asset_id, a.name AS asset_name",
            &fence::MAINTENANCE_TARGETS,
            "t",
            " LEFT JOIN sites s ON s.workspace_id = t.workspace_id AND s.company_id = t.company_id AND s.id = t.site_id \
             LEFT JOIN assets a ON a.workspace_id = t.workspace_id AND a.company_id = t.company_id AND a.id = t.asset_id",
        );
        query.sql(" AND ");
        query.in_list("t.record_id", &ids);
        query.sql(" ORDER BY s.name, a.name");
        let rows: Vec<TargetRow> = self.tx.all(query).await?;
        // An own-tickets-only reader is shown no site anywhere (as on assets and tickets).
        let shows_sites = self.scope.requester().is_none();
        for TargetRow {
            record_id,
            site_id,
            site_name,
            asset_id,
            asset_name,
        } in rows
        {
            let Some(record) = records.iter_mut().find(|r| r.id.to_string() == record_id) else {
                continue;
            };
            match (asset_id, asset_name, site_id, site_name) {
                (Some(asset), Some(name), _, _) => {
                    record.assets.push((AssetId::from_stored(&asset), name));
                }
                (None, _, Some(site), Some(name)) if shows_sites => {
                    record.sites.push((SiteId::from_stored(&site), name));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Records maintenance on a company in scope; owners and technicians.
    pub async fn add_maintenance(
        &mut self,
        company: CompanyId,
        draft: &MaintenanceDraft,
        zone: &Zone,
    ) -> Result<MaintenanceId, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        let checked = self.check_maintenance(company, draft, zone).await?;
        let id = MaintenanceId::new();
        let at = now();
        self.tx
            .exec(q!(
                "INSERT INTO maintenance_records (workspace_id, company_id, id, kind, outcome, title, summary, starts_at, \
                 ends_at, staff_name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                self.scope.workspace(),
                company,
                id,
                checked.kind.as_str(),
                checked.outcome.as_str(),
                checked.title.as_str(),
                checked.summary.as_str(),
                checked.starts_at,
                checked.ends_at,
                self.scope.actor_name(),
                at
            ))
            .await?;
        self.store_targets(company, id, &checked).await?;
        self.audit(
            portico_core::AuditAction::RecordCreated,
            Some(company),
            portico_core::AuditTarget::new("maintenance", id, checked.title.as_str()),
            "",
        )
        .await?;
        Ok(id)
    }

    /// Changes a record: its outcome once the work is done, its window, what it touched.
    pub async fn update_maintenance(
        &mut self,
        company: CompanyId,
        id: MaintenanceId,
        draft: &MaintenanceDraft,
        zone: &Zone,
    ) -> Result<(), StoreError> {
        self.maintenance_record(company, id).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        let checked = self.check_maintenance(company, draft, zone).await?;
        let mut update = self.update(&fence::MAINTENANCE_RECORDS, |set| {
            set.sql("kind = ")
                .arg(checked.kind.as_str())
                .sql(", outcome = ")
                .arg(checked.outcome.as_str())
                .sql(", title = ")
                .arg(checked.title.as_str())
                .sql(", summary = ")
                .arg(checked.summary.as_str())
                .sql(", starts_at = ")
                .arg(checked.starts_at)
                .sql(", ends_at = ")
                .arg(checked.ends_at)
                .sql(", updated_at = ")
                .arg(now());
        });
        update
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(id);
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::NotFound);
        }
        let mut delete = self.delete(&fence::MAINTENANCE_TARGETS);
        delete
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND record_id = ")
            .arg(id);
        self.tx.exec(delete).await?;
        self.store_targets(company, id, &checked).await?;
        self.audit(
            portico_core::AuditAction::RecordUpdated,
            Some(company),
            portico_core::AuditTarget::new("maintenance", id, checked.title.as_str()),
            "",
        )
        .await
    }

    async fn store_targets(
        &mut self,
        company: CompanyId,
        id: MaintenanceId,
        checked: &Checked,
    ) -> Result<(), StoreError> {
        for site in &checked.sites {
            self.tx
                .exec(q!(
                    "INSERT INTO maintenance_targets (workspace_id, company_id, record_id, site_id, asset_id) \
                     VALUES ($1, $2, $3, $4, NULL)",
                    self.scope.workspace(),
                    company,
                    id,
                    *site
                ))
                .await?;
        }
        for (asset, site) in &checked.assets {
            self.tx
                .exec(q!(
                    "INSERT INTO maintenance_targets (workspace_id, company_id, record_id, site_id, asset_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                    self.scope.workspace(),
                    company,
                    id,
                    site.clone(),
                    *asset
                ))
                .await?;
        }
        Ok(())
    }

    /// Checks a draft field by field; every refusal at once.
    async fn check_maintenance(
        &mut self,
        company: CompanyId,
        draft: &MaintenanceDraft,
        zone: &Zone,
    ) -> Result<Checked, StoreError> {
        let mut refusals: Vec<(String, String)> = Vec::new();
        let mut refuse = |field: &str, message: String| {
            refusals.push((field.to_owned(), message));
        };
        let kind = MaintenanceKind::parse(draft.kind.trim());
        if kind.is_none() {
            refuse(
                "kind",
                "Choose what kind of maintenance this is.".to_owned(),
            );
        }
        let outcome = MaintenanceOutcome::parse(draft.outcome.trim());
        if outcome.is_none() {
            refuse(
                "outcome",
                "Choose how it went, or Planned for work ahead.".to_owned(),
            );
        }
        let title = draft.title.trim();
        if title.is_empty()
            || title.chars().count() > MAX_TITLE
            || title.chars().any(char::is_control)
        {
            refuse(
                "title",
                format!("Give it a title (one line, at most {MAX_TITLE} characters)."),
            );
        }
        let summary = draft.summary.trim();
        let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
        if summary.chars().count() > MAX_SUMMARY || !summary.chars().all(allowed) {
            refuse(
                "summary",
                format!("Keep the summary to at most {MAX_SUMMARY} characters."),
            );
        }
        let starts_at = zone.parse_local(&draft.starts_at);
        if starts_at.is_none() {
            refuse(
                "starts_at",
                "Enter when it started (or starts) as a date and time, such as 2026-12-03 22:00."
                    .to_owned(),
            );
        }
        let ends_at = if draft.ends_at.trim().is_empty() {
            Some(None)
        } else {
            zone.parse_local(&draft.ends_at).map(Some)
        };
        match (starts_at, ends_at) {
            (_, None) => refuse(
                "ends_at",
                "Enter when it ended (or ends) as a date and time, or leave it empty.".to_owned(),
            ),
            (Some(start), Some(Some(end))) if end < start => refuse(
                "ends_at",
                "The window cannot end before it starts.".to_owned(),
            ),
            _ => {}
        }
        // Work recorded as done cannot lie ahead: that is a plan.
        if let (Some(start), Some(outcome)) = (starts_at, outcome)
            && start > now() + 60
            && !matches!(
                outcome,
                MaintenanceOutcome::Planned | MaintenanceOutcome::Cancelled
            )
        {
            refuse(
                "outcome",
                "Work that starts in the future is Planned (or Cancelled); record how it went once it has happened."
                    .to_owned(),
            );
        }

        // Sites: the company's own, named by id from the form's boxes (or a tool's list, so
        // bounded: no company has more).
        let mut sites = Vec::new();
        let mut unknown_site = draft.sites.len() > MAX_SITES;
        let mut seen = std::collections::HashSet::new();
        for text in draft
            .sites
            .iter()
            .take(MAX_SITES)
            .filter(|t| !t.trim().is_empty())
        {
            match SiteId::parse(text.trim()) {
                Some(site) if seen.insert(site) => sites.push(site),
                Some(_) => {}
                None => unknown_site = true,
            }
        }
        if !sites.is_empty() {
            let mut query = self.select("s.id", &fence::SITES, "s");
            query.sql(" AND s.company_id = ").arg(company).sql(" AND ");
            query.in_list("s.id", &sites);
            let found: Vec<(String,)> = self.tx.all(query).await?;
            unknown_site |= found.len() != sites.len();
        }
        if unknown_site {
            refusals.push((
                "sites".to_owned(),
                "Choose sites of this company.".to_owned(),
            ));
        }

        // Assets: typed by name or serial number, one a line; each must name exactly one.
        let mut assets: Vec<(AssetId, Option<String>)> = Vec::new();
        let mut unknown = Vec::new();
        let mut ambiguous = Vec::new();
        let lines: Vec<&str> = draft
            .assets
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.len() > MAX_ASSETS {
            refusals.push((
                "assets".to_owned(),
                format!(
                    "Name at most {MAX_ASSETS} assets; for more, choose the sites the work covered."
                ),
            ));
        } else {
            for line in lines {
                let mut query = self.select("a.id, a.site_id", &fence::ASSETS, "a");
                query
                    .sql(" AND a.company_id = ")
                    .arg(company)
                    .sql(" AND (lower(a.name) = lower(")
                    .arg(line)
                    .sql(") OR (a.serial <> '' AND a.serial = ")
                    .arg(line)
                    .sql(")) LIMIT 2");
                let found: Vec<(String, Option<String>)> = self.tx.all(query).await?;
                match found.as_slice() {
                    [(id, site)] => {
                        let id = AssetId::from_stored(id);
                        if !assets.iter().any(|(a, _)| *a == id) {
                            assets.push((id, site.clone()));
                        }
                    }
                    [] => unknown.push(line.to_owned()),
                    _ => ambiguous.push(line.to_owned()),
                }
            }
            let mut message = Vec::new();
            if !unknown.is_empty() {
                message.push(format!(
                    "No asset of this company is named {}.",
                    unknown.join(", ")
                ));
            }
            if !ambiguous.is_empty() {
                message.push(format!(
                    "Several assets are named {}: use their serial numbers.",
                    ambiguous.join(", ")
                ));
            }
            if !message.is_empty() {
                refusals.push(("assets".to_owned(), message.join(" ")));
            }
        }

        match (kind, outcome, starts_at, ends_at) {
            (Some(kind), Some(outcome), Some(starts_at), Some(ends_at)) if refusals.is_empty() => {
                Ok(Checked {
                    kind,
                    outcome,
                    title: title.to_owned(),
                    summary: summary.to_owned(),
                    starts_at,
                    ends_at,
                    sites,
                    assets,
                })
            }
            _ => Err(StoreError::InvalidFields(refusals)),
        }
    }
}
