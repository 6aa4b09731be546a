//! Who is told of a change to a ticket: the client (requester and copied colleagues, as their
//! preferences allow), the assignee or the company's technicians (as their notification
//! settings say), and a new ticket's receipt. Each recipient's mail is queued as a typed
//! [`Notice`], worded by [`portico_core::notice`], in the change's own transaction.

use portico_core::notice::{Notice, TicketRef};
use portico_core::{
    Actor, CompanyId, PortalUserId, StaffUserId, TicketId, TicketPriority, TicketStatus,
};

use crate::StoreError;
use crate::scoped::outbox;
use crate::scoped::tickets::TicketSummary;
use crate::scoped::{ScopedTx, fence};
use crate::sql::Q;

use super::{Links, reads_ticket};

/// What a client mail is about, to honour the recipient's preferences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientMail {
    Update,
    Resolved,
}

/// Why staff are mailed about a client's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StaffAlert {
    NewTicket,
    ClientActivity,
}

/// What a notice about `ticket` names of it, its link on the side whose `base` URL is given.
pub(super) fn ticket_ref(ticket: &TicketSummary, base: &str) -> TicketRef {
    TicketRef {
        number: ticket.number,
        title: ticket.title.clone(),
        link: format!("{base}/tickets/{}", ticket.id),
    }
}

impl ScopedTx<'_> {
    pub(super) async fn mail_status_change(
        &mut self,
        ticket: &TicketSummary,
        status: TicketStatus,
        links: &Links,
    ) -> Result<(), StoreError> {
        let about = ticket_ref(ticket, &links.portal);
        if status == TicketStatus::Resolved {
            let notice = Notice::TicketResolved {
                ticket: about,
                asks_for_rating: false,
            };
            self.notify_client(ticket, ClientMail::Resolved, notice)
                .await
        } else {
            let notice = Notice::StatusChanged {
                ticket: about,
                status,
            };
            self.notify_client(ticket, ClientMail::Update, notice).await
        }
    }

    /// Mails the requester and everyone copied, as their preferences allow; never the person
    /// who acted.
    pub(super) async fn notify_client(
        &mut self,
        ticket: &TicketSummary,
        kind: ClientMail,
        notice: Notice,
    ) -> Result<(), StoreError> {
        let mut query = self.select_joined(
            "u.id, u.email, COALESCE(p.ticket_updates, TRUE) AS updates, \
             COALESCE(p.ticket_resolved, TRUE) AS resolved, COALESCE(p.satisfaction_survey, TRUE) AS survey",
            &fence::PORTAL_USERS,
            "u",
            " LEFT JOIN notification_preferences p \
             ON p.workspace_id = u.workspace_id AND p.portal_user_id = u.id",
        );
        query
            .sql(" AND NOT u.disabled AND (u.id = ")
            .arg(ticket.requester_id);
        query
            .sql(" OR u.id IN (SELECT x.portal_user_id FROM ticket_cc x WHERE x.ticket_id = ")
            .arg(ticket.id)
            .sql("))");
        let id = query.placeholder(ticket.id);
        query.sql(" AND ").sql(&reads_ticket(&id));
        let recipients: Vec<(String, String, bool, bool, bool)> = self.tx.all(query).await?;
        for (id, email, updates, resolved, survey) in recipients {
            if Actor::Portal(PortalUserId::from_stored(&id)) == self.scope.actor() {
                continue;
            }
            let wanted = match kind {
                ClientMail::Update => updates,
                ClientMail::Resolved => resolved,
            };
            // One mail per event: the resolution carries the rating request with it.
            let survey = kind == ClientMail::Resolved && survey;
            let notice = match (wanted, survey) {
                (true, true) => notice.clone().asking_for_rating(),
                (true, false) => notice.clone(),
                (false, true) => Notice::RatingRequest {
                    ticket: notice.ticket().clone(),
                },
                (false, false) => continue,
            };
            outbox::push_notice(
                &mut self.tx,
                self.scope.workspace(),
                Some(ticket.company_id),
                &email,
                &notice,
            )
            .await?;
        }
        Ok(())
    }

    /// Mails the ticket's assignee, unless they are the one acting or nobody is assigned.
    pub(super) async fn notify_assignee(
        &mut self,
        ticket: &TicketSummary,
        notice: &Notice,
    ) -> Result<(), StoreError> {
        let Some(assignee) = ticket.assignee_id else {
            return Ok(());
        };
        if Actor::Staff(assignee) == self.scope.actor() {
            return Ok(());
        }
        // Only while they may still work this company's tickets (assignments change), and as
        // their notification settings say.
        for email in self
            .staff_to_alert(
                ticket.company_id,
                Some(assignee),
                StaffAlert::ClientActivity,
            )
            .await?
        {
            outbox::push_notice(
                &mut self.tx,
                self.scope.workspace(),
                Some(ticket.company_id),
                &email,
                notice,
            )
            .await?;
        }
        Ok(())
    }

    /// The addresses of the staff to alert of a client's action on `company`'s ticket: the
    /// assignee if there is one, else, for a new ticket, the company's technicians; each only
    /// while active and allowed to work the company's tickets, and only if they want this kind
    /// of mail. Read as the system role on PostgreSQL, since a client's own transaction sees no
    /// staff user (see [`ScopedTx::staff_candidate`]).
    pub(super) async fn staff_to_alert(
        &mut self,
        company: CompanyId,
        assignee: Option<StaffUserId>,
        alert: StaffAlert,
    ) -> Result<Vec<String>, StoreError> {
        let wanted = match alert {
            StaffAlert::NewTicket => "COALESCE(p.new_portal_tickets, TRUE)",
            StaffAlert::ClientActivity => "COALESCE(p.client_activity, TRUE)",
        };
        let mut query = self.select_joined(
            "u.email",
            &fence::STAFF_USERS,
            "u",
            " LEFT JOIN staff_notification_preferences p \
             ON p.workspace_id = u.workspace_id AND p.staff_user_id = u.id",
        );
        query.sql(" AND NOT u.disabled AND ").sql(wanted);
        let assigned = |query: &mut Q| {
            query
                .sql(
                    "EXISTS (SELECT 1 FROM staff_assignments s WHERE s.workspace_id = u.workspace_id \
                     AND s.staff_user_id = u.id AND s.company_id = ",
                )
                .arg(company)
                .sql(")");
        };
        match (assignee, alert) {
            (Some(assignee), _) => {
                query.sql(" AND u.id = ").arg(assignee);
                query.sql(" AND (u.role = 'owner' OR (u.role = 'technician' AND ");
                assigned(&mut query);
                query.sql("))");
            }
            (None, StaffAlert::NewTicket) => {
                query.sql(" AND u.role = 'technician' AND ");
                assigned(&mut query);
            }
            (None, StaffAlert::ClientActivity) => return Ok(Vec::new()),
        }
        query.sql(" ORDER BY u.email");
        let rows: Vec<(String,)> = match &mut self.system {
            Some(system) => system.all(query).await?,
            None => self.tx.all(query).await?,
        };
        Ok(rows.into_iter().map(|(email,)| email).collect())
    }

    /// Mails the client who raised a ticket its receipt: the number, and when to expect a
    /// first response (the workspace's target for its priority), unless they turned ticket
    /// mail off.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn acknowledge(
        &mut self,
        company: CompanyId,
        requester: PortalUserId,
        id: TicketId,
        number: i64,
        title: &str,
        priority: TicketPriority,
        links: &Links,
    ) -> Result<(), StoreError> {
        let mut query = self.select_joined(
            "u.email, u.name, COALESCE(p.ticket_updates, TRUE)",
            &fence::PORTAL_USERS,
            "u",
            " LEFT JOIN notification_preferences p \
             ON p.workspace_id = u.workspace_id AND p.portal_user_id = u.id",
        );
        query.sql(" AND u.id = ").arg(requester);
        let Some((email, name, wanted)): Option<(String, String, bool)> =
            self.tx.optional(query).await?
        else {
            return Ok(());
        };
        if !wanted {
            return Ok(());
        }
        let first_response_minutes = self
            .stored_sla_targets()
            .await?
            .into_iter()
            .find(|t| t.priority == priority)
            .and_then(|t| t.first_response_minutes);
        let notice = Notice::TicketReceived {
            ticket: TicketRef {
                number,
                title: title.to_owned(),
                link: format!("{}/tickets/{id}", links.portal),
            },
            requester: name,
            priority,
            first_response_minutes,
        };
        outbox::push_notice(
            &mut self.tx,
            self.scope.workspace(),
            Some(company),
            &email,
            &notice,
        )
        .await
    }
}
