//! Service-level targets per priority (first response, resolution), and the due times and
//! breach flags they give each ticket. Targets run around the clock.

use portico_core::{Action, TicketPriority};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

/// One priority's targets, in minutes from the ticket's creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTarget {
    pub priority: TicketPriority,
    pub first_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
}

/// A ticket's position against its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlaStatus {
    pub first_response_due: Option<i64>,
    pub resolution_due: Option<i64>,
    /// A target was missed: no public staff reply or no resolution by its due time.
    pub breached: bool,
}

/// The longest target accepted: a year.
const MAX_MINUTES: i64 = 366 * 24 * 60;

impl SlaTarget {
    /// Where a ticket stands against this target at `now`. A target is missed when no public
    /// staff reply (first response) or no resolution came by its due time; the same rule as
    /// [`breached_condition`], which filters by it in SQL.
    pub fn status(
        &self,
        created_at: i64,
        first_response_at: Option<i64>,
        resolved_at: Option<i64>,
        now: i64,
    ) -> SlaStatus {
        let first_response_due = self.first_response_minutes.map(|m| created_at + m * 60);
        let resolution_due = self.resolution_minutes.map(|m| created_at + m * 60);
        let late =
            |due: Option<i64>, done: Option<i64>| due.is_some_and(|d| done.unwrap_or(now) > d);
        SlaStatus {
            first_response_due,
            resolution_due,
            breached: late(first_response_due, first_response_at)
                || late(resolution_due, resolved_at),
        }
    }
}

/// A condition (on tickets `t`) true for tickets that missed a target; `$now` as above.
pub(crate) fn breached_condition(now: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM sla_targets st WHERE st.workspace_id = t.workspace_id AND st.priority = t.priority \
         AND ((st.first_response_minutes IS NOT NULL AND \
               COALESCE(t.first_response_at, {now}) > t.created_at + st.first_response_minutes * 60) \
           OR (st.resolution_minutes IS NOT NULL AND \
               COALESCE(t.resolved_at, {now}) > t.created_at + st.resolution_minutes * 60)))"
    )
}

impl ScopedTx<'_> {
    /// The workspace's targets, one entry per priority (unset ones empty).
    pub async fn sla_targets(&mut self) -> Result<Vec<SlaTarget>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let stored = self.stored_sla_targets().await?;
        Ok(TicketPriority::ALL
            .iter()
            .map(|&priority| {
                stored
                    .iter()
                    .find(|t| t.priority == priority)
                    .copied()
                    .unwrap_or(SlaTarget {
                        priority,
                        first_response_minutes: None,
                        resolution_minutes: None,
                    })
            })
            .collect())
    }

    /// The targets the workspace has set (priorities without targets are absent).
    pub(crate) async fn stored_sla_targets(&mut self) -> Result<Vec<SlaTarget>, StoreError> {
        let query = self.select(
            "st.priority, st.first_response_minutes, st.resolution_minutes",
            &fence::SLA_TARGETS,
            "st",
        );
        let rows: Vec<(String, Option<i64>, Option<i64>)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(priority, first, resolve)| {
                Some(SlaTarget {
                    priority: TicketPriority::parse(&priority)?,
                    first_response_minutes: first,
                    resolution_minutes: resolve,
                })
            })
            .collect())
    }

    /// Replaces the workspace's targets.
    pub async fn set_sla_targets(&mut self, targets: &[SlaTarget]) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        for t in targets {
            for minutes in [t.first_response_minutes, t.resolution_minutes]
                .into_iter()
                .flatten()
            {
                if !(1..=MAX_MINUTES).contains(&minutes) {
                    return Err(StoreError::Invalid(format!(
                        "Targets are between 1 minute and {MAX_MINUTES} minutes (a year)."
                    )));
                }
            }
            if let (Some(first), Some(resolve)) = (t.first_response_minutes, t.resolution_minutes)
                && first > resolve
            {
                return Err(StoreError::Invalid(format!(
                    "For {} priority, the first response target cannot be later than the resolution target.",
                    t.priority.label().to_lowercase()
                )));
            }
        }
        let delete = self.delete(&fence::SLA_TARGETS);
        self.tx.exec(delete).await?;
        for t in targets {
            if t.first_response_minutes.is_none() && t.resolution_minutes.is_none() {
                continue;
            }
            self.tx
                .exec(q!(
                    "INSERT INTO sla_targets (workspace_id, priority, first_response_minutes, resolution_minutes) \
                     VALUES ($1, $2, $3, $4)",
                    self.scope.workspace(),
                    t.priority.as_str(),
                    t.first_response_minutes,
                    t.resolution_minutes
                ))
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_missed_only_when_its_due_time_passes_undone() {
        let target = SlaTarget {
            priority: TicketPriority::High,
            first_response_minutes: Some(60),
            resolution_minutes: Some(240),
        };
        let created = 1_000_000;
        let on_time = target.status(created, Some(created + 3_000), None, created + 7_200);
        assert_eq!(on_time.first_response_due, Some(created + 3_600));
        assert_eq!(on_time.resolution_due, Some(created + 14_400));
        assert!(!on_time.breached);
        // No reply yet, and the hour has gone.
        assert!(target.status(created, None, None, created + 3_601).breached);
        // Replied late: missed for good, even after resolving in time.
        assert!(
            target
                .status(
                    created,
                    Some(created + 4_000),
                    Some(created + 5_000),
                    created + 5_000
                )
                .breached
        );
        // Resolved after the resolution target.
        assert!(
            target
                .status(
                    created,
                    Some(created + 60),
                    Some(created + 14_401),
                    created + 20_000
                )
                .breached
        );
        let none = SlaTarget {
            priority: TicketPriority::Low,
            first_response_minutes: None,
            resolution_minutes: None,
        };
        assert_eq!(
            none.status(created, None, None, created + 1_000_000),
            SlaStatus::default()
        );
    }
}
