//! The rows every step of a ticket's life writes: a message with its files, a timeline event,
//! the ticket's own columns, and a status move kept in step with `resolved_at`, the timeline
//! and the service-level clock.

use portico_core::{Actor, CompanyId, MessageId, TicketId, TicketStatus};

use crate::StoreError;
use crate::scoped::tickets::TicketSummary;
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};

/// A file already written to the blob store, to be recorded on a message.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub blob_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub inline: bool,
}

impl ScopedTx<'_> {
    pub(super) async fn insert_message(
        &mut self,
        company: CompanyId,
        ticket: TicketId,
        body: &str,
        internal: bool,
        attachments: &[NewAttachment],
        at: i64,
    ) -> Result<(), StoreError> {
        let message = MessageId::new();
        let (staff, portal) = match self.scope.actor() {
            Actor::Staff(s) => (Some(s), None),
            Actor::Portal(p) => (None, Some(p)),
        };
        self.tx
            .exec(q!(
                "INSERT INTO ticket_messages (workspace_id, company_id, ticket_id, id, author_staff_id, author_portal_id, \
                 author_name, body, internal, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                                self.scope.workspace(),
                company,
                ticket,
                message,
                staff,
                portal,
                self.scope.actor_name(),
                body,
                internal,
                at
            ))
            .await?;
        self.insert_attachments(company, ticket, message, attachments, internal, at)
            .await?;
        Ok(())
    }

    /// Keeps `files` (already in the attachment store) with message `message`, internal or
    /// not as the message is; answers their ids, in the order of `files`.
    pub(super) async fn insert_attachments(
        &mut self,
        company: CompanyId,
        ticket: TicketId,
        message: MessageId,
        files: &[NewAttachment],
        internal: bool,
        at: i64,
    ) -> Result<Vec<MessageId>, StoreError> {
        let mut ids = Vec::with_capacity(files.len());
        for file in files {
            let id = MessageId::new();
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_attachments (workspace_id, company_id, ticket_id, message_id, id, blob_key, \
                     file_name, content_type, size, inline, internal, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    self.scope.workspace(),
                    company,
                    ticket,
                    message,
                    id,
                    file.blob_key.as_str(),
                    file.file_name.as_str(),
                    file.content_type.as_str(),
                    file.size,
                    file.inline,
                    internal,
                    at
                ))
                .await?;
            ids.push(id);
        }
        Ok(ids)
    }

    pub(super) async fn record_event(
        &mut self,
        ticket: &TicketSummary,
        kind: &str,
        old_value: &str,
        new_value: &str,
        public: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO ticket_events (workspace_id, company_id, ticket_id, id, kind, old_value, new_value, \
                 actor_name, public, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                self.scope.workspace(),
                ticket.company_id,
                ticket.id,
                MessageId::new(),
                kind,
                old_value,
                new_value,
                self.scope.actor_name(),
                public,
                at
            ))
            .await?;
        let detail = match (old_value.is_empty(), new_value.is_empty()) {
            (true, _) => format!("{kind}: {new_value}"),
            (false, true) => format!("{kind}: {old_value} → none"),
            (false, false) => format!("{kind}: {old_value} → {new_value}"),
        };
        self.audit_on(
            public,
            portico_core::AuditAction::TicketUpdated,
            Some(ticket.company_id),
            ScopedTx::ticket_target(ticket),
            &detail,
        )
        .await
    }

    /// `UPDATE tickets SET <set> WHERE <fence> AND id = <ticket>`.
    pub(super) async fn update_ticket(
        &mut self,
        ticket: TicketId,
        set: impl FnOnce(&mut Q),
    ) -> Result<(), StoreError> {
        let mut query = self.update(&fence::TICKETS, set);
        query.sql(" AND id = ").arg(ticket);
        self.tx.exec(query).await?;
        Ok(())
    }

    /// Moves a ticket to `status`, keeping `resolved_at` and the timeline in step.
    pub(super) async fn set_status(
        &mut self,
        ticket: &TicketSummary,
        status: TicketStatus,
        at: i64,
    ) -> Result<(), StoreError> {
        if status == ticket.status {
            return Ok(());
        }
        self.run_sla_clock(ticket.id, ticket.status, status, at)
            .await?;
        let resolved_at = if status.is_open() {
            None
        } else {
            Some(
                ticket
                    .resolved_at
                    .filter(|_| !ticket.status.is_open())
                    .unwrap_or(at),
            )
        };
        self.update_ticket(ticket.id, |set| {
            set.sql("status = ")
                .arg(status.as_str())
                .sql(", resolved_at = ")
                .arg(resolved_at)
                .sql(", updated_at = ")
                .arg(at);
        })
        .await?;
        self.record_event(
            ticket,
            "status",
            ticket.status.as_str(),
            status.as_str(),
            true,
            at,
        )
        .await?;
        if status == TicketStatus::Resolved {
            self.emit_webhook(
                crate::scoped::webhooks::WebhookEvent::TicketResolved,
                Some(ticket.company_id),
                &ScopedTx::ticket_target(ticket),
                portico_core::AuditAction::TicketUpdated,
                &format!("status: {} → {}", ticket.status.as_str(), status.as_str()),
            )
            .await?;
        }
        Ok(())
    }
}
