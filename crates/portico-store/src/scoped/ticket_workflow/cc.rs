//! Colleagues copied on a ticket: only active users of its company who could read it
//! themselves.

use portico_core::{Action, PortalUserId, TicketId};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

use super::reads_ticket;

impl ScopedTx<'_> {
    /// Replaces the colleagues copied on a ticket. Only active users of the ticket's company.
    pub async fn set_cc(&mut self, id: TicketId, users: &[PortalUserId]) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        let mut wanted: Vec<PortalUserId> = Vec::new();
        for user in users {
            if Some(*user) != ticket.requester_id && !wanted.contains(user) {
                wanted.push(*user);
            }
        }
        if wanted.len() > 50 {
            return Err(StoreError::Invalid("Copy at most 50 colleagues.".into()));
        }
        if !wanted.is_empty() {
            let mut check = self.select("COUNT(*)", &fence::PORTAL_USERS, "u");
            check
                .sql(" AND NOT u.disabled AND u.company_id = ")
                .arg(ticket.company_id);
            let id = check.placeholder(ticket.id);
            check.sql(" AND ").sql(&reads_ticket(&id));
            check.sql(" AND ");
            check.in_list("u.id", &wanted);
            if self.tx.count(check).await? as usize != wanted.len() {
                return Err(StoreError::Invalid(
                    "Choose colleagues from the list.".into(),
                ));
            }
        }
        self.audit_ticket(
            &ticket,
            portico_core::AuditAction::TicketUpdated,
            &format!("copied colleagues: {}", wanted.len()),
        )
        .await?;
        let mut uncopy = self.delete(&fence::TICKET_CC);
        uncopy.sql(" AND ticket_id = ").arg(id);
        self.tx.exec(uncopy).await?;
        for user in wanted {
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_cc (workspace_id, company_id, ticket_id, portal_user_id) VALUES ($1, $2, $3, $4)",
                    self.scope.workspace(),
                    ticket.company_id,
                    id,
                    user
                ))
                .await?;
        }
        Ok(())
    }
}
