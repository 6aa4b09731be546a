//! P2 Tickets: the list honouring own-only and site restriction, one ticket with its public
//! replies and timeline, raising a ticket through the MSP's form, replying, resolving,
//! reopening, rating and copying colleagues. Internal notes never reach the portal: the store
//! does not select them. Viewers see everything here but every change answers 403.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use portico_core::{
    Action, Actor, CompanyId, FieldKind, PortalUserId, Principal, Section, SiteId, TicketId,
    TicketItem, TicketPriority, TicketView, Zone,
};
use portico_store::StoreError;
use portico_store::scoped::kept_uploads::KeptUpload;
use portico_store::scoped::ticket_workflow::NewTicket;
use portico_store::scoped::tickets::{PortalTicket, StatusFilter, TicketDetail, TicketQuery};
use serde::Deserialize;

use crate::auth::Auth;
use crate::console::path_id;
use crate::error::WebError;
use crate::forms::FormData;
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

fn label(auth: &Auth) -> String {
    match &*auth.principal {
        Principal::Portal(p) => p
            .section_label(Section::Tickets)
            .unwrap_or("Tickets")
            .to_owned(),
        Principal::Staff(_) => "Tickets".into(),
    }
}

/// The company the portal user acts for.
fn acting_company(auth: &Auth) -> Result<CompanyId, WebError> {
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
    let can_contribute = auth.scope.may(Action::ContributeTickets).is_ok();
    let colleagues = if can_contribute {
        tx.cc_candidates(detail.ticket.id)
            .await?
            .into_iter()
            .filter(|(id, _)| Some(*id) != detail.ticket.requester_id)
            .map(|(id, name)| {
                let copied = detail.cc.iter().any(|(c, _)| *c == id);
                (id, name, copied)
            })
            .collect()
    } else {
        Vec::new()
    };
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
    Path(ticket): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
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
    Path(ticket): Path<String>,
    mut upload: FormWithFiles,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    auth.check_csrf(&upload.form)?;
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
    auth: Auth,
    Path(ticket): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    auth.check_csrf(&form)?;
    let links = mail_links(&state, auth.scope.workspace()).await?;
    change(&state, &auth, ticket, "", "resolved", async |tx| {
        tx.resolve_ticket(ticket, &links).await
    })
    .await
}

pub(crate) async fn reopen(
    State(state): State<AppState>,
    auth: Auth,
    Path(ticket): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    auth.check_csrf(&form)?;
    let links = mail_links(&state, auth.scope.workspace()).await?;
    change(&state, &auth, ticket, "", "reopened", async |tx| {
        tx.reopen_ticket(ticket, &links).await
    })
    .await
}

pub(crate) async fn rate(
    State(state): State<AppState>,
    auth: Auth,
    Path(ticket): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    auth.check_csrf(&form)?;
    let score = form.get("rating").parse::<i64>().unwrap_or(0);
    let comment = form.get("comment");
    change(&state, &auth, ticket, "", "rated", async |tx| {
        tx.rate_ticket(ticket, score, comment).await
    })
    .await
}

pub(crate) async fn set_cc(
    State(state): State<AppState>,
    auth: Auth,
    Path(ticket): Path<String>,
    form: FormData,
) -> Result<Response, WebError> {
    let ticket: TicketId = path_id(&ticket)?;
    auth.check_csrf(&form)?;
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

/// One custom field as the form shows it, with what the user entered.
pub(crate) struct FieldView {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub help: String,
    /// (option, chosen)
    pub options: Vec<(String, bool)>,
    pub value: String,
}

/// What the user typed into the submission form, kept across a refusal.
#[derive(Default)]
struct SubmitForm {
    title: String,
    description: String,
    category: String,
    priority: String,
    site: String,
    answers: HashMap<String, Vec<String>>,
    /// Tokens of files kept from an earlier, refused try (`kept` fields), still ticked.
    kept_tokens: Vec<String>,
    /// Those files, once looked up: shown again with the form.
    kept: Vec<KeptUpload>,
}

impl SubmitForm {
    fn from_form(form: &FormData) -> SubmitForm {
        let mut answers: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in form.pairs() {
            if let Some(id) = name.strip_prefix("field_") {
                answers
                    .entry(id.to_owned())
                    .or_default()
                    .push(value.to_owned());
            }
        }
        SubmitForm {
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            category: form.get("category").to_owned(),
            priority: form.get("priority").to_owned(),
            site: form.get("site").to_owned(),
            answers,
            kept_tokens: form
                .all("kept")
                .into_iter()
                .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
                .map(str::to_owned)
                .collect(),
            kept: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "portal/new_ticket.html")]
struct NewTicketPage {
    chrome: Chrome,
    heading: String,
    categories: Vec<String>,
    priorities: &'static [TicketPriority],
    sites: Vec<(SiteId, String)>,
    site_required: bool,
    fields: Vec<FieldView>,
    form: SubmitForm,
    /// Every refusal, (field name, message), in the form's order; a field name of "" is about
    /// the form as a whole.
    errors: Vec<(String, String)>,
}

impl NewTicketPage {
    /// The refusal of `field`, shown beside it.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// A custom field's `aria-invalid` and `aria-describedby` attributes: its refusal and its
    /// help text. Built from field ids the store made (hex and dashes), nothing typed.
    fn described(&self, f: &FieldView) -> String {
        let refused = self.error_for(&format!("field_{}", f.id)).is_some();
        let mut ids = Vec::new();
        if refused {
            ids.push(format!("field_{}-error", f.id));
        }
        if !f.help.is_empty() {
            ids.push(format!("help_{}", f.id));
        }
        let mut attributes = String::new();
        if refused {
            attributes.push_str(" aria-invalid=\"true\"");
        }
        if !ids.is_empty() {
            attributes.push_str(&format!(" aria-describedby=\"{}\"", ids.join(" ")));
        }
        attributes
    }

    /// Whether `field` is the first refused one: it gets the focus when the page loads.
    fn first_refused(&self, field: &str) -> bool {
        self.errors
            .iter()
            .find(|(f, _)| !f.is_empty())
            .is_some_and(|(f, _)| f == field)
    }
}

/// Where a field's refusal goes in the list: the order of the form.
fn form_rank(field: &str) -> usize {
    match field {
        "title" => 0,
        "category" => 1,
        "priority" => 2,
        "site" => 3,
        "description" => 4,
        "attachments" => 6,
        "" => 7,
        _ => 5,
    }
}

async fn new_ticket_page(
    state: &AppState,
    auth: &Auth,
    form: SubmitForm,
    errors: Vec<(String, String)>,
) -> Result<NewTicketPage, WebError> {
    auth.scope
        .may(Action::ContributeTickets)
        .map_err(|d| match d {
            portico_core::Denied::Forbidden => {
                WebError::Forbidden("Your account can read tickets but not raise them.".into())
            }
            portico_core::Denied::NotVisible => WebError::NotFound,
        })?;
    let company = acting_company(auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let ticket_form = tx.ticket_form(company).await?;
    let sites = tx.ticket_sites(company).await?;
    tx.commit().await?;
    let fields = ticket_form
        .fields
        .into_iter()
        .map(|f| {
            let entered = form.answers.get(&f.id).cloned().unwrap_or_default();
            FieldView {
                options: f
                    .options
                    .iter()
                    .map(|o| (o.clone(), entered.iter().any(|e| e == o)))
                    .collect(),
                value: entered.first().cloned().unwrap_or_default(),
                id: f.id,
                label: f.label,
                kind: f.kind,
                required: f.required,
                help: f.help,
            }
        })
        .collect();
    let heading = label(auth);
    Ok(NewTicketPage {
        chrome: Chrome::signed_in(auth, "Raise a ticket", "/tickets"),
        heading,
        categories: ticket_form.categories,
        // A role not shown priorities is not asked for one.
        priorities: if ticket_form.view.shows(TicketItem::Priority) {
            TicketPriority::ALL
        } else {
            &[]
        },
        site_required: auth.scope.sites().is_some(),
        sites,
        fields,
        form,
        errors,
    })
}

pub(crate) async fn new_ticket(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    let form = SubmitForm {
        priority: TicketPriority::Normal.as_str().to_owned(),
        ..SubmitForm::default()
    };
    let page = new_ticket_page(&state, &auth, form, Vec::new()).await?;
    Ok(render::ok(&page))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Auth,
    mut upload: FormWithFiles,
) -> Result<Response, WebError> {
    auth.check_csrf(&upload.form)?;
    let company = acting_company(&auth)?;
    let mut submitted = SubmitForm::from_form(&upload.form);
    // Files kept from an earlier, refused try of this form, attached along with any new ones.
    let mut tx = state.store.scoped(&auth.scope).await?;
    submitted.kept = tx.kept_uploads(&submitted.kept_tokens).await?;
    drop(tx);
    let mut attachments: Vec<_> = submitted.kept.iter().map(|k| k.file.clone()).collect();
    attachments.extend(upload.attachments());
    let new = NewTicket {
        title: submitted.title.clone(),
        description: submitted.description.clone(),
        category: submitted.category.clone(),
        priority: TicketPriority::parse(&submitted.priority),
        site: if submitted.site.is_empty() {
            None
        } else {
            SiteId::parse(&submitted.site)
        },
        answers: submitted.answers.clone(),
        attachments,
    };
    let mut early: Vec<(String, String)> = Vec::new();
    if let Some(message) = upload.file_error.take() {
        early.push(("attachments".into(), message));
    }
    if !submitted.site.is_empty() && new.site.is_none() {
        early.push(("site".into(), "Choose one of the listed sites.".into()));
    }
    if !early.is_empty() {
        // The form's own checks too, so that every problem is reported at once.
        let mut tx = state.store.scoped(&auth.scope).await?;
        match tx.check_new_ticket(company, &new).await {
            Ok(()) => {}
            Err(StoreError::InvalidFields(more)) => {
                let seen: Vec<String> = early.iter().map(|(f, _)| f.clone()).collect();
                early.extend(more.into_iter().filter(|(f, _)| !seen.contains(f)));
            }
            Err(StoreError::Invalid(message)) => early.push((String::new(), message)),
            Err(e) => return Err(e.into()),
        }
        drop(tx);
        return refuse_new_ticket(&state, &auth, submitted, &mut upload, early).await;
    }
    let links = mail_links(&state, auth.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.submit_ticket(company, &new, &links).await {
        Ok(id) => {
            upload.commit_files().await?;
            tx.forget_kept_uploads(&submitted.kept_tokens).await?;
            tx.commit().await?;
            Ok(see_other(&format!("/tickets/{id}?done=created")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            refuse_new_ticket(&state, &auth, submitted, &mut upload, errors).await
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let errors = vec![(String::new(), message)];
            refuse_new_ticket(&state, &auth, submitted, &mut upload, errors).await
        }
        Err(StoreError::Forbidden) => Err(WebError::Forbidden(
            "Your account can read tickets but not raise them.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The form again, as typed, with every refusal beside its field (422). Files that came with
/// it are stored and kept for the user, so that the form shown again still carries them.
async fn refuse_new_ticket(
    state: &AppState,
    auth: &Auth,
    mut submitted: SubmitForm,
    upload: &mut FormWithFiles,
    mut errors: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let fresh = upload.attachments();
    if !fresh.is_empty() && upload.file_error.is_none() {
        upload.commit_files().await?;
        let mut tx = state.store.scoped_write(&auth.scope).await?;
        let kept = tx.keep_uploads(&fresh).await?;
        tx.commit().await?;
        submitted.kept.extend(kept);
    }
    errors.sort_by_key(|(field, _)| form_rank(field));
    let page = new_ticket_page(state, auth, submitted, errors).await?;
    Ok(render::refused(&page))
}
