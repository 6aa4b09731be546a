//! Time and work (P3): staff log time on tickets, against the plan's included hours or billable
//! on top; a company's month adds it up against its plan. Amounts only for scopes with the
//! billing entitlement: for anyone else they are not computed.

use portico_core::{Action, CompanyId, Section, TicketId, parse_date};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// The most one entry may hold: a day.
const MAX_MINUTES: i64 = 24 * 60;
const MAX_NOTE: usize = 2_000;

/// One piece of logged work.
#[derive(Debug, Clone)]
pub struct TimeEntry {
    pub id: String,
    pub company_id: CompanyId,
    pub company_name: String,
    pub ticket_id: TicketId,
    /// `None` when the reader may not see that ticket (its time still counts).
    pub ticket: Option<(i64, String)>,
    pub staff_name: String,
    /// `YYYY-MM-DD`.
    pub worked_on: String,
    pub minutes: i64,
    pub note: String,
    pub billable: bool,
}

struct EntryRow {
    id: String,
    company_id: String,
    company_name: String,
    ticket_id: String,
    ticket_number: Option<i64>,
    ticket_title: Option<String>,
    staff_name: String,
    worked_on: String,
    minutes: i64,
    note: String,
    billable: bool,
}
crate::sql::db_row!(EntryRow {
    id,
    company_id,
    company_name,
    ticket_id,
    ticket_number,
    ticket_title,
    staff_name,
    worked_on,
    minutes,
    note,
    billable
});

impl EntryRow {
    fn into_entry(self) -> TimeEntry {
        // Work on a ticket the reader may not open (another site's, a colleague's for an
        // own-only reader) counts, but says nothing of that ticket: no note, no worker.
        let ticket = self.ticket_number.zip(self.ticket_title);
        let (note, staff_name) = if ticket.is_some() {
            (self.note, self.staff_name)
        } else {
            (String::new(), String::new())
        };
        TimeEntry {
            id: self.id,
            company_id: CompanyId::from_stored(&self.company_id),
            company_name: self.company_name,
            ticket_id: TicketId::from_stored(&self.ticket_id),
            ticket,
            staff_name,
            worked_on: self.worked_on,
            minutes: self.minutes,
            note,
            billable: self.billable,
        }
    }
}

/// A company's month against its plan.
#[derive(Debug, Clone)]
pub struct WorkMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// The plan's included work a month; `None`: the plan includes none.
    pub allowance_minutes: Option<i64>,
    /// Work logged against the included hours.
    pub included_minutes: i64,
    /// Work billed: entries logged as billable, and included work beyond the allowance.
    pub billable_minutes: i64,
    /// Of `billable_minutes`, the included work beyond the allowance.
    pub over_allowance_minutes: i64,
    pub entries: Vec<TimeEntry>,
    /// `(amount in cents, currency)` of the billable work at the plan's hourly rate: only for
    /// billing-entitled scopes, and only where the plan has a rate.
    pub amount: Option<(i64, String)>,
}

/// What the log-time form submits.
#[derive(Debug, Clone, Default)]
pub struct TimeDraft {
    /// `1:30`, `90`, `1.5h`, `45m`, `2h 15m`.
    pub spent: String,
    /// `YYYY-MM-DD`.
    pub worked_on: String,
    pub note: String,
    pub billable: bool,
}

/// Minutes from how people write time spent: `1:30`, `90` (minutes), `1.5h`, `45m`, `2h 15m`.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    let minutes = if let Some((h, m)) = text.split_once(':') {
        let (h, m): (i64, i64) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
        if !(0..60).contains(&m) {
            return None;
        }
        h.checked_mul(60)?.checked_add(m)?
    } else if text.contains('h') || text.ends_with('m') {
        let mut total = 0i64;
        let mut rest = text.as_str();
        if let Some((hours, after)) = rest.split_once('h') {
            let hours: f64 = hours.trim().parse().ok()?;
            if !hours.is_finite() || hours < 0.0 {
                return None;
            }
            total += (hours * 60.0).round() as i64;
            rest = after.trim();
        }
        if let Some(minutes) = rest.strip_suffix('m').or(rest.strip_suffix("min")) {
            total += minutes.trim().parse::<i64>().ok()?;
        } else if !rest.is_empty() {
            return None;
        }
        total
    } else {
        text.parse().ok()?
    };
    (1..=MAX_MINUTES).contains(&minutes).then_some(minutes)
}

/// `YYYY-MM` → the first day of that month and of the next, as `YYYY-MM-DD`.
fn month_bounds(month: &str) -> Option<(String, String)> {
    let first = parse_date(&format!("{month}-01"))?;
    let (year, mon): (i32, u32) = (
        month.get(..4)?.parse().ok()?,
        month.get(5..7)?.parse().ok()?,
    );
    let (next_year, next_mon) = if mon == 12 {
        (year + 1, 1)
    } else {
        (year, mon + 1)
    };
    Some((first, format!("{next_year:04}-{next_mon:02}-01")))
}

impl ScopedTx<'_> {
    /// Logs work on a ticket in scope; those who work tickets only.
    pub async fn log_time(
        &mut self,
        ticket: TicketId,
        draft: &TimeDraft,
    ) -> Result<String, StoreError> {
        let summary = self.ticket_summary(ticket).await?;
        self.scope.may(Action::WorkTickets)?;
        let portico_core::Actor::Staff(staff) = self.scope.actor() else {
            return Err(StoreError::Forbidden);
        };
        let mut refusals = Vec::new();
        let minutes = parse_duration(&draft.spent);
        if minutes.is_none() {
            refusals.push((
                "spent".to_owned(),
                "Enter the time spent, such as 45 (minutes), 1:30 or 1.5h — at most a day."
                    .to_owned(),
            ));
        }
        let worked_on = parse_date(&draft.worked_on);
        if worked_on.is_none() {
            refusals.push((
                "worked_on".to_owned(),
                "Enter the day of the work as a date such as 2026-12-03.".to_owned(),
            ));
        }
        let note = draft.note.trim();
        let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
        if note.chars().count() > MAX_NOTE || !note.chars().all(allowed) {
            refusals.push((
                "note".to_owned(),
                format!("Keep the note to at most {MAX_NOTE} characters."),
            ));
        }
        let (Some(minutes), Some(worked_on)) = (minutes, worked_on) else {
            return Err(StoreError::InvalidFields(refusals));
        };
        if !refusals.is_empty() {
            return Err(StoreError::InvalidFields(refusals));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.tx
            .exec(q!(
                "INSERT INTO time_entries (workspace_id, company_id, id, ticket_id, staff_user_id, staff_name, worked_on, \
                 minutes, note, billable, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                self.scope.workspace(),
                summary.company_id,
                id.as_str(),
                ticket,
                staff,
                self.scope.actor_name(),
                worked_on.as_str(),
                minutes,
                note,
                draft.billable,
                now()
            ))
            .await?;
        self.audit_on(
            true,
            portico_core::AuditAction::RecordCreated,
            Some(summary.company_id),
            portico_core::AuditTarget::new(
                "time_entry",
                &id,
                format!("#{} {}", summary.number, summary.title),
            ),
            &format!(
                "{minutes} minutes, {}",
                if draft.billable {
                    "billable"
                } else {
                    "included"
                }
            ),
        )
        .await?;
        Ok(id)
    }

    /// Entries as the reader may see them, newest day first: `filter` appends to the fenced
    /// WHERE (company, month, staff member or ticket).
    async fn time_entries(
        &mut self,
        filter: impl FnOnce(&mut crate::sql::Q),
    ) -> Result<Vec<TimeEntry>, StoreError> {
        // The ticket is named only where the reader may read it (its own fence).
        let mut query = crate::sql::Q::new(
            "SELECT e.id, e.company_id, c.name AS company_name, e.ticket_id, (SELECT t.number FROM tickets t WHERE t.id = e.ticket_id",
        );
        self.fenced(&mut query, &fence::TICKETS, "t");
        query.sql(") AS ticket_number, (SELECT t.title FROM tickets t WHERE t.id = e.ticket_id");
        self.fenced(&mut query, &fence::TICKETS, "t");
        query.sql(
            ") AS ticket_title, e.staff_name, e.worked_on, e.minutes, e.note, e.billable \
             FROM time_entries e JOIN companies c ON c.workspace_id = e.workspace_id AND c.id = e.company_id \
             WHERE 1 = 1",
        );
        self.fenced(&mut query, &fence::TIME_ENTRIES, "e");
        filter(&mut query);
        query.sql(" ORDER BY e.worked_on DESC, e.created_at DESC, e.id");
        let rows: Vec<EntryRow> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(EntryRow::into_entry).collect())
    }

    /// The time logged on a ticket in scope (its page in the console).
    pub async fn ticket_time(&mut self, ticket: TicketId) -> Result<Vec<TimeEntry>, StoreError> {
        self.scope.may(Action::WorkTickets)?;
        self.time_entries(|q| {
            q.sql(" AND e.ticket_id = ").arg(ticket);
        })
        .await
    }

    /// What the acting staff member logged in a month (`YYYY-MM`), every company in scope.
    pub async fn my_time(&mut self, month: &str) -> Result<Vec<TimeEntry>, StoreError> {
        self.scope.may(Action::WorkTickets)?;
        let portico_core::Actor::Staff(staff) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        let (from, until) = month_bounds(month)
            .ok_or_else(|| StoreError::Invalid("That month is not valid.".into()))?;
        self.time_entries(|q| {
            q.sql(" AND e.staff_user_id = ")
                .arg(staff)
                .sql(" AND e.worked_on >= ")
                .arg(from.as_str())
                .sql(" AND e.worked_on < ")
                .arg(until.as_str());
        })
        .await
    }

    /// A company's month (`YYYY-MM`) against its plan: the portal's Work page (client admins)
    /// and the console's.
    pub async fn work_month(
        &mut self,
        company: CompanyId,
        month: &str,
    ) -> Result<WorkMonth, StoreError> {
        if self.scope.is_portal() {
            self.scope.may(Action::ViewSection(Section::Work))?;
        }
        let (_, allowance, billing) = self.plan_terms(company).await?;
        let (from, until) = month_bounds(month)
            .ok_or_else(|| StoreError::Invalid("That month is not valid.".into()))?;
        let entries = self
            .time_entries(|q| {
                q.sql(" AND e.company_id = ")
                    .arg(company)
                    .sql(" AND e.worked_on >= ")
                    .arg(from.as_str())
                    .sql(" AND e.worked_on < ")
                    .arg(until.as_str());
            })
            .await?;
        let included: i64 = entries
            .iter()
            .filter(|e| !e.billable)
            .map(|e| e.minutes)
            .sum();
        let billed: i64 = entries
            .iter()
            .filter(|e| e.billable)
            .map(|e| e.minutes)
            .sum();
        let over = (included - allowance.unwrap_or(0)).max(0);
        let billable_minutes = billed + over;
        let amount = billing.and_then(|b| {
            b.hourly_rate_cents
                .map(|rate| ((rate * billable_minutes + 30) / 60, b.currency.clone()))
        });
        Ok(WorkMonth {
            month: month.to_owned(),
            allowance_minutes: allowance,
            included_minutes: included,
            billable_minutes,
            over_allowance_minutes: over,
            entries,
            amount,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        for (text, minutes) in [
            ("45", 45),
            ("1:30", 90),
            ("0:05", 5),
            ("1.5h", 90),
            ("2h 15m", 135),
            ("2h15m", 135),
            ("45m", 45),
            ("3h", 180),
            ("24:00", 1440),
        ] {
            assert_eq!(parse_duration(text), Some(minutes), "{text:?}");
        }
        for bad in ["", "0", "-5", "1:75", "25h", "lots", "1:5:0", "h", "1.5"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn work_on_a_ticket_the_reader_cannot_open_says_nothing_of_it() {
        let row = |number: Option<i64>| EntryRow {
            id: "e".into(),
            company_id: CompanyId::new().to_string(),
            company_name: "A".into(),
            ticket_id: TicketId::new().to_string(),
            ticket_number: number,
            ticket_title: number.map(|_| "Printer".into()),
            staff_name: "Tom".into(),
            worked_on: "2026-11-03".into(),
            minutes: 45,
            note: "Replaced the CFO's laptop".into(),
            billable: false,
        };
        let hidden = row(None).into_entry();
        assert_eq!((hidden.note.as_str(), hidden.staff_name.as_str()), ("", ""));
        assert_eq!(hidden.minutes, 45, "it still counts");
        let shown = row(Some(1042)).into_entry();
        assert_eq!(shown.note, "Replaced the CFO's laptop");
        assert_eq!(shown.ticket, Some((1042, "Printer".into())));
    }

    #[test]
    fn months_have_bounds() {
        assert_eq!(
            month_bounds("2026-12"),
            Some(("2026-12-01".into(), "2027-01-01".into()))
        );
        assert_eq!(
            month_bounds("2027-02"),
            Some(("2027-02-01".into(), "2027-03-01".into()))
        );
        assert_eq!(month_bounds("2026-13"), None);
        assert_eq!(month_bounds("26-1"), None);
    }
}
