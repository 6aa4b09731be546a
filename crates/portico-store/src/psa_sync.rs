//! Connectors (I2) for a PSA, two ways (issue 17): a mapped company's tickets raised in Portico
//! are created in the MSP's PSA, public replies cross both ways, and status changes follow.
//! The run (`portico-connectors`) asks what is to be sent ([`SystemTx::psa_work`]), marks each
//! send before it goes ([`SystemTx::psa_create_sending`], [`SystemTx::psa_message_sending`]) so
//! that a send whose answer never came is looked for in the PSA before it is sent again (no
//! duplicate after a retry), records each answer, and brings the PSA's side in through the
//! ticket's own steps ([`crate::Store::psa_bring_in`]). One ticket's failure is kept on its link
//! and tried again at the next run; the others go on.

use std::collections::{HashMap, HashSet};

use portico_core::{MessageId, Scope, TicketId, TicketStatus};

use crate::connector_sync::{DueTenant, RunReport, SyncCounts};
use crate::scoped::ticket_workflow::{NewAttachment, ToolAuthor};
use crate::sql::q;
use crate::system::SystemTx;
use crate::{Store, StoreError};

/// Tickets created in the PSA per run at most: a company connected with a long backlog of open
/// tickets catches up over a few runs.
pub const CREATES_PER_RUN: i64 = 50;

/// A ticket as the PSA side needs it.
#[derive(Debug, Clone)]
pub struct PsaTicket {
    pub id: TicketId,
    pub number: i64,
    pub title: String,
    pub status: TicketStatus,
    pub priority: String,
    pub requester: String,
    pub created_at: i64,
    /// The ticket's first message: the PSA ticket's own text.
    pub details: String,
    pub first_message: Option<MessageId>,
    pub link: Option<PsaLink>,
    /// Public replies written in Portico that have not crossed yet, oldest first.
    pub outgoing: Vec<PsaOutgoing>,
    /// Files of messages that crossed are still to be sent (a run cut short, a lost answer).
    pub files_due: bool,
}

/// A run's account of a ticket's replies held back ([`SystemTx::psa_replies_held_back`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldBack {
    /// Held back again at the same reply: one run more.
    Again,
    /// The replies before it came in, and a later one is held back: its first run.
    Anew,
    /// Every new reply came in.
    Over,
}

/// What is known of a ticket's counterpart in the PSA.
#[derive(Debug, Clone)]
pub struct PsaLink {
    pub external_id: Option<String>,
    /// A create was sent then, and its answer never came.
    pub create_sent_at: Option<i64>,
    /// Both sides' statuses when they last agreed.
    pub portico_status: String,
    pub psa_status: String,
    /// Runs in a row in which this ticket did not sync (0 after one that did): the PSA's side
    /// is read again whether or not the PSA says it changed, so that nothing of a failed run
    /// is lost.
    pub failures: i64,
    /// Runs in a row in which its new replies were held back for a file the PSA could not give
    /// just then (apart from `failures`).
    pub held_back: i64,
}

/// A public reply written in Portico, to be sent.
#[derive(Debug, Clone)]
pub struct PsaOutgoing {
    pub message: MessageId,
    pub author: String,
    pub from_desk: bool,
    pub body: String,
    pub created_at: i64,
    /// An earlier send of it whose answer never came.
    pub sent_at: Option<i64>,
}

/// A reply the PSA has that Portico does not.
#[derive(Debug, Clone)]
pub struct PsaReply {
    pub external_id: String,
    pub author: String,
    pub kind: ToolAuthor,
    pub body: String,
    pub at: i64,
    /// The files the PSA shows the user with it, already in the attachment store.
    pub files: Vec<PsaFile>,
    /// How many files the PSA counted on its action (those kept from the user included).
    pub files_seen: i64,
}

/// A file the PSA shows the user, already in the attachment store, with the PSA's id of it.
#[derive(Debug, Clone)]
pub struct PsaFile {
    pub external_id: String,
    pub file: NewAttachment,
}

/// A PSA action already linked to a message of the ticket.
#[derive(Debug, Clone)]
pub struct KnownAction {
    pub message: MessageId,
    /// A reply brought in from the PSA (not one sent there, nor the ticket's first message).
    pub brought_in: bool,
    /// How many files the PSA counted on it when they were last read; -1 when not known.
    pub files_seen: i64,
}

/// A file of a public message that crossed to the PSA, still to be sent with it.
#[derive(Debug, Clone)]
pub struct PsaAttachment {
    pub id: String,
    /// Where its bytes are kept (the attachment store's key).
    pub blob_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// The PSA's action its message became; `None` for the ticket's first message (the PSA
    /// ticket's own text), whose files go on the ticket.
    pub action: Option<String>,
    /// An earlier send of it whose answer never came.
    pub sent_at: Option<i64>,
}

/// The attachments of a company's tickets still to cross (after `FROM`; `$1` the workspace,
/// `$2` the company), from its linked tickets: public files of messages that crossed out (a
/// ticket's first message, or a reply whose action is known) with no PSA id yet and fewer than
/// [`FILE_TRIES`] refusals. Never an internal note's file, nor one of a reply that came from
/// the PSA; files from before files crossed carry an empty id (migration 0066) and stay.
fn attachments_due() -> String {
    format!(
        "psa_ticket_links l \
     JOIN ticket_attachments a ON a.ticket_id = l.ticket_id AND a.workspace_id = l.workspace_id \
     JOIN ticket_messages m ON m.workspace_id = a.workspace_id AND m.id = a.message_id \
     JOIN psa_message_links ml ON ml.workspace_id = a.workspace_id AND ml.message_id = a.message_id \
     LEFT JOIN psa_attachment_links al ON al.workspace_id = a.workspace_id AND al.attachment_id = a.id \
     WHERE l.workspace_id = $1 AND l.company_id = $2 AND a.company_id = l.company_id \
     AND NOT a.internal AND NOT m.internal \
     AND (ml.direction = 'details' OR (ml.direction = 'out' AND ml.external_id IS NOT NULL)) \
     AND (al.attachment_id IS NULL OR (al.external_id IS NULL AND al.failures < {FILE_TRIES}))"
    )
}

/// How often a file the PSA refuses (or whose bytes cannot be read) is tried.
pub const FILE_TRIES: i64 = 3;

struct AttachmentRow {
    id: String,
    blob_key: String,
    file_name: String,
    content_type: String,
    size: i64,
    direction: String,
    action: Option<String>,
    sent_at: Option<i64>,
}
crate::sql::db_row!(AttachmentRow {
    id,
    blob_key,
    file_name,
    content_type,
    size,
    direction,
    action,
    sent_at
});

/// The statuses both sides have once a ticket is settled.
#[derive(Debug, Clone, Copy)]
pub struct PsaAgreement<'a> {
    pub portico: TicketStatus,
    pub psa_status: &'a str,
    pub psa_status_name: &'a str,
    /// How a conflict (both sides changed) was settled, when there was one.
    pub conflict: Option<&'a str>,
}

/// What a PSA run leaves for its record.
#[derive(Debug, Clone, Copy)]
pub struct PsaRunRecord<'a> {
    /// Where the next incremental read of the PSA starts (its own time text).
    pub watermark: &'a str,
    pub counts: SyncCounts,
    pub summary: &'a str,
}

struct TicketRow {
    id: String,
    number: i64,
    title: String,
    status: String,
    priority: String,
    requester: String,
    created_at: i64,
    external_id: Option<String>,
    create_sent_at: Option<i64>,
    portico_status: Option<String>,
    psa_status: Option<String>,
    failures: Option<i64>,
    held_back: Option<i64>,
}
crate::sql::db_row!(TicketRow {
    id,
    number,
    title,
    status,
    priority,
    requester,
    created_at,
    external_id,
    create_sent_at,
    portico_status,
    psa_status,
    failures,
    held_back
});

struct MessageRow {
    ticket_id: String,
    id: String,
    author_name: String,
    from_desk: bool,
    body: String,
    created_at: i64,
    direction: Option<String>,
    sent_at: Option<i64>,
    external_id: Option<String>,
}
crate::sql::db_row!(MessageRow {
    ticket_id,
    id,
    author_name,
    from_desk,
    body,
    created_at,
    direction,
    sent_at,
    external_id
});

impl SystemTx {
    /// The company's tickets the run has to do with: those linked to this PSA client, and the
    /// open ones not yet sent (at most [`CREATES_PER_RUN`]), each with its public replies still
    /// to cross. Internal notes are never read here.
    pub async fn psa_work(&mut self, due: &DueTenant) -> Result<Vec<PsaTicket>, StoreError> {
        let columns = "t.id, t.number, t.title, t.status, t.priority, \
             COALESCE(u.name, '') AS requester, t.created_at, l.external_id, l.create_sent_at, \
             l.portico_status, l.psa_status, l.failures, l.held_back FROM tickets t \
             LEFT JOIN portal_users u ON u.workspace_id = t.workspace_id AND u.id = t.requester_id \
             LEFT JOIN psa_ticket_links l ON l.workspace_id = t.workspace_id AND l.ticket_id = t.id";
        let mut rows: Vec<TicketRow> = self
            .tx
            .all(q!(
                &format!(
                    "SELECT {columns} WHERE t.workspace_id = $1 AND t.company_id = $2 \
                     AND l.connector_id = $3 AND l.external_tenant = $4 ORDER BY t.created_at"
                ),
                due.workspace_id,
                due.company_id,
                due.connector_id,
                &due.external_id
            ))
            .await?;
        let unsent: Vec<TicketRow> = self
            .tx
            .all(q!(
                &format!(
                    "SELECT {columns} WHERE t.workspace_id = $1 AND t.company_id = $2 \
                     AND l.ticket_id IS NULL AND t.status NOT IN ('resolved', 'closed') \
                     ORDER BY t.created_at LIMIT $3"
                ),
                due.workspace_id,
                due.company_id,
                CREATES_PER_RUN
            ))
            .await?;
        rows.extend(unsent);
        let messages: Vec<MessageRow> = self
            .tx
            .all(q!(
                "SELECT m.ticket_id, m.id, m.author_name, \
                 (m.author_staff_id IS NOT NULL OR COALESCE(m.psa_author, '') = 'agent') AS from_desk, m.body, \
                 m.created_at, ml.direction, ml.sent_at, ml.external_id FROM ticket_messages m \
                 LEFT JOIN psa_message_links ml ON ml.workspace_id = m.workspace_id AND ml.message_id = m.id \
                 WHERE m.workspace_id = $1 AND m.company_id = $2 AND NOT m.internal \
                 AND m.ticket_id IN (SELECT t.id FROM tickets t LEFT JOIN psa_ticket_links l \
                   ON l.workspace_id = t.workspace_id AND l.ticket_id = t.id \
                   WHERE t.workspace_id = $3 AND t.company_id = $4 \
                   AND (l.connector_id = $5 OR (l.ticket_id IS NULL AND t.status NOT IN ('resolved', 'closed')))) \
                 ORDER BY m.created_at, m.id",
                due.workspace_id,
                due.company_id,
                due.workspace_id,
                due.company_id,
                due.connector_id
            ))
            .await?;
        let mut tickets: Vec<PsaTicket> = rows
            .into_iter()
            .map(|r| PsaTicket {
                id: TicketId::from_stored(&r.id),
                number: r.number,
                title: r.title,
                status: TicketStatus::parse(&r.status).unwrap_or(TicketStatus::Open),
                priority: r.priority,
                requester: r.requester,
                created_at: r.created_at,
                details: String::new(),
                first_message: None,
                link: r.portico_status.map(|portico_status| PsaLink {
                    external_id: r.external_id,
                    create_sent_at: r.create_sent_at,
                    portico_status,
                    psa_status: r.psa_status.unwrap_or_default(),
                    failures: r.failures.unwrap_or(0),
                    held_back: r.held_back.unwrap_or(0),
                }),
                outgoing: Vec::new(),
                files_due: false,
            })
            .collect();
        let index: std::collections::HashMap<String, usize> = tickets
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_text(), i))
            .collect();
        let files_due: Vec<(String,)> = self
            .tx
            .all(q!(
                &format!("SELECT DISTINCT a.ticket_id FROM {}", attachments_due()),
                due.workspace_id,
                due.company_id
            ))
            .await?;
        for (ticket,) in files_due {
            if let Some(&i) = index.get(&ticket) {
                tickets[i].files_due = true;
            }
        }
        for m in messages {
            let Some(&i) = index.get(&m.ticket_id) else {
                continue;
            };
            let ticket = &mut tickets[i];
            if ticket.first_message.is_none() {
                ticket.first_message = Some(MessageId::from_stored(&m.id));
                ticket.details = m.body;
                continue;
            }
            match (m.direction.as_deref(), &m.external_id) {
                // Crossed already (either way), or sent as the ticket's own text.
                (Some("in" | "details"), _) | (Some("out"), Some(_)) => {}
                (_, _) => ticket.outgoing.push(PsaOutgoing {
                    message: MessageId::from_stored(&m.id),
                    author: m.author_name,
                    from_desk: m.from_desk,
                    body: m.body,
                    created_at: m.created_at,
                    sent_at: m.sent_at,
                }),
            }
        }
        Ok(tickets)
    }

    /// Notes, before the PSA is asked, that ticket `ticket` is being created there: should the
    /// answer not come, the next try looks for it first.
    pub async fn psa_create_sending(
        &mut self,
        due: &DueTenant,
        ticket: &PsaTicket,
        at: i64,
    ) -> Result<(), StoreError> {
        let updated = self
            .tx
            .exec(q!(
                "UPDATE psa_ticket_links SET create_sent_at = $1 WHERE workspace_id = $2 \
                 AND company_id = $3 AND connector_id = $4 AND ticket_id = $5 AND external_id IS NULL",
                at,
                due.workspace_id,
                due.company_id,
                due.connector_id,
                ticket.id
            ))
            .await?;
        if updated == 0 {
            self.tx
                .exec(q!(
                    "INSERT INTO psa_ticket_links (workspace_id, company_id, ticket_id, connector_id, \
                     external_tenant, create_sent_at, portico_status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    due.workspace_id,
                    due.company_id,
                    ticket.id,
                    due.connector_id,
                    &due.external_id,
                    at,
                    ticket.status.as_str(),
                    at
                ))
                .await?;
        }
        Ok(())
    }

    /// Records the PSA's ticket `external_id` for `ticket`, with the status both sides now
    /// have; its first message went with it as the PSA ticket's text.
    pub async fn psa_created(
        &mut self,
        due: &DueTenant,
        ticket: &PsaTicket,
        external_id: &str,
        psa_status: &str,
        psa_status_name: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE psa_ticket_links SET external_id = $1, portico_status = $2, psa_status = $3, \
                 psa_status_name = $4, synced_at = $5, last_error = '', failures = 0 \
                 WHERE workspace_id = $6 AND company_id = $7 AND connector_id = $8 AND ticket_id = $9",
                external_id,
                ticket.status.as_str(),
                psa_status,
                psa_status_name,
                at,
                due.workspace_id,
                due.company_id,
                due.connector_id,
                ticket.id
            ))
            .await?;
        if let Some(first) = ticket.first_message {
            self.tx
                .exec(q!(
                    "INSERT INTO psa_message_links (workspace_id, company_id, ticket_id, message_id, \
                     direction, external_id, sent_at) VALUES ($1, $2, $3, $4, 'details', NULL, $5) \
                     ON CONFLICT DO NOTHING",
                    due.workspace_id,
                    due.company_id,
                    ticket.id,
                    first,
                    at
                ))
                .await?;
        }
        Ok(())
    }

    /// Notes, before the PSA is asked, that reply `message` is being sent.
    pub async fn psa_message_sending(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
        message: MessageId,
        at: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO psa_message_links (workspace_id, company_id, ticket_id, message_id, \
                 direction, external_id, sent_at) VALUES ($1, $2, $3, $4, 'out', NULL, $5) \
                 ON CONFLICT (workspace_id, message_id) DO UPDATE SET sent_at = $6",
                due.workspace_id,
                due.company_id,
                ticket,
                message,
                at,
                at
            ))
            .await?;
        Ok(())
    }

    /// Records the PSA's action `external_id` for reply `message`.
    pub async fn psa_message_sent(
        &mut self,
        due: &DueTenant,
        message: MessageId,
        external_id: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE psa_message_links SET external_id = $1 WHERE workspace_id = $2 \
                 AND company_id = $3 AND message_id = $4",
                external_id,
                due.workspace_id,
                due.company_id,
                message
            ))
            .await?;
        Ok(())
    }

    /// The files of ticket `ticket` still to cross ([`attachments_due`]), oldest first.
    pub async fn psa_attachments_due(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
    ) -> Result<Vec<PsaAttachment>, StoreError> {
        let rows: Vec<AttachmentRow> = self
            .tx
            .all(q!(
                &format!(
                    "SELECT a.id, a.blob_key, a.file_name, a.content_type, a.size, ml.direction, \
                     ml.external_id AS action, al.sent_at FROM {} \
                     AND a.ticket_id = $3 ORDER BY a.created_at, a.id",
                    attachments_due()
                ),
                due.workspace_id,
                due.company_id,
                ticket
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| PsaAttachment {
                action: if r.direction == "details" {
                    None
                } else {
                    r.action
                },
                id: r.id,
                blob_key: r.blob_key,
                file_name: r.file_name,
                content_type: r.content_type,
                size: r.size,
                sent_at: r.sent_at,
            })
            .collect())
    }

    /// Notes, before the PSA is asked, that attachment `attachment` is being sent.
    pub async fn psa_attachment_sending(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
        attachment: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO psa_attachment_links (workspace_id, company_id, ticket_id, attachment_id, \
                 external_id, sent_at) VALUES ($1, $2, $3, $4, NULL, $5) \
                 ON CONFLICT (workspace_id, attachment_id) DO UPDATE SET sent_at = $6",
                due.workspace_id,
                due.company_id,
                ticket,
                attachment,
                at,
                at
            ))
            .await?;
        Ok(())
    }

    /// Records the PSA's id `external_id` of attachment `attachment`.
    pub async fn psa_attachment_sent(
        &mut self,
        due: &DueTenant,
        attachment: &str,
        external_id: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE psa_attachment_links SET external_id = $1 WHERE workspace_id = $2 \
                 AND company_id = $3 AND attachment_id = $4",
                external_id,
                due.workspace_id,
                due.company_id,
                attachment
            ))
            .await?;
        Ok(())
    }

    /// Keeps the failure of attachment `attachment` (refused by the PSA, or its bytes not
    /// readable): after [`FILE_TRIES`] of them it is no longer tried, and the run says so.
    /// Answers the failures so far.
    pub async fn psa_attachment_failed(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
        attachment: &str,
        error: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        let error: String = error.chars().take(500).collect();
        self.tx
            .exec(q!(
                "INSERT INTO psa_attachment_links (workspace_id, company_id, ticket_id, attachment_id, \
                 external_id, sent_at, last_error, failures) VALUES ($1, $2, $3, $4, NULL, $5, $6, 1) \
                 ON CONFLICT (workspace_id, attachment_id) DO UPDATE SET last_error = $7, \
                 failures = psa_attachment_links.failures + 1",
                due.workspace_id,
                due.company_id,
                ticket,
                attachment,
                at,
                error.as_str(),
                error.as_str()
            ))
            .await?;
        self.tx
            .count(q!(
                "SELECT failures FROM psa_attachment_links WHERE workspace_id = $1 \
                 AND company_id = $2 AND attachment_id = $3",
                due.workspace_id,
                due.company_id,
                attachment
            ))
            .await
    }

    /// The PSA's ids of the attachments of ticket `ticket` already linked: a file found in the
    /// PSA after a lost answer is one of these or the one looked for.
    pub async fn psa_known_attachments(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
    ) -> Result<HashSet<String>, StoreError> {
        let rows: Vec<(Option<String>,)> = self
            .tx
            .all(q!(
                "SELECT external_id FROM psa_attachment_links WHERE workspace_id = $1 \
                 AND company_id = $2 AND ticket_id = $3 AND external_id <> ''",
                due.workspace_id,
                due.company_id,
                ticket
            ))
            .await?;
        Ok(rows.into_iter().filter_map(|(id,)| id).collect())
    }

    /// Keeps the PSA's statuses as this run read them (`found`: id and name), for the
    /// connector page, and answers the meanings owners chose for them. Writes only what changed
    /// (a new status, a new name), in the order of ids, so that runs of the connector's tenants
    /// at the same time neither rewrite nor wait on each other's rows; a status gone from the
    /// PSA is forgotten unless an owner chose its meaning.
    pub async fn psa_statuses_seen(
        &mut self,
        due: &DueTenant,
        found: &[(String, String)],
    ) -> Result<HashMap<String, TicketStatus>, StoreError> {
        let stored: Vec<(String, String, Option<String>)> = self
            .tx
            .all(q!(
                "SELECT external_id, name, meaning FROM psa_statuses \
                 WHERE workspace_id = $1 AND connector_id = $2",
                due.workspace_id,
                due.connector_id
            ))
            .await?;
        let mut stored = stored;
        stored.sort();
        let mut found: Vec<&(String, String)> = found.iter().collect();
        found.sort();
        for (id, name) in &found {
            match stored.iter().find(|(s, _, _)| s == id) {
                Some((_, old, _)) if old == name => {}
                Some(_) => {
                    self.tx
                        .exec(q!(
                            "UPDATE psa_statuses SET name = $1 WHERE workspace_id = $2 \
                             AND connector_id = $3 AND external_id = $4",
                            name.as_str(),
                            due.workspace_id,
                            due.connector_id,
                            id.as_str()
                        ))
                        .await?;
                }
                None => {
                    self.tx
                        .exec(q!(
                            "INSERT INTO psa_statuses (workspace_id, connector_id, external_id, name) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                            due.workspace_id,
                            due.connector_id,
                            id.as_str(),
                            name.as_str()
                        ))
                        .await?;
                }
            }
        }
        if !found.is_empty() {
            for (id, _, meaning) in &stored {
                if meaning.is_none() && !found.iter().any(|(f, _)| f == id) {
                    self.tx
                        .exec(q!(
                            "DELETE FROM psa_statuses WHERE workspace_id = $1 AND connector_id = $2 \
                             AND external_id = $3 AND meaning IS NULL",
                            due.workspace_id,
                            due.connector_id,
                            id.as_str()
                        ))
                        .await?;
                }
            }
        }
        Ok(stored
            .into_iter()
            .filter_map(|(id, _, meaning)| Some((id, TicketStatus::parse(meaning.as_deref()?)?)))
            .collect())
    }

    /// Records that both sides now have the statuses `agreed` gives (after a push, a pull, or a
    /// conflict settled).
    pub async fn psa_statuses_agree(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
        agreed: &PsaAgreement<'_>,
        at: i64,
    ) -> Result<(), StoreError> {
        let conflict = agreed.conflict.unwrap_or("");
        self.tx
            .exec(q!(
                "UPDATE psa_ticket_links SET portico_status = $1, psa_status = $2, psa_status_name = $3, \
                 synced_at = $4, last_error = '', failures = 0, \
                 conflict = CASE WHEN $5 = '' THEN conflict ELSE $6 END, \
                 conflict_at = CASE WHEN $7 = '' THEN conflict_at ELSE $8 END \
                 WHERE workspace_id = $9 AND company_id = $10 AND connector_id = $11 AND ticket_id = $12",
                agreed.portico.as_str(),
                agreed.psa_status,
                agreed.psa_status_name,
                at,
                conflict,
                conflict,
                conflict,
                at,
                due.workspace_id,
                due.company_id,
                due.connector_id,
                ticket
            ))
            .await?;
        Ok(())
    }

    /// Records that ticket `ticket` synced after runs that failed: its failures are over.
    pub async fn psa_ticket_synced(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
    ) -> Result<(), StoreError> {
        self.set_psa_link(due, ticket, "last_error = '', failures = 0")
            .await
    }

    /// Sets `set` (constant text) on ticket `ticket`'s link to `due`'s PSA client.
    async fn set_psa_link(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
        set: &'static str,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                &format!(
                    "UPDATE psa_ticket_links SET {set} WHERE workspace_id = $1 AND company_id = $2 \
                     AND connector_id = $3 AND ticket_id = $4"
                ),
                due.workspace_id,
                due.company_id,
                due.connector_id,
                ticket
            ))
            .await?;
        Ok(())
    }

    /// Counts the runs in which ticket `ticket`'s new replies were held back for a file the PSA
    /// could not give just then.
    pub async fn psa_replies_held_back(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
        held: HeldBack,
    ) -> Result<(), StoreError> {
        let set = match held {
            HeldBack::Again => "held_back = held_back + 1",
            HeldBack::Anew => "held_back = 1",
            HeldBack::Over => "held_back = 0",
        };
        self.set_psa_link(due, ticket, set).await
    }

    /// Keeps ticket `ticket`'s failure on its link: shown on the ticket's desk page and in the
    /// run's summary, tried again at the next run.
    pub async fn psa_ticket_failed(
        &mut self,
        due: &DueTenant,
        ticket: &PsaTicket,
        error: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        let updated = self
            .tx
            .exec(q!(
                "UPDATE psa_ticket_links SET last_error = $1, failures = failures + 1 \
                 WHERE workspace_id = $2 AND company_id = $3 AND connector_id = $4 AND ticket_id = $5",
                &error,
                due.workspace_id,
                due.company_id,
                due.connector_id,
                ticket.id
            ))
            .await?;
        if updated == 0 {
            self.tx
                .exec(q!(
                    "INSERT INTO psa_ticket_links (workspace_id, company_id, ticket_id, connector_id, \
                     external_tenant, portico_status, last_error, failures, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
                    due.workspace_id,
                    due.company_id,
                    ticket.id,
                    due.connector_id,
                    &due.external_id,
                    ticket.status.as_str(),
                    &error,
                    at
                ))
                .await?;
        }
        Ok(())
    }

    /// Ends a PSA run: the watermark for the next incremental read, and the run's record.
    pub async fn psa_run_done(
        &mut self,
        store: &Store,
        due: &DueTenant,
        token: &str,
        run: &PsaRunRecord<'_>,
        report: &RunReport,
    ) -> Result<bool, StoreError> {
        if !self.holds_claim(due, token).await? {
            return Ok(false);
        }
        self.tx
            .exec(q!(
                "UPDATE connector_tenants SET alerts_watermark = $1 WHERE connector_id = $2 \
                 AND external_id = $3",
                run.watermark,
                due.connector_id,
                &due.external_id
            ))
            .await?;
        self.run_succeeded(store, due, report, run.counts, run.summary, &[])
            .await?;
        Ok(true)
    }

    /// The PSA actions already brought in or sent for `ticket`, by the PSA's id.
    pub async fn psa_known_actions(
        &mut self,
        due: &DueTenant,
        ticket: TicketId,
    ) -> Result<HashMap<String, KnownAction>, StoreError> {
        let rows: Vec<(Option<String>, String, String, i64)> = self
            .tx
            .all(q!(
                "SELECT external_id, message_id, direction, files_seen FROM psa_message_links \
                 WHERE workspace_id = $1 AND company_id = $2 AND ticket_id = $3",
                due.workspace_id,
                due.company_id,
                ticket
            ))
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, message, direction, files_seen)| {
                Some((
                    id?,
                    KnownAction {
                        message: MessageId::from_stored(&message),
                        brought_in: direction == "in",
                        files_seen,
                    },
                ))
            })
            .collect())
    }
}

/// The files brought in, as the ticket keeps them.
fn attachments(files: &[PsaFile]) -> Vec<NewAttachment> {
    files.iter().map(|f| f.file.clone()).collect()
}

/// Each new attachment (`ids`, in the order of `files`) with the PSA's id of its file.
fn links(ids: Vec<MessageId>, files: &[PsaFile]) -> Vec<(MessageId, &str)> {
    ids.into_iter()
        .zip(files.iter().map(|f| f.external_id.as_str()))
        .collect()
}

impl Store {
    /// Brings the PSA's side of ticket `ticket` in, in one transaction of the connector's
    /// scope (fenced to the mapped company): its new public replies, and its status when the
    /// PSA changed it. Each reply is linked to its action, so it never comes in twice.
    pub async fn psa_bring_in(
        &self,
        due: &DueTenant,
        ticket: TicketId,
        replies: &[PsaReply],
        status: Option<TicketStatus>,
    ) -> Result<(), StoreError> {
        let scope = Scope::for_connector(due.workspace_id, due.company_id, due.kind.label());
        let mut tx = self.scoped_write(&scope).await?;
        for reply in replies {
            let message = tx
                .record_tool_reply(ticket, &reply.author, reply.kind, &reply.body, reply.at)
                .await?;
            tx.link_tool_message(
                due.company_id,
                ticket,
                message,
                &reply.external_id,
                reply.files_seen,
            )
            .await?;
            let ids = tx
                .attach_to_tool_reply(ticket, message, &attachments(&reply.files), reply.at)
                .await?;
            tx.link_tool_files(due.company_id, ticket, &links(ids, &reply.files))
                .await?;
        }
        if let Some(status) = status {
            tx.record_tool_status(ticket, status).await?;
        }
        tx.commit().await
    }

    /// Brings in the files a technician added in the PSA to a reply brought in earlier
    /// (`action`), with those it showed but that could not be copied (`missing`, named in the
    /// audit log), and notes the PSA's count of the action's files (`files_seen`) as read.
    pub async fn psa_bring_in_files(
        &self,
        due: &DueTenant,
        ticket: TicketId,
        action: &KnownAction,
        files: &[PsaFile],
        missing: &[String],
        files_seen: i64,
    ) -> Result<(), StoreError> {
        let scope = Scope::for_connector(due.workspace_id, due.company_id, due.kind.label());
        let mut tx = self.scoped_write(&scope).await?;
        let ids = tx
            .add_files_to_tool_reply(ticket, action.message, &attachments(files), missing)
            .await?;
        tx.link_tool_files(due.company_id, ticket, &links(ids, files))
            .await?;
        tx.tool_files_seen(action.message, files_seen).await?;
        tx.commit().await
    }
}
