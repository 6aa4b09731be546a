//! C2 the service desk: the queue, and a ticket as staff see it, with public replies and
//! internal notes clearly told apart, and status, priority and assignment changes.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use portico_core::{
    Action, CannedResponseId, CompanyId, StaffUserId, TicketId, TicketPriority, TicketStatus,
};
use portico_store::StoreError;
use portico_store::scoped::canned_responses::{Placeholders, fill};
use portico_store::scoped::psa_links::PsaLinkView;
use portico_store::scoped::ticket_workflow::TicketChange;
use portico_store::scoped::tickets::{
    AssigneeFilter, StatusFilter, TicketDetail, TicketQuery, TicketSummary,
};
use portico_store::scoped::time::{TimeDraft, TimeEntry};
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FieldErrors;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::timeline::{TimelineEntry, timeline};
use crate::uploads::FormWithFiles;
use crate::{AppState, mail_links, see_other};

const PAGE_SIZE: i64 = 50;
const MAX_COMPANY_PICKER: i64 = 300;

#[derive(Deserialize, Default)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    q: String,
    /// `breached`: only tickets that missed a service-level target.
    #[serde(default)]
    sla: String,
    #[serde(default)]
    after: String,
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage {
    chrome: Chrome,
    tickets: Vec<TicketSummary>,
    companies: Vec<(String, String)>,
    status: String,
    company: String,
    priority: String,
    assignee: String,
    priorities: &'static [TicketPriority],
    search: String,
    sla_breached: bool,
    views: Vec<portico_store::scoped::saved_views::SavedView>,
    /// The filters of this page as (key, value), for "save this view".
    filters: Vec<(String, String)>,
    first_page: bool,
    next_cursor: Option<String>,
    query_string: String,
}

/// The queue's filters as a query (the page and its CSV export read the same).
fn queue_filter(auth: &Auth, query: &QueueQuery) -> Result<TicketQuery, WebError> {
    let bad = |what: &str| WebError::BadRequest(format!("Unknown {what} filter."));
    let status = if query.status.is_empty() {
        StatusFilter::Open
    } else {
        StatusFilter::parse(&query.status).ok_or_else(|| bad("status"))?
    };
    let company = match query.company.as_str() {
        "" => None,
        c => Some(CompanyId::parse(c).ok_or_else(|| bad("company"))?),
    };
    let priority = match query.priority.as_str() {
        "" => None,
        p => Some(TicketPriority::parse(p).ok_or_else(|| bad("priority"))?),
    };
    let me = match auth.scope.actor() {
        portico_core::Actor::Staff(id) => Some(id),
        portico_core::Actor::Portal(_) => None,
    };
    let assignee = match query.assignee.as_str() {
        "" => AssigneeFilter::Any,
        "unassigned" => AssigneeFilter::Unassigned,
        "me" => me.map(AssigneeFilter::Is).ok_or_else(|| bad("assignee"))?,
        other => AssigneeFilter::Is(StaffUserId::parse(other).ok_or_else(|| bad("assignee"))?),
    };
    Ok(TicketQuery {
        status,
        company,
        priority,
        assignee,
        search: query.q.trim().chars().take(200).collect::<String>(),
        sla_breached: query.sla == "breached",
        ..TicketQuery::default()
    })
}

/// The queue as CSV: the page's filters, every page.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<QueueQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ViewTickets)?;
    let filter = queue_filter(&auth, &query)?;
    crate::audited::exported(&state, &auth, None, "Tickets (CSV)", "")?;
    Ok(crate::csv_export::tickets(
        &state,
        auth.scope.clone(),
        filter,
        auth.principal.zone().clone(),
    ))
}

pub(crate) async fn queue(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<QueueQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ViewTickets)?;
    let filter = queue_filter(&auth, &query)?;
    let TicketQuery {
        status,
        company,
        priority,
        assignee,
        ..
    } = filter;
    let cursor = crate::portal::tickets::parse_cursor(&query.after)?;
    let search = filter.search.clone();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let mut tickets = tx
        .tickets(&TicketQuery {
            status,
            company,
            priority,
            assignee,
            search: search.clone(),
            sla_breached: query.sla == "breached",
            sla_horizon_secs: 0,
            after: cursor.after,
            limit: PAGE_SIZE + 1,
            offset: cursor.offset,
        })
        .await?;
    // A picker of thousands of companies helps nobody: past that, the company page links here
    // with its id instead.
    let views = tx.saved_views().await?;
    let companies: Vec<(String, String)> = match tx.company_picker(MAX_COMPANY_PICKER).await? {
        Some(all) => all
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        // Past that, the company page links here with its id instead; the filtered company
        // stays named in the picker.
        None => match company {
            Some(c) => match tx.company(c).await {
                Ok(found) => vec![(c.to_string(), found.name)],
                Err(StoreError::NotFound) => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            None => Vec::new(),
        },
    };
    tx.commit().await?;
    let has_next = tickets.len() as i64 > PAGE_SIZE;
    tickets.truncate(PAGE_SIZE as usize);
    let next_cursor = tickets
        .last()
        .filter(|_| has_next)
        .map(|t| cursor.next(!search.is_empty(), tickets.len(), (t.updated_at, t.id)));
    let query_string = form_urlencoded::Serializer::new(String::new())
        .append_pair("status", status.as_str())
        .append_pair("company", &query.company)
        .append_pair("priority", &query.priority)
        .append_pair("assignee", &query.assignee)
        .append_pair("q", &search)
        .append_pair("sla", &query.sla)
        .finish();
    let filters: Vec<(String, String)> = [
        ("status", status.as_str()),
        ("company", query.company.as_str()),
        ("priority", query.priority.as_str()),
        ("assignee", query.assignee.as_str()),
        ("sla", query.sla.as_str()),
        ("q", search.as_str()),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Ok(render::ok(&QueuePage {
        chrome: Chrome::signed_in(&auth, "Tickets", "/tickets"),
        tickets,
        companies,
        status: status.as_str().to_owned(),
        company: query.company,
        priority: query.priority,
        assignee: query.assignee,
        priorities: TicketPriority::ALL,
        search,
        sla_breached: query.sla == "breached",
        views,
        filters,
        first_page: cursor.is_first(),
        next_cursor,
        query_string,
    }))
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
pub(crate) struct TicketPage {
    chrome: Chrome,
    detail: TicketDetail,
    timeline: Vec<TimelineEntry>,
    can_work: bool,
    statuses: &'static [TicketStatus],
    priorities: &'static [TicketPriority],
    staff: Vec<(StaffUserId, String)>,
    /// Other open tickets of the same company, to merge this one into.
    merge_into: Vec<(TicketId, String)>,
    /// The workspace's canned responses: (id, name).
    canned: Vec<(String, String)>,
    /// Colleagues writing a reply to this ticket now.
    replying: Vec<String>,
    /// Where the ticket stands with the MSP's PSA, when a PSA connector links it.
    psa: Option<PsaLinkView>,
    /// Work logged on the ticket, and the log-time form: as typed when it was refused, else
    /// today's date on the reader's calendar.
    time: Vec<TimeEntry>,
    pub(crate) time_form: TimeDraft,
    pub(crate) time_errors: FieldErrors,
    body: String,
    error: String,
    notice: &'static str,
}

pub(crate) async fn ticket_page(
    state: &AppState,
    auth: &Auth,
    ticket: TicketId,
    body: String,
    error: String,
    notice: &'static str,
) -> Result<TicketPage, WebError> {
    ticket_page_with(state, auth, ticket, body, None, error, notice).await
}

/// The ticket's page; with `insert`, the reply box holds that canned response, filled in.
async fn ticket_page_with(
    state: &AppState,
    auth: &Auth,
    ticket: TicketId,
    mut body: String,
    insert: Option<CannedResponseId>,
    error: String,
    notice: &'static str,
) -> Result<TicketPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let detail = tx.ticket(ticket).await?;
    tx.audit_ticket_viewed(&detail.ticket)?;
    let can_work = auth.scope.may(Action::WorkTickets).is_ok();
    let (staff, merge_into, canned) = if can_work {
        let others = tx
            .tickets(&TicketQuery {
                company: Some(detail.ticket.company_id),
                limit: 50,
                ..TicketQuery::default()
            })
            .await?
            .into_iter()
            .filter(|t| t.id != ticket)
            .map(|t| (t.id, t.title))
            .collect();
        let canned = tx.canned_responses().await?;
        if let Some(chosen) = insert.and_then(|id| canned.iter().find(|c| c.id == id)) {
            body = fill(
                &chosen.body,
                &Placeholders {
                    client_name: detail.ticket.requester_name.as_deref().unwrap_or(""),
                    ticket_number: detail.ticket.number,
                    ticket_title: &detail.ticket.title,
                    company_name: &detail.ticket.company_name,
                    my_name: auth.principal.display_name(),
                },
            );
        }
        (
            tx.assignable_staff(detail.ticket.company_id).await?,
            others,
            canned
                .into_iter()
                .map(|c| (c.id.to_string(), c.title))
                .collect(),
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new())
    };
    let replying = tx.others_replying(ticket).await?;
    let psa = if can_work {
        tx.psa_link(ticket).await?
    } else {
        None
    };
    let time = if can_work {
        tx.ticket_time(ticket).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(TicketPage {
        psa,
        time,
        time_form: TimeDraft {
            worked_on: auth
                .principal
                .zone()
                .date_after(portico_store::now(), 0)
                .unwrap_or_default(),
            ..TimeDraft::default()
        },
        time_errors: FieldErrors::default(),
        chrome: Chrome::signed_in(auth, &detail.ticket.title, "/tickets"),
        timeline: timeline(&detail, true),
        detail,
        can_work,
        statuses: TicketStatus::ALL,
        priorities: TicketPriority::ALL,
        staff,
        merge_into,
        canned,
        replying,
        body,
        error,
        notice,
    })
}

impl TicketPage {
    /// The time logged on the ticket, as hours.
    fn time_total(&self) -> String {
        let minutes: i64 = self.time.iter().map(|e| e.minutes).sum();
        portico_store::scoped::companies::hours_text(minutes)
    }

    fn is_assignee(&self, id: &StaffUserId) -> bool {
        self.detail.ticket.assignee_id == Some(*id)
    }

    /// What the ticket's status line and its form show: a live update swaps them when this
    /// changes, and only then (a choice being made in the form stays).
    fn ticket_key(&self) -> String {
        let t = &self.detail.ticket;
        format!(
            "{}/{}/{}/{}",
            t.status.as_str(),
            t.priority.as_str(),
            t.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
            u8::from(t.sla.breached)
        )
    }

    /// "Tom Tran is writing a reply." for the colleagues writing one now.
    fn presence_text(&self) -> String {
        match self.replying.as_slice() {
            [] => String::new(),
            [one] => format!("{one} is writing a reply."),
            [rest @ .., last] => format!("{} and {last} are writing replies.", rest.join(", ")),
        }
    }
}

/// Marks the signed-in staff member as writing a reply (the page renews it while they type),
/// so that colleagues on the same ticket are told.
pub(crate) async fn replying(
    State(state): State<AppState>,
    SignedForm {
        auth, path: ticket, ..
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.mark_replying(ticket).await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct DetailQuery {
    #[serde(default)]
    done: String,
    /// A canned response to put in the reply box.
    #[serde(default)]
    canned: String,
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DetailQuery>,
    IdPath(ticket): IdPath<TicketId>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_str() {
        "replied" => "Reply sent to the client.",
        "time" => "Time logged.",
        "noted" => "Internal note added.",
        "updated" => "Ticket updated.",
        "merged" => "The other ticket was merged into this one.",
        _ => "",
    };
    let insert = match query.canned.as_str() {
        "" => None,
        text => Some(CannedResponseId::parse(text).ok_or(WebError::NotFound)?),
    };
    let page = ticket_page_with(
        &state,
        &auth,
        ticket,
        String::new(),
        insert,
        String::new(),
        notice,
    )
    .await?;
    Ok(render::ok(&page))
}

/// A public reply or an internal note, optionally with a new status.
pub(crate) async fn reply(
    State(state): State<AppState>,
    auth: Auth,
    mut upload: FormWithFiles<TicketId>,
) -> Result<Response, WebError> {
    let ticket = upload.path;
    let form = &upload.form;
    let body = form.get("body");
    let attachments = upload.attachments();
    let file_error = upload.file_error.clone();
    let links = mail_links(&state, auth.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let mut internal = false;
    let result = async {
        // The ticket must be visible before the form's content is judged.
        tx.ticket(ticket).await?;
        internal = match form.get("kind") {
            "note" => true,
            "reply" => false,
            _ => return Err(StoreError::Invalid("Choose reply or internal note.".into())),
        };
        let status = match form.get("status") {
            "" => None,
            s => Some(
                TicketStatus::parse(s)
                    .ok_or_else(|| StoreError::Invalid("Choose a listed status.".into()))?,
            ),
        };
        if let Some(message) = file_error {
            return Err(StoreError::Invalid(message));
        }
        tx.reply(ticket, body, internal, &attachments, status, &links)
            .await?;
        Ok::<(), StoreError>(())
    }
    .await;
    let body = body.to_owned();
    finish(
        &state,
        &auth,
        tx,
        ticket,
        &body,
        result.map(|()| if internal { "noted" } else { "replied" }),
        Some(&mut upload),
    )
    .await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: ticket,
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let links = mail_links(&state, auth.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let result = async {
        // The ticket must be visible before the form's content is judged.
        tx.ticket(ticket).await?;
        let invalid = |m: &str| StoreError::Invalid(m.to_owned());
        let status =
            TicketStatus::parse(form.get("status")).ok_or_else(|| invalid("Choose a status."))?;
        let priority = TicketPriority::parse(form.get("priority"))
            .ok_or_else(|| invalid("Choose a priority."))?;
        let assignee = match form.get("assignee") {
            "" => None,
            a => Some(StaffUserId::parse(a).ok_or_else(|| invalid("Choose a member of staff."))?),
        };
        tx.change_ticket(
            ticket,
            &TicketChange {
                status,
                priority,
                assignee,
            },
            &links,
        )
        .await
    }
    .await;
    finish(
        &state,
        &auth,
        tx,
        ticket,
        "",
        result.map(|()| "updated"),
        None,
    )
    .await
}

/// Saves the current queue filters as a named view, or deletes one of the caller's views.
pub(crate) async fn views(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ViewTickets)?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let result = match form.get("action") {
        "save" => {
            let pairs: Vec<(String, String)> = form
                .pairs()
                .filter_map(|(k, v)| Some((k.strip_prefix("f_")?.to_owned(), v.to_owned())))
                .collect();
            tx.save_view(form.get("name"), &pairs).await
        }
        "delete" => tx.delete_view(form.get("view")).await,
        _ => Err(StoreError::Invalid(
            "Choose to save or delete a view.".into(),
        )),
    };
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other("/tickets"))
        }
        Err(StoreError::Invalid(message)) => Err(WebError::Unprocessable(message)),
        Err(e) => Err(e.into()),
    }
}

/// Merges this ticket into another of the same company, then shows the one merged into.
pub(crate) async fn merge(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: ticket,
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let result = async {
        // The ticket must be visible before the form's content is judged.
        tx.ticket(ticket).await?;
        let into = TicketId::parse(form.get("into"))
            .ok_or_else(|| StoreError::Invalid("Choose a ticket to merge into.".into()))?;
        tx.merge_ticket(ticket, into).await?;
        Ok::<TicketId, StoreError>(into)
    }
    .await;
    match result {
        Ok(into) => {
            tx.commit().await?;
            Ok(see_other(&format!("/tickets/{into}?done=merged")))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = ticket_page(&state, &auth, ticket, String::new(), message, "").await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

/// Commits (files first, then the database) and goes back to the ticket with the `done`
/// notice, or shows the ticket again with the refusal and the text.
async fn finish(
    state: &AppState,
    auth: &Auth,
    tx: portico_store::ScopedTx<'_>,
    ticket: TicketId,
    body: &str,
    outcome: Result<&str, StoreError>,
    upload: Option<&mut FormWithFiles<TicketId>>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(done) => {
            if let Some(upload) = upload {
                upload.commit_files().await?;
            }
            tx.commit().await?;
            Ok(see_other(&format!("/tickets/{ticket}?done={done}")))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = ticket_page(state, auth, ticket, body.to_owned(), message, "").await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}
