//! Time over the API: a company's work in a month against its plan, and time logged on a
//! ticket (a PSA or timesheet tool pushing what its technicians recorded).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{CompanyId, TicketId};
use portico_store::scoped::time::{TimeDraft, TimeEntry, WorkMonth};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiAuth, ApiPath, ApiQuery, Idempotency, Problem, json_answer, json_body};
use crate::AppState;

/// Time logged on a ticket.
#[derive(Serialize, ToSchema)]
pub(crate) struct TimeEntryBody {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    company_id: String,
    #[schema(format = Uuid)]
    ticket_id: String,
    /// The ticket's number, when the token may see the ticket.
    ticket_number: Option<i64>,
    /// Who did the work.
    staff: String,
    #[schema(format = Date)]
    worked_on: String,
    minutes: i64,
    note: String,
    /// Billed beyond the plan (otherwise counted against the plan's included work).
    billable: bool,
}

impl From<TimeEntry> for TimeEntryBody {
    fn from(e: TimeEntry) -> TimeEntryBody {
        TimeEntryBody {
            id: e.id,
            company_id: e.company_id.to_string(),
            ticket_id: e.ticket_id.to_string(),
            ticket_number: e.ticket.map(|(number, _)| number),
            staff: e.staff_name,
            worked_on: e.worked_on,
            minutes: e.minutes,
            note: e.note,
            billable: e.billable,
        }
    }
}

/// A company's work in one month against its plan.
#[derive(Serialize, ToSchema)]
pub(crate) struct WorkMonthBody {
    /// `YYYY-MM`.
    month: String,
    /// The plan's included work a month, in minutes; `null`: the plan includes none.
    allowance_minutes: Option<i64>,
    /// Work logged against the included hours.
    included_minutes: i64,
    /// Work billed: entries logged as billable, and included work beyond the allowance.
    billable_minutes: i64,
    /// Of `billable_minutes`, the included work beyond the allowance.
    over_allowance_minutes: i64,
    /// The billable work at the plan's hourly rate, in cents (only for tokens whose owner sees
    /// money, and only where the plan has a rate).
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_cents: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
    entries: Vec<TimeEntryBody>,
}

impl From<WorkMonth> for WorkMonthBody {
    fn from(w: WorkMonth) -> WorkMonthBody {
        let (amount_cents, currency) = match w.amount {
            Some((cents, currency)) => (Some(cents), Some(currency)),
            None => (None, None),
        };
        WorkMonthBody {
            month: w.month,
            allowance_minutes: w.allowance_minutes,
            included_minutes: w.included_minutes,
            billable_minutes: w.billable_minutes,
            over_allowance_minutes: w.over_allowance_minutes,
            amount_cents,
            currency,
            entries: w.entries.into_iter().map(TimeEntryBody::from).collect(),
        }
    }
}

/// Which month.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MonthQuery {
    /// `YYYY-MM`; the current month (UTC) when left out.
    #[param(
        pattern = "^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(0[1-9]|1[0-2])$"
    )]
    month: Option<String>,
}

/// A company's work in a month against its plan, with every entry.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/work",
    tag = "Records",
    params(("company" = String, Path, format = Uuid, description = "The company's id"), MonthQuery),
    responses(
        (status = 200, description = "The month's work", body = WorkMonthBody),
        (status = 400, description = "The month is not valid", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn month(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<MonthQuery>,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let month = match params.month {
        Some(month) => {
            let valid = month.len() == 7
                && month.as_bytes()[4] == b'-'
                && month[..4].bytes().all(|b| b.is_ascii_digit())
                && month[5..].bytes().all(|b| b.is_ascii_digit())
                && matches!(month[..4].parse::<u32>(), Ok(1970..=9998))
                && matches!(month[5..].parse::<u32>(), Ok(1..=12));
            if !valid {
                return Err(Problem::bad_request(
                    "`month` is written YYYY-MM, a year from 1970 to 9998.",
                ));
            }
            month
        }
        None => crate::render::iso(&portico_store::now()).to_string()[..7].to_owned(),
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    tx.visible_company(company).await?;
    let work = tx.work_month(company, &month).await?;
    tx.commit().await?;
    json_answer(&headers, &WorkMonthBody::from(work))
}

/// Time to log on a ticket, as the token's owner.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTimeEntry {
    /// Minutes, from 1 to a day (1440).
    #[schema(minimum = 1, maximum = 1440)]
    minutes: i64,
    #[schema(format = Date)]
    worked_on: String,
    #[schema(max_length = 2000)]
    note: Option<String>,
    /// Billed beyond the plan (default: counted against the plan's included work).
    #[serde(default)]
    billable: bool,
}

/// Logs time on a ticket. Send an `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{ticket}/time",
    tag = "Records",
    request_body = NewTimeEntry,
    params(
        ("ticket" = String, Path, format = Uuid, description = "The ticket's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The entry, logged", body = TimeEntryBody),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such ticket within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn log(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(ticket): ApiPath<TicketId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/tickets/{ticket}/time");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let new: NewTimeEntry = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // Out of reach is missing, before anything about the body is judged.
    let company = tx.ticket(ticket).await?.ticket.company_id;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    let draft = TimeDraft {
        // The store reads a duration as people type it; bare digits are minutes.
        spent: new.minutes.to_string(),
        worked_on: new.worked_on,
        note: new.note.unwrap_or_default(),
        billable: new.billable,
    };
    let id = tx.log_time(ticket, &draft).await.map_err(|e| match e {
        portico_store::StoreError::InvalidFields(fields) => {
            portico_store::StoreError::InvalidFields(
                fields
                    .into_iter()
                    .map(|(field, message)| match field.as_str() {
                        "spent" => (
                            "minutes".to_owned(),
                            "Send from 1 to 1440 minutes.".to_owned(),
                        ),
                        _ => (field, message),
                    })
                    .collect(),
            )
        }
        other => other,
    })?;
    let entry = tx
        .ticket_time(ticket)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| Problem::from(portico_store::StoreError::NotFound))?;
    let response = idempotency
        .answer(
            &mut tx,
            &caller,
            StatusCode::CREATED,
            &format!("/api/v1/companies/{company}/work"),
            &TimeEntryBody::from(entry),
        )
        .await?;
    tx.commit().await?;
    Ok(response)
}
