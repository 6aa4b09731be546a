//! Reading assets: a company's list with filters, search, sort and pages, and one asset. Site
//! restriction applies (through the fence). Fields the company's portal does not show are
//! selected as empty for its portal users: they are not in what the store returns.

use portico_core::{Action, AssetField, AssetId, AssetKind, CompanyId, Section, SiteId};

use super::fields::ShownFields;
use crate::StoreError;
use crate::scoped::{ScopedTx, contains_pattern, fence};
use crate::sql::Q;

/// Assets on one page of a list.
pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone)]
pub struct Asset {
    pub id: AssetId,
    pub company_id: CompanyId,
    pub site_id: Option<SiteId>,
    pub site_name: Option<String>,
    pub name: String,
    pub kind: AssetKind,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub os: String,
    /// `YYYY-MM-DD`.
    pub warranty_end: Option<String>,
    pub purchased_on: Option<String>,
    pub last_seen_at: Option<i64>,
    pub assigned_user: String,
    pub notes: String,
    pub archived_at: Option<i64>,
    /// The workspace's own fields this reader is shown, with this asset's values (one page's
    /// asset only; lists leave it empty).
    pub custom: Vec<(String, String)>,
}

struct AssetRow {
    id: String,
    company_id: String,
    site_id: Option<String>,
    site_name: Option<String>,
    name: String,
    kind: String,
    manufacturer: String,
    model: String,
    serial: String,
    os: String,
    warranty_end: Option<String>,
    purchased_on: Option<String>,
    last_seen_at: Option<i64>,
    assigned_user: String,
    notes: String,
    archived_at: Option<i64>,
}
crate::sql::db_row!(AssetRow {
    id,
    company_id,
    site_id,
    site_name,
    name,
    kind,
    manufacturer,
    model,
    serial,
    os,
    warranty_end,
    purchased_on,
    last_seen_at,
    assigned_user,
    notes,
    archived_at
});

impl AssetRow {
    fn into_asset(self) -> Result<Asset, StoreError> {
        Ok(Asset {
            id: AssetId::from_stored(&self.id),
            company_id: CompanyId::from_stored(&self.company_id),
            site_id: self.site_id.as_deref().map(SiteId::from_stored),
            site_name: self.site_name,
            name: self.name,
            kind: AssetKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("asset kind {:?}", self.kind)))?,
            manufacturer: self.manufacturer,
            model: self.model,
            serial: self.serial,
            os: self.os,
            warranty_end: self.warranty_end,
            purchased_on: self.purchased_on,
            last_seen_at: self.last_seen_at,
            assigned_user: self.assigned_user,
            notes: self.notes,
            archived_at: self.archived_at,
            custom: Vec::new(),
        })
    }
}

/// The order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssetSort {
    #[default]
    Name,
    Kind,
    Site,
    /// Soonest first; assets without a warranty date last.
    WarrantyEnd,
    /// Most recently seen first.
    LastSeen,
}

impl AssetSort {
    pub const ALL: [AssetSort; 5] = [
        AssetSort::Name,
        AssetSort::Kind,
        AssetSort::Site,
        AssetSort::WarrantyEnd,
        AssetSort::LastSeen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssetSort::Name => "name",
            AssetSort::Kind => "type",
            AssetSort::Site => "site",
            AssetSort::WarrantyEnd => "warranty",
            AssetSort::LastSeen => "last_seen",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AssetSort::Name => "Name",
            AssetSort::Kind => "Type",
            AssetSort::Site => "Site",
            AssetSort::WarrantyEnd => "Warranty end",
            AssetSort::LastSeen => "Last seen",
        }
    }

    pub fn parse(text: &str) -> Option<AssetSort> {
        AssetSort::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The field the order needs: a sort by a field the reader is not shown is by name.
    fn field(self) -> Option<AssetField> {
        match self {
            AssetSort::WarrantyEnd => Some(AssetField::WarrantyEnd),
            AssetSort::LastSeen => Some(AssetField::LastSeen),
            _ => None,
        }
    }
}

/// Which warranties a list keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarrantyFilter {
    /// Ending between `today` and `until` (both `YYYY-MM-DD`, the reader's calendar).
    EndingBy { today: String, until: String },
    /// Ended before `today`.
    Ended { today: String },
}

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    pub site: Option<SiteId>,
    pub kind: Option<AssetKind>,
    pub warranty: Option<WarrantyFilter>,
    /// Words found in the name, serial number, model, manufacturer or assigned user (only
    /// those fields the reader is shown).
    pub search: String,
    pub sort: AssetSort,
    /// From 0.
    pub page: i64,
    /// Archived assets instead of the current ones (the console).
    pub archived: bool,
}

/// One page of a list, with the count of every match.
#[derive(Debug, Clone)]
pub struct AssetPage {
    pub assets: Vec<Asset>,
    pub total: i64,
    pub shown: ShownFields,
    /// The company's current sites the reader may filter by (id, name), by name: within a
    /// site restriction; none for an own-tickets-only reader, who is shown no site.
    pub sites: Vec<(String, String)>,
}

impl ScopedTx<'_> {
    /// Checks the caller may read assets: the portal through its Assets section.
    fn may_read_assets(&self) -> Result<(), StoreError> {
        if self.scope.is_portal() {
            self.scope.may(Action::ViewSection(Section::Assets))?;
        } else {
            self.scope.may(Action::ViewCompanies)?;
        }
        Ok(())
    }

    /// `SELECT … FROM assets a` with the reader's fields, fenced, for `company`.
    fn asset_select(&self, company: CompanyId, shown: &ShownFields) -> Q {
        self.asset_select_with(company, shown, true, false)
    }

    /// The same, with each asset's site name joined in or (`site_names` false) left for the
    /// caller to fill in: a page of fifty assets of a company with a handful of sites would
    /// otherwise look up fifty site rows for the same few names. A `list` leaves out what no
    /// list shows (operating system, purchase date, notes), so that its page is read from the
    /// list index alone.
    fn asset_select_with(
        &self,
        company: CompanyId,
        shown: &ShownFields,
        site_names: bool,
        list: bool,
    ) -> Q {
        let column = |field: AssetField, expr: &str, empty: &str| -> String {
            let listed = !matches!(
                field,
                AssetField::Os | AssetField::PurchasedOn | AssetField::Notes
            );
            if shown.shows(&field) && (listed || !list) {
                format!("{expr} AS {}", field.as_str())
            } else {
                format!("{empty} AS {}", field.as_str())
            }
        };
        // An own-tickets-only user is shown no site anywhere (tickets included): not its name,
        // nor which assets share one.
        let site = if self.scope.requester().is_some() {
            "NULL AS site_id, NULL AS site_name"
        } else if site_names {
            "a.site_id, s.name AS site_name"
        } else {
            "a.site_id, NULL AS site_name"
        };
        let columns = [
            format!("a.id, a.company_id, {site}, a.name, a.kind"),
            column(AssetField::Manufacturer, "a.manufacturer", "''"),
            column(AssetField::Model, "a.model", "''"),
            column(AssetField::Serial, "a.serial", "''"),
            column(AssetField::Os, "a.os", "''"),
            column(AssetField::WarrantyEnd, "a.warranty_end", "NULL"),
            column(AssetField::PurchasedOn, "a.purchased_on", "NULL"),
            if shown.shows(&AssetField::LastSeen) {
                "a.last_seen_at".to_owned()
            } else {
                "NULL AS last_seen_at".to_owned()
            },
            column(AssetField::AssignedUser, "a.assigned_user", "''"),
            column(AssetField::Notes, "a.notes", "''"),
            "a.archived_at".to_owned(),
        ]
        .join(", ");
        let joins = if site_names {
            " LEFT JOIN sites s ON s.workspace_id = a.workspace_id AND s.company_id = a.company_id AND s.id = a.site_id"
        } else {
            ""
        };
        let mut query = self.select_joined(&columns, &fence::ASSETS, "a", joins);
        query.sql(" AND a.company_id = ").arg(company);
        query
    }

    /// One page of a company's assets in scope.
    pub async fn assets(
        &mut self,
        company: CompanyId,
        wanted: &AssetQuery,
    ) -> Result<AssetPage, StoreError> {
        self.may_read_assets()?;
        let shown = self.shown_asset_fields(company).await?;
        let sort = match wanted.sort.field() {
            Some(field) if !shown.shows(&field) => AssetSort::Name,
            _ if wanted.sort == AssetSort::Site && self.scope.requester().is_some() => {
                AssetSort::Name
            }
            _ => wanted.sort,
        };
        // Sorting by site name needs it in the query; otherwise the page's few names are
        // read once below.
        let joined = sort == AssetSort::Site;
        let mut query = self.asset_select_with(company, &shown, joined, true);
        self.asset_filters(&mut query, wanted, &shown);
        let count = if self.filters_by_warranty(wanted, &shown) || !wanted.search.trim().is_empty()
        {
            let mut count = self.select("COUNT(*)", &fence::ASSETS, "a");
            count.sql(" AND a.company_id = ").arg(company);
            self.asset_filters(&mut count, wanted, &shown);
            count
        } else {
            self.tallied(company, wanted)
        };
        query.sql(match sort {
            AssetSort::Name => " ORDER BY a.name, a.id",
            AssetSort::Kind => " ORDER BY a.kind, a.name, a.id",
            AssetSort::Site => " ORDER BY s.name, a.name, a.id",
            // With a warranty filter every match has a date, and the order is the index's.
            AssetSort::WarrantyEnd
                if wanted.warranty.is_some() && shown.shows(&AssetField::WarrantyEnd) =>
            {
                " ORDER BY a.warranty_end, a.name, a.id"
            }
            AssetSort::WarrantyEnd => {
                " ORDER BY a.warranty_end IS NULL, a.warranty_end, a.name, a.id"
            }
            AssetSort::LastSeen => {
                " ORDER BY a.last_seen_at IS NULL, a.last_seen_at DESC, a.name, a.id"
            }
        });
        query
            .sql(" LIMIT ")
            .arg(PAGE_SIZE)
            .offset(wanted.page.max(0) * PAGE_SIZE);
        let mut rows: Vec<AssetRow> = self.tx.all(query).await?;
        let total = self.tx.count(count).await?;
        // The company's sites, read once: the page's site names (archived sites' too) and the
        // sites the reader may filter by. An own-tickets-only reader is shown no site at all.
        let mut sites = Vec::new();
        if self.scope.requester().is_none() {
            let mut query = self.select("s.id, s.name, s.archived_at", &fence::SITES, "s");
            query
                .sql(" AND s.company_id = ")
                .arg(company)
                .sql(" ORDER BY s.name, s.id");
            let all: Vec<(String, String, Option<i64>)> = self.tx.all(query).await?;
            if !joined {
                for row in &mut rows {
                    row.site_name = row.site_id.as_ref().and_then(|site| {
                        all.iter()
                            .find(|(id, _, _)| id == site)
                            .map(|(_, name, _)| name.clone())
                    });
                }
            }
            let mine = self.scope.sites();
            sites = all
                .into_iter()
                .filter(|(id, _, archived)| {
                    archived.is_none()
                        && mine.is_none_or(|mine| mine.iter().any(|m| m.to_string() == *id))
                })
                .map(|(id, name, _)| (id, name))
                .collect();
        }
        Ok(AssetPage {
            assets: rows
                .into_iter()
                .map(AssetRow::into_asset)
                .collect::<Result<_, _>>()?,
            total,
            shown,
            sites,
        })
    }

    /// The list's matches for an export, `limit` at a time in name order after `after` (the
    /// last row's name and id): each page an index range, so an export of any size reads in
    /// flat memory. The same fence, fields and filters as [`ScopedTx::assets`].
    pub async fn assets_after(
        &mut self,
        company: CompanyId,
        wanted: &AssetQuery,
        after: Option<(&str, AssetId)>,
        limit: i64,
    ) -> Result<(Vec<Asset>, ShownFields), StoreError> {
        self.may_read_assets()?;
        let shown = self.shown_asset_fields(company).await?;
        // Site names filled in after, from the page's few sites: joined, a page of fifty assets
        // at a handful of sites looked up a site's index entry and row for each asset.
        let mut query = self.asset_select_with(company, &shown, false, false);
        self.asset_filters(&mut query, wanted, &shown);
        if let Some((name, id)) = after {
            let (n, i) = (query.placeholder(name), query.placeholder(id));
            query.sql(&format!(
                " AND (a.name > {n} OR (a.name = {n} AND a.id > {i}))"
            ));
        }
        query
            .sql(" ORDER BY a.name, a.id LIMIT ")
            .arg(limit.clamp(1, 5_000));
        let mut rows: Vec<AssetRow> = self.tx.all(query).await?;
        self.name_sites(&mut rows).await?;
        let assets = rows
            .into_iter()
            .map(AssetRow::into_asset)
            .collect::<Result<_, _>>()?;
        Ok((assets, shown))
    }

    /// Fills in the site names of `rows` read without them: the names of their distinct sites,
    /// as the desk's lists name theirs (kept for staff, one statement otherwise).
    async fn name_sites(&mut self, rows: &mut [AssetRow]) -> Result<(), StoreError> {
        let mut sites: Vec<SiteId> = Vec::new();
        for site in rows.iter().filter_map(|r| r.site_id.as_deref()) {
            let site = SiteId::from_stored(site);
            if !sites.contains(&site) {
                sites.push(site);
            }
        }
        if sites.is_empty() {
            return Ok(());
        }
        let names = self.site_names_of(&sites).await?;
        for row in rows.iter_mut() {
            let site = row.site_id.as_deref().map(SiteId::from_stored);
            row.site_name = site.and_then(|site| {
                names
                    .iter()
                    .find(|(id, _)| *id == site)
                    .map(|(_, name)| name.clone())
            });
        }
        Ok(())
    }

    /// The count of a list without a warranty filter or a search, summed from the company's
    /// tallies: the same fence (site restriction) and the same site, kind and archived filters.
    pub(crate) fn tallied(&self, company: CompanyId, wanted: &AssetQuery) -> Q {
        let mut count = Q::new("SELECT ");
        self.tallied_in(&mut count, company, wanted);
        count
    }

    /// The same count's expression appended to `query` (a subquery in parentheses).
    pub(crate) fn tallied_in(&self, query: &mut Q, company: CompanyId, wanted: &AssetQuery) {
        self.sub_select(
            query,
            "CAST(COALESCE(SUM(t.assets), 0) AS BIGINT)",
            &fence::ASSET_TALLIES,
            "t",
        );
        query
            .sql(" AND t.company_id = ")
            .arg(company)
            .sql(" AND t.archived = ")
            .arg(i64::from(wanted.archived));
        if let Some(site) = wanted.site.filter(|_| self.scope.requester().is_none()) {
            query.sql(" AND t.site_id = ").arg(site);
        }
        if let Some(kind) = wanted.kind {
            query.sql(" AND t.kind = ").arg(kind.as_str());
        }
        query.sql(")");
    }

    /// The list keeps only some warranties (a reader not shown them filters by none).
    fn filters_by_warranty(&self, wanted: &AssetQuery, shown: &ShownFields) -> bool {
        wanted.warranty.is_some() && shown.shows(&AssetField::WarrantyEnd)
    }

    fn asset_filters(&self, query: &mut Q, wanted: &AssetQuery, shown: &ShownFields) {
        query.sql(if wanted.archived {
            " AND a.archived_at IS NOT NULL"
        } else {
            " AND a.archived_at IS NULL"
        });
        // (Own-tickets-only readers are shown no site, so they filter by none.)
        if let Some(site) = wanted.site.filter(|_| self.scope.requester().is_none()) {
            query.sql(" AND a.site_id = ").arg(site);
        }
        if let Some(kind) = wanted.kind {
            query.sql(" AND a.kind = ").arg(kind.as_str());
        }
        // A reader not shown warranties cannot filter by them (the filter would reveal them).
        if shown.shows(&AssetField::WarrantyEnd) {
            match &wanted.warranty {
                Some(WarrantyFilter::EndingBy { today, until }) => {
                    query
                        .sql(" AND a.warranty_end >= ")
                        .arg(today.as_str())
                        .sql(" AND a.warranty_end <= ")
                        .arg(until.as_str());
                }
                Some(WarrantyFilter::Ended { today }) => {
                    query.sql(" AND a.warranty_end < ").arg(today.as_str());
                }
                None => {}
            }
        }
        let search = wanted.search.trim();
        if !search.is_empty() {
            // Searched only in what the reader is shown, so a match never points at a hidden
            // value.
            let mut columns = vec!["a.name"];
            for (field, column) in [
                (AssetField::Serial, "a.serial"),
                (AssetField::Model, "a.model"),
                (AssetField::Manufacturer, "a.manufacturer"),
                (AssetField::AssignedUser, "a.assigned_user"),
            ] {
                if shown.shows(&field) {
                    columns.push(column);
                }
            }
            // Case-insensitive without lower() on every value: SQLite's LIKE already ignores
            // ASCII case (its lower() folds nothing more), and lower() on each of five columns
            // of every asset made a search 2.6 times slower; PostgreSQL's ILIKE folds Unicode.
            let like = if self.tx.is_postgres() {
                " ILIKE "
            } else {
                " LIKE "
            };
            for word in search.split_whitespace().take(5) {
                let pattern = contains_pattern(word);
                query.sql(" AND (");
                for (i, column) in columns.iter().enumerate() {
                    if i > 0 {
                        query.sql(" OR ");
                    }
                    query
                        .sql(column)
                        .sql(like)
                        .arg(pattern.as_str())
                        .sql(" ESCAPE '\\'");
                }
                query.sql(")");
            }
        }
    }

    /// One asset of a company in scope, with the workspace's own fields the reader is shown.
    pub async fn asset(&mut self, company: CompanyId, id: AssetId) -> Result<Asset, StoreError> {
        self.asset_as_shown(company, id)
            .await
            .map(|(asset, _)| asset)
    }

    /// The same, with the fields the reader is shown (an asset's page lays itself out by
    /// them), worked out once.
    pub async fn asset_as_shown(
        &mut self,
        company: CompanyId,
        id: AssetId,
    ) -> Result<(Asset, ShownFields), StoreError> {
        self.may_read_assets()?;
        let shown = self.shown_asset_fields(company).await?;
        let mut query = self.asset_select(company, &shown);
        query.sql(" AND a.id = ").arg(id);
        let row: AssetRow = self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        let mut asset = row.into_asset()?;
        if !shown.custom.is_empty() {
            let mut values = self.select("v.field_id, v.value", &fence::ASSET_FIELD_VALUES, "v");
            values.sql(" AND v.asset_id = ").arg(id);
            let values: Vec<(String, String)> = self.tx.all(values).await?;
            asset.custom = shown
                .custom
                .iter()
                .map(|f| {
                    let value = values
                        .iter()
                        .find(|(field, _)| *field == f.id.to_string())
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    (f.label.clone(), value)
                })
                .collect();
        }
        Ok((asset, shown))
    }

    /// A current asset of the caller's scope by id alone, for a ticket raised about it
    /// ("Report an issue"): its company and name. A retired (archived) asset is not one.
    pub async fn asset_ref(&mut self, id: AssetId) -> Result<(CompanyId, String), StoreError> {
        self.may_read_assets()?;
        let mut query = self.select("a.company_id, a.name", &fence::ASSETS, "a");
        query
            .sql(" AND a.id = ")
            .arg(id)
            .sql(" AND a.archived_at IS NULL");
        let (company, name): (String, String) =
            self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        Ok((CompanyId::from_stored(&company), name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_match_literally() {
        assert_eq!(contains_pattern("Dell"), "%dell%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
