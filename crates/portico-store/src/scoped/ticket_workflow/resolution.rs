//! The client's side of a ticket's end: marking it resolved, reopening it within the
//! workspace's window, and rating the help.

use portico_core::notice::Notice;
use portico_core::{Action, Actor, TicketId, TicketStatus};

use crate::scoped::ScopedTx;
use crate::sql::q;
use crate::{StoreError, now};

use super::Links;
use super::notifications::ticket_ref;

const MAX_COMMENT: usize = 2_000;

impl ScopedTx<'_> {
    /// The client marks their ticket resolved.
    pub async fn resolve_ticket(&mut self, id: TicketId, links: &Links) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        if !ticket.status.is_open() {
            // Already resolved (a second click, another tab): nothing to do.
            return Ok(());
        }
        self.set_status(&ticket, TicketStatus::Resolved, now())
            .await?;
        let notice = Notice::ResolvedByClient {
            ticket: ticket_ref(&ticket, &links.console),
            actor: self.scope.actor_name().to_owned(),
            company: ticket.company_name.clone(),
        };
        self.notify_assignee(&ticket, &notice).await
    }

    /// The client reopens a resolved ticket, within the workspace's reopen window.
    pub async fn reopen_ticket(&mut self, id: TicketId, links: &Links) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        if ticket.status.is_open() {
            // Already open again: nothing to do.
            return Ok(());
        }
        let (days,): (i64,) = self
            .tx
            .one(q!(
                "SELECT reopen_days FROM workspaces WHERE id = $1",
                self.scope.workspace()
            ))
            .await?;
        let at = now();
        let within = ticket
            .resolved_at
            .is_some_and(|resolved| at <= resolved + days * 24 * 3600);
        if ticket.status != TicketStatus::Resolved || !within {
            return Err(StoreError::Invalid(format!(
                "Only tickets resolved in the last {days} days can be reopened. Raise a new ticket instead."
            )));
        }
        self.set_status(&ticket, TicketStatus::Open, at).await?;
        let notice = Notice::ReopenedByClient {
            ticket: ticket_ref(&ticket, &links.console),
            actor: self.scope.actor_name().to_owned(),
            company: ticket.company_name.clone(),
        };
        self.notify_assignee(&ticket, &notice).await
    }

    /// The client's satisfaction rating (1–5) of a resolved ticket; a later rating replaces it.
    pub async fn rate_ticket(
        &mut self,
        id: TicketId,
        score: i64,
        comment: &str,
    ) -> Result<(), StoreError> {
        let ticket = self.ticket_summary(id).await?;
        self.scope.may(Action::ContributeTickets)?;
        if ticket.status.is_open() {
            return Err(StoreError::Invalid(
                "A ticket can be rated once it is resolved.".into(),
            ));
        }
        if !(1..=5).contains(&score) {
            return Err(StoreError::Invalid("Choose a rating from 1 to 5.".into()));
        }
        let comment = comment.trim();
        if comment.chars().count() > MAX_COMMENT {
            return Err(StoreError::Invalid(format!(
                "The comment is longer than {MAX_COMMENT} characters."
            )));
        }
        let at = now();
        let rated_by = match self.scope.actor() {
            Actor::Portal(user) => Some(user),
            Actor::Staff(_) => None,
        };
        self.update_ticket(id, |set| {
            set.sql("csat_rating = ")
                .arg(score)
                .sql(", csat_comment = ")
                .arg(comment)
                .sql(", csat_at = ")
                .arg(at)
                .sql(", csat_by = ")
                .arg(rated_by);
        })
        .await?;
        self.record_event(&ticket, "rating", "", &score.to_string(), true, at)
            .await
    }
}
