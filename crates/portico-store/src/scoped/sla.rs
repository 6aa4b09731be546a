//! Service-level targets per priority (first response, resolution), the business calendars
//! their clocks count on, and the due times and breach flags they give each ticket.
//!
//! Due times are kept on the ticket (`first_response_due_at`, `resolution_due_at`): worked out
//! when it is raised, from the company's calendar in the company's zone, and again when its
//! priority, the targets or the calendars change. While a ticket awaits the client its clocks
//! stand still (`sla_paused_at`); when they restart, the counted time they stood still is added
//! to `sla_paused_secs` and the due times still pending move on by it. Lists filter and sort by
//! the kept times alone.

use portico_core::{
    Action, BusinessHours, Calendar, CompanyId, TicketPriority, TicketStatus, Zone,
};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::{Parsed, q};

/// One priority's targets, in minutes of counted time from the ticket's creation.
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
    /// The clocks stand still: the ticket awaits the client.
    pub paused: bool,
}

/// The longest target accepted: a year.
const MAX_MINUTES: i64 = 366 * 24 * 60;

impl SlaStatus {
    /// Where a ticket stands at `now`, from its kept due times. A target is missed when its
    /// due time came before the work was done; while the clocks stand still, time stops at
    /// the moment they stopped. The same rule as [`breached_condition`], which filters by it.
    pub(crate) fn of(
        first_response_due: Option<i64>,
        resolution_due: Option<i64>,
        first_response_at: Option<i64>,
        resolved_at: Option<i64>,
        paused_at: Option<i64>,
        now: i64,
    ) -> SlaStatus {
        let clock = paused_at.unwrap_or(now);
        let late =
            |due: Option<i64>, done: Option<i64>| due.is_some_and(|d| done.unwrap_or(clock) > d);
        SlaStatus {
            first_response_due,
            resolution_due,
            breached: late(first_response_due, first_response_at)
                || late(resolution_due, resolved_at),
            paused: paused_at.is_some() && resolved_at.is_none(),
        }
    }
}

impl SlaTarget {
    /// The due times of a ticket raised at `created_at` whose clocks have stood still for
    /// `paused_secs` of counted time so far.
    pub(crate) fn due_times(
        &self,
        calendar: &Calendar,
        zone: &Zone,
        created_at: i64,
        paused_secs: i64,
    ) -> (Option<i64>, Option<i64>) {
        let due = |minutes: Option<i64>| {
            minutes.map(|m| calendar.add(zone, created_at, m * 60 + paused_secs.max(0)))
        };
        (
            due(self.first_response_minutes),
            due(self.resolution_minutes),
        )
    }
}

/// A condition (on tickets `t`) true for tickets that missed a target by `now` (a placeholder
/// or expression): the kept due times against the work done, or the moment the clocks stopped.
pub(crate) fn breached_condition(now: &str) -> String {
    format!(
        "((t.first_response_due_at IS NOT NULL AND \
           COALESCE(t.first_response_at, t.sla_paused_at, {now}) > t.first_response_due_at) \
          OR (t.resolution_due_at IS NOT NULL AND \
           COALESCE(t.resolved_at, t.sla_paused_at, {now}) > t.resolution_due_at))"
    )
}

/// A calendar as kept: the weekly hours and the holidays, in their stored text.
pub(crate) struct CalendarRow {
    company_id: Option<String>,
    hours: String,
    holidays: String,
}
crate::sql::db_row!(CalendarRow {
    company_id,
    hours,
    holidays
});

impl CalendarRow {
    fn calendar(&self) -> Calendar {
        // Kept calendars were checked when saved; one that no longer reads (edited by hand)
        // counts around the clock rather than stopping the desk.
        BusinessHours::parse(&self.hours, &self.holidays)
            .map(Calendar::Business)
            .unwrap_or(Calendar::AroundTheClock)
    }
}

/// The calendars and zones of a workspace and its companies, read once for a batch of tickets.
pub(crate) struct Calendars {
    workspace_zone: Zone,
    workspace: Calendar,
    /// Companies with their own zone or calendar.
    companies: Vec<(CompanyId, Option<Zone>, Option<Calendar>)>,
}

impl Calendars {
    /// From the workspace's zone, the kept calendars and the companies' own zones.
    pub(crate) fn from_rows(
        workspace_zone: &str,
        rows: Vec<CalendarRow>,
        zones: Vec<(Parsed<CompanyId>, String)>,
    ) -> Calendars {
        let mut calendars = Calendars {
            workspace_zone: Zone::stored(workspace_zone),
            workspace: rows
                .iter()
                .find(|r| r.company_id.is_none())
                .map(CalendarRow::calendar)
                .unwrap_or(Calendar::AroundTheClock),
            companies: Vec::new(),
        };
        for (company, zone) in zones {
            calendars
                .companies
                .push((company.0, Some(Zone::stored(&zone)), None));
        }
        for row in rows {
            let Some(company) = row.company_id.as_deref().map(CompanyId::from_stored) else {
                continue;
            };
            let calendar = row.calendar();
            match calendars
                .companies
                .iter_mut()
                .find(|(c, _, _)| *c == company)
            {
                Some(entry) => entry.2 = Some(calendar),
                None => calendars.companies.push((company, None, Some(calendar))),
            }
        }
        calendars
    }

    /// The calendar and zone a company's clocks run on.
    pub(crate) fn of(&self, company: CompanyId) -> (&Calendar, &Zone) {
        match self.companies.iter().find(|(c, _, _)| *c == company) {
            Some((_, zone, calendar)) => (
                calendar.as_ref().unwrap_or(&self.workspace),
                zone.as_ref().unwrap_or(&self.workspace_zone),
            ),
            None => (&self.workspace, &self.workspace_zone),
        }
    }
}

/// A ticket's clocks, read when its status moves.
struct ClockRow {
    company_id: Parsed<CompanyId>,
    priority: Parsed<TicketPriority>,
    created_at: i64,
    first_response_at: Option<i64>,
    resolved_at: Option<i64>,
    first_response_due_at: Option<i64>,
    resolution_due_at: Option<i64>,
    sla_paused_at: Option<i64>,
    sla_paused_secs: i64,
}
crate::sql::db_row!(ClockRow {
    company_id,
    priority,
    created_at,
    first_response_at,
    resolved_at,
    first_response_due_at,
    resolution_due_at,
    sla_paused_at,
    sla_paused_secs
});

/// A ticket whose due times are worked out again.
struct DueRow {
    id: Parsed<portico_core::TicketId>,
    company_id: Parsed<CompanyId>,
    priority: Parsed<TicketPriority>,
    created_at: i64,
    sla_paused_secs: i64,
    first_response_at: Option<i64>,
    first_response_due_at: Option<i64>,
    resolution_due_at: Option<i64>,
}
crate::sql::db_row!(DueRow {
    id,
    company_id,
    priority,
    created_at,
    sla_paused_secs,
    first_response_at,
    first_response_due_at,
    resolution_due_at
});

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
        self.recompute_due_times(None).await
    }

    /// The calendars and zones of the workspace and of the companies in scope.
    pub(crate) async fn calendars(&mut self) -> Result<Calendars, StoreError> {
        let query = self.select("w.time_zone", &fence::WORKSPACES, "w");
        let (zone,): (String,) = self.tx.one(query).await?;
        let query = self.select(
            "bc.company_id, bc.hours, bc.holidays",
            &fence::BUSINESS_CALENDARS,
            "bc",
        );
        let rows: Vec<CalendarRow> = self.tx.all(query).await?;
        let mut query = self.select("c.id, c.time_zone", &fence::COMPANIES, "c");
        query.sql(" AND c.time_zone IS NOT NULL");
        let zones: Vec<(Parsed<CompanyId>, String)> = self.tx.all(query).await?;
        Ok(Calendars::from_rows(&zone, rows, zones))
    }

    /// The due times of a ticket of `company` raised at `created_at` with `priority`.
    pub(crate) async fn planned_due_times(
        &mut self,
        company: CompanyId,
        priority: TicketPriority,
        created_at: i64,
    ) -> Result<(Option<i64>, Option<i64>), StoreError> {
        let targets = self.stored_sla_targets().await?;
        let Some(target) = targets.iter().find(|t| t.priority == priority) else {
            return Ok((None, None));
        };
        let calendars = self.calendars().await?;
        let (calendar, zone) = calendars.of(company);
        Ok(target.due_times(calendar, zone, created_at, 0))
    }

    /// Stops or restarts a ticket's clocks as its status moves from `from` to `to` at `at`:
    /// they stand still while it awaits the client. On restarting, the counted time they stood
    /// still moves on the due times still pending (a target already missed stays missed).
    pub(crate) async fn run_sla_clock(
        &mut self,
        ticket: portico_core::TicketId,
        from: TicketStatus,
        to: TicketStatus,
        at: i64,
    ) -> Result<(), StoreError> {
        let waiting = TicketStatus::AwaitingClient;
        if from != waiting && to == waiting {
            let mut query = self.update(&fence::TICKETS, |set| {
                set.sql("sla_paused_at = ").arg(at);
            });
            query
                .sql(" AND id = ")
                .arg(ticket)
                .sql(" AND sla_paused_at IS NULL");
            self.tx.exec(query).await?;
            return Ok(());
        }
        if from != waiting || to == waiting {
            return Ok(());
        }
        let mut query = self.select(
            "t.company_id, t.priority, t.created_at, t.first_response_at, t.resolved_at, \
             t.first_response_due_at, t.resolution_due_at, t.sla_paused_at, t.sla_paused_secs",
            &fence::TICKETS,
            "t",
        );
        query.sql(" AND t.id = ").arg(ticket);
        let Some(row): Option<ClockRow> = self.tx.optional(query).await? else {
            return Err(StoreError::NotFound);
        };
        let clock = row;
        let Some(paused_at) = clock.sla_paused_at else {
            return Ok(());
        };
        let calendars = self.calendars().await?;
        let (calendar, zone) = calendars.of(clock.company_id.0);
        let paused_secs = clock.sla_paused_secs + calendar.elapsed(zone, paused_at, at);
        let targets = self.stored_sla_targets().await?;
        let planned = targets
            .iter()
            .find(|t| t.priority == clock.priority.0)
            .map(|t| t.due_times(calendar, zone, clock.created_at, paused_secs))
            .unwrap_or((None, None));
        // A due time moves on only while its work is pending and it had not passed when the
        // clocks stopped.
        let moved = |kept: Option<i64>, done: Option<i64>, planned: Option<i64>| match kept {
            Some(due) if done.is_none() && due >= paused_at => planned.or(Some(due)),
            _ => kept,
        };
        let first = moved(
            clock.first_response_due_at,
            clock.first_response_at,
            planned.0,
        );
        let resolution = moved(clock.resolution_due_at, clock.resolved_at, planned.1);
        let mut query = self.update(&fence::TICKETS, |set| {
            set.sql("sla_paused_at = NULL, sla_paused_secs = ")
                .arg(paused_secs)
                .sql(", first_response_due_at = ")
                .arg(first)
                .sql(", resolution_due_at = ")
                .arg(resolution);
        });
        query.sql(" AND id = ").arg(ticket);
        self.tx.exec(query).await?;
        Ok(())
    }

    /// Works out again the due times of the tickets in scope still being worked (of one
    /// company, or all): after the targets, a calendar or a zone changed, or (`ticket`) one
    /// ticket's priority. Targets already met keep the time they were due.
    pub(crate) async fn recompute_due_times(
        &mut self,
        company: Option<CompanyId>,
    ) -> Result<(), StoreError> {
        self.recompute(company, None).await
    }

    /// [`ScopedTx::recompute_due_times`] for one ticket.
    pub(crate) async fn recompute_ticket_due_times(
        &mut self,
        ticket: portico_core::TicketId,
    ) -> Result<(), StoreError> {
        self.recompute(None, Some(ticket)).await
    }

    async fn recompute(
        &mut self,
        company: Option<CompanyId>,
        ticket: Option<portico_core::TicketId>,
    ) -> Result<(), StoreError> {
        let mut query = self.select(
            "t.id, t.company_id, t.priority, t.created_at, t.sla_paused_secs, t.first_response_at, \
             t.first_response_due_at, t.resolution_due_at",
            &fence::TICKETS,
            "t",
        );
        query.sql(" AND t.resolved_at IS NULL");
        if let Some(company) = company {
            query.sql(" AND t.company_id = ").arg(company);
        }
        if let Some(ticket) = ticket {
            query.sql(" AND t.id = ").arg(ticket);
        }
        let rows: Vec<DueRow> = self.tx.all(query).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let targets = self.stored_sla_targets().await?;
        let calendars = self.calendars().await?;
        for row in rows {
            let (calendar, zone) = calendars.of(row.company_id.0);
            let (first, resolution) = targets
                .iter()
                .find(|t| t.priority == row.priority.0)
                .map(|t| t.due_times(calendar, zone, row.created_at, row.sla_paused_secs))
                .unwrap_or((None, None));
            let first = if row.first_response_at.is_some() {
                row.first_response_due_at
            } else {
                first
            };
            if (first, resolution) == (row.first_response_due_at, row.resolution_due_at) {
                continue;
            }
            let mut query = self.update(&fence::TICKETS, |set| {
                set.sql("first_response_due_at = ")
                    .arg(first)
                    .sql(", resolution_due_at = ")
                    .arg(resolution);
            });
            query.sql(" AND id = ").arg(row.id.0);
            self.tx.exec(query).await?;
        }
        Ok(())
    }

    /// The workspace's calendar (`company` `None`) or a company's own; `None` when it has
    /// none (the workspace's clocks then run around the clock, a company's on the workspace's
    /// calendar).
    pub async fn business_calendar(
        &mut self,
        company: Option<CompanyId>,
    ) -> Result<Option<BusinessHours>, StoreError> {
        self.scope.may(Action::WorkTickets)?;
        let mut query = self.select(
            "bc.company_id, bc.hours, bc.holidays",
            &fence::BUSINESS_CALENDARS,
            "bc",
        );
        match company {
            Some(company) => query.sql(" AND bc.company_id = ").arg(company),
            None => query.sql(" AND bc.company_id IS NULL"),
        };
        let row: Option<CalendarRow> = self.tx.optional(query).await?;
        Ok(row.and_then(|r| match r.calendar() {
            Calendar::Business(hours) => Some(hours),
            Calendar::AroundTheClock => None,
        }))
    }

    /// Sets or (with `None`) removes the workspace's calendar or a company's own, and moves the
    /// due times of the tickets being worked accordingly.
    pub async fn set_business_calendar(
        &mut self,
        company: Option<CompanyId>,
        calendar: Option<&BusinessHours>,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageTicketForm)?;
        if let Some(company) = company {
            self.company_in_scope(company).await?;
        }
        if let Some(calendar) = calendar {
            calendar
                .validate()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
        let mut delete = self.delete(&fence::BUSINESS_CALENDARS);
        match company {
            Some(company) => delete.sql(" AND company_id = ").arg(company),
            None => delete.sql(" AND company_id IS NULL"),
        };
        self.tx.exec(delete).await?;
        if let Some(calendar) = calendar {
            self.tx
                .exec(q!(
                    "INSERT INTO business_calendars (workspace_id, company_id, hours, holidays) \
                     VALUES ($1, $2, $3, $4)",
                    self.scope.workspace(),
                    company,
                    calendar.hours_text(),
                    calendar.holidays_text()
                ))
                .await?;
        }
        self.recompute_due_times(company).await
    }

    /// `NotFound` unless `company` is in scope.
    pub(crate) async fn company_in_scope(&mut self, company: CompanyId) -> Result<(), StoreError> {
        let mut query = self.select("c.id", &fence::COMPANIES, "c");
        query.sql(" AND c.id = ").arg(company);
        let found: Option<(String,)> = self.tx.optional(query).await?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }
}
