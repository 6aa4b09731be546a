//! What a PSA connector brings back into a ticket (issue 17, I2): a technician's public reply
//! written in the PSA, and a status changed there. Written through the ticket's own steps (the
//! fence, the timeline, the service-level clocks, the audit log and webhooks) by a connector's
//! scope ([`portico_core::Scope::for_connector`]), named after the tool and the person the tool
//! names. Nobody is mailed: the PSA tells the client itself.

use portico_core::{AuditAction, CompanyId, MessageId, TicketId, TicketStatus};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

use super::{MAX_BODY, NewAttachment, clean_text};

/// Who wrote a reply the PSA reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolAuthor {
    /// The MSP's technician: shown as the desk's.
    Agent,
    /// The client's user (a mail they sent the PSA): shown as the client's.
    User,
}

impl ToolAuthor {
    fn as_str(self) -> &'static str {
        match self {
            ToolAuthor::Agent => "agent",
            ToolAuthor::User => "user",
        }
    }
}

impl ScopedTx<'_> {
    fn tool(&self) -> Result<String, StoreError> {
        self.scope
            .connector()
            .map(str::to_owned)
            .ok_or(StoreError::Forbidden)
    }

    /// Keeps `files` (already in the attachment store) with reply `message` a tool brought in
    /// (a PSA technician's files the user may see): public, as the reply is. Answers their ids,
    /// in the order of `files`.
    pub async fn attach_to_tool_reply(
        &mut self,
        id: TicketId,
        message: MessageId,
        files: &[NewAttachment],
        at: i64,
    ) -> Result<Vec<MessageId>, StoreError> {
        if files.is_empty() {
            return Ok(Vec::new());
        }
        self.tool()?;
        let ticket = self.ticket_summary(id).await?;
        self.insert_attachments(ticket.company_id, id, message, files, false, at)
            .await
    }

    /// Adds `files` a technician put on a reply the tool brought in earlier (`message`), as
    /// the tool now shows them with it: the ticket counts as changed, and the audit log names
    /// the files, and those the tool showed but that could not be copied (`missing`). Answers
    /// the new attachments' ids, in the order of `files`.
    pub async fn add_files_to_tool_reply(
        &mut self,
        id: TicketId,
        message: MessageId,
        files: &[NewAttachment],
        missing: &[String],
    ) -> Result<Vec<MessageId>, StoreError> {
        let tool = self.tool()?;
        if files.is_empty() && missing.is_empty() {
            return Ok(Vec::new());
        }
        let ticket = self.ticket_summary(id).await?;
        // Only a reply this tool brought into this very ticket, and still on it (a merge moves
        // messages to the ticket merged into, not their links).
        let mut query = self.select_joined(
            "l.message_id",
            &fence::PSA_MESSAGE_LINKS,
            "l",
            " JOIN ticket_messages m ON m.workspace_id = l.workspace_id \
             AND m.id = l.message_id AND m.ticket_id = l.ticket_id",
        );
        query
            .sql(" AND l.direction = 'in' AND l.ticket_id = ")
            .arg(id)
            .sql(" AND l.message_id = ")
            .arg(message);
        let linked: Option<(String,)> = self.tx.optional(query).await?;
        if linked.is_none() {
            return Err(StoreError::NotFound);
        }
        let at = now();
        let ids = self
            .insert_attachments(ticket.company_id, id, message, files, false, at)
            .await?;
        if !files.is_empty() {
            self.update_ticket(id, |set| {
                set.sql("updated_at = ").arg(at);
            })
            .await?;
        }
        let names = |list: &mut dyn Iterator<Item = &str>| {
            let all: Vec<&str> = list.collect();
            let shown: Vec<&str> = all.iter().copied().take(20).collect();
            let more = all.len() - shown.len();
            let mut text = shown.join(", ");
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
            text
        };
        let mut detail = String::new();
        if !files.is_empty() {
            detail = format!(
                "files added in {tool} to a reply: {}",
                names(&mut files.iter().map(|f| f.file_name.as_str()))
            );
        }
        if !missing.is_empty() {
            if !detail.is_empty() {
                detail.push_str("; ");
            }
            detail.push_str(&format!(
                "added in {tool} to a reply, not copied here: {}",
                names(&mut missing.iter().map(String::as_str))
            ));
        }
        self.audit_ticket(&ticket, AuditAction::TicketUpdated, &detail)
            .await?;
        Ok(ids)
    }

    /// Adds a public reply the PSA reports on ticket `id`, by `author` (the name the PSA gives).
    pub async fn record_tool_reply(
        &mut self,
        id: TicketId,
        author: &str,
        kind: ToolAuthor,
        body: &str,
        at: i64,
    ) -> Result<MessageId, StoreError> {
        let tool = self.tool()?;
        let ticket = self.ticket_summary(id).await?;
        let body = clean_text(body, MAX_BODY, true, "The message")?;
        let author: String = author.trim().chars().take(100).collect();
        let author = if author.is_empty() {
            self.scope.actor_name().to_owned()
        } else {
            author
        };
        let message = MessageId::new();
        self.tx
            .exec(q!(
                "INSERT INTO ticket_messages (workspace_id, company_id, ticket_id, id, author_staff_id, \
                 author_portal_id, author_name, body, internal, created_at, psa_author) \
                 VALUES ($1, $2, $3, $4, NULL, NULL, $5, $6, $7, $8, $9)",
                self.scope.workspace(),
                ticket.company_id,
                id,
                message,
                &author,
                &body,
                false,
                at,
                kind.as_str()
            ))
            .await?;
        let stamp = now().max(at);
        self.update_ticket(id, |set| {
            set.sql("updated_at = ").arg(stamp);
            if kind == ToolAuthor::Agent {
                set.sql(", first_response_at = COALESCE(first_response_at, ")
                    .arg(at)
                    .sql(")");
            }
        })
        .await?;
        self.audit_ticket(
            &ticket,
            AuditAction::TicketReplied,
            &format!("reply in {tool} by {author}"),
        )
        .await?;
        Ok(message)
    }

    /// Moves ticket `id` to `status` as the PSA reports it.
    pub async fn record_tool_status(
        &mut self,
        id: TicketId,
        status: TicketStatus,
    ) -> Result<(), StoreError> {
        self.tool()?;
        let ticket = self.ticket_summary(id).await?;
        self.set_status(&ticket, status, now()).await
    }

    /// Links a reply brought in to the PSA action it came from, whose files the PSA counted
    /// `files_seen` when they were read.
    #[cfg_attr(not(feature = "system"), allow(dead_code))]
    pub(crate) async fn link_tool_message(
        &mut self,
        company: CompanyId,
        ticket: TicketId,
        message: MessageId,
        external_id: &str,
        files_seen: i64,
    ) -> Result<(), StoreError> {
        if self.scope.connector().is_none() {
            return Err(StoreError::Forbidden);
        }
        self.tx
            .exec(q!(
                "INSERT INTO psa_message_links (workspace_id, company_id, ticket_id, message_id, \
                 direction, external_id, sent_at, files_seen) \
                 VALUES ($1, $2, $3, $4, 'in', $5, $6, $7)",
                self.scope.workspace(),
                company,
                ticket,
                message,
                external_id,
                now(),
                files_seen
            ))
            .await?;
        Ok(())
    }

    /// Notes that the PSA counted `files_seen` files on the action reply `message` came from,
    /// all of them read.
    #[cfg_attr(not(feature = "system"), allow(dead_code))]
    pub(crate) async fn tool_files_seen(
        &mut self,
        message: MessageId,
        files_seen: i64,
    ) -> Result<(), StoreError> {
        if self.scope.connector().is_none() {
            return Err(StoreError::Forbidden);
        }
        let mut query = self.update(&fence::PSA_MESSAGE_LINKS, |set| {
            set.sql("files_seen = ").arg(files_seen);
        });
        query
            .sql(" AND direction = 'in' AND message_id = ")
            .arg(message);
        self.tx.exec(query).await?;
        Ok(())
    }

    /// Links attachments brought in from the PSA to the PSA's ids of them (`(attachment, PSA
    /// id)`): a file already here is never brought in again, nor sent back.
    #[cfg_attr(not(feature = "system"), allow(dead_code))]
    pub(crate) async fn link_tool_files(
        &mut self,
        company: CompanyId,
        ticket: TicketId,
        links: &[(MessageId, &str)],
    ) -> Result<(), StoreError> {
        if self.scope.connector().is_none() {
            return Err(StoreError::Forbidden);
        }
        let at = now();
        for (attachment, external_id) in links {
            self.tx
                .exec(q!(
                    "INSERT INTO psa_attachment_links (workspace_id, company_id, ticket_id, \
                     attachment_id, external_id, sent_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    self.scope.workspace(),
                    company,
                    ticket,
                    *attachment,
                    *external_id,
                    at
                ))
                .await?;
        }
        Ok(())
    }
}
