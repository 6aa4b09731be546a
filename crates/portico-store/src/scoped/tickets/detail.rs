//! One ticket's page: its messages (internal notes only for staff), timeline, custom-field
//! answers, cc list and rating, with what the reader's role is not shown left out; and its
//! attachments, handed only to readers who may see them.

use portico_core::{
    Action, AssetId, PortalUserId, Section, TicketId, TicketItem, TicketPriority, TicketStatus,
    TicketView,
};

use crate::StoreError;
use crate::now;
use crate::scoped::ScopedTx;
use crate::scoped::fence;
use crate::scoped::json_rows::{Cells, json_rows, parse_rows};
use crate::scoped::ticket_workflow::reads_ticket_row;
use crate::scoped::tickets::TicketSummary;
use crate::scoped::tickets::list::{
    PORTAL_SUMMARY_COLUMNS, PORTAL_SUMMARY_JOINS, SUMMARY_COLUMNS, SUMMARY_JOINS, SummaryRow,
};
use crate::sql::{Both, Q};

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

/// What a ticket's page reads beside its summary, in the same statement: its rating, the
/// workspace's reopen window, and its messages, files, timeline, custom-field answers and cc
/// list, each as a JSON array of rows ([`json_rows`]).
struct PageRecords {
    csat_rating: Option<i64>,
    csat_comment: Option<String>,
    csat_at: Option<i64>,
    reopen_days: i64,
    csat_by: Option<String>,
    rater_name: Option<String>,
    messages: String,
    files: String,
    events: String,
    fields: String,
    cc: String,
    cc_candidates: String,
    asset_id: Option<String>,
    asset_name: Option<String>,
}
crate::sql::db_row!(PageRecords {
    csat_rating,
    csat_comment,
    csat_at,
    reopen_days,
    csat_by,
    rater_name,
    messages,
    files,
    events,
    fields,
    cc,
    cc_candidates,
    asset_id,
    asset_name
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
    /// For a client who may contribute: the colleagues who may be copied on it (active users
    /// of its company who could read it themselves). Empty for everyone else.
    pub cc_candidates: Vec<(PortalUserId, String)>,
    pub rating: Option<Rating>,
    /// The asset the ticket is about, when the reader may see that asset (its company's and
    /// site's fence, and on the portal the Assets section).
    pub asset: Option<(AssetId, String)>,
    /// Until when the client may reopen a resolved ticket.
    pub reopen_until: Option<i64>,
    /// What of the ticket the reader is shown: what it hides is left out above already (the
    /// priority, which a summary always has, the page leaves out by it).
    pub view: TicketView,
}

impl ScopedTx<'_> {
    /// One ticket in scope with what the scope may read of it: messages (internal notes only for
    /// staff), timeline, custom-field answers, cc list and rating.
    pub async fn ticket(&mut self, id: TicketId) -> Result<TicketDetail, StoreError> {
        self.scope
            .may(Action::ViewTickets)
            .map_err(|_| StoreError::NotFound)?;
        let staff = self.scope.may(Action::ViewInternalNotes).is_ok();
        let postgres = self.tx.is_postgres();
        // One statement: the ticket's summary and rating, and each kind of record under it as
        // a JSON array from a subquery on the ticket, each subquery fenced like its own query.
        let (columns, joins) = if self.scope.is_portal() {
            (PORTAL_SUMMARY_COLUMNS, PORTAL_SUMMARY_JOINS)
        } else {
            (SUMMARY_COLUMNS, SUMMARY_JOINS)
        };
        let mut query = Q::new(columns);
        query.sql(
            ", t.csat_rating, t.csat_comment, t.csat_at, w.reopen_days, t.csat_by, r.name AS rater_name, (SELECT ",
        );
        query
            .sql(&json_rows(
                postgres,
                "m.id, m.author_name, (m.author_staff_id IS NOT NULL OR COALESCE(m.psa_author, '') = 'agent'), m.body, m.internal, m.created_at",
            ))
            .sql(" FROM ticket_messages m WHERE m.ticket_id = t.id");
        self.fenced(&mut query, &fence::TICKET_MESSAGES, "m");
        if !staff {
            query.sql(" AND NOT m.internal");
        }
        query
            .sql(") AS messages, (SELECT ")
            .sql(&json_rows(
                postgres,
                "a.message_id, a.id, a.file_name, a.size, a.inline, a.created_at",
            ))
            .sql(" FROM ticket_attachments a WHERE a.ticket_id = t.id");
        self.fenced(&mut query, &fence::TICKET_ATTACHMENTS, "a");
        if !staff {
            query.sql(" AND NOT a.internal");
        }
        query
            .sql(") AS files, (SELECT ")
            .sql(&json_rows(
                postgres,
                "e.kind, e.old_value, e.new_value, e.actor_name, e.public, e.created_at, e.id",
            ))
            .sql(" FROM ticket_events e WHERE e.ticket_id = t.id");
        self.fenced(&mut query, &fence::TICKET_EVENTS, "e");
        if !staff {
            query.sql(" AND e.public");
        }
        query
            .sql(") AS events, (SELECT ")
            .sql(&json_rows(
                postgres,
                "v.field_id, v.label, v.value, v.position",
            ))
            .sql(" FROM ticket_field_values v WHERE v.ticket_id = t.id");
        self.fenced(&mut query, &fence::TICKET_FIELD_VALUES, "v");
        query
            .sql(") AS fields, (SELECT ")
            .sql(&json_rows(postgres, "x_u.id, x_u.name"))
            .sql(
                " FROM ticket_cc x JOIN portal_users x_u \
                 ON x_u.workspace_id = x.workspace_id AND x_u.company_id = x.company_id AND x_u.id = x.portal_user_id \
                 WHERE x.ticket_id = t.id",
            );
        self.fenced(&mut query, &fence::TICKET_CC, "x");
        query.sql(") AS cc, ");
        // For a client who may copy colleagues on it: those who could be (active users of its
        // company who could read it themselves).
        if self.scope.is_portal() && self.scope.may(Action::ContributeTickets).is_ok() {
            query
                .sql("(SELECT ")
                .sql(&json_rows(postgres, "u.id, u.name"))
                .sql(" FROM portal_users u WHERE NOT u.disabled AND u.company_id = t.company_id");
            self.fenced(&mut query, &fence::PORTAL_USERS, "u");
            // `t` and its company `c` are the statement's own (`name_joins`).
            query.sql(" AND ").sql(&reads_ticket_row("t", "c")).sql(")");
        } else {
            query.sql("'[]'");
        }
        query.sql(" AS cc_candidates, ");
        if !self.scope.is_portal() || self.scope.may(Action::ViewSection(Section::Assets)).is_ok() {
            query.sql("(SELECT k.id FROM assets k WHERE k.id = t.asset_id");
            self.fenced(&mut query, &fence::ASSETS, "k");
            query.sql(") AS asset_id, (SELECT k.name FROM assets k WHERE k.id = t.asset_id");
            self.fenced(&mut query, &fence::ASSETS, "k");
            query.sql(") AS asset_name");
        } else {
            query.sql("NULL AS asset_id, NULL AS asset_name");
        }
        query
            .sql(" FROM tickets t")
            .sql(joins)
            .sql(" JOIN workspaces w ON w.id = t.workspace_id LEFT JOIN portal_users r ON r.id = t.csat_by");
        // The rater is named only if the scope may see them (the fence on the join).
        self.fenced(&mut query, &fence::PORTAL_USERS, "r");
        query.sql(" WHERE t.id = ").arg(id);
        self.fenced(&mut query, &fence::TICKETS, "t");
        let Both(summary, records): Both<SummaryRow, PageRecords> = self.tx.one(query).await?;
        let ticket = summary.into_summary(self.sees_service_levels(), now());
        let view = self.scope.ticket_view().clone();

        // Each kind in its order: files by time then name, messages and the timeline by time
        // then id, answers by position, people by name.
        let mut files = parse_rows(&records.files, "attachments")?
            .iter()
            .map(|row| {
                let row = Cells(row);
                Ok((
                    (row.int(5)?, row.text(2)?),
                    row.text(0)?,
                    AttachmentInfo {
                        id: row.text(1)?,
                        file_name: row.text(2)?,
                        size: row.int(3)?,
                        inline: row.flag(4)?,
                    },
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut messages = parse_rows(&records.messages, "messages")?
            .iter()
            .map(|row| {
                let row = Cells(row);
                let id = row.text(0)?;
                let message = TicketMessage {
                    attachments: files
                        .iter()
                        .filter(|(_, message, _)| *message == id)
                        .map(|(_, _, file)| file.clone())
                        .collect(),
                    author_name: row.text(1)?,
                    from_staff: row.flag(2)?,
                    body: row.text(3)?,
                    internal: row.flag(4)?,
                    created_at: row.int(5)?,
                };
                Ok((id, message))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        messages.sort_by(|(a_id, a), (b_id, b)| (a.created_at, a_id).cmp(&(b.created_at, b_id)));
        let mut events = parse_rows(&records.events, "timeline")?
            .iter()
            .map(|row| {
                let row = Cells(row);
                let event = TicketEvent {
                    kind: row.text(0)?,
                    old_value: row.text(1)?,
                    new_value: row.text(2)?,
                    actor_name: row.text(3)?,
                    public: row.flag(4)?,
                    created_at: row.int(5)?,
                };
                Ok((row.text(6)?, event))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        events.sort_by(|(a_id, a), (b_id, b)| (a.created_at, a_id).cmp(&(b.created_at, b_id)));
        let events = events
            .into_iter()
            .map(|(_, event)| event)
            .filter(|e| match e.kind.as_str() {
                "priority" => view.shows(TicketItem::Changes) && view.shows(TicketItem::Priority),
                "status" => view.shows(TicketItem::Changes),
                _ => true,
            })
            .collect();
        let mut fields = Vec::new();
        for row in parse_rows(&records.fields, "custom fields")? {
            let row = Cells(&row);
            if view.shows_field(&row.text(0)?) {
                fields.push((row.int(3)?, row.text(1)?, row.text(2)?));
            }
        }
        fields.sort_by_key(|(position, ..)| *position);
        let mut cc = Vec::new();
        for row in parse_rows(&records.cc, "copied people")? {
            let row = Cells(&row);
            if let Some(user) = PortalUserId::parse(&row.text(0)?) {
                cc.push((user, row.text(1)?));
            }
        }
        let mut cc_candidates = Vec::new();
        for row in parse_rows(&records.cc_candidates, "colleagues")? {
            let row = Cells(&row);
            if let Some(user) = PortalUserId::parse(&row.text(0)?) {
                cc_candidates.push((user, row.text(1)?));
            }
        }
        for people in [&mut cc, &mut cc_candidates] {
            people.sort_by(|(a_id, a), (b_id, b)| {
                (a.to_lowercase(), a_id.to_string()).cmp(&(b.to_lowercase(), b_id.to_string()))
            });
        }
        let PageRecords {
            csat_rating: score,
            csat_comment: comment,
            csat_at: rated_at,
            reopen_days,
            csat_by: rated_by,
            rater_name,
            asset_id,
            asset_name,
            ..
        } = records;
        let reopen_until = match ticket.status {
            TicketStatus::Resolved => ticket.resolved_at.map(|at| at + reopen_days * 24 * 3600),
            _ => None,
        };
        Ok(TicketDetail {
            messages: messages.into_iter().map(|(_, m)| m).collect(),
            events,
            fields: fields.into_iter().map(|(_, l, v)| (l, v)).collect(),
            cc,
            cc_candidates,
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
            asset: asset_id
                .as_deref()
                .map(AssetId::from_stored)
                .zip(asset_name),
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

    /// One attachment of a ticket in scope; files on internal notes only for staff. `NotFound`
    /// for anything else, whether absent, foreign or hidden.
    pub async fn attachment(
        &mut self,
        ticket: TicketId,
        id: &str,
    ) -> Result<Attachment, StoreError> {
        let summary = self.ticket_summary(ticket).await?;
        let mut query = Q::new(
            "SELECT a.blob_key, a.file_name, a.content_type, a.inline, a.internal FROM ticket_attachments a WHERE a.ticket_id = ",
        );
        query.arg(ticket);
        query.sql(" AND a.id = ").arg(id);
        self.fenced(&mut query, &fence::TICKET_ATTACHMENTS, "a");
        if self.scope.may(Action::ViewInternalNotes).is_err() {
            query.sql(" AND NOT a.internal");
        }
        let (blob_key, file_name, content_type, inline, internal): (
            String,
            String,
            String,
            bool,
            bool,
        ) = self.tx.one(query).await?;
        // A file of an internal note is the MSP's own: its download goes on the workspace's
        // chain.
        self.audit_view_on(
            !internal,
            portico_core::AuditAction::Downloaded,
            Some(summary.company_id),
            portico_core::AuditTarget::new(
                "attachment",
                id,
                format!("{file_name} (#{} {})", summary.number, summary.title),
            ),
            "",
        )?;
        Ok(Attachment {
            blob_key,
            file_name,
            content_type,
            inline,
        })
    }
}
