//! What a PSA connector brings back into a ticket (issue 17, I2): a technician's public reply
//! written in the PSA, and a status changed there. Written through the ticket's own steps (the
//! fence, the timeline, the service-level clocks, the audit log and webhooks) by a connector's
//! scope ([`portico_core::Scope::for_connector`]), named after the tool and the person the tool
//! names. Nobody is mailed: the PSA tells the client itself.

use portico_core::{AuditAction, CompanyId, MessageId, TicketId, TicketStatus};

use crate::scoped::ScopedTx;
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
    /// (a PSA technician's files the user may see): public, as the reply is.
    pub async fn attach_to_tool_reply(
        &mut self,
        id: TicketId,
        message: MessageId,
        files: &[NewAttachment],
        at: i64,
    ) -> Result<(), StoreError> {
        if files.is_empty() {
            return Ok(());
        }
        self.tool()?;
        let ticket = self.ticket_summary(id).await?;
        self.insert_attachments(ticket.company_id, id, message, files, false, at)
            .await
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

    /// Links a reply brought in to the PSA action it came from.
    #[cfg_attr(not(feature = "system"), allow(dead_code))]
    pub(crate) async fn link_tool_message(
        &mut self,
        company: CompanyId,
        ticket: TicketId,
        message: MessageId,
        external_id: &str,
    ) -> Result<(), StoreError> {
        if self.scope.connector().is_none() {
            return Err(StoreError::Forbidden);
        }
        self.tx
            .exec(q!(
                "INSERT INTO psa_message_links (workspace_id, company_id, ticket_id, message_id, \
                 direction, external_id, sent_at) VALUES ($1, $2, $3, $4, 'in', $5, $6)",
                self.scope.workspace(),
                company,
                ticket,
                message,
                external_id,
                now()
            ))
            .await?;
        Ok(())
    }
}
