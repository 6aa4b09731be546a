//! Public replies (either surface) and internal notes (staff only), with the status the desk
//! may set with them; the other side hears of it.

use portico_core::notice::Notice;
use portico_core::{Action, TicketId, TicketStatus};

use crate::scoped::ScopedTx;
use crate::{StoreError, now};

use super::notifications::{ClientMail, ticket_ref};
use super::writes::NewAttachment;
use super::{Links, MAX_BODY, clean_text};

impl ScopedTx<'_> {
    /// Adds a public reply (either surface) or an internal note (staff only), and for the desk
    /// perhaps a new status with it: the client hears of both in one mail.
    pub async fn reply(
        &mut self,
        id: TicketId,
        body: &str,
        internal: bool,
        attachments: &[NewAttachment],
        status: Option<TicketStatus>,
        links: &Links,
    ) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(if internal {
            Action::WorkTickets
        } else {
            Action::ContributeTickets
        })?;
        let status = status.filter(|s| *s != ticket.status);
        if status.is_some() {
            self.scope.may(Action::WorkTickets)?;
        }
        let body = clean_text(body, MAX_BODY, true, "The message")?;
        if ticket.status == TicketStatus::Closed {
            return Err(StoreError::Invalid(
                "This ticket is closed. Raise a new ticket to continue.".into(),
            ));
        }
        let portal = self.scope.is_portal();
        if portal && ticket.status == TicketStatus::Resolved {
            return Err(StoreError::Invalid(
                "This ticket is resolved. Reopen it to reply.".into(),
            ));
        }
        let at = now();
        self.insert_message(ticket.company_id, id, &body, internal, attachments, at)
            .await?;
        self.stop_replying(id).await?;
        let (action, what) = if internal {
            (portico_core::AuditAction::TicketNoteAdded, "internal note")
        } else {
            (portico_core::AuditAction::TicketReplied, "reply")
        };
        let detail = match status {
            Some(s) => format!("{what}; status set to {}", s.label()),
            None => what.to_owned(),
        };
        self.audit_ticket(&ticket, action, &detail).await?;
        if internal {
            // An internal note changes nothing the client can see, not even the update time;
            // a status set with it is news of its own.
            if let Some(status) = status {
                self.set_status(&ticket, status, at).await?;
                self.mail_status_change(&ticket, status, links).await?;
            }
            return Ok(());
        }
        if portal {
            self.update_ticket(id, |set| {
                set.sql("updated_at = ").arg(at);
            })
            .await?;
            if ticket.status == TicketStatus::AwaitingClient {
                self.set_status(&ticket, TicketStatus::Open, at).await?;
            }
            let notice = Notice::ClientReplied {
                ticket: ticket_ref(&ticket, &links.console),
                actor: self.scope.actor_name().to_owned(),
                company: ticket.company_name.clone(),
                reply: body,
            };
            self.notify_assignee(&ticket, &notice).await?;
        } else {
            self.update_ticket(id, |set| {
                set.sql("updated_at = ")
                    .arg(at)
                    .sql(", first_response_at = COALESCE(first_response_at, ")
                    .arg(at)
                    .sql(")");
            })
            .await?;
            if let Some(status) = status {
                self.set_status(&ticket, status, at).await?;
            }
            let notice = Notice::DeskReplied {
                ticket: ticket_ref(&ticket, &links.portal),
                actor: self.scope.actor_name().to_owned(),
                reply: body,
                status,
                asks_for_rating: false,
            };
            let kind = if status == Some(TicketStatus::Resolved) {
                ClientMail::Resolved
            } else {
                ClientMail::Update
            };
            self.notify_client(&ticket, kind, notice).await?;
        }
        Ok(())
    }
}
