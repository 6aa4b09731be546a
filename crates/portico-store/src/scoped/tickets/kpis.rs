//! The overview's ticket figures: counted per scope, and for a client kept under the same
//! versions as its list pages, so that they cost a count only when a ticket changed.

use std::sync::Arc;

use portico_core::{Action, CompanySet};

use crate::SessionVersions;
use crate::scoped::ScopedTx;
use crate::scoped::fence;
use crate::sql::Q;
use crate::ticket_pages::{PageCache, PageKey};
use crate::{StoreError, now};

/// The overview's ticket figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketKpis {
    pub open: i64,
    pub awaiting_client: i64,
    pub resolved_last_30_days: i64,
}

/// The overview's figures an instance keeps, under the same versions as the pages.
pub(crate) type KpiCache = PageCache<TicketKpis>;

impl ScopedTx<'_> {
    /// Open, awaiting-client and recently resolved counts for the scope.
    /// `session`: as for [`ScopedTx::portal_tickets`], borrowed, since the page that shows the
    /// figures reads its recent tickets under the same versions.
    pub async fn ticket_kpis(
        &mut self,
        session: Option<&SessionVersions>,
    ) -> Result<TicketKpis, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        // "Resolved in the last 30 days" counts from the hour, so that the query, and the key
        // its figures are kept under, changes once an hour rather than every second.
        let since = (now() - 30 * 24 * 3600) / 3600 * 3600;
        let mut query = Q::new(
            "SELECT COALESCE(SUM(CASE WHEN t.status NOT IN ('resolved', 'closed') THEN 1 ELSE 0 END), 0) AS open, \
             COALESCE(SUM(CASE WHEN t.status = 'awaiting_client' THEN 1 ELSE 0 END), 0) AS awaiting, \
             COALESCE(SUM(CASE WHEN t.status IN ('resolved', 'closed') AND t.resolved_at >= ",
        );
        query.arg(since);
        query.sql(" THEN 1 ELSE 0 END), 0) AS resolved FROM tickets t WHERE 1 = 1");
        self.fenced(&mut query, &fence::TICKETS, "t");
        // A client's figures are counted over every ticket of the company: kept like a list
        // page (see `portal_page`), they cost a count only when a ticket changed.
        let company = match self.scope.companies() {
            CompanySet::Only(ids)
                if ids.len() == 1 && !self.write && self.ticket_kpis.enabled() =>
            {
                ids[0]
            }
            _ => return self.count_kpis(query).await,
        };
        let key = PageKey {
            workspace: self.scope.workspace().as_text(),
            company: self.company_ids.clone(),
            sql: query.sql,
            args: query.args,
        };
        if let Some(session) = session.filter(|s| s.company == Some(company))
            && let Some(kpis) = self.ticket_kpis.get(&key, session.versions)
        {
            return Ok((*kpis).clone());
        }
        let versions = self.page_versions(company).await?;
        if let Some(kpis) = self.ticket_kpis.get(&key, versions) {
            return Ok((*kpis).clone());
        }
        // Counted in the snapshot the versions were read in (see `portal_page`).
        let kpis = self.count_kpis(Q::with(&key.sql, key.args.clone())).await?;
        let bytes = std::mem::size_of::<TicketKpis>() + key.sql.len();
        self.ticket_kpis
            .put(key, versions, Arc::new(kpis.clone()), bytes);
        Ok(kpis)
    }

    async fn count_kpis(&mut self, query: Q) -> Result<TicketKpis, StoreError> {
        let (open, awaiting_client, resolved_last_30_days): (i64, i64, i64) =
            self.tx.one(query).await?;
        Ok(TicketKpis {
            open,
            awaiting_client,
            resolved_last_30_days,
        })
    }
}
