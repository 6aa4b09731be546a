//! A client's ticket list: its rows as the portal shows them, and the pages this instance
//! keeps while the versions of what they show are unchanged ([`crate::ticket_pages`]), each
//! rendered once while it is kept.

use std::sync::{Arc, OnceLock};

use portico_core::{
    Action, CompanyId, CompanySet, PortalUserId, SiteId, TicketId, TicketItem, TicketPriority,
    TicketStatus, TicketView, Zone,
};

use crate::SessionVersions;
use crate::scoped::ScopedTx;
use crate::scoped::fence;
use crate::scoped::tickets::TicketQuery;
use crate::sql::{IdBytes, Parsed, Q};
use crate::ticket_pages::{PageCache, PageKey, Versions};
use crate::{StoreError, now};

/// A ticket as a client's list shows it: no desk fields (assignee, category, service levels).
#[derive(Debug, Clone)]
pub struct PortalTicket {
    pub id: TicketId,
    pub number: i64,
    /// Shared with the page kept for reuse ([`crate::ticket_pages`]) rather than copied.
    pub title: Arc<str>,
    pub status: TicketStatus,
    /// `None` where the reader's role is not shown priorities ([`TicketView`]).
    pub priority: Option<TicketPriority>,
    /// Shared by the page's tickets at the same site (or from the same requester).
    pub site_name: Option<Arc<str>>,
    pub requester_name: Option<Arc<str>>,
    pub updated_at: i64,
}

/// A page of a client's ticket list as read, with names: what [`PortalPageCache`] keeps, and
/// what a request gets, shared rather than copied.
pub struct PortalPage {
    tickets: Vec<PortalTicket>,
    /// What a caller made of these rows (the web layer: their HTML), with the name of what
    /// made it, compressed (LZ4: markup repeated row after row shrinks to a fifth or less).
    /// Kept inside the page, it is valid exactly as long as the rows are and is dropped with
    /// them: a page kept for reuse is rendered once while it stays unchanged.
    rendered: OnceLock<(&'static str, Zone, TicketView, Vec<u8>)>,
}

impl PortalPage {
    fn new(tickets: Vec<PortalTicket>) -> Self {
        PortalPage {
            tickets,
            rendered: OnceLock::new(),
        }
    }

    pub fn tickets(&self) -> &[PortalTicket] {
        &self.tickets
    }

    /// About the memory this page takes once rendered: its rows, their text as read, and their
    /// rendering compressed (about a fifth of the text and markup, which is 300–400 bytes a
    /// row before).
    fn estimated_bytes(&self) -> usize {
        const ROW_RENDERED: usize = 128;
        self.tickets
            .iter()
            .map(|t| {
                let text = t.title.len()
                    + t.site_name.as_deref().map_or(0, str::len)
                    + t.requester_name.as_deref().map_or(0, str::len);
                std::mem::size_of::<PortalTicket>() + 2 * text + ROW_RENDERED
            })
            .sum()
    }

    /// What `render` makes of this page's rows as `view` shows them, with times in `zone`,
    /// made once per page. `render` must depend on the rows, the zone and the view alone,
    /// never on who asks, since a kept page is shared by everyone whose scoped query is the
    /// same: it is a plain `fn`, so the compiler refuses one that captures anything of the
    /// request. It gets the rows with what `view` hides left out. `kind` names what it makes;
    /// a page keeps one kind for one zone and view (the first asked for: a company's people
    /// mostly share both), and makes others afresh each time.
    pub fn rendered<E>(
        &self,
        kind: &'static str,
        zone: &Zone,
        view: &TicketView,
        render: fn(&[PortalTicket], &Zone, &TicketView) -> Result<String, E>,
    ) -> Result<String, E> {
        let make = || -> Result<String, E> {
            if view.hides_anything() {
                render(&self.shown_to(view), zone, view)
            } else {
                render(&self.tickets, zone, view)
            }
        };
        let kept_here = |(made_by, made_in, made_for, _): &(_, Zone, TicketView, _)| {
            *made_by == kind && made_in == zone && made_for == view
        };
        match self.rendered.get() {
            Some(kept) if kept_here(kept) => {
                // Text this page compressed itself; should it not come back whole, the rows
                // are rendered again rather than failing the request.
                match lz4_flex::decompress_size_prepended(&kept.3)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                {
                    Some(text) => Ok(text),
                    None => make(),
                }
            }
            Some(_) => make(),
            None => {
                let text = make()?;
                // A request rendering the same page meanwhile made the same text.
                let _ = self.rendered.set((
                    kind,
                    zone.clone(),
                    view.clone(),
                    lz4_flex::compress_prepend_size(text.as_bytes()),
                ));
                Ok(text)
            }
        }
    }

    /// The rows without what `view` hides.
    fn shown_to(&self, view: &TicketView) -> Vec<PortalTicket> {
        self.tickets
            .iter()
            .map(|t| PortalTicket {
                priority: t.priority.filter(|_| view.shows(TicketItem::Priority)),
                site_name: t.site_name.clone().filter(|_| view.shows(TicketItem::Site)),
                requester_name: t
                    .requester_name
                    .clone()
                    .filter(|_| view.shows(TicketItem::Requester)),
                ..t.clone()
            })
            .collect()
    }
}

/// The pages of clients' ticket lists an instance keeps ([`crate::ticket_pages`]).
pub(crate) type PortalPageCache = PageCache<PortalPage>;

/// A ticket of a client's list page, without names.
struct PortalPageRow {
    id: Parsed<TicketId>,
    number: i64,
    site_id: Option<Parsed<IdBytes>>,
    requester_id: Option<Parsed<IdBytes>>,
    title: String,
    status: Parsed<TicketStatus>,
    priority: Parsed<TicketPriority>,
    updated_at: i64,
}
crate::sql::db_row!(PortalPageRow {
    id,
    number,
    site_id,
    requester_id,
    title,
    status,
    priority,
    updated_at
});

/// The ticket columns a client's list reads ([`PortalPageRow`]).
const PORTAL_PAGE_COLUMNS: &str =
    "t.id, t.number, t.site_id, t.requester_id, t.title, t.status, t.priority, t.updated_at";

fn shared_name<I: PartialEq>(names: &[(I, String)], id: &I) -> Option<Arc<str>> {
    names
        .iter()
        .find(|(i, _)| i == id)
        .map(|(_, n)| Arc::from(n.as_str()))
}

impl ScopedTx<'_> {
    /// Tickets in scope as a client's list shows them, most recently updated first. Half the
    /// columns of [`ScopedTx::tickets`]: a portal page reads and decodes only what it shows.
    ///
    /// `session`: the versions read with the request's session, for a request that has written
    /// nothing since. A page kept at those versions is served without reading anything, and
    /// without beginning this transaction.
    pub async fn portal_tickets(
        &mut self,
        filter: &TicketQuery,
        session: Option<SessionVersions>,
    ) -> Result<Arc<PortalPage>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        if !filter.search.trim().is_empty() {
            // Never kept (see `portal_page`).
            let rows = self.list_rows(PORTAL_PAGE_COLUMNS, filter, now()).await?;
            return Ok(Arc::new(self.portal_page_of(rows).await?));
        }
        let query = self.list_query(PORTAL_PAGE_COLUMNS, filter, now(), "");
        self.portal_page(query, filter, session).await
    }

    /// A client's list page: kept by this instance while the versions of what it shows are
    /// unchanged ([`crate::ticket_pages`]), read otherwise. Kept for read-only transactions of
    /// one-company scopes (a client's) only, and not for searches (they also depend on replies,
    /// which the versions do not count) or the service-level filter (it depends on the time).
    async fn portal_page(
        &mut self,
        query: Q,
        filter: &TicketQuery,
        session: Option<SessionVersions>,
    ) -> Result<Arc<PortalPage>, StoreError> {
        let company = match self.scope.companies() {
            CompanySet::Only(ids)
                if ids.len() == 1
                    && !self.write
                    && self.ticket_pages.enabled()
                    && filter.search.trim().is_empty()
                    && !filter.sla_breached =>
            {
                ids[0]
            }
            _ => return Ok(Arc::new(self.read_portal_page(query).await?)),
        };
        let key = PageKey {
            workspace: self.scope.workspace().as_text(),
            company: self.company_ids.clone(),
            sql: query.sql,
            args: query.args,
        };
        // The versions read with the session hold for this company's pages only.
        if let Some(session) = session.filter(|s| s.company == Some(company))
            && let Some(page) = self.ticket_pages.get(&key, session.versions)
        {
            self.ticket_pages.count_unread_hit();
            return Ok(page);
        }
        let versions = self.page_versions(company).await?;
        if let Some(page) = self.ticket_pages.get(&key, versions) {
            return Ok(page);
        }
        let page = Arc::new(
            self.read_portal_page(Q::with(&key.sql, key.args.clone()))
                .await?,
        );
        // The rows are of the versions read: a read-only transaction reads one snapshot
        // (SQLite's, and PostgreSQL's begun REPEATABLE READ: `sql::begin_read`), which no
        // commit after its first statement changes.
        let bytes = page.estimated_bytes();
        self.ticket_pages.put(key, versions, page.clone(), bytes);
        Ok(page)
    }

    /// The versions a client's list page is kept under: the company's list version (its
    /// tickets, copies and sites) and the workspace's principal version (its users' names
    /// among the rest), read in one statement.
    ///
    /// Read once per read-only transaction: its snapshot holds them (the Overview's figures
    /// and recent tickets both ask). A transaction that may write reads them each time, since
    /// its own writes move them.
    pub(super) async fn page_versions(
        &mut self,
        company: CompanyId,
    ) -> Result<Versions, StoreError> {
        if let Some((read_for, versions)) = self.page_versions
            && read_for == company
        {
            return Ok(versions);
        }
        let mut query = Q::new(
            "SELECT COALESCE((SELECT v.version FROM ticket_list_versions v WHERE v.company_id = ",
        );
        query.arg(company);
        self.fenced(&mut query, &fence::TICKET_LIST_VERSIONS, "v");
        query.sql("), 0), COALESCE((SELECT p.version FROM principal_versions p WHERE 1 = 1");
        self.fenced(&mut query, &fence::PRINCIPAL_VERSIONS, "p");
        query.sql("), 0)");
        let (list, names): (i64, i64) = self.tx.one(query).await?;
        if !self.write {
            self.page_versions = Some((company, [list, names]));
        }
        Ok([list, names])
    }

    /// Reads a client's list page: its rows, then the names of their sites and requesters.
    async fn read_portal_page(&mut self, query: Q) -> Result<PortalPage, StoreError> {
        let rows: Vec<PortalPageRow> = self.tx.all(query).await?;
        self.portal_page_of(rows).await
    }

    /// A client's list page of the rows read: the names of their sites and requesters read.
    async fn portal_page_of(&mut self, rows: Vec<PortalPageRow>) -> Result<PortalPage, StoreError> {
        if rows.is_empty() {
            return Ok(PortalPage::new(Vec::new()));
        }
        // Each distinct site and requester: its stored text, its id and, below, its name.
        let (mut sites, mut requesters) = (Vec::new(), Vec::new());
        for row in &rows {
            if let Some(Parsed(raw)) = row.site_id
                && !sites.iter().any(|(r, _)| *r == raw)
            {
                sites.push((raw, raw.parse(SiteId::parse_ascii)?));
            }
            if let Some(Parsed(raw)) = row.requester_id
                && !requesters.iter().any(|(r, _)| *r == raw)
            {
                requesters.push((raw, raw.parse(PortalUserId::parse_ascii)?));
            }
        }
        let site_ids: Vec<SiteId> = sites.iter().map(|(_, id)| *id).collect();
        let requester_ids: Vec<PortalUserId> = requesters.iter().map(|(_, id)| *id).collect();
        let names = self.names_of(&[], &site_ids, &requester_ids, &[]).await?;
        // Shared by the rows that name them rather than copied into each.
        let site_names: Vec<(IdBytes, Option<Arc<str>>)> = sites
            .iter()
            .map(|(raw, id)| (*raw, shared_name(&names.sites, id)))
            .collect();
        let requester_names: Vec<(IdBytes, Option<Arc<str>>)> = requesters
            .iter()
            .map(|(raw, id)| (*raw, shared_name(&names.requesters, id)))
            .collect();
        let shared = |names: &[(IdBytes, Option<Arc<str>>)], raw: Option<Parsed<IdBytes>>| {
            let raw = raw?.0;
            names.iter().find(|(r, _)| *r == raw)?.1.clone()
        };
        // Into a vector of its own size: collected from `rows` in place, the kept page would
        // hold the read rows' allocation, half as large again as its tickets need.
        let mut tickets = Vec::with_capacity(rows.len());
        tickets.extend(rows.into_iter().map(|row| PortalTicket {
            site_name: shared(&site_names, row.site_id),
            requester_name: shared(&requester_names, row.requester_id),
            id: row.id.0,
            number: row.number,
            title: Arc::from(row.title),
            status: row.status.0,
            priority: Some(row.priority.0),
            updated_at: row.updated_at,
        }));
        Ok(PortalPage::new(tickets))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::convert::Infallible;

    use super::*;

    fn page() -> PortalPage {
        PortalPage::new(vec![PortalTicket {
            id: TicketId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap(),
            number: 1042,
            title: Arc::from("Printer offline"),
            status: TicketStatus::Open,
            priority: Some(TicketPriority::Normal),
            site_name: None,
            requester_name: None,
            updated_at: 0,
        }])
    }

    thread_local! {
        /// How often `render` ran on this test's thread (a plain `fn` captures no counter).
        static CALLS: Cell<u32> = const { Cell::new(0) };
    }

    fn render(tickets: &[PortalTicket], zone: &Zone, _: &TicketView) -> Result<String, Infallible> {
        CALLS.with(|c| c.set(c.get() + 1));
        let priority = tickets[0].priority.map(|p| p.as_str()).unwrap_or("-");
        Ok(format!(
            "rows:{}:{}:{priority}",
            tickets[0].title,
            zone.name()
        ))
    }

    #[test]
    fn a_page_is_rendered_once_per_kind_zone_and_view_it_keeps() {
        let page = page();
        let utc = Zone::utc();
        let all = TicketView::everything();
        for _ in 0..3 {
            assert_eq!(
                page.rendered("rows", &utc, &all, render).unwrap(),
                "rows:Printer offline:UTC:normal"
            );
        }
        assert_eq!(CALLS.with(Cell::get), 1, "kept after the first time");
        // Another kind is made afresh each time, never taken from the one kept.
        let other =
            |_: &[PortalTicket], _: &Zone, _: &TicketView| Ok::<_, Infallible>("other".to_owned());
        assert_eq!(page.rendered("other", &utc, &all, other).unwrap(), "other");
        // So is the same kind for a reader in another zone, or of a role shown less, who
        // gets the rows without what is hidden from it.
        let tokyo = Zone::named("Asia/Tokyo").unwrap();
        assert_eq!(
            page.rendered("rows", &tokyo, &all, render).unwrap(),
            "rows:Printer offline:Asia/Tokyo:normal"
        );
        let mut no_priority = TicketView::everything();
        no_priority.hide(TicketItem::Priority);
        assert_eq!(
            page.rendered("rows", &utc, &no_priority, render).unwrap(),
            "rows:Printer offline:UTC:-"
        );
        assert_eq!(CALLS.with(Cell::get), 3);
        assert_eq!(
            page.rendered("rows", &utc, &all, render).unwrap(),
            "rows:Printer offline:UTC:normal"
        );
        assert_eq!(CALLS.with(Cell::get), 3);
    }

    #[test]
    fn a_failed_rendering_is_not_kept() {
        let page = page();
        let utc = Zone::utc();
        let all = TicketView::everything();
        assert_eq!(
            page.rendered("rows", &utc, &all, |_, _, _| Err("broken")),
            Err("broken")
        );
        let ok = |_: &[PortalTicket], _: &Zone, _: &TicketView| Ok::<_, &str>("rows".to_owned());
        assert_eq!(page.rendered("rows", &utc, &all, ok).unwrap(), "rows");
    }
}
