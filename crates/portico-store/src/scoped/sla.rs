//! Service-level targets per priority (first response, resolution), and the due times and
//! breach flags they give each ticket. Targets run around the clock.

use portico_core::{Action, TicketPriority};

use crate::StoreError;
use crate::scoped::ScopedTx;
use crate::sql::{Q, q};

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

/// SQL columns (on tickets `t` joined with `sla_targets st`) for [`SlaStatus`]; `$now` is the
/// placeholder of the current time.
pub(crate) fn status_columns(now: &str) -> String {
    format!(
        "t.created_at + st.first_response_minutes * 60 AS first_response_due, \
         t.created_at + st.resolution_minutes * 60 AS resolution_due, \
         (CASE WHEN (st.first_response_minutes IS NOT NULL AND \
             COALESCE(t.first_response_at, {now}) > t.created_at + st.first_response_minutes * 60) \
           OR (st.resolution_minutes IS NOT NULL AND \
             COALESCE(t.resolved_at, {now}) > t.created_at + st.resolution_minutes * 60) \
          THEN TRUE ELSE FALSE END) AS sla_breached"
    )
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
        let mut query = Q::new(
            "SELECT priority, first_response_minutes, resolution_minutes FROM sla_targets WHERE 1 = 1",
        );
        self.fence_workspace(&mut query, "workspace_id");
        let rows: Vec<(String, Option<i64>, Option<i64>)> = self.tx.all(query).await?;
        Ok(TicketPriority::ALL
            .iter()
            .map(|&priority| {
                let row = rows.iter().find(|(p, ..)| p == priority.as_str());
                SlaTarget {
                    priority,
                    first_response_minutes: row.and_then(|r| r.1),
                    resolution_minutes: row.and_then(|r| r.2),
                }
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
        self.tx
            .exec(q!(
                "DELETE FROM sla_targets WHERE workspace_id = $1",
                self.scope.workspace()
            ))
            .await?;
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
