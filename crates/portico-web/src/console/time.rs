//! Time and work in the console: logging time on a ticket, a company's month against its plan,
//! and each staff member's own month ("My time").

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId, TicketId};
use portico_store::StoreError;
use portico_store::scoped::time::{TimeDraft, TimeEntry};

use crate::auth::{Auth, SignedForm};
use crate::console::tickets::ticket_page;
use crate::error::WebError;
use crate::forms::FieldErrors;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::work_view::{MonthQuery, WorkView, neighbours};
use crate::{AppState, see_other};

pub(crate) async fn log(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: ticket,
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let draft = TimeDraft {
        spent: form.get("spent").to_owned(),
        worked_on: form.get("worked_on").to_owned(),
        note: form.get("note").to_owned(),
        billable: form.checked("billable"),
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.log_time(ticket, &draft).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/tickets/{ticket}?done=time#time-heading"
            )))
        }
        // The ticket's page again, the form as typed and each refusal under its field.
        Err(StoreError::InvalidFields(refusals)) => {
            drop(tx);
            let mut page =
                ticket_page(&state, &auth, ticket, String::new(), String::new(), "").await?;
            page.time_form = draft;
            page.time_errors = FieldErrors(refusals);
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/company_work.html")]
struct CompanyWorkPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    work: WorkView,
}

pub(crate) async fn company(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MonthQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let month = query.month(auth.principal.zone())?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let work = tx.work_month(company, &month).await?;
    tx.commit().await?;
    let title = format!("Work — {}", summary.name);
    Ok(render::ok(&CompanyWorkPage {
        chrome: Chrome::signed_in(&auth, &title, "/companies"),
        company_id: company,
        company_name: summary.name,
        work: WorkView::new(format!("/companies/{company}/work"), work),
    }))
}

#[derive(Template)]
#[template(path = "console/my_time.html")]
struct MyTimePage {
    chrome: Chrome,
    month: String,
    prev: String,
    next: String,
    entries: Vec<TimeEntry>,
    total: String,
}

pub(crate) async fn mine(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MonthQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::WorkTickets)?;
    let month = query.month(auth.principal.zone())?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let entries = tx.my_time(&month).await?;
    tx.commit().await?;
    let (prev, next) = neighbours(&month);
    let minutes: i64 = entries.iter().map(|e| e.minutes).sum();
    Ok(render::ok(&MyTimePage {
        chrome: Chrome::signed_in(&auth, "My time", "/my-time"),
        month,
        prev,
        next,
        total: portico_store::scoped::companies::hours_text(minutes),
        entries,
    }))
}

/// The staff member's own month as CSV.
pub(crate) async fn mine_export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MonthQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::WorkTickets)?;
    let month = query.month(auth.principal.zone())?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let entries = tx.my_time(&month).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, None, "My time (CSV)", &month)?;
    Ok(crate::csv_export::my_time(&month, &entries))
}

/// A company's month of work as CSV.
pub(crate) async fn company_export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MonthQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let month = query.month(auth.principal.zone())?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    tx.company(company).await?;
    let work = tx.work_month(company, &month).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, Some(company), "Work (CSV)", &month)?;
    Ok(crate::csv_export::work_month(&work))
}
