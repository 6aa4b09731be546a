//! Tickets and their messages, fenced to the scope: company, site restriction and own-tickets-
//! only all go into the SQL. Internal notes are only selected for scopes allowed to read them.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use portico_core::{
    Action, CompanyId, CompanySet, PortalUserId, SiteId, StaffUserId, TicketId, TicketItem,
    TicketPriority, TicketStatus, TicketView, Zone,
};

use crate::SessionVersions;
use crate::scoped::ScopedTx;
use crate::scoped::fence::{self, Tenant};
use crate::scoped::sla::{self, SlaStatus};
use crate::sql::{Arg, IdBytes, Parsed, Q};
use crate::ticket_pages::{PageCache, PageKey, Versions};
use crate::{StoreError, now};

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

/// The words of a search: letters and digits only (everything else separates words, and no
/// character of the full-text query syntax survives), lower-cased, at most eight of 100
/// characters each.
fn search_words(search: &str) -> Vec<String> {
    search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.chars().take(100).flat_map(char::to_lowercase).collect())
        .collect()
}

/// How many of the newest matching tickets a search ranks (SQLite; see
/// [`ScopedTx::search_matches`]).
const SEARCH_MATCH_CAP: i64 = 1_000;

/// A ticket number the search may mean (`1042` or `#1042`): a search of that one word.
fn searched_number(search: &str) -> Option<i64> {
    let word = search.trim();
    word.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
}

/// The longest prefix the SQLite search index keeps (migration 0018's `prefix` option).
const INDEXED_PREFIX: usize = 6;

/// An FTS5 query (SQLite): every word, inside the given columns and inside the workspace and
/// companies, which each document carries as tokens, so that the index alone narrows the match
/// to the caller's companies. A word of two to six characters is matched as a prefix (one
/// lookup in the index's prefixes, read lazily like a word), as a word is typed; a longer one
/// as the word itself, stemmed ("printers" finds "printer"), since a longer prefix would gather
/// every matching word's documents in the database first; a single character as itself.
fn fts5_query(words: &[String], columns: &str, workspace: &str, companies: &[String]) -> String {
    let token = |id: &str| format!("\"{}\"", id.replace('-', ""));
    let mut query = if companies.is_empty() {
        format!("workspace : {}", token(workspace))
    } else {
        // Company ids are unique across workspaces: the company alone is the narrower fence.
        let list: Vec<String> = companies.iter().map(|c| token(c)).collect();
        format!("company : ({})", list.join(" OR "))
    };
    let terms: Vec<String> = words
        .iter()
        .map(|w| match w.chars().count() {
            2..=INDEXED_PREFIX => format!("\"{w}\"*"),
            _ => format!("\"{w}\""),
        })
        .collect();
    query.push_str(&format!(" AND {{{columns}}} : ({})", terms.join(" AND ")));
    query
}

/// A tsquery (PostgreSQL): every word as a prefix, all required. Words hold letters and
/// digits only, so nothing in them is tsquery syntax.
fn tsquery(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
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

/// A file on a message, as listed on the ticket page.
#[derive(Debug, Clone)]
pub struct AttachmentInfo {
    pub id: String,
    pub file_name: String,
    pub size: i64,
    pub inline: bool,
}

/// A file to send to a reader who may see it.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub blob_key: String,
    pub file_name: String,
    pub content_type: String,
    pub inline: bool,
}

#[derive(Debug, Clone)]
pub struct TicketMessage {
    pub attachments: Vec<AttachmentInfo>,
    pub author_name: String,
    pub from_staff: bool,
    pub body: String,
    pub internal: bool,
    pub created_at: i64,
}

/// A change on the ticket's timeline. Status and priority changes are public; assignment is
/// only shown to staff.
#[derive(Debug, Clone)]
pub struct TicketEvent {
    pub kind: String,
    pub old_value: String,
    pub new_value: String,
    pub actor_name: String,
    pub public: bool,
    pub created_at: i64,
}

impl TicketEvent {
    /// One line for the timeline, in the reader's words: the desk's status words for staff
    /// (`desk`), the client's otherwise.
    pub fn describe(&self, desk: bool) -> String {
        let label = |v: &str| match self.kind.as_str() {
            "status" => TicketStatus::parse(v).map_or(v.to_owned(), |s| {
                if desk { s.desk_label() } else { s.label() }.to_owned()
            }),
            "priority" => TicketPriority::parse(v).map_or(v.to_owned(), |p| p.label().to_owned()),
            _ => v.to_owned(),
        };
        match self.kind.as_str() {
            "status" => format!("Status changed to {}", label(&self.new_value)),
            "priority" => format!(
                "Priority changed from {} to {}",
                label(&self.old_value),
                label(&self.new_value)
            ),
            "assignee" if self.new_value.is_empty() => "Unassigned".to_owned(),
            "assignee" => format!("Assigned to {}", self.new_value),
            "rating" => format!("Rated {} out of 5", self.new_value),
            _ => String::new(),
        }
    }
}

/// A ticket's rating and the workspace's reopen window, as read for its page.
struct RatingRow {
    csat_rating: Option<i64>,
    csat_comment: Option<String>,
    csat_at: Option<i64>,
    reopen_days: i64,
    csat_by: Option<String>,
    rater_name: Option<String>,
}
crate::sql::db_row!(RatingRow {
    csat_rating,
    csat_comment,
    csat_at,
    reopen_days,
    csat_by,
    rater_name
});

/// The client's satisfaction rating of a resolved ticket.
#[derive(Debug, Clone)]
pub struct Rating {
    pub score: i64,
    pub comment: String,
    pub rated_at: i64,
    /// Who rated, and their name; `None` for ratings recorded before raters were, or by someone
    /// the scope may not see.
    pub rated_by: Option<(PortalUserId, String)>,
}

#[derive(Debug, Clone)]
pub struct TicketDetail {
    pub ticket: TicketSummary,
    pub messages: Vec<TicketMessage>,
    pub events: Vec<TicketEvent>,
    /// Custom-field answers as asked when the ticket was raised: (label, value).
    pub fields: Vec<(String, String)>,
    /// Colleagues copied on the ticket.
    pub cc: Vec<(PortalUserId, String)>,
    pub rating: Option<Rating>,
    /// Until when the client may reopen a resolved ticket.
    pub reopen_until: Option<i64>,
    /// What of the ticket the reader is shown: what it hides is left out above already (the
    /// priority, which a summary always has, the page leaves out by it).
    pub view: TicketView,
}

/// The overview's ticket figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketKpis {
    pub open: i64,
    pub awaiting_client: i64,
    pub resolved_last_30_days: i64,
}

struct SummaryRow {
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

/// A page of a client's ticket list as read, with names: what [`PortalPageCache`] keeps, and
/// what a request gets, shared rather than copied.
pub struct PortalPage {
    tickets: Vec<PortalTicket>,
    /// What a caller made of these rows (the web layer: their HTML), with the name of what
    /// made it. Kept inside the page, it is valid exactly as long as the rows are and is
    /// dropped with them: a page kept for reuse is rendered once while it stays unchanged.
    rendered: OnceLock<(&'static str, Zone, TicketView, String)>,
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

    /// About the memory this page takes once rendered: its rows, their text as read and as
    /// rendered (each of HTML's special characters escaped to five bytes), and a row's markup.
    fn estimated_bytes(&self) -> usize {
        const ROW_MARKUP: usize = 512;
        let stored_and_escaped = |text: &str| {
            let special = text
                .bytes()
                .filter(|b| matches!(b, b'"' | b'&' | b'\'' | b'<' | b'>'))
                .count();
            2 * text.len() + 4 * special
        };
        self.tickets
            .iter()
            .map(|t| {
                let text = stored_and_escaped(&t.title)
                    + t.site_name.as_deref().map_or(0, stored_and_escaped)
                    + t.requester_name.as_deref().map_or(0, stored_and_escaped);
                std::mem::size_of::<PortalTicket>() + text + ROW_MARKUP
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
    ) -> Result<Cow<'_, str>, E> {
        let make = || -> Result<String, E> {
            if view.hides_anything() {
                render(&self.shown_to(view), zone, view)
            } else {
                render(&self.tickets, zone, view)
            }
        };
        if self.rendered.get().is_none() {
            // A request rendering the same page meanwhile made the same text.
            let _ = self
                .rendered
                .set((kind, zone.clone(), view.clone(), make()?));
        }
        match self.rendered.get() {
            Some((made_by, made_in, made_for, text))
                if *made_by == kind && made_in == zone && made_for == view =>
            {
                Ok(Cow::Borrowed(text))
            }
            _ => make().map(Cow::Owned),
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

/// The overview's figures an instance keeps, under the same versions as the pages.
pub(crate) type KpiCache = PageCache<TicketKpis>;

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

/// The names a page of tickets refers to. Joined to every row, the same company and site were
/// looked up (two B-tree searches on 36-byte text keys each) and copied once per ticket; read
/// once per distinct id, a page costs half as much.
#[derive(Default)]
struct Names {
    companies: Vec<(CompanyId, String)>,
    sites: Vec<(SiteId, String)>,
    requesters: Vec<(PortalUserId, String)>,
    assignees: Vec<(StaffUserId, String)>,
}

fn name_of<I: PartialEq>(names: &[(I, String)], id: &I) -> Option<String> {
    names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone())
}

fn shared_name<I: PartialEq>(names: &[(I, String)], id: &I) -> Option<Arc<str>> {
    names
        .iter()
        .find(|(i, _)| i == id)
        .map(|(_, n)| Arc::from(n.as_str()))
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

struct EventRow {
    kind: String,
    old_value: String,
    new_value: String,
    actor_name: String,
    public: bool,
    created_at: i64,
}
crate::sql::db_row!(EventRow {
    kind,
    old_value,
    new_value,
    actor_name,
    public,
    created_at
});

struct MessageRow {
    id: String,
    author_name: String,
    from_staff: bool,
    body: String,
    internal: bool,
    created_at: i64,
}
crate::sql::db_row!(MessageRow {
    id,
    author_name,
    from_staff,
    body,
    internal,
    created_at
});

const SUMMARY_SELECT: &str = "SELECT t.id, t.number, t.company_id, c.name AS company_name, s.name AS site_name, \
          u.name AS requester_name, t.site_id, t.requester_id, t.assignee_id, a.name AS assignee_name, t.title, t.category, \
                    t.status, t.priority, t.created_at, t.updated_at, t.resolved_at, t.first_response_at, \
          t.first_response_due_at, t.resolution_due_at, t.sla_paused_at FROM ";
/// The ticket columns a client's list reads ([`PortalPageRow`]).
const PORTAL_PAGE_COLUMNS: &str =
    "t.id, t.number, t.site_id, t.requester_id, t.title, t.status, t.priority, t.updated_at";
/// The ticket columns a summary reads, for the page subquery.
const PAGE_COLUMNS: &str = "t.id, t.number, t.company_id, t.site_id, t.requester_id, t.assignee_id, t.title, \
     t.category, t.status, t.priority, t.created_at, t.updated_at, t.resolved_at, t.first_response_at, \
     t.first_response_due_at, t.resolution_due_at, t.sla_paused_at";
/// The names of a ticket's company, site, requester and assignee. Joined by primary key alone:
/// ids are unique across workspaces and the ticket's foreign keys (or, for the assignee, the
/// store's checks) tie each to the ticket's workspace, which the fence has already checked.
/// Composite (workspace_id, id) keys cost SQLite a 36-byte compare of the shared workspace id
/// at every step of every lookup.
const SUMMARY_JOINS: &str = " JOIN companies c ON c.id = t.company_id \
     LEFT JOIN sites s ON s.id = t.site_id \
     LEFT JOIN portal_users u ON u.id = t.requester_id \
     LEFT JOIN staff_users a ON a.id = t.assignee_id WHERE 1 = 1";

const ORDER: &str = " ORDER BY t.updated_at DESC, t.id DESC";

impl SummaryRow {
    /// `desk`: the reader works the desk and sees service levels (the portal never does).
    fn into_summary(self, desk: bool, now: i64) -> TicketSummary {
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
    fn sees_service_levels(&self) -> bool {
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
        let mut query = Q::new(SUMMARY_SELECT);
        query.sql("tickets t").sql(SUMMARY_JOINS);
        self.fenced(&mut query, &fence::TICKETS, "t");
        query.sql(" AND t.id = ").arg(id);
        let row: SummaryRow = self.tx.one(query).await?;
        Ok(row.into_summary(self.sees_service_levels(), now()))
    }

    /// One page of tickets in scope matching `filter`, most recently updated first, reading
    /// `columns` of the tickets table alone: the planner walks an (updated_at) index and stops
    /// after one page. Names are read after, once each ([`ScopedTx::names_of`]).
    /// `matched`: on PostgreSQL, the tickets a search matched, best first
    /// ([`ScopedTx::postgres_search`]).
    fn list_query(&self, columns: &str, filter: &TicketQuery, at: i64, matched: &str) -> Q {
        let mut query = Q::new("SELECT ");
        query.sql(columns);
        let words = search_words(&filter.search);
        let searching = !filter.search.trim().is_empty();
        if searching && words.is_empty() {
            // Punctuation alone: nothing to search for, so nothing matches.
            query.sql(" FROM tickets t WHERE 1 = 0");
        } else if searching {
            query.sql(" FROM (");
            self.search_matches(&mut query, filter, &words, matched);
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
                .arg(filter.limit.clamp(1, 200));
            query.sql(" OFFSET ").arg(filter.offset.max(0));
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
            .arg(filter.limit.clamp(1, 200));
        query.sql(" OFFSET ").arg(filter.offset.max(0));
        query
    }

    /// The tickets a search matches, as `(ticket_id, rank)` rows, the best the lowest rank:
    /// the database's full-text index over titles and public messages, and internal notes for
    /// staff (SQLite FTS5, PostgreSQL tsvector; stemmed, every word a prefix, all words
    /// required), plus the ticket whose number was searched. Whatever matches is then fenced
    /// like any list ([`ScopedTx::list_query`]); on SQLite the match itself is already narrowed
    /// to the caller's companies by the index.
    fn search_matches(&self, query: &mut Q, filter: &TicketQuery, words: &[String], matched: &str) {
        let staff = !self.scope.is_portal();
        let number = searched_number(&filter.search);
        // Rows of (ticket_id, rank, ord): the best rank first, then the lowest `ord`.
        if number.is_some() {
            query.sql("SELECT ticket_id, MIN(rank) AS rank, MIN(ord) AS ord FROM (");
        }
        if self.tx.is_postgres() {
            query
                .sql("SELECT m.ticket_id, m.rank, 0 AS ord FROM unnest(string_to_array(")
                .arg(matched)
                .sql(", ',')) WITH ORDINALITY AS m(ticket_id, rank)");
        } else {
            let companies: Vec<String> = match (filter.company, self.scope.companies()) {
                (Some(company), _) => vec![company.as_text()],
                // A long list costs the index more than the fence on the tickets does.
                (None, CompanySet::Only(ids)) if ids.len() <= 64 => {
                    ids.iter().map(|c| c.as_text()).collect()
                }
                (None, _) => Vec::new(),
            };
            let columns = if staff {
                "title public internal"
            } else {
                "title public"
            };
            // Title matches first, then the rest, each newest first: the index yields matches
            // newest first and stops at the cap, so a word in every one of a company's 100,000
            // tickets costs what a word in a thousand does (more is a search to narrow, not to
            // page through). Not bm25: its weights count a word's documents in the whole
            // database, other workspaces' too, which costs more than the search itself.
            // Grouped by the index's integer row before any ticket is looked up; "newest" is
            // the newest created (the row), which needs no ticket row to sort by.
            let workspace = self.scope.workspace().as_text();
            query.sql("SELECT r.ticket_id, g.rank, -g.row AS ord FROM (SELECT f.rowid AS row, MIN(f.rank) AS rank FROM (");
            for (rank, columns) in [(0, "title"), (1, columns)] {
                if rank > 0 {
                    query.sql(" UNION ALL ");
                }
                query
                    .sql(&format!(
                        "SELECT rowid, {rank} AS rank FROM (SELECT rowid FROM ticket_search WHERE ticket_search MATCH "
                    ))
                    .arg(fts5_query(words, columns, &workspace, &companies))
                    .sql(" ORDER BY rowid DESC LIMIT ")
                    .arg(SEARCH_MATCH_CAP)
                    .sql(")");
            }
            query.sql(") f GROUP BY f.rowid) g JOIN ticket_search_rows r ON r.row = g.row");
        }
        if let Some(number) = number {
            // The numbered ticket first, whether or not its text matches too.
            query.sql(" UNION ALL SELECT n.id, -1000000000, 0 FROM tickets n WHERE 1 = 1");
            self.fenced(query, &fence::TICKETS, "n");
            query
                .sql(" AND n.number = ")
                .arg(number)
                .sql(") g GROUP BY ticket_id");
        }
    }

    /// PostgreSQL: the tickets a search matches, best first (`ts_rank`, title words weighing
    /// most), at most [`SEARCH_MATCH_CAP`], as a comma-separated list of ids; empty when not
    /// searching or on SQLite. Matched as the system role, with the tickets' fence written into
    /// the query as in every list: under row-level security PostgreSQL may not use the
    /// full-text index at all (the match operator is not leakproof, so it runs after the
    /// policy, on every row of every tenant: 200 ms at 100,000 tickets). The page itself is
    /// then read in the caller's own transaction, under both fences.
    async fn postgres_search(&mut self, filter: &TicketQuery) -> Result<String, StoreError> {
        let words = search_words(&filter.search);
        if !self.tx.is_postgres() || words.is_empty() {
            return Ok(String::new());
        }
        let mut query = Q::new(
            // Joined on company and workspace too, so that the fence's company reaches the
            // search table's own index.
            "SELECT s.ticket_id FROM ticket_search s JOIN tickets t ON t.id = s.ticket_id \
             AND t.company_id = s.company_id AND t.workspace_id = s.workspace_id, to_tsquery('english', ",
        );
        query.arg(tsquery(&words)).sql(") q(q) WHERE s.doc @@ q.q");
        if self.scope.is_portal() {
            query.sql(" AND s.audience = 'client'");
        }
        self.fenced(&mut query, &fence::TICKETS, "t");
        if let Some(company) = filter.company {
            query.sql(" AND t.company_id = ").arg(company);
        }
        query
            .sql(" GROUP BY s.ticket_id ORDER BY MAX(ts_rank(s.doc, q.q)) DESC, s.ticket_id LIMIT ")
            .arg(SEARCH_MATCH_CAP);
        let rows: Vec<(String,)> = match &mut self.system {
            Some(system) => system.all(query).await?,
            None => self.tx.all(query).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(id,)| id)
            .collect::<Vec<_>>()
            .join(","))
    }

    /// Tickets in scope, most recently updated first, with everything the desk works with.
    pub async fn tickets(
        &mut self,
        filter: &TicketQuery,
    ) -> Result<Vec<TicketSummary>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let at = now();
        let matched = self.postgres_search(filter).await?;
        let query = self.list_query(PAGE_COLUMNS, filter, at, &matched);
        let rows: Vec<PageRow> = self.tx.all(query).await?;
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
            .names_of(&companies, &sites, &requesters, &assignees)
            .await?;
        let desk = self.sees_service_levels();
        Ok(rows
            .into_iter()
            .map(|row| row.with_names(&names).into_summary(desk, at))
            .collect())
    }

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
        let matched = self.postgres_search(filter).await?;
        let query = self.list_query(PORTAL_PAGE_COLUMNS, filter, now(), &matched);
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
        // Kept only if no change landed between the versions and the page. On SQLite the
        // transaction's snapshot already ensures it; on PostgreSQL each statement may see later
        // commits, and a page kept under versions older than its rows could outlive a failover
        // that lost those commits.
        if self.page_versions(company).await? == versions {
            let bytes = page.estimated_bytes();
            self.ticket_pages.put(key, versions, page.clone(), bytes);
        }
        Ok(page)
    }

    /// The versions a client's list page is kept under: the company's list version (its
    /// tickets, copies and sites) and the workspace's principal version (its users' names
    /// among the rest), read in one statement.
    async fn page_versions(&mut self, company: CompanyId) -> Result<Versions, StoreError> {
        let mut query = Q::new(
            "SELECT COALESCE((SELECT v.version FROM ticket_list_versions v WHERE v.company_id = ",
        );
        query.arg(company);
        self.fenced(&mut query, &fence::TICKET_LIST_VERSIONS, "v");
        query.sql("), 0), COALESCE((SELECT p.version FROM principal_versions p WHERE 1 = 1");
        self.fenced(&mut query, &fence::PRINCIPAL_VERSIONS, "p");
        query.sql("), 0)");
        let (list, names): (i64, i64) = self.tx.one(query).await?;
        Ok([list, names])
    }

    /// Reads a client's list page: its rows, then the names of their sites and requesters.
    async fn read_portal_page(&mut self, query: Q) -> Result<PortalPage, StoreError> {
        let rows: Vec<PortalPageRow> = self.tx.all(query).await?;
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
        let tickets = rows
            .into_iter()
            .map(|row| PortalTicket {
                site_name: shared(&site_names, row.site_id),
                requester_name: shared(&requester_names, row.requester_id),
                id: row.id.0,
                number: row.number,
                title: Arc::from(row.title),
                status: row.status.0,
                priority: Some(row.priority.0),
                updated_at: row.updated_at,
            })
            .collect();
        Ok(PortalPage::new(tickets))
    }

    /// One statement for the names of the given companies, sites, requesters and assignees,
    /// each table fenced like any other read (a requester from a company outside the scope,
    /// a client-group user, goes unnamed).
    async fn names_of(
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

    /// One ticket in scope with what the scope may read of it: messages (internal notes only for
    /// staff), timeline, custom-field answers, cc list and rating.
    pub async fn ticket(&mut self, id: TicketId) -> Result<TicketDetail, StoreError> {
        let ticket = self.ticket_summary(id).await?;
        let staff = self.scope.may(Action::ViewInternalNotes).is_ok();
        let mut messages = Q::new(
            "SELECT m.id, m.author_name, (m.author_staff_id IS NOT NULL) AS from_staff, m.body, m.internal, m.created_at \
             FROM ticket_messages m WHERE m.ticket_id = ",
        );
        messages.arg(id);
        self.fenced(&mut messages, &fence::TICKET_MESSAGES, "m");
        if !staff {
            messages.sql(" AND NOT m.internal");
        }
        messages.sql(" ORDER BY m.created_at, m.id");
        let rows: Vec<MessageRow> = self.tx.all(messages).await?;
        let mut files = Q::new(
            "SELECT a.message_id, a.id, a.file_name, a.size, a.inline FROM ticket_attachments a WHERE a.ticket_id = ",
        );
        files.arg(id);
        self.fenced(&mut files, &fence::TICKET_ATTACHMENTS, "a");
        if !staff {
            files.sql(" AND NOT a.internal");
        }
        files.sql(" ORDER BY a.created_at, a.file_name");
        let files: Vec<(String, String, String, i64, bool)> = self.tx.all(files).await?;
        let mut events = Q::new(
            "SELECT e.kind, e.old_value, e.new_value, e.actor_name, e.public, e.created_at \
             FROM ticket_events e WHERE e.ticket_id = ",
        );
        events.arg(id);
        self.fenced(&mut events, &fence::TICKET_EVENTS, "e");
        if !staff {
            events.sql(" AND e.public");
        }
        events.sql(" ORDER BY e.created_at, e.id");
        let events: Vec<EventRow> = self.tx.all(events).await?;
        let mut fields = Q::new(
            "SELECT v.field_id, v.label, v.value FROM ticket_field_values v WHERE v.ticket_id = ",
        );
        fields.arg(id);
        self.fenced(&mut fields, &fence::TICKET_FIELD_VALUES, "v");
        fields.sql(" ORDER BY v.position");
        let fields: Vec<(String, String, String)> = self.tx.all(fields).await?;
        let view = self.scope.ticket_view().clone();
        let fields = fields
            .into_iter()
            .filter(|(field, ..)| view.shows_field(field))
            .map(|(_, label, value)| (label, value))
            .collect();
        let mut cc = Q::new(
            "SELECT u.id, u.name FROM ticket_cc x JOIN portal_users u \
             ON u.workspace_id = x.workspace_id AND u.company_id = x.company_id AND u.id = x.portal_user_id \
             WHERE x.ticket_id = ",
        );
        cc.arg(id);
        self.fenced(&mut cc, &fence::TICKET_CC, "x");
        cc.sql(" ORDER BY u.name");
        let cc: Vec<(String, String)> = self.tx.all(cc).await?;
        let mut extra = Q::new(
            "SELECT t.csat_rating, t.csat_comment, t.csat_at, w.reopen_days, t.csat_by, r.name AS rater_name FROM tickets t \
             JOIN workspaces w ON w.id = t.workspace_id \
             LEFT JOIN portal_users r ON r.id = t.csat_by",
        );
        // The rater is named only if the scope may see them (the fence on the join).
        self.fenced(&mut extra, &fence::PORTAL_USERS, "r");
        extra.sql(" WHERE t.id = ").arg(id);
        self.fenced(&mut extra, &fence::TICKETS, "t");
        let RatingRow {
            csat_rating: score,
            csat_comment: comment,
            csat_at: rated_at,
            reopen_days,
            csat_by: rated_by,
            rater_name,
        } = self.tx.one(extra).await?;
        let reopen_until = match ticket.status {
            TicketStatus::Resolved => ticket.resolved_at.map(|at| at + reopen_days * 24 * 3600),
            _ => None,
        };
        Ok(TicketDetail {
            messages: rows
                .into_iter()
                .map(|m| TicketMessage {
                    attachments: files
                        .iter()
                        .filter(|(message, ..)| *message == m.id)
                        .map(|(_, id, file_name, size, inline)| AttachmentInfo {
                            id: id.clone(),
                            file_name: file_name.clone(),
                            size: *size,
                            inline: *inline,
                        })
                        .collect(),
                    author_name: m.author_name,
                    from_staff: m.from_staff,
                    body: m.body,
                    internal: m.internal,
                    created_at: m.created_at,
                })
                .collect(),
            events: events
                .into_iter()
                .filter(|e| match e.kind.as_str() {
                    "priority" => {
                        view.shows(TicketItem::Changes) && view.shows(TicketItem::Priority)
                    }
                    "status" => view.shows(TicketItem::Changes),
                    _ => true,
                })
                .map(|e| TicketEvent {
                    kind: e.kind,
                    old_value: e.old_value,
                    new_value: e.new_value,
                    actor_name: e.actor_name,
                    public: e.public,
                    created_at: e.created_at,
                })
                .collect(),
            fields,
            cc: cc
                .into_iter()
                .filter_map(|(id, name)| Some((PortalUserId::parse(&id)?, name)))
                .collect(),
            rating: match (score, rated_at) {
                (Some(score), Some(rated_at)) => Some(Rating {
                    score,
                    comment: comment.unwrap_or_default(),
                    rated_at,
                    rated_by: rated_by
                        .as_deref()
                        .and_then(PortalUserId::parse)
                        .zip(rater_name),
                }),
                _ => None,
            },
            reopen_until,
            ticket: TicketSummary {
                category: if view.shows(TicketItem::Category) {
                    ticket.category
                } else {
                    String::new()
                },
                site_name: ticket.site_name.filter(|_| view.shows(TicketItem::Site)),
                requester_name: ticket
                    .requester_name
                    .filter(|_| view.shows(TicketItem::Requester)),
                ..ticket
            },
            view,
        })
    }

    /// What changes when a reader of this ticket should see something new: the last public
    /// update, status, priority and the number of messages the scope may read (times are in
    /// seconds, so two changes within one second need a second witness). Internal notes do not
    /// move it for the portal.
    pub async fn ticket_stamp(&mut self, id: TicketId) -> Result<String, StoreError> {
        let ticket = self.ticket_summary(id).await?;
        let mut messages = Q::new("SELECT COUNT(*) FROM ticket_messages m WHERE m.ticket_id = ");
        messages.arg(id);
        self.fenced(&mut messages, &fence::TICKET_MESSAGES, "m");
        if self.scope.may(Action::ViewInternalNotes).is_err() {
            messages.sql(" AND NOT m.internal");
        }
        let count = self.tx.count(messages).await?;
        let priority = if self.scope.ticket_view().shows(TicketItem::Priority) {
            ticket.priority.as_str()
        } else {
            ""
        };
        // The desk also sees who it is assigned to and who is writing a reply.
        let desk = if self.scope.may(Action::WorkTickets).is_ok() {
            let replying = self.others_replying(id).await?.join(",");
            let assignee = ticket
                .assignee_id
                .map(|a| a.to_string())
                .unwrap_or_default();
            format!("/{assignee}/{replying}")
        } else {
            String::new()
        };
        Ok(format!(
            "{}/{}/{priority}/{count}{desk}",
            ticket.updated_at,
            ticket.status.as_str(),
        ))
    }

    /// The same for the scope's ticket list: newest update, and counts by state.
    pub async fn tickets_stamp(&mut self) -> Result<String, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        if !self.scope.is_portal() {
            // The desk's lists span many companies: their list versions (moved by every change
            // to a company's tickets), summed, rather than a count over every ticket.
            let query = self.select(
                // PostgreSQL sums BIGINTs as NUMERIC: cast back.
                "CAST(COALESCE(SUM(v.version % 2147483647), 0) AS BIGINT), COUNT(*)",
                &fence::TICKET_LIST_VERSIONS,
                "v",
            );
            let (sum, companies): (i64, i64) = self.tx.one(query).await?;
            return Ok(format!("{sum}/{companies}"));
        }
        let mut query = Q::new(
            "SELECT COALESCE(MAX(t.updated_at), 0), COUNT(*), \
             COALESCE(SUM(CASE WHEN t.status IN ('resolved', 'closed') THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN t.status = 'awaiting_client' THEN 1 ELSE 0 END), 0) FROM tickets t WHERE 1 = 1",
        );
        self.fenced(&mut query, &fence::TICKETS, "t");
        let (updated, all, closed, awaiting): (i64, i64, i64, i64) = self.tx.one(query).await?;
        Ok(format!("{updated}/{all}/{closed}/{awaiting}"))
    }

    /// One attachment of a ticket in scope; files on internal notes only for staff. `NotFound`
    /// for anything else, whether absent, foreign or hidden.
    pub async fn attachment(
        &mut self,
        ticket: TicketId,
        id: &str,
    ) -> Result<Attachment, StoreError> {
        self.ticket_summary(ticket).await?;
        let mut query = Q::new(
            "SELECT a.blob_key, a.file_name, a.content_type, a.inline FROM ticket_attachments a WHERE a.ticket_id = ",
        );
        query.arg(ticket);
        query.sql(" AND a.id = ").arg(id);
        self.fenced(&mut query, &fence::TICKET_ATTACHMENTS, "a");
        if self.scope.may(Action::ViewInternalNotes).is_err() {
            query.sql(" AND NOT a.internal");
        }
        let (blob_key, file_name, content_type, inline): (String, String, String, bool) =
            self.tx.one(query).await?;
        Ok(Attachment {
            blob_key,
            file_name,
            content_type,
            inline,
        })
    }

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
        let kpis = self.count_kpis(Q::with(&key.sql, key.args.clone())).await?;
        if self.page_versions(company).await? == versions {
            let bytes = std::mem::size_of::<TicketKpis>() + key.sql.len();
            self.ticket_kpis
                .put(key, versions, Arc::new(kpis.clone()), bytes);
        }
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
