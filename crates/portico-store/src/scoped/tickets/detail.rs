//! One ticket's page: its messages (internal notes only for staff), timeline, custom-field
//! answers, cc list and rating, with what the reader's role is not shown left out; and its
//! attachments, handed only to readers who may see them.

use portico_core::{
    Action, PortalUserId, TicketId, TicketItem, TicketPriority, TicketStatus, TicketView,
};

use crate::StoreError;
use crate::scoped::ScopedTx;
use crate::scoped::fence;
use crate::scoped::tickets::TicketSummary;
use crate::sql::Q;

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

impl ScopedTx<'_> {
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
}
