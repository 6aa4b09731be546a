//! The desk's changes to a ticket: status, priority and assignee, each recorded on the
//! timeline, the new assignee and the client told.

use portico_core::notice::Notice;
use portico_core::{Action, Actor, StaffUserId, TicketId, TicketPriority, TicketStatus};

use crate::scoped::ScopedTx;
use crate::scoped::outbox;
use crate::{StoreError, now};

use super::Links;
use super::notifications::ticket_ref;

/// The desk's changes to a ticket; unchanged values are left as they are.
#[derive(Debug, Clone)]
pub struct TicketChange {
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub assignee: Option<StaffUserId>,
}

impl ScopedTx<'_> {
    /// The desk's status, priority and assignment changes, each recorded on the timeline.
    pub async fn change_ticket(
        &mut self,
        id: TicketId,
        change: &TicketChange,
        links: &Links,
    ) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::WorkTickets)?;
        let at = now();
        if change.assignee != ticket.assignee_id {
            let name = match change.assignee {
                Some(assignee) => Some(self.check_assignee(&ticket, assignee).await?),
                None => None,
            };
            self.update_ticket(id, |set| {
                set.sql("assignee_id = ").arg(change.assignee);
            })
            .await?;
            self.record_event(
                &ticket,
                "assignee",
                ticket.assignee_name.as_deref().unwrap_or(""),
                name.as_ref().map(|(n, _)| n.as_str()).unwrap_or(""),
                false,
                at,
            )
            .await?;
            if let (Some(assignee), Some((_, email))) = (change.assignee, &name)
                && Actor::Staff(assignee) != self.scope.actor()
            {
                let notice = Notice::TicketAssigned {
                    ticket: ticket_ref(&ticket, &links.console),
                    actor: self.scope.actor_name().to_owned(),
                    company: ticket.company_name.clone(),
                };
                outbox::push_notice(
                    &mut self.tx,
                    self.scope.workspace(),
                    Some(ticket.company_id),
                    email,
                    &notice,
                )
                .await?;
            }
        }
        if change.priority != ticket.priority {
            self.update_ticket(id, |set| {
                set.sql("priority = ")
                    .arg(change.priority.as_str())
                    .sql(", updated_at = ")
                    .arg(at);
            })
            .await?;
            self.recompute_ticket_due_times(id).await?;
            self.record_event(
                &ticket,
                "priority",
                ticket.priority.as_str(),
                change.priority.as_str(),
                true,
                at,
            )
            .await?;
        }
        if change.status != ticket.status {
            self.set_status(&ticket, change.status, at).await?;
            self.mail_status_change(&ticket, change.status, links)
                .await?;
        }
        Ok(())
    }
}
