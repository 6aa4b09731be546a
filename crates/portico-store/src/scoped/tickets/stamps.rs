//! Live stamps: short strings that change whenever a reader of a ticket or of a list should
//! see something new, compared by the live-update stream rather than re-rendering pages.

use portico_core::{Action, TicketId, TicketItem};

use crate::StoreError;
use crate::scoped::ScopedTx;
use crate::scoped::fence;
use crate::sql::Q;

impl ScopedTx<'_> {
    /// What changes when a reader of this ticket should see something new: the last public
    /// update, status, priority and the number of messages the scope may read (times are in
    /// seconds, so two changes within one second need a second witness). Internal notes do not
    /// move it for the portal.
    pub async fn ticket_stamp(&mut self, id: TicketId) -> Result<String, StoreError> {
        let ticket = self.ticket_summary(id).await?;
        let mut messages = Q::new("SELECT COUNT(*) FROM ticket_messages m WHERE m.ticket_id = ");
        messages.arg(id);
        self.fenced(&mut messages, &fence::TICKET_MESSAGES, "m");
        if self.scope.may(Action::ViewInternalNotes).is_err() {
            messages.sql(" AND NOT m.internal");
        }
        let count = self.tx.count(messages).await?;
        let priority = if self.scope.ticket_view().shows(TicketItem::Priority) {
            ticket.priority.as_str()
        } else {
            ""
        };
        // The desk also sees who it is assigned to and who is writing a reply.
        let desk = if self.scope.may(Action::WorkTickets).is_ok() {
            let replying = self.others_replying(id).await?.join(",");
            let assignee = ticket
                .assignee_id
                .map(|a| a.to_string())
                .unwrap_or_default();
            format!("/{assignee}/{replying}")
        } else {
            String::new()
        };
        Ok(format!(
            "{}/{}/{priority}/{count}{desk}",
            ticket.updated_at,
            ticket.status.as_str(),
        ))
    }

    /// The same for the scope's ticket list: newest update, and counts by state.
    pub async fn tickets_stamp(&mut self) -> Result<String, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        if !self.scope.is_portal() {
            // The desk's lists span many companies: their list versions (moved by every change
            // to a company's tickets), summed, rather than a count over every ticket.
            let query = self.select(
                // PostgreSQL sums BIGINTs as NUMERIC: cast back.
                "CAST(COALESCE(SUM(v.version % 2147483647), 0) AS BIGINT), COUNT(*)",
                &fence::TICKET_LIST_VERSIONS,
                "v",
            );
            let (sum, companies): (i64, i64) = self.tx.one(query).await?;
            return Ok(format!("{sum}/{companies}"));
        }
        let mut query = Q::new(
            "SELECT COALESCE(MAX(t.updated_at), 0), COUNT(*), \
             COALESCE(SUM(CASE WHEN t.status IN ('resolved', 'closed') THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN t.status = 'awaiting_client' THEN 1 ELSE 0 END), 0) FROM tickets t WHERE 1 = 1",
        );
        self.fenced(&mut query, &fence::TICKETS, "t");
        let (updated, all, closed, awaiting): (i64, i64, i64, i64) = self.tx.one(query).await?;
        Ok(format!("{updated}/{all}/{closed}/{awaiting}"))
    }
}
