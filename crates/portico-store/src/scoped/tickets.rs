//! Tickets and their messages, fenced to the scope: company, site restriction and own-tickets-
//! only all go into the SQL. Internal notes are only selected for scopes allowed to read them.

use portico_core::{Action, CompanyId, TicketId, TicketPriority, TicketStatus};

use crate::scoped::ScopedTx;
use crate::sql::Q;
use crate::{StoreError, now};

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Open,
    AwaitingClient,
    Closed,
    All,
}

impl StatusFilter {
    pub fn parse(text: &str) -> Option<StatusFilter> {
        match text {
            "open" => Some(StatusFilter::Open),
            "awaiting" => Some(StatusFilter::AwaitingClient),
            "closed" => Some(StatusFilter::Closed),
            "all" => Some(StatusFilter::All),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Open => "open",
            StatusFilter::AwaitingClient => "awaiting",
            StatusFilter::Closed => "closed",
            StatusFilter::All => "all",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub status: StatusFilter,
    pub company: Option<CompanyId>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct TicketSummary {
    pub id: TicketId,
    pub company_id: CompanyId,
    pub company_name: String,
    pub site_name: Option<String>,
    pub requester_name: Option<String>,
    pub title: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct TicketMessage {
    pub author_name: String,
    pub from_staff: bool,
    pub body: String,
    pub internal: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct TicketDetail {
    pub ticket: TicketSummary,
    pub messages: Vec<TicketMessage>,
}

/// The overview's ticket figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketKpis {
    pub open: i64,
    pub awaiting_client: i64,
    pub resolved_last_30_days: i64,
}

struct SummaryRow {
    id: String,
    company_id: String,
    company_name: String,
    site_name: Option<String>,
    requester_name: Option<String>,
    title: String,
    status: String,
    priority: String,
    created_at: i64,
    updated_at: i64,
}
crate::sql::db_row!(SummaryRow {
    id,
    company_id,
    company_name,
    site_name,
    requester_name,
    title,
    status,
    priority,
    created_at,
    updated_at
});

struct MessageRow {
    author_name: String,
    from_staff: bool,
    body: String,
    internal: bool,
    created_at: i64,
}
crate::sql::db_row!(MessageRow {
    author_name,
    from_staff,
    body,
    internal,
    created_at
});

const SUMMARY_COLUMNS: &str = "SELECT t.id, t.company_id, c.name AS company_name, s.name AS site_name, \
     u.name AS requester_name, t.title, t.status, t.priority, t.created_at, t.updated_at FROM tickets t \
     JOIN companies c ON c.workspace_id = t.workspace_id AND c.id = t.company_id \
     LEFT JOIN sites s ON s.workspace_id = t.workspace_id AND s.company_id = t.company_id AND s.id = t.site_id \
     LEFT JOIN portal_users u ON u.workspace_id = t.workspace_id AND u.id = t.requester_id WHERE 1 = 1";

impl SummaryRow {
    fn into_summary(self) -> Option<TicketSummary> {
        Some(TicketSummary {
            id: TicketId::parse(&self.id)?,
            company_id: CompanyId::parse(&self.company_id)?,
            company_name: self.company_name,
            site_name: self.site_name,
            requester_name: self.requester_name,
            title: self.title,
            status: TicketStatus::parse(&self.status)?,
            priority: TicketPriority::parse(&self.priority)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl ScopedTx<'_> {
    /// The scope's fence for tickets aliased `t`: companies, then sites, then own-only.
    fn fence_tickets(&self, query: &mut Q) {
        self.fence(query, "t.workspace_id", "t.company_id");
        if let Some(sites) = self.scope.sites() {
            query.sql(" AND ");
            query.in_list("t.site_id", sites);
        }
        if let Some(requester) = self.scope.requester() {
            query.sql(" AND t.requester_id = ").arg(requester);
        }
    }

    /// Tickets in scope, most recently updated first.
    pub async fn tickets(
        &mut self,
        filter: &TicketQuery,
    ) -> Result<Vec<TicketSummary>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let mut query = Q::new(SUMMARY_COLUMNS);
        self.fence_tickets(&mut query);
        match filter.status {
            StatusFilter::Open => query.sql(" AND t.status NOT IN ('resolved', 'closed')"),
            StatusFilter::AwaitingClient => query.sql(" AND t.status = 'awaiting_client'"),
            StatusFilter::Closed => query.sql(" AND t.status IN ('resolved', 'closed')"),
            StatusFilter::All => &mut query,
        };
        if let Some(company) = filter.company {
            query.sql(" AND t.company_id = ").arg(company);
        }
        query
            .sql(" ORDER BY t.updated_at DESC, t.id DESC LIMIT ")
            .arg(filter.limit.clamp(1, 200));
        query.sql(" OFFSET ").arg(filter.offset.max(0));
        let rows: Vec<SummaryRow> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(SummaryRow::into_summary)
            .collect())
    }

    /// One ticket in scope with the messages the scope may read.
    pub async fn ticket(&mut self, id: TicketId) -> Result<TicketDetail, StoreError> {
        // Whoever may not read tickets learns nothing about whether this one exists.
        self.scope
            .may(Action::ViewTickets)
            .map_err(|_| StoreError::NotFound)?;
        let mut query = Q::new(SUMMARY_COLUMNS);
        self.fence_tickets(&mut query);
        query.sql(" AND t.id = ").arg(id);
        let row: SummaryRow = self.tx.one(query).await?;
        let ticket = row.into_summary().ok_or(StoreError::NotFound)?;
        let mut messages = Q::new(
            "SELECT m.author_name, (m.author_staff_id IS NOT NULL) AS from_staff, m.body, m.internal, m.created_at \
             FROM ticket_messages m WHERE m.ticket_id = ",
        );
        messages.arg(id);
        self.fence(&mut messages, "m.workspace_id", "m.company_id");
        if self.scope.may(Action::ViewInternalNotes).is_err() {
            messages.sql(" AND NOT m.internal");
        }
        messages.sql(" ORDER BY m.created_at, m.id");
        let rows: Vec<MessageRow> = self.tx.all(messages).await?;
        Ok(TicketDetail {
            ticket,
            messages: rows
                .into_iter()
                .map(|m| TicketMessage {
                    author_name: m.author_name,
                    from_staff: m.from_staff,
                    body: m.body,
                    internal: m.internal,
                    created_at: m.created_at,
                })
                .collect(),
        })
    }

    /// Open, awaiting-client and recently resolved counts for the scope.
    pub async fn ticket_kpis(&mut self) -> Result<TicketKpis, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let mut query = Q::new(
            "SELECT COALESCE(SUM(CASE WHEN t.status NOT IN ('resolved', 'closed') THEN 1 ELSE 0 END), 0) AS open, \
             COALESCE(SUM(CASE WHEN t.status = 'awaiting_client' THEN 1 ELSE 0 END), 0) AS awaiting, \
             COALESCE(SUM(CASE WHEN t.status IN ('resolved', 'closed') AND t.resolved_at >= ",
        );
        query.arg(now() - 30 * 24 * 3600);
        query.sql(" THEN 1 ELSE 0 END), 0) AS resolved FROM tickets t WHERE 1 = 1");
        self.fence_tickets(&mut query);
        let (open, awaiting_client, resolved_last_30_days): (i64, i64, i64) =
            self.tx.one(query).await?;
        Ok(TicketKpis {
            open,
            awaiting_client,
            resolved_last_30_days,
        })
    }
}
