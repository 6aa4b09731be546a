//! Who of the desk is writing a reply to a ticket: a colleague opening the same ticket is told,
//! so that two people do not answer the client at once. Kept in the database, not in one
//! instance's memory, so that it holds behind a load balancer; each mark lasts
//! [`PRESENCE_SECS`] and the page renews it while its writer types.

use portico_core::{Action, Actor, TicketId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// How long one mark lasts without being renewed.
pub const PRESENCE_SECS: i64 = 30;

impl ScopedTx<'_> {
    /// Marks the signed-in staff member as writing a reply to `ticket` for a while.
    pub async fn mark_replying(&mut self, ticket: TicketId) -> Result<(), StoreError> {
        let summary = self.ticket_summary(ticket).await?;
        self.scope.may(Action::WorkTickets)?;
        let Actor::Staff(me) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        self.tx
            .exec(q!(
                "INSERT INTO ticket_presence (workspace_id, company_id, ticket_id, staff_user_id, staff_name, until) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ticket_id, staff_user_id) DO UPDATE SET \
                 until = excluded.until, staff_name = excluded.staff_name",
                self.scope.workspace(),
                summary.company_id,
                ticket,
                me,
                self.scope.actor_name(),
                now() + PRESENCE_SECS
            ))
            .await?;
        Ok(())
    }

    /// Forgets the signed-in staff member's mark on `ticket` (their reply was sent).
    pub(crate) async fn stop_replying(&mut self, ticket: TicketId) -> Result<(), StoreError> {
        let Actor::Staff(me) = self.scope.actor() else {
            return Ok(());
        };
        let mut query = self.delete(&fence::TICKET_PRESENCE);
        query
            .sql(" AND ticket_id = ")
            .arg(ticket)
            .sql(" AND staff_user_id = ")
            .arg(me);
        self.tx.exec(query).await?;
        Ok(())
    }

    /// The other staff members writing a reply to `ticket` now, by name; none for anyone who
    /// does not work tickets (the portal never learns of it).
    pub async fn others_replying(&mut self, ticket: TicketId) -> Result<Vec<String>, StoreError> {
        if self.scope.may(Action::WorkTickets).is_err() {
            return Ok(Vec::new());
        }
        let mut query = self.select("p.staff_name", &fence::TICKET_PRESENCE, "p");
        query
            .sql(" AND p.ticket_id = ")
            .arg(ticket)
            .sql(" AND p.until > ")
            .arg(now());
        if let Actor::Staff(me) = self.scope.actor() {
            query.sql(" AND p.staff_user_id <> ").arg(me);
        }
        query.sql(" ORDER BY p.staff_name");
        let rows: Vec<(String,)> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }
}
