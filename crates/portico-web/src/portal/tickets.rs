//! P2 Tickets: the list honouring own-only and site restriction, one ticket with its public
//! replies and timeline, raising a ticket through the MSP's form, replying, resolving,
//! reopening, rating and copying colleagues. Internal notes never reach the portal: the store
//! does not select them. Viewers see everything here but every change answers 403.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{
    Action, Actor, CompanyId, PortalUserId, Principal, Section, TicketId, TicketView, Zone,
};
use portico_store::StoreError;
use portico_store::scoped::tickets::{PortalTicket, StatusFilter, TicketDetail, TicketQuery};
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::timeline::{TimelineEntry, timeline};
use crate::uploads::FormWithFiles;
use crate::{AppState, mail_links, see_other};

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    /// Keyset cursor: `<updated_at>.<ticket id>` of the last ticket on the previous page.
    #[serde(default)]
    after: String,
}

/// Reads a keyset cursor; a malformed one is a bad request rather than a silent first page.
pub(crate) fn parse_cursor(text: &str) -> Result<ListCursor, WebError> {
    let bad = || WebError::BadRequest("That page link is not valid.".into());
    if text.is_empty() {
        return Ok(ListCursor::default());
    }
    if let Some(skip) = text.strip_prefix('p') {
        let offset: i64 = skip.parse().map_err(|_| bad())?;
        if !(1..=10_000).contains(&offset) {
            return Err(bad());
        }
        return Ok(ListCursor {
            after: None,
            offset,
        });
    }
    let (updated, id) = text.split_once('.').ok_or_else(bad)?;
    Ok(ListCursor {
        after: Some((
            updated.parse().map_err(|_| bad())?,
            TicketId::parse(id).ok_or_else(bad)?,
        )),
        offset: 0,
    })
}

/// Where a list page starts: after a ticket (`<updated>.<id>`, the list's order) or, for
/// searches, which are ordered by rank, after a number of results (`p<n>`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ListCursor {
    pub(crate) after: Option<(i64, TicketId)>,
    pub(crate) offset: i64,
}

impl ListCursor {
    pub(crate) fn is_first(&self) -> bool {
        self.after.is_none() && self.offset == 0
    }

    /// The cursor of the page after one that ends with `last`.
    pub(crate) fn next(&self, searching: bool, shown: usize, last: (i64, TicketId)) -> String {
        if searching {
            format!("p{}", self.offset + shown as i64)
        } else {
            format!("{}.{}", last.0, last.1)
        }
    }
}

#[derive(Template)]
#[template(path = "portal/tickets.html")]
struct ListPage<'a> {
    chrome: Chrome,
    heading: String,
    /// Which columns the reader's role is shown.
    view: &'a TicketView,
    tickets: &'a [PortalTicket],
    /// The rows of `tickets` ([`TicketRows`]).
    rows: &'a str,
    status: &'static str,
    filters: Vec<(&'static str, &'static str)>,
    search: String,
    /// The query string of this list without its cursor, for links.
    base_query: String,
    first_page: bool,
    next_cursor: Option<String>,
    can_submit: bool,
}

/// The rows of a list page, rendered once per page read
/// ([`portico_store::scoped::tickets::PortalPage::rendered`]): they show
/// the tickets alone, the same to everyone who may see the page.
#[derive(Template)]
#[template(path = "portal/ticket_rows.html")]
struct TicketRows<'a> {
    tickets: &'a [PortalTicket],
    zone: &'a Zone,
    view: &'a TicketView,
}

pub(super) fn label(auth: &Auth) -> String {
    match &*auth.principal {
        Principal::Portal(p) => p
            .section_label(Section::Tickets)
            .unwrap_or("Tickets")
            .to_owned(),
        Principal::Staff(_) => "Tickets".into(),
    }
}

/// The company the portal user acts for.
pub(super) fn acting_company(auth: &Auth) -> Result<CompanyId, WebError> {
    match &*auth.principal {
        Principal::Portal(p) => Ok(p.company_id()),
        Principal::Staff(_) => Err(WebError::NotFound),
    }
}

/// How many of a page's rows are shown: it is read one longer, to know whether a next exists.
fn shown(read: &[PortalTicket]) -> usize {
    read.len().min(PAGE_SIZE as usize)
}

/// A list page's rows, from the rows alone (a kept page is shared; see `PortalPage::rendered`).
fn render_rows(
    read: &[PortalTicket],
    zone: &Zone,
    view: &TicketView,
) -> Result<String, askama::Error> {
    TicketRows {
        tickets: &read[..shown(read)],
        zone,
        view,
    }
    .render()
}

/// The list as CSV: its status filter and search, every page.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let status = if query.status.is_empty() {
        StatusFilter::Open
    } else {
        StatusFilter::parse(&query.status)
            .ok_or_else(|| WebError::BadRequest("Unknown ticket filter.".into()))?
    };
    auth.scope.may(portico_core::Action::ViewTickets)?;
    crate::audited::exported(&state, &auth, None, "Tickets (CSV)", "")?;
    Ok(crate::csv_export::tickets(
        &state,
        auth.scope.clone(),
        TicketQuery {
            status,
            search: query.q.trim().chars().take(200).collect(),
            ..TicketQuery::default()
        },
        auth.principal.zone().clone(),
    ))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    mut auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Response, WebError> {
    let status = if query.status.is_empty() {
        StatusFilter::Open
    } else {
        StatusFilter::parse(&query.status)
            .ok_or_else(|| WebError::BadRequest("Unknown ticket filter.".into()))?
    };
    let cursor = parse_cursor(&query.after)?;
    let search = query.q.trim().chars().take(200).collect::<String>();
    let versions = auth.fresh_versions();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let page = tx
        .portal_tickets(
            &TicketQuery {
                status,
                search: search.clone(),
                after: cursor.after,
                offset: cursor.offset,
                limit: PAGE_SIZE + 1,
                ..TicketQuery::default()
            },
            versions,
        )
        .await?;
    tx.commit().await?;
    let read = page.tickets();
    let has_next = read.len() as i64 > PAGE_SIZE;
    let tickets = &read[..shown(read)];
    let rows = page
        .rendered(
            "portal ticket list rows",
            auth.principal.zone(),
            auth.scope.ticket_view(),
            render_rows,
        )
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let next_cursor = tickets
        .last()
        .filter(|_| has_next)
        .map(|t| cursor.next(!search.is_empty(), tickets.len(), (t.updated_at, t.id)));
    let base_query = form_urlencoded::Serializer::new(String::new())
        .append_pair("status", status.as_str())
        .append_pair("q", &search)
        .finish();
    let heading = label(&auth);
    Ok(render::ok(&ListPage {
        chrome: Chrome::signed_in(&auth, &heading, "/tickets"),
        heading,
        view: auth.scope.ticket_view(),
        tickets,
        rows: &rows,
        status: status.as_str(),
        search,
        base_query,
        first_page: cursor.is_first(),
        next_cursor,
        filters: vec![
            ("open", "Open"),
            ("awaiting", "Awaiting your reply"),
            ("closed", "Closed"),
            ("all", "All"),
        ],
        can_submit: auth.scope.may(Action::ContributeTickets).is_ok(),
    }))
}

#[derive(Template)]
#[template(path = "portal/ticket.html")]
struct DetailPage {
    chrome: Chrome,
    heading: String,
    detail: TicketDetail,
    timeline: Vec<TimelineEntry>,
    can_contribute: bool,
    can_reply: bool,
    can_resolve: bool,
    can_reopen: bool,
    can_rate: bool,
    /// The rating shown was given by the signed-in user (and their form starts from it).
    rated_by_me: bool,
    colleagues: Vec<(PortalUserId, String, bool)>,
    reply: String,
    error: String,
    notice: &'static str,
}

impl DetailPage {
    /// Which actions the page offers: the live update swaps them when this changes (and only
    /// then, so that a reply being typed is not replaced by the same form).
    fn actions_key(&self) -> String {
        format!(
            "{}{}{}{}{}",
            u8::from(self.can_reply),
            u8::from(self.can_resolve),
            u8::from(self.can_reopen),
            u8::from(self.can_rate),
            self.detail.rating.as_ref().map_or(0, |r| r.score),
        )
    }
}

async fn detail_page(
    state: &AppState,
    auth: &Auth,
    ticket: TicketId,
    reply: String,
    error: String,
    notice: &'static str,
) -> Result<DetailPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let detail = tx.ticket(ticket).await?;
    tx.audit_ticket_viewed(&detail.ticket)?;
    let can_contribute = auth.scope.may(Action::ContributeTickets).is_ok();
    let colleagues = detail
        .cc_candidates
        .iter()
        .filter(|(id, _)| Some(*id) != detail.ticket.requester_id)
        .map(|(id, name)| {
            let copied = detail.cc.iter().any(|(c, _)| c == id);
            (*id, name.clone(), copied)
        })
        .collect();
    tx.commit().await?;
    let status = detail.ticket.status;
    let now = portico_store::now();
    Ok(DetailPage {
        chrome: Chrome::signed_in(auth, &detail.ticket.title, "/tickets"),
        heading: label(auth),
        timeline: timeline(&detail, false),
        can_contribute,
        can_reply: can_contribute && status.is_open(),
        can_resolve: can_contribute && status.is_open(),
        can_reopen: can_contribute && detail.reopen_until.is_some_and(|until| now <= until),
        can_rate: can_contribute && !status.is_open(),
        rated_by_me: detail.rating.as_ref().is_some_and(|r| {
            r.rated_by
                .as_ref()
                .is_some_and(|(by, _)| auth.scope.actor() == Actor::Portal(*by))
        }),
        colleagues,
        detail,
        reply,
        error,
        notice,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct DetailQuery {
    #[serde(default)]
    done: String,
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DetailQuery>,
    IdPath(ticket): IdPath<TicketId>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_str() {
        // The page puts the ticket's number in front ("Ticket #1042 was raised…").
        "created" => "was raised. We will be in touch.",
        "replied" => "Your reply was sent.",
        "resolved" => "The ticket is marked resolved.",
        "reopened" => "The ticket is open again.",
        "rated" => "Thank you for your rating.",
        "cc" => "The people copied on this ticket were updated.",
        _ => "",
    };
    let page = detail_page(&state, &auth, ticket, String::new(), String::new(), notice).await?;
    Ok(render::ok(&page))
}

/// Runs one change on a ticket in a write transaction; a refusal the user can fix shows the
/// ticket again with the message and their text.
async fn change<F>(
    state: &AppState,
    auth: &Auth,
    ticket: TicketId,
    reply: &str,
    done: &str,
    f: F,
) -> Result<Response, WebError>
where
    F: AsyncFnOnce(&mut portico_store::ScopedTx<'_>) -> Result<(), StoreError>,
{
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match f(&mut tx).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/tickets/{ticket}?done={done}")))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = detail_page(state, auth, ticket, reply.to_owned(), message, "").await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn reply(
    State(state): State<AppState>,
    auth: Auth,
    mut upload: FormWithFiles<TicketId>,
) -> Result<Response, WebError> {
    let ticket = upload.path;
    let links = mail_links(&state, auth.scope.workspace()).await?;
    let body = upload.form.get("body").to_owned();
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let result = match upload.file_error.take() {
        // The ticket must be visible before the form's content is judged.
        Some(message) => match tx.ticket(ticket).await {
            Ok(_) => Err(StoreError::Invalid(message)),
            Err(e) => Err(e),
        },
        None => {
            tx.reply(ticket, &body, false, &upload.attachments(), None, &links)
                .await
        }
    };
    match result {
        Ok(()) => {
            upload.commit_files().await?;
            tx.commit().await?;
            Ok(see_other(&format!("/tickets/{ticket}?done=replied")))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = detail_page(&state, &auth, ticket, body, message, "").await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    SignedForm {
        auth, path: ticket, ..
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let links = mail_links(&state, auth.scope.workspace()).await?;
    change(&state, &auth, ticket, "", "resolved", async |tx| {
        tx.resolve_ticket(ticket, &links).await
    })
    .await
}

pub(crate) async fn reopen(
    State(state): State<AppState>,
    SignedForm {
        auth, path: ticket, ..
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let links = mail_links(&state, auth.scope.workspace()).await?;
    change(&state, &auth, ticket, "", "reopened", async |tx| {
        tx.reopen_ticket(ticket, &links).await
    })
    .await
}

pub(crate) async fn rate(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: ticket,
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let score = form.get("rating").parse::<i64>().unwrap_or(0);
    let comment = form.get("comment");
    change(&state, &auth, ticket, "", "rated", async |tx| {
        tx.rate_ticket(ticket, score, comment).await
    })
    .await
}

pub(crate) async fn set_cc(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: ticket,
    }: SignedForm<TicketId>,
) -> Result<Response, WebError> {
    let users = form
        .all("cc")
        .into_iter()
        .map(PortalUserId::parse)
        .collect::<Option<Vec<_>>>();
    change(&state, &auth, ticket, "", "cc", async |tx| match users {
        Some(users) => tx.set_cc(ticket, &users).await,
        None => {
            // The ticket must be visible before the form's content is judged.
            tx.ticket(ticket).await?;
            Err(StoreError::Invalid(
                "Choose colleagues from the list.".into(),
            ))
        }
    })
    .await
}
