//! Merging one ticket into another of the same company and site, refused where the two are
//! read by different client users.

use portico_core::{Action, PortalUserId, TicketId, TicketStatus};

use crate::scoped::tickets::TicketSummary;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

impl ScopedTx<'_> {
    /// Merges `source` into `target` (same company): messages and files move to the target,
    /// the source's requester and copied colleagues are copied on the target, and the source is
    /// closed with a public note saying where the conversation went.
    pub async fn merge_ticket(
        &mut self,
        source: TicketId,
        target: TicketId,
    ) -> Result<(), StoreError> {
        let from = self.ticket_summary(source).await?;
        self.scope.may(Action::WorkTickets)?;
        if source == target {
            return Err(StoreError::Invalid(
                "Choose another ticket to merge into.".into(),
            ));
        }
        let into = self
            .ticket_summary(target)
            .await
            .map_err(|_| StoreError::Invalid("Choose a ticket of the same company.".into()))?;
        if into.company_id != from.company_id {
            return Err(StoreError::Invalid(
                "Tickets of different companies cannot be merged.".into(),
            ));
        }
        // Site-restricted client users see one site's tickets: merging across sites would show
        // them another site's conversation.
        self.audit_ticket(
            &from,
            portico_core::AuditAction::TicketUpdated,
            &format!("merged into #{} {}", into.number, into.title),
        )
        .await?;
        if into.site_id != from.site_id {
            return Err(StoreError::Invalid(
                "Tickets of different sites cannot be merged.".into(),
            ));
        }
        // A merge shows each ticket's conversation to the other's audience: refuse it unless the
        // two tickets are read by the same client users, or an own-tickets-only member (or a
        // user of another company copied in) would gain a ticket they were never part of.
        if self.ticket_specific_readers(&from).await? != self.ticket_specific_readers(&into).await?
        {
            return Err(StoreError::Invalid(
                "These tickets are seen by different people in the client's portal (a requester \
                 or a copied colleague who sees only their own tickets), so merging them would \
                 show one person's ticket to another. Copy the people on the ticket first, or \
                 reply on both."
                    .into(),
            ));
        }
        let (ws, company) = (self.scope.workspace(), from.company_id);
        for table in [&fence::TICKET_MESSAGES, &fence::TICKET_ATTACHMENTS] {
            let mut moved = self.update(table, |set| {
                set.sql("ticket_id = ").arg(target);
            });
            moved.sql(" AND ticket_id = ").arg(source);
            self.tx.exec(moved).await?;
        }
        let mut copied: Vec<PortalUserId> = Vec::new();
        let mut cc = self.select("x.portal_user_id", &fence::TICKET_CC, "x");
        cc.sql(" AND x.ticket_id = ").arg(source);
        let cc: Vec<(String,)> = self.tx.all(cc).await?;
        copied.extend(cc.iter().map(|(u,)| PortalUserId::from_stored(u)));
        // The source's requester keeps following the conversation, if they belong to this
        // company (a client-group user from another company cannot be copied).
        if let Some(requester) = from.requester_id {
            let mut same_company = self.select("COUNT(*)", &fence::PORTAL_USERS, "u");
            same_company
                .sql(" AND u.company_id = ")
                .arg(company)
                .sql(" AND u.id = ")
                .arg(requester);
            let same_company = self.tx.count(same_company).await?;
            if same_company == 1 {
                copied.push(requester);
            }
        }
        for user in copied {
            if Some(user) == into.requester_id {
                continue;
            }
            self.tx
                .exec(q!(
                    "INSERT INTO ticket_cc (workspace_id, company_id, ticket_id, portal_user_id) \
                     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM ticket_cc WHERE ticket_id = $3 AND portal_user_id = $4)",
                    ws,
                    company,
                    target,
                    user
                ))
                .await?;
        }
        let at = now();
        self.insert_message(
            company,
            source,
            &format!(
                "This ticket was merged into \"{}\"; the conversation continues there.",
                into.title
            ),
            false,
            &[],
            at,
        )
        .await?;
        self.insert_message(
            company,
            target,
            &format!(
                "Merged with \"{}\": its messages now appear here.",
                from.title
            ),
            true,
            &[],
            at,
        )
        .await?;
        self.set_status(&from, TicketStatus::Closed, at).await?;
        self.update_ticket(target, |set| {
            set.sql("updated_at = ").arg(at);
        })
        .await?;
        Ok(())
    }

    /// The client users who read `ticket` because of who they are on it rather than because
    /// they see all of its company's tickets: its requester and everyone copied, less those who
    /// are plainly users of the ticket's company without the own-tickets restriction (they read
    /// both tickets of a merge anyway). Anyone the scope cannot see, or who reaches the company
    /// through a grant, stays in: the answer must not depend on who merges. Enabled or not (a
    /// disabled user may be enabled again); sorted, for comparison.
    async fn ticket_specific_readers(
        &mut self,
        ticket: &TicketSummary,
    ) -> Result<Vec<PortalUserId>, StoreError> {
        let mut cc = self.select("x.portal_user_id", &fence::TICKET_CC, "x");
        cc.sql(" AND x.ticket_id = ").arg(ticket.id);
        let cc: Vec<(String,)> = self.tx.all(cc).await?;
        let mut readers: Vec<PortalUserId> = cc
            .iter()
            .map(|(u,)| PortalUserId::from_stored(u))
            .chain(ticket.requester_id)
            .collect();
        if !readers.is_empty() {
            let mut broad = self.select("u.id", &fence::PORTAL_USERS, "u");
            broad
                .sql(" AND NOT u.own_only AND u.company_id = ")
                .arg(ticket.company_id)
                .sql(" AND ");
            broad.in_list("u.id", &readers);
            let broad: Vec<(String,)> = self.tx.all(broad).await?;
            readers.retain(|r| !broad.iter().any(|(b,)| *b == r.as_text()));
        }
        readers.sort_unstable_by_key(|r| r.as_text());
        readers.dedup();
        Ok(readers)
    }
}
