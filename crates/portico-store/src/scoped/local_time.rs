//! Time zones: the workspace's, a company's own and a person's own. A person reads times in
//! their own zone, else their company's (staff: the workspace's), else the workspace's; a
//! company's service-level clocks count in its zone ([`crate::scoped::sla`]).

use portico_core::{Action, Actor, CompanyId, Zone};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};

impl ScopedTx<'_> {
    /// The workspace's time zone: every company's and person's unless they choose their own.
    pub async fn workspace_time_zone(&mut self) -> Result<Zone, StoreError> {
        let query = self.select("w.time_zone", &fence::WORKSPACES, "w");
        let (zone,): (String,) = self.tx.one(query).await?;
        Ok(Zone::stored(&zone))
    }

    /// Sets the workspace's time zone (branding rights), moving due times counted in it.
    pub async fn set_workspace_time_zone(&mut self, zone: &Zone) -> Result<(), StoreError> {
        self.scope.may(Action::ManageBranding)?;
        let query = self.update(&fence::WORKSPACES, |set| {
            set.sql("time_zone = ").arg(zone.name());
        });
        self.tx.exec(query).await?;
        self.recompute_due_times(None).await
    }

    /// A company's own time zone, if it has one.
    pub async fn company_time_zone(
        &mut self,
        company: CompanyId,
    ) -> Result<Option<Zone>, StoreError> {
        self.scope.may(Action::ViewCompanies)?;
        let mut query = self.select("c.time_zone", &fence::COMPANIES, "c");
        query.sql(" AND c.id = ").arg(company);
        let row: Option<(Option<String>,)> = self.tx.optional(query).await?;
        let (zone,) = row.ok_or(StoreError::NotFound)?;
        Ok(zone.as_deref().map(Zone::stored))
    }

    /// Sets (or, with `None`, removes) a company's own time zone, moving its due times.
    pub async fn set_company_time_zone(
        &mut self,
        company: CompanyId,
        zone: Option<&Zone>,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        self.company_in_scope(company).await?;
        let mut query = self.update(&fence::COMPANIES, |set| {
            set.sql("time_zone = ")
                .arg(zone.map(|z| z.name().to_owned()));
        });
        query.sql(" AND id = ").arg(company);
        self.tx.exec(query).await?;
        self.recompute_due_times(Some(company)).await
    }

    /// The signed-in person's own zone, if they chose one.
    pub async fn my_time_zone(&mut self) -> Result<Option<Zone>, StoreError> {
        let query = match self.scope.actor() {
            Actor::Staff(me) => {
                let mut q = self.select("u.time_zone", &fence::STAFF_USERS, "u");
                q.sql(" AND u.id = ").arg(me);
                q
            }
            Actor::Portal(me) => {
                let mut q = self.select("u.time_zone", &fence::PORTAL_USERS, "u");
                q.sql(" AND u.id = ").arg(me);
                q
            }
        };
        let row: Option<(Option<String>,)> = self.tx.optional(query).await?;
        Ok(row.and_then(|(z,)| z).as_deref().map(Zone::stored))
    }

    /// The zone the signed-in person reads times in when they choose none: their company's
    /// (for a client), else the workspace's.
    pub async fn my_default_time_zone(&mut self) -> Result<Zone, StoreError> {
        let workspace = {
            let query = self.select("w.time_zone", &fence::WORKSPACES, "w");
            let (zone,): (String,) = self.tx.one(query).await?;
            zone
        };
        let company = match self.scope.companies() {
            portico_core::CompanySet::Only(ids) if self.scope.is_portal() && ids.len() == 1 => {
                let mut query = self.select("c.time_zone", &fence::COMPANIES, "c");
                query.sql(" AND c.id = ").arg(ids[0]);
                let row: Option<(Option<String>,)> = self.tx.optional(query).await?;
                row.and_then(|(z,)| z)
            }
            _ => None,
        };
        Ok(Zone::stored(company.as_deref().unwrap_or(&workspace)))
    }

    /// Sets (or, with `None`, removes) the signed-in person's own zone.
    pub async fn set_my_time_zone(&mut self, zone: Option<&Zone>) -> Result<(), StoreError> {
        let name = zone.map(|z| z.name().to_owned());
        let query = match self.scope.actor() {
            Actor::Staff(me) => {
                let mut q = self.update(&fence::STAFF_USERS, |set| {
                    set.sql("time_zone = ").arg(name);
                });
                q.sql(" AND id = ").arg(me);
                q
            }
            Actor::Portal(me) => {
                let mut q = self.update(&fence::PORTAL_USERS, |set| {
                    set.sql("time_zone = ").arg(name);
                });
                q.sql(" AND id = ").arg(me);
                q
            }
        };
        self.tx.exec(query).await?;
        Ok(())
    }
}
