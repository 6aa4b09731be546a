//! Companies, sites and contacts (C1), fenced to the scope. Financial fields are only selected
//! for scopes holding the billing entitlement: they do not exist in the output otherwise.

use portico_core::{Action, CompanyId, ContactRole};

use crate::StoreError;
use crate::desk_names::KeptNames;
use crate::scoped::{ScopedTx, fence};
use crate::sql::Q;

/// Plan rates, present only for billing-entitled scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billing {
    pub monthly_fee_cents: Option<i64>,
    pub hourly_rate_cents: Option<i64>,
    pub currency: String,
}

#[derive(Debug, Clone)]
pub struct CompanySummary {
    pub id: CompanyId,
    pub name: String,
    pub plan_name: String,
    pub portal_enabled: bool,
    pub site_count: i64,
    pub open_tickets: i64,
    pub billing: Option<Billing>,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub address: String,
}
crate::sql::db_row!(Site { id, name, address });

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub title: String,
    pub roles: Vec<ContactRole>,
}

struct CompanyRow {
    id: String,
    name: String,
    plan_name: String,
    portal_enabled: bool,
    site_count: i64,
    open_tickets: i64,
    monthly_fee_cents: Option<i64>,
    hourly_rate_cents: Option<i64>,
    currency: Option<String>,
}
crate::sql::db_row!(CompanyRow {
    id,
    name,
    plan_name,
    portal_enabled,
    site_count,
    open_tickets,
    monthly_fee_cents,
    hourly_rate_cents,
    currency
});

struct ContactRow {
    id: String,
    name: String,
    email: String,
    phone: String,
    title: String,
    roles: Option<String>,
}
crate::sql::db_row!(ContactRow {
    id,
    name,
    email,
    phone,
    title,
    roles
});

impl CompanyRow {
    fn into_summary(self) -> CompanySummary {
        let billing = self.currency.map(|currency| Billing {
            monthly_fee_cents: self.monthly_fee_cents,
            hourly_rate_cents: self.hourly_rate_cents,
            currency,
        });
        CompanySummary {
            id: CompanyId::from_stored(&self.id),
            name: self.name,
            plan_name: self.plan_name,
            portal_enabled: self.portal_enabled,
            site_count: self.site_count,
            open_tickets: self.open_tickets,
            billing,
        }
    }
}

impl ScopedTx<'_> {
    fn company_query(&self) -> Q {
        let financial = if self.scope.billing() {
            "c.monthly_fee_cents, c.hourly_rate_cents, c.currency"
        } else {
            "NULL AS monthly_fee_cents, NULL AS hourly_rate_cents, NULL AS currency"
        };
        self.select(
            &format!(
                "c.id, c.name, c.plan_name, c.portal_enabled, \
                 (SELECT COUNT(*) FROM sites s WHERE s.workspace_id = c.workspace_id AND s.company_id = c.id) AS site_count, \
                 (SELECT COUNT(*) FROM tickets t WHERE t.workspace_id = c.workspace_id AND t.company_id = c.id \
                  AND t.status NOT IN ('resolved', 'closed')) AS open_tickets, {financial}"
            ),
            &fence::COMPANIES,
            "c",
        )
    }

    /// Ids and names of the first `limit` companies in scope, by name (pickers and filters).
    pub async fn company_names(
        &mut self,
        limit: i64,
    ) -> Result<Vec<(CompanyId, String)>, StoreError> {
        self.scope.may(Action::ViewCompanies)?;
        let mut query = self.select("c.id, c.name", &fence::COMPANIES, "c");
        query.sql(" ORDER BY c.name LIMIT ").arg(limit);
        let rows: Vec<(String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name)| Some((CompanyId::parse(&id)?, name)))
            .collect())
    }

    /// Every company in scope, by name, for a picker; `None` when there are more than `max`,
    /// a list nobody could pick from. Counted first, without reading a name: an MSP with
    /// thousands of clients would otherwise read hundreds of names on every queue page only to
    /// drop them. That there are too many is kept with the desk's names while the workspace's
    /// principal version stands (adding or archiving a company, or assigning staff, draws a new
    /// one), since even counting walks `max` index entries.
    pub async fn company_picker(
        &mut self,
        max: i64,
    ) -> Result<Option<Vec<(CompanyId, String)>>, StoreError> {
        self.scope.may(Action::ViewCompanies)?;
        let kept = if self.scope.is_portal() || !self.desk_names.enabled() {
            None
        } else {
            Some(self.desk_names_key().await?)
        };
        if let Some((key, version)) = &kept
            && self
                .desk_names
                .read(key, *version, |names| names.companies_beyond == Some(max))
        {
            return Ok(None);
        }
        let mut beyond = self.select("c.id", &fence::COMPANIES, "c");
        beyond.sql(" LIMIT 1 OFFSET ").arg(max);
        let beyond: Option<(String,)> = self.tx.optional(beyond).await?;
        if beyond.is_some() {
            if let Some((key, version)) = kept.filter(|_| !self.write) {
                let names = KeptNames {
                    companies_beyond: Some(max),
                    ..KeptNames::default()
                };
                self.desk_names.keep(&key, version, names);
            }
            return Ok(None);
        }
        self.company_names(max).await.map(Some)
    }

    pub async fn companies(&mut self) -> Result<Vec<CompanySummary>, StoreError> {
        self.scope.may(Action::ViewCompanies)?;
        let mut query = self.company_query();
        query.sql(" ORDER BY c.name");
        let rows: Vec<CompanyRow> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(CompanyRow::into_summary).collect())
    }

    /// One company in scope.
    pub async fn company(&mut self, id: CompanyId) -> Result<CompanySummary, StoreError> {
        self.scope
            .may(Action::ViewCompanies)
            .map_err(|_| StoreError::NotFound)?;
        let mut query = self.company_query();
        query.sql(" AND c.id = ").arg(id);
        let row: CompanyRow = self.tx.one(query).await?;
        Ok(row.into_summary())
    }

    /// The service plan of a company in scope, with rates only for billing-entitled scopes.
    /// Unlike [`ScopedTx::company`] this serves the portal's overview too.
    pub async fn plan(&mut self, id: CompanyId) -> Result<(String, Option<Billing>), StoreError> {
        let mut query = self.company_query();
        query.sql(" AND c.id = ").arg(id);
        let row: CompanyRow = self.tx.one(query).await?;
        let summary = row.into_summary();
        Ok((summary.plan_name, summary.billing))
    }

    /// The sites of a company in scope (all of them: site restriction applies to tickets and
    /// assets, not to the list of locations).
    pub async fn sites(&mut self, company: CompanyId) -> Result<Vec<Site>, StoreError> {
        let mut query = self.select("s.id, s.name, s.address", &fence::SITES, "s");
        query.sql(" AND s.company_id = ").arg(company);
        query.sql(" ORDER BY s.name");
        self.tx.all(query).await
    }

    /// The contact roster of a company in scope, with each contact's roles.
    pub async fn contacts(&mut self, company: CompanyId) -> Result<Vec<Contact>, StoreError> {
        let roles_agg = if self.tx.is_postgres() {
            "string_agg(r.role, ',')"
        } else {
            "group_concat(r.role, ',')"
        };
        let mut query = self.select_joined(
            &format!("p.id, p.name, p.email, p.phone, p.title, {roles_agg} AS roles"),
            &fence::CONTACTS,
            "p",
            " LEFT JOIN contact_roles r ON r.workspace_id = p.workspace_id AND r.contact_id = p.id",
        );
        query.sql(" AND p.company_id = ").arg(company);
        query.sql(" GROUP BY p.id, p.name, p.email, p.phone, p.title ORDER BY p.name");
        let rows: Vec<ContactRow> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|r| Contact {
                id: r.id,
                name: r.name,
                email: r.email,
                phone: r.phone,
                title: r.title,
                roles: r
                    .roles
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(ContactRole::parse)
                    .collect(),
            })
            .collect())
    }
}
