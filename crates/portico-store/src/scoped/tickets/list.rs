//! The desk's ticket lists: filters, the list query, the summary every read and write of one
//! ticket starts from ([`ScopedTx::ticket_summary`]), and the names a page refers to, read
//! once per page rather than joined to every row.

use std::sync::Arc;

use portico_core::{
    Action, CompanyId, PortalUserId, SiteId, StaffUserId, TicketId, TicketPriority, TicketStatus,
};

use crate::desk_names::{KeptNames, NamesKey};
use crate::scoped::ScopedTx;
use crate::scoped::fence::{self, Tenant};
use crate::scoped::sla::{self, SlaStatus};
use crate::sql::{Arg, DbRow, Parsed, Q};
use crate::{StoreError, now};

use super::search::{Matched, search_words};

/// The most rows one list query reads: the API's largest page (200) and the one more row that
/// tells whether another page follows.
const MAX_LIST_ROWS: i64 = 201;

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Open,
    /// Raised and not yet taken up.
    New,
    AwaitingClient,
    Closed,
    All,
}

impl StatusFilter {
    pub fn parse(text: &str) -> Option<StatusFilter> {
        match text {
            "open" => Some(StatusFilter::Open),
            "new" => Some(StatusFilter::New),
            "awaiting" => Some(StatusFilter::AwaitingClient),
            "closed" => Some(StatusFilter::Closed),
            "all" => Some(StatusFilter::All),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Open => "open",
            StatusFilter::New => "new",
            StatusFilter::AwaitingClient => "awaiting",
            StatusFilter::Closed => "closed",
            StatusFilter::All => "all",
        }
    }
}

/// Whose tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Any,
    Unassigned,
    Is(StaffUserId),
}

#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub status: StatusFilter,
    pub company: Option<CompanyId>,
    pub priority: Option<TicketPriority>,
    pub assignee: AssigneeFilter,
    /// Only tickets that missed a service-level target.
    pub sla_breached: bool,
    /// With `sla_breached`: also the tickets that will miss a target within this many seconds
    /// (the work view's "due soon").
    pub sla_horizon_secs: i64,
    /// Words that must all appear in the title or the public messages (case-insensitive).
    pub search: String,
    /// Keyset paging: only tickets after this one in the list's order (updated, then id,
    /// both descending), so a late page costs what the first does.
    pub after: Option<(i64, TicketId)>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct TicketSummary {
    pub id: TicketId,
    /// The workspace's short number for the ticket, shown as `#1042`.
    pub number: i64,
    pub company_id: CompanyId,
    pub company_name: String,
    pub site_name: Option<String>,
    pub requester_name: Option<String>,
    pub site_id: Option<SiteId>,
    pub requester_id: Option<PortalUserId>,
    pub assignee_id: Option<StaffUserId>,
    pub assignee_name: Option<String>,
    pub title: String,
    pub category: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
    pub sla: SlaStatus,
}

pub(super) struct SummaryRow {
    id: Parsed<TicketId>,
    number: i64,
    company_id: Parsed<CompanyId>,
    company_name: String,
    site_name: Option<String>,
    requester_name: Option<String>,
    site_id: Option<Parsed<SiteId>>,
    requester_id: Option<Parsed<PortalUserId>>,
    assignee_id: Option<Parsed<StaffUserId>>,
    assignee_name: Option<String>,
    title: String,
    category: String,
    status: Parsed<TicketStatus>,
    priority: Parsed<TicketPriority>,
    created_at: i64,
    updated_at: i64,
    resolved_at: Option<i64>,
    first_response_at: Option<i64>,
    first_response_due_at: Option<i64>,
    resolution_due_at: Option<i64>,
    sla_paused_at: Option<i64>,
}
crate::sql::db_row!(SummaryRow {
    id,
    number,
    company_id,
    company_name,
    site_name,
    requester_name,
    site_id,
    requester_id,
    assignee_id,
    assignee_name,
    title,
    category,
    status,
    priority,
    created_at,
    updated_at,
    resolved_at,
    first_response_at,
    first_response_due_at,
    resolution_due_at,
    sla_paused_at
});

/// A ticket of a list page, without names: those are read once per page ([`Names`]).
struct PageRow {
    id: Parsed<TicketId>,
    number: i64,
    company_id: Parsed<CompanyId>,
    site_id: Option<Parsed<SiteId>>,
    requester_id: Option<Parsed<PortalUserId>>,
    assignee_id: Option<Parsed<StaffUserId>>,
    title: String,
    category: String,
    status: Parsed<TicketStatus>,
    priority: Parsed<TicketPriority>,
    created_at: i64,
    updated_at: i64,
    resolved_at: Option<i64>,
    first_response_at: Option<i64>,
    first_response_due_at: Option<i64>,
    resolution_due_at: Option<i64>,
    sla_paused_at: Option<i64>,
}
crate::sql::db_row!(PageRow {
    id,
    number,
    company_id,
    site_id,
    requester_id,
    assignee_id,
    title,
    category,
    status,
    priority,
    created_at,
    updated_at,
    resolved_at,
    first_response_at,
    first_response_due_at,
    resolution_due_at,
    sla_paused_at
});

/// The names a page of tickets refers to. Joined to every row, the same company and site were
/// looked up (two B-tree searches on 36-byte text keys each) and copied once per ticket; read
/// once per distinct id, a page costs half as much.
#[derive(Default)]
pub(super) struct Names {
    companies: Vec<(CompanyId, String)>,
    pub(super) sites: Vec<(SiteId, String)>,
    pub(super) requesters: Vec<(PortalUserId, String)>,
    assignees: Vec<(StaffUserId, String)>,
}

/// Sorts `ids` into those whose name is kept (named into `found`) and the `unknown` rest.
fn split_kept<I: Copy + Eq + std::hash::Hash>(
    ids: &[I],
    kept: &foldhash::HashMap<I, Arc<str>>,
    found: &mut Vec<(I, String)>,
    unknown: &mut Vec<I>,
) {
    for id in ids {
        match kept.get(id) {
            Some(name) => found.push((*id, name.to_string())),
            None => unknown.push(*id),
        }
    }
}

fn name_of<I: PartialEq>(names: &[(I, String)], id: &I) -> Option<String> {
    names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone())
}

fn optional_name<I: PartialEq>(names: &[(I, String)], id: &Option<Parsed<I>>) -> Option<String> {
    id.as_ref().and_then(|id| name_of(names, &id.0))
}

fn ids_as_args<I: Copy + Into<Arg>>(ids: &[I]) -> Vec<Arg> {
    ids.iter().map(|&id| id.into()).collect()
}

fn push_distinct<I: PartialEq + Copy>(ids: &mut Vec<I>, id: Option<I>) {
    if let Some(id) = id.filter(|id| !ids.contains(id)) {
        ids.push(id);
    }
}

impl PageRow {
    fn with_names(self, names: &Names) -> SummaryRow {
        SummaryRow {
            company_name: name_of(&names.companies, &self.company_id.0).unwrap_or_default(),
            site_name: optional_name(&names.sites, &self.site_id),
            requester_name: optional_name(&names.requesters, &self.requester_id),
            assignee_name: optional_name(&names.assignees, &self.assignee_id),
            id: self.id,
            number: self.number,
            company_id: self.company_id,
            site_id: self.site_id,
            requester_id: self.requester_id,
            assignee_id: self.assignee_id,
            title: self.title,
            category: self.category,
            status: self.status,
            priority: self.priority,
            created_at: self.created_at,
            updated_at: self.updated_at,
            resolved_at: self.resolved_at,
            first_response_at: self.first_response_at,
            first_response_due_at: self.first_response_due_at,
            resolution_due_at: self.resolution_due_at,
            sla_paused_at: self.sla_paused_at,
        }
    }
}

/// The columns of a [`SummaryRow`] over `tickets t`, the assignee's name as `$assignee`.
macro_rules! summary_columns {
    ($assignee:literal) => {
        concat!(
            "SELECT t.id, t.number, t.company_id, c.name AS company_name, s.name AS site_name, \
             u.name AS requester_name, t.site_id, t.requester_id, t.assignee_id, ",
            $assignee,
            " AS assignee_name, t.title, t.category, \
             t.status, t.priority, t.created_at, t.updated_at, t.resolved_at, t.first_response_at, \
             t.first_response_due_at, t.resolution_due_at, t.sla_paused_at"
        )
    };
}

/// The names of a ticket's company, site and requester. Joined by primary key alone:
/// ids are unique across workspaces and the ticket's foreign keys tie each to the ticket's
/// workspace, which the fence has already checked. Composite (workspace_id, id) keys cost
/// SQLite a 36-byte compare of the shared workspace id at every step of every lookup.
macro_rules! name_joins {
    () => {
        " JOIN companies c ON c.id = t.company_id \
         LEFT JOIN sites s ON s.id = t.site_id \
         LEFT JOIN portal_users u ON u.id = t.requester_id"
    };
}

/// The columns of a [`SummaryRow`], over `tickets t` with [`SUMMARY_JOINS`].
pub(super) const SUMMARY_COLUMNS: &str = summary_columns!("a.name");
/// [`SUMMARY_COLUMNS`] without the assignee's name, over [`PORTAL_SUMMARY_JOINS`]: for a
/// client's ticket page, which never shows who works the ticket (on PostgreSQL the fence hides
/// every member of staff from the portal, so the join found nobody there anyway).
pub(super) const PORTAL_SUMMARY_COLUMNS: &str = summary_columns!("NULL");

/// The joins of [`SUMMARY_COLUMNS`]: the names, and the assignee's (by primary key too; the
/// store's checks tie an assignee to the ticket's workspace).
pub(super) const SUMMARY_JOINS: &str = concat!(
    name_joins!(),
    " LEFT JOIN staff_users a ON a.id = t.assignee_id"
);
/// The joins of [`PORTAL_SUMMARY_COLUMNS`].
pub(super) const PORTAL_SUMMARY_JOINS: &str = name_joins!();

/// The ticket columns a summary reads, for the page subquery.
const PAGE_COLUMNS: &str = "t.id, t.number, t.company_id, t.site_id, t.requester_id, t.assignee_id, t.title, \
     t.category, t.status, t.priority, t.created_at, t.updated_at, t.resolved_at, t.first_response_at, \
     t.first_response_due_at, t.resolution_due_at, t.sla_paused_at";

const ORDER: &str = " ORDER BY t.updated_at DESC, t.id DESC";

impl SummaryRow {
    /// `desk`: the reader works the desk and sees service levels (the portal never does).
    pub(super) fn into_summary(self, desk: bool, now: i64) -> TicketSummary {
        let priority = self.priority.0;
        let sla = if desk {
            SlaStatus::of(
                self.first_response_due_at,
                self.resolution_due_at,
                self.first_response_at,
                self.resolved_at,
                self.sla_paused_at,
                now,
            )
        } else {
            SlaStatus::default()
        };
        TicketSummary {
            id: self.id.0,
            number: self.number,
            company_id: self.company_id.0,
            company_name: self.company_name,
            site_name: self.site_name,
            requester_name: self.requester_name,
            site_id: self.site_id.map(|p| p.0),
            requester_id: self.requester_id.map(|p| p.0),
            assignee_id: self.assignee_id.map(|p| p.0),
            assignee_name: self.assignee_name,
            title: self.title,
            category: self.category,
            status: self.status.0,
            priority,
            created_at: self.created_at,
            updated_at: self.updated_at,
            resolved_at: self.resolved_at,
            sla,
        }
    }
}

impl ScopedTx<'_> {
    /// Due times and breaches are the desk's working information: the portal never shows
    /// them, so portal scopes' summaries carry no SLA status.
    pub(super) fn sees_service_levels(&self) -> bool {
        self.scope.may(Action::ViewInternalNotes).is_ok()
    }

    /// One ticket's summary in scope; `NotFound` when absent, foreign or fenced off.
    pub(crate) async fn ticket_summary(
        &mut self,
        id: TicketId,
    ) -> Result<TicketSummary, StoreError> {
        self.scope
            .may(Action::ViewTickets)
            .map_err(|_| StoreError::NotFound)?;
        let mut query = Q::new(SUMMARY_COLUMNS);
        query
            .sql(" FROM tickets t")
            .sql(SUMMARY_JOINS)
            .sql(" WHERE 1 = 1");
        self.fenced(&mut query, &fence::TICKETS, "t");
        query.sql(" AND t.id = ").arg(id);
        let row: SummaryRow = self.tx.one(query).await?;
        Ok(row.into_summary(self.sees_service_levels(), now()))
    }

    /// One page of tickets in scope matching `filter`, most recently updated first, reading
    /// `columns` of the tickets table alone: the planner walks an (updated_at) index and stops
    /// after one page. Names are read after, once each ([`ScopedTx::names_of`]).
    /// `matched`: what a search matched, as [`Matched::best`] gives it to the query.
    pub(super) fn list_query(
        &self,
        columns: &str,
        filter: &TicketQuery,
        at: i64,
        matched: &str,
    ) -> Q {
        let mut query = Q::new("SELECT ");
        query.sql(columns);
        let words = search_words(&filter.search);
        let searching = !filter.search.trim().is_empty();
        if searching && words.is_empty() {
            // Punctuation alone: nothing to search for, so nothing matches.
            query.sql(" FROM tickets t WHERE 1 = 0");
        } else if searching && self.tx.is_postgres() {
            // Each match in rank order (the order of its ordinality, which PostgreSQL knows
            // without sorting; a searched number's matches are sorted after their grouping),
            // its ticket looked up by key until the page is full. The lookup's
            // `LIMIT` keeps it a subquery: joined flat, the plan kept for the statement (the
            // generic one, not knowing how many matches there are) walked the company's tickets
            // for each match, 6.9 ms for 84 matches of the benchmark's company of 1,000
            // tickets against 0.24 ms so; a custom plan for each execution cost 0.28 ms of
            // planning, more than a search's other statements ran.
            query.sql(" FROM (SELECT * FROM (");
            self.search_matches(&mut query, filter, matched);
            query.sql(
                ") m0 ORDER BY m0.rank, m0.ord) m \
                 CROSS JOIN LATERAL (SELECT * FROM tickets WHERE id = m.ticket_id LIMIT 1) t WHERE 1 = 1",
            );
        } else if searching {
            query.sql(" FROM (");
            self.search_matches(&mut query, filter, matched);
            query.sql(") m JOIN tickets t ON t.id = m.ticket_id WHERE 1 = 1");
        } else {
            query.sql(" FROM tickets t WHERE 1 = 1");
        }
        if filter.sla_breached {
            let now = query.placeholder(at + filter.sla_horizon_secs.max(0));
            query.sql(" AND ").sql(&sla::breached_condition(&now));
        }
        self.fenced(&mut query, &fence::TICKETS, "t");
        match filter.status {
            StatusFilter::Open => query.sql(" AND t.status NOT IN ('resolved', 'closed')"),
            StatusFilter::New => query.sql(" AND t.status = 'new'"),
            StatusFilter::AwaitingClient => query.sql(" AND t.status = 'awaiting_client'"),
            StatusFilter::Closed => query.sql(" AND t.status IN ('resolved', 'closed')"),
            StatusFilter::All => &mut query,
        };
        if let Some(company) = filter.company {
            query.sql(" AND t.company_id = ").arg(company);
        }
        if let Some(priority) = filter.priority {
            query.sql(" AND t.priority = ").arg(priority.as_str());
        }
        match filter.assignee {
            AssigneeFilter::Any => {}
            AssigneeFilter::Unassigned => {
                query.sql(" AND t.assignee_id IS NULL");
            }
            AssigneeFilter::Is(staff) => {
                query.sql(" AND t.assignee_id = ").arg(staff);
            }
        }
        if searching && !words.is_empty() {
            // Best match first; a search pages by position, since rank is no key.
            query
                .sql(" ORDER BY m.rank, m.ord, t.id DESC LIMIT ")
                .arg(filter.limit.clamp(1, MAX_LIST_ROWS));
            // As a list's: no `OFFSET` on the first page, so that its statement keeps one plan.
            query.offset(filter.offset);
            return query;
        }
        if let Some((updated, id)) = filter.after {
            query
                .sql(" AND (t.updated_at < ")
                .arg(updated)
                .sql(" OR (t.updated_at = ")
                .arg(updated)
                .sql(" AND t.id < ")
                .arg(id)
                .sql("))");
        }
        query
            .sql(ORDER)
            .sql(" LIMIT ")
            .arg(filter.limit.clamp(1, MAX_LIST_ROWS));
        query.offset(filter.offset);
        query
    }

    /// The rows of one page of tickets in scope matching `filter` ([`ScopedTx::list_query`]).
    ///
    /// A search on SQLite first reads only its best `2 × (offset + limit) + 64` matches, and
    /// all of them only when the fence (a status filter, another requester's tickets) or the
    /// end of the matches leaves that page short. Every match read is a ticket looked up and
    /// sorted, and a common word in a large company matches the cap (2,000): reading them all
    /// was most of such a search. The page is the same either way, since the matches are
    /// ordered as the query orders them; a short page costs at most 1.06 times what it did.
    pub(super) async fn list_rows<T: DbRow>(
        &mut self,
        columns: &str,
        filter: &TicketQuery,
        at: i64,
    ) -> Result<Vec<T>, StoreError> {
        let matched = self.search_matched(filter).await?;
        let Matched::Rows(best_first) = &matched else {
            // PostgreSQL ranks and caps its matches in the search itself: one query.
            let query = self.list_query(columns, filter, at, &matched.best(usize::MAX));
            return self.tx.all(query).await;
        };
        let limit = filter.limit.clamp(1, MAX_LIST_ROWS) as usize;
        let best = ((filter.offset.max(0) as usize + limit) * 2 + 64).min(best_first.len());
        let query = self.list_query(columns, filter, at, &matched.best(best));
        let rows: Vec<T> = self.tx.all(query).await?;
        if rows.len() >= limit || best == best_first.len() {
            return Ok(rows);
        }
        // Short: the fence passes few of them, or this is the last page. Every match, once.
        let query = self.list_query(columns, filter, at, &matched.best(best_first.len()));
        self.tx.all(query).await
    }

    /// Tickets in scope, most recently updated first, with everything the desk works with.
    pub async fn tickets(
        &mut self,
        filter: &TicketQuery,
    ) -> Result<Vec<TicketSummary>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let at = now();
        let rows: Vec<PageRow> = self.list_rows(PAGE_COLUMNS, filter, at).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let (mut companies, mut sites, mut requesters, mut assignees) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            push_distinct(&mut companies, Some(row.company_id.0));
            push_distinct(&mut sites, row.site_id.as_ref().map(|p| p.0));
            push_distinct(&mut requesters, row.requester_id.as_ref().map(|p| p.0));
            push_distinct(&mut assignees, row.assignee_id.as_ref().map(|p| p.0));
        }
        let names = self
            .desk_names_of(&companies, &sites, &requesters, &assignees)
            .await?;
        let desk = self.sees_service_levels();
        Ok(rows
            .into_iter()
            .map(|row| row.with_names(&names).into_summary(desk, at))
            .collect())
    }

    /// What the desk's kept names are kept under for this reader ([`crate::desk_names`]): its
    /// workspace and companies, and the workspace's principal version, read in this
    /// transaction.
    pub(crate) async fn desk_names_key(&mut self) -> Result<(NamesKey, i64), StoreError> {
        let version = match self.principal_version {
            Some(version) => version,
            None => {
                let query = self.select("p.version", &fence::PRINCIPAL_VERSIONS, "p");
                let read: Option<(i64,)> = self.tx.optional(query).await?;
                let version = read.map_or(0, |(v,)| v);
                // A read-only transaction reads one snapshot (on PostgreSQL too: it is begun
                // REPEATABLE READ), so the version cannot move in it; a writing one may bump it.
                if !self.write {
                    self.principal_version = Some(version);
                }
                version
            }
        };
        let key = NamesKey {
            workspace: self.scope.workspace().as_text(),
            companies: self.company_ids.clone(),
        };
        Ok((key, version))
    }

    /// Names for a desk list: those kept for this reader's companies at the workspace's current
    /// principal version ([`crate::desk_names`]), the rest read ([`ScopedTx::names_of`]) and,
    /// from a read-only transaction, kept.
    async fn desk_names_of(
        &mut self,
        companies: &[CompanyId],
        sites: &[SiteId],
        requesters: &[PortalUserId],
        assignees: &[StaffUserId],
    ) -> Result<Names, StoreError> {
        if self.scope.is_portal() || !self.desk_names.enabled() {
            return self.names_of(companies, sites, requesters, assignees).await;
        }
        let (key, version) = self.desk_names_key().await?;
        let mut names = Names::default();
        let (
            mut unknown_companies,
            mut unknown_sites,
            mut unknown_requesters,
            mut unknown_assignees,
        ) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        self.desk_names.read(&key, version, |kept| {
            split_kept(
                companies,
                &kept.companies,
                &mut names.companies,
                &mut unknown_companies,
            );
            split_kept(sites, &kept.sites, &mut names.sites, &mut unknown_sites);
            split_kept(
                requesters,
                &kept.requesters,
                &mut names.requesters,
                &mut unknown_requesters,
            );
            split_kept(
                assignees,
                &kept.assignees,
                &mut names.assignees,
                &mut unknown_assignees,
            );
        });
        let read = self
            .names_of(
                &unknown_companies,
                &unknown_sites,
                &unknown_requesters,
                &unknown_assignees,
            )
            .await?;
        if !self.write {
            let mut fresh = KeptNames::default();
            let shared = |name: &String| Arc::<str>::from(name.as_str());
            fresh
                .companies
                .extend(read.companies.iter().map(|(id, n)| (*id, shared(n))));
            fresh
                .sites
                .extend(read.sites.iter().map(|(id, n)| (*id, shared(n))));
            fresh
                .requesters
                .extend(read.requesters.iter().map(|(id, n)| (*id, shared(n))));
            fresh
                .assignees
                .extend(read.assignees.iter().map(|(id, n)| (*id, shared(n))));
            self.desk_names.keep(&key, version, fresh);
        }
        names.companies.extend(read.companies);
        names.sites.extend(read.sites);
        names.requesters.extend(read.requesters);
        names.assignees.extend(read.assignees);
        Ok(names)
    }

    /// Names of `sites` for a page of another section's records (assets), found as a desk
    /// list's are ([`ScopedTx::desk_names_of`]).
    pub(in crate::scoped) async fn site_names_of(
        &mut self,
        sites: &[SiteId],
    ) -> Result<Vec<(SiteId, String)>, StoreError> {
        Ok(self.desk_names_of(&[], sites, &[], &[]).await?.sites)
    }

    /// One statement for the names of the given companies, sites, requesters and assignees,
    /// each table fenced like any other read (a requester from a company outside the scope,
    /// a client-group user, goes unnamed).
    pub(super) async fn names_of(
        &mut self,
        companies: &[CompanyId],
        sites: &[SiteId],
        requesters: &[PortalUserId],
        assignees: &[StaffUserId],
    ) -> Result<Names, StoreError> {
        let mut names = Names::default();
        if companies.is_empty() && sites.is_empty() && requesters.is_empty() && assignees.is_empty()
        {
            return Ok(names);
        }
        let mut query = Q::default();
        let parts: [(&str, &Tenant, Vec<Arg>); 4] = [
            ("c", &fence::COMPANIES, ids_as_args(companies)),
            ("s", &fence::SITES, ids_as_args(sites)),
            ("u", &fence::PORTAL_USERS, ids_as_args(requesters)),
            ("a", &fence::STAFF_USERS, ids_as_args(assignees)),
        ];
        for (kind, table, ids) in parts {
            if ids.is_empty() {
                continue;
            }
            if !query.sql.is_empty() {
                query.sql(" UNION ALL ");
            }
            query
                .sql("SELECT '")
                .sql(kind)
                .sql("' AS kind, n.id, n.name FROM ")
                .sql(table.table)
                .sql(" n WHERE ")
                .in_list("n.id", &ids);
            self.fenced(&mut query, table, "n");
        }
        let found: Vec<(String, String, String)> = self.tx.all(query).await?;
        for (kind, id, name) in found {
            match kind.as_str() {
                "c" => names.companies.push((CompanyId::from_stored(&id), name)),
                "s" => names.sites.push((SiteId::from_stored(&id), name)),
                "u" => names
                    .requesters
                    .push((PortalUserId::from_stored(&id), name)),
                _ => names.assignees.push((StaffUserId::from_stored(&id), name)),
            }
        }
        Ok(names)
    }
}
