//! Reading companies, sites and contacts, fenced to the scope. Financial fields are only
//! selected for scopes holding the billing entitlement: they do not exist in the output
//! otherwise.

use portico_core::{Action, CompanyId, ContactId, ContactRole, Section, SiteId};

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
    /// Work included in the plan each month, in minutes (`None`: the plan includes none).
    pub included_minutes: Option<i64>,
    /// Current sites and open tickets; `None` where a list leaves them out
    /// ([`ScopedTx::companies_after`]).
    pub site_count: Option<i64>,
    pub open_tickets: Option<i64>,
    pub billing: Option<Billing>,
    /// When the company was archived; archived companies keep their history but take no new
    /// work and have no portal.
    pub archived_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub name: String,
    pub address: String,
    pub archived_at: Option<i64>,
}
crate::sql::db_row!(Site {
    id,
    name,
    address,
    archived_at
});

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub title: String,
    pub roles: Vec<ContactRole>,
    pub archived_at: Option<i64>,
}

impl Contact {
    pub fn has_role(&self, role: &ContactRole) -> bool {
        self.roles.contains(role)
    }
}

struct CompanyRow {
    id: String,
    name: String,
    plan_name: String,
    portal_enabled: bool,
    included_minutes: Option<i64>,
    archived_at: Option<i64>,
    site_count: Option<i64>,
    open_tickets: Option<i64>,
    monthly_fee_cents: Option<i64>,
    hourly_rate_cents: Option<i64>,
    currency: Option<String>,
}
crate::sql::db_row!(CompanyRow {
    id,
    name,
    plan_name,
    portal_enabled,
    included_minutes,
    archived_at,
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
    archived_at: Option<i64>,
}
crate::sql::db_row!(ContactRow {
    id,
    name,
    email,
    phone,
    title,
    roles,
    archived_at
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
            included_minutes: self.included_minutes,
            archived_at: self.archived_at,
            site_count: self.site_count,
            open_tickets: self.open_tickets,
            billing,
        }
    }
}

/// Roles stored as one aggregated text, in the order the product lists them (the aggregate's
/// order is the database's choice).
fn ordered_roles(stored: &str) -> Vec<ContactRole> {
    let mut roles: Vec<ContactRole> = stored.split(',').filter_map(ContactRole::parse).collect();
    roles.sort_by_key(|r| ContactRole::ALL.iter().position(|a| a == r));
    roles.dedup();
    roles
}

impl ScopedTx<'_> {
    /// The plan's rates as columns: selected for billing-entitled scopes, NULL for the others.
    fn plan_rate_columns(&self) -> &'static str {
        if self.scope.billing() {
            "c.monthly_fee_cents, c.hourly_rate_cents, c.currency"
        } else {
            "NULL AS monthly_fee_cents, NULL AS hourly_rate_cents, NULL AS currency"
        }
    }

    /// A company's own columns, with its current sites and open tickets counted when `counts`
    /// (a list's and one company's answer over the API; every other reader wants only the
    /// name, and counting a busy company's open tickets cost more than the rest of a page).
    fn company_query(&self, counts: bool) -> Q {
        let financial = self.plan_rate_columns();
        let counted = if counts {
            "(SELECT COUNT(*) FROM sites s WHERE s.workspace_id = c.workspace_id AND s.company_id = c.id \
             AND s.archived_at IS NULL) AS site_count, \
             (SELECT COUNT(*) FROM tickets t WHERE t.workspace_id = c.workspace_id AND t.company_id = c.id \
             AND t.status NOT IN ('resolved', 'closed')) AS open_tickets"
        } else {
            "CAST(NULL AS BIGINT) AS site_count, CAST(NULL AS BIGINT) AS open_tickets"
        };
        self.select(
            &format!(
                "c.id, c.name, c.plan_name, c.portal_enabled, c.included_minutes, c.archived_at, \
                 {counted}, {financial}"
            ),
            &fence::COMPANIES,
            "c",
        )
    }

    /// Ids and names of the first `limit` companies in scope that take work (not archived),
    /// by name (pickers and filters).
    pub async fn company_names(
        &mut self,
        limit: i64,
    ) -> Result<Vec<(CompanyId, String)>, StoreError> {
        self.scope.may(Action::ViewCompanies)?;
        let mut query = self.select("c.id, c.name", &fence::COMPANIES, "c");
        query
            .sql(" AND c.archived_at IS NULL ORDER BY c.name LIMIT ")
            .arg(limit);
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
        beyond
            .sql(" AND c.archived_at IS NULL LIMIT 1 OFFSET ")
            .arg(max);
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

    /// The companies in scope, by name: those taking work, or the archived ones.
    pub async fn companies(&mut self, archived: bool) -> Result<Vec<CompanySummary>, StoreError> {
        self.scope.may(Action::ViewCompanies)?;
        let mut query = self.company_query(true);
        query.sql(if archived {
            " AND c.archived_at IS NOT NULL ORDER BY c.name"
        } else {
            " AND c.archived_at IS NULL ORDER BY c.name"
        });
        let rows: Vec<CompanyRow> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(CompanyRow::into_summary).collect())
    }

    /// Up to `limit` companies in scope by name (then id), after `after` (a name and id a page
    /// before ended at): the taking-work ones, or the archived ones, with every word of `search`
    /// in the name. Keyset paging, so a late page costs what the first does (the API's list).
    /// Without the counts.
    pub async fn companies_after(
        &mut self,
        archived: bool,
        search: &str,
        after: Option<(&str, CompanyId)>,
        limit: i64,
    ) -> Result<Vec<CompanySummary>, StoreError> {
        self.scope.may(Action::ViewCompanies)?;
        // The company's own columns alone: counting each listed company's sites and open
        // tickets made a page of fifty cost fifty counts (the API's list a fiftieth of the
        // ceiling); one company's answer has them.
        let mut query = self.company_query(false);
        query.sql(if archived {
            " AND c.archived_at IS NOT NULL"
        } else {
            " AND c.archived_at IS NULL"
        });
        // Case-insensitive: SQLite's LIKE folds ASCII, PostgreSQL's ILIKE Unicode.
        let like = if self.tx.is_postgres() {
            " ILIKE "
        } else {
            " LIKE "
        };
        for word in search.split_whitespace().take(5) {
            query
                .sql(" AND c.name")
                .sql(like)
                .arg(crate::scoped::contains_pattern(word))
                .sql(" ESCAPE '\\'");
        }
        if let Some((name, id)) = after {
            query
                .sql(" AND (c.name > ")
                .arg(name)
                .sql(" OR (c.name = ")
                .arg(name)
                .sql(" AND c.id > ")
                .arg(id)
                .sql("))");
        }
        query
            .sql(" ORDER BY c.name, c.id LIMIT ")
            .arg(limit.clamp(1, 1000));
        let rows: Vec<CompanyRow> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(CompanyRow::into_summary).collect())
    }

    /// One company in scope, without the counts of its sites and open tickets.
    pub async fn company(&mut self, id: CompanyId) -> Result<CompanySummary, StoreError> {
        self.one_company(id, false).await
    }

    /// [`ScopedTx::company`] with its current sites and open tickets counted.
    pub async fn company_with_counts(
        &mut self,
        id: CompanyId,
    ) -> Result<CompanySummary, StoreError> {
        self.one_company(id, true).await
    }

    async fn one_company(
        &mut self,
        id: CompanyId,
        counts: bool,
    ) -> Result<CompanySummary, StoreError> {
        self.scope
            .may(Action::ViewCompanies)
            .map_err(|_| StoreError::NotFound)?;
        let mut query = self.company_query(counts);
        query.sql(" AND c.id = ").arg(id);
        let row: CompanyRow = self.tx.one(query).await?;
        Ok(row.into_summary())
    }

    /// The service plan of a company in scope, with rates only for billing-entitled scopes.
    /// Unlike [`ScopedTx::company`] this serves the portal's overview too.
    pub async fn plan(&mut self, id: CompanyId) -> Result<(String, Option<Billing>), StoreError> {
        let (name, _, billing) = self.plan_terms(id).await?;
        Ok((name, billing))
    }

    /// The plan's name, included minutes a month and (billing-entitled scopes only) its rates:
    /// the company's own columns alone, without the list's counts of sites and open tickets
    /// (counting a busy company's open tickets was half of every Work page).
    pub(crate) async fn plan_terms(
        &mut self,
        id: CompanyId,
    ) -> Result<(String, Option<i64>, Option<Billing>), StoreError> {
        let financial = self.plan_rate_columns();
        let mut query = self.select(
            &format!("c.plan_name, c.included_minutes, {financial}"),
            &fence::COMPANIES,
            "c",
        );
        query.sql(" AND c.id = ").arg(id);
        let (plan_name, included, monthly_fee_cents, hourly_rate_cents, currency): (
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
        ) = self.tx.one(query).await?;
        let billing = currency.map(|currency| Billing {
            monthly_fee_cents,
            hourly_rate_cents,
            currency,
        });
        Ok((plan_name, included, billing))
    }

    /// The sites of a company in scope that take work (all of them: site restriction applies
    /// to tickets and assets, not to the list of locations).
    pub async fn sites(&mut self, company: CompanyId) -> Result<Vec<Site>, StoreError> {
        self.sites_of(company, false, None).await
    }

    /// One site of a company in scope, archived or not.
    pub async fn site(&mut self, company: CompanyId, site: SiteId) -> Result<Site, StoreError> {
        self.sites_of(company, true, Some(site))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Every site of a company in scope, archived ones last (the console's company page).
    pub async fn sites_with_archived(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<Site>, StoreError> {
        self.sites_of(company, true, None).await
    }

    async fn sites_of(
        &mut self,
        company: CompanyId,
        archived: bool,
        only: Option<SiteId>,
    ) -> Result<Vec<Site>, StoreError> {
        let mut query = self.select("s.id, s.name, s.address, s.archived_at", &fence::SITES, "s");
        query.sql(" AND s.company_id = ").arg(company);
        if let Some(site) = only {
            query.sql(" AND s.id = ").arg(site);
        }
        query.sql(if archived {
            " ORDER BY s.archived_at IS NOT NULL, s.name"
        } else {
            " AND s.archived_at IS NULL ORDER BY s.name"
        });
        self.tx.all(query).await
    }

    /// The contact roster of a company in scope, with each contact's roles.
    pub async fn contacts(&mut self, company: CompanyId) -> Result<Vec<Contact>, StoreError> {
        self.contacts_of(company, false, None).await
    }

    /// One contact of a company in scope, archived or not.
    pub async fn contact(
        &mut self,
        company: CompanyId,
        contact: ContactId,
    ) -> Result<Contact, StoreError> {
        self.contacts_of(company, true, Some(contact))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Every contact of a company in scope, archived ones last (the console's company page).
    pub async fn contacts_with_archived(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<Contact>, StoreError> {
        self.contacts_of(company, true, None).await
    }

    /// Contacts are the company's own business on the portal (its Contacts section) and every
    /// visible company's in the console.
    async fn contacts_of(
        &mut self,
        company: CompanyId,
        archived: bool,
        only: Option<ContactId>,
    ) -> Result<Vec<Contact>, StoreError> {
        if self.scope.is_portal() {
            self.scope.may(Action::ViewSection(Section::Contacts))?;
        } else {
            self.scope.may(Action::ViewCompanies)?;
        }
        // A roster of a company out of scope is not found, never empty.
        if only.is_none() {
            self.visible_company(company).await?;
        }
        let roles_agg = if self.tx.is_postgres() {
            "string_agg(r.role, ',')"
        } else {
            "group_concat(r.role, ',')"
        };
        let mut query = self.select_joined(
            &format!(
                "p.id, p.name, p.email, p.phone, p.title, {roles_agg} AS roles, p.archived_at"
            ),
            &fence::CONTACTS,
            "p",
            " LEFT JOIN contact_roles r ON r.workspace_id = p.workspace_id AND r.contact_id = p.id",
        );
        query.sql(" AND p.company_id = ").arg(company);
        if let Some(contact) = only {
            query.sql(" AND p.id = ").arg(contact);
        }
        if !archived {
            query.sql(" AND p.archived_at IS NULL");
        }
        query.sql(
            " GROUP BY p.id, p.name, p.email, p.phone, p.title, p.archived_at \
             ORDER BY p.archived_at IS NOT NULL, p.name",
        );
        let rows: Vec<ContactRow> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|r| Contact {
                id: r.id,
                name: r.name,
                email: r.email,
                phone: r.phone,
                title: r.title,
                roles: ordered_roles(r.roles.as_deref().unwrap_or_default()),
                archived_at: r.archived_at,
            })
            .collect())
    }
}
