//! Tickets over the API: the desk's list with its filters, one ticket with its messages,
//! logging a ticket for a company's portal user, and replying.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{
    CompanyId, PortalUserId, SiteId, StaffUserId, TicketId, TicketPriority, TicketStatus,
};
use portico_store::StoreError;
use portico_store::scoped::ScopedTx;
use portico_store::scoped::ticket_workflow::LoggedTicket;
use portico_store::scoped::tickets::{StatusFilter, TicketDetail, TicketQuery, TicketSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::companies::time;
use super::paging::{Page, PageParams};
use super::{
    ApiAuth, ApiId, ApiPath, ApiQuery, ApiTime, Idempotency, InlineId, Problem, json_answer,
    json_body,
};
use crate::{AppState, mail_links};

/// An id and a name.
#[derive(Serialize, ToSchema)]
pub(crate) struct Named {
    #[schema(value_type = String, format = Uuid)]
    pub(super) id: InlineId,
    pub(super) name: String,
}

fn named(id: Option<impl portico_core::Id>, name: Option<String>) -> Option<Named> {
    id.map(|id| Named {
        id: InlineId::of(id),
        name: name.unwrap_or_default(),
    })
}

/// A ticket as lists answer it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Ticket {
    #[schema(value_type = String, format = Uuid)]
    id: ApiId<TicketId>,
    /// The workspace's short number, shown as `#1042`.
    number: i64,
    company: Named,
    site: Option<Named>,
    /// The company's portal user the ticket is for.
    requester: Option<Named>,
    /// The staff member working it.
    assignee: Option<Named>,
    title: String,
    category: String,
    /// `new`, `open`, `awaiting_client`, `on_hold`, `resolved` or `closed`.
    status: &'static str,
    /// `low`, `normal`, `high` or `urgent`.
    priority: &'static str,
    #[schema(value_type = String, format = DateTime)]
    created_at: ApiTime,
    #[schema(value_type = String, format = DateTime)]
    updated_at: ApiTime,
    #[schema(value_type = Option<String>, format = DateTime)]
    resolved_at: Option<ApiTime>,
    service_level: ServiceLevel,
}

/// Where a ticket stands against its service-level targets.
#[derive(Serialize, ToSchema)]
pub(crate) struct ServiceLevel {
    #[schema(value_type = Option<String>, format = DateTime)]
    first_response_due: Option<ApiTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    resolution_due: Option<ApiTime>,
    /// A target was missed.
    breached: bool,
    /// The clocks stand still while the ticket awaits the client.
    paused: bool,
}

impl From<TicketSummary> for Ticket {
    fn from(t: TicketSummary) -> Ticket {
        Ticket {
            id: ApiId(t.id),
            number: t.number,
            company: Named {
                id: InlineId::of(t.company_id),
                name: t.company_name,
            },
            site: named(t.site_id, t.site_name),
            requester: named(t.requester_id, t.requester_name),
            assignee: named(t.assignee_id, t.assignee_name),
            title: t.title,
            category: t.category,
            status: t.status.as_str(),
            priority: t.priority.as_str(),
            created_at: ApiTime(t.created_at),
            updated_at: ApiTime(t.updated_at),
            resolved_at: t.resolved_at.map(ApiTime),
            service_level: ServiceLevel {
                first_response_due: t.sla.first_response_due.map(ApiTime),
                resolution_due: t.sla.resolution_due.map(ApiTime),
                breached: t.sla.breached,
                paused: t.sla.paused,
            },
        }
    }
}

/// A page of tickets.
#[derive(Serialize, ToSchema)]
pub(crate) struct TicketPage {
    data: Vec<Ticket>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Which tickets a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TicketListQuery {
    /// How many tickets to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// `open` (the default: neither resolved nor closed), `new`, `awaiting`, `closed`
    /// (resolved or closed) or `all`.
    #[param(pattern = "^(open|new|awaiting|closed|all)$")]
    status: Option<String>,
    /// Only this company's tickets.
    #[param(format = Uuid)]
    company: Option<String>,
    /// Only tickets of this priority: `low`, `normal`, `high` or `urgent`.
    #[param(pattern = "^(low|normal|high|urgent)$")]
    priority: Option<String>,
}

/// Tickets the token reaches, most recently updated first.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
    tag = "Tickets",
    params(TicketListQuery),
    responses(
        (status = 200, description = "A page of tickets, most recently updated first", body = TicketPage),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<TicketListQuery>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    let status = match params.status.as_deref() {
        None => StatusFilter::Open,
        Some(text) => StatusFilter::parse(text).ok_or_else(|| {
            Problem::bad_request("`status` is one of open, new, awaiting, closed and all.")
        })?,
    };
    let company = match params.company.as_deref() {
        None => None,
        Some(text) => Some(
            CompanyId::parse(text)
                .ok_or_else(|| Problem::bad_request("`company` is a company's id."))?,
        ),
    };
    let priority = match params.priority.as_deref() {
        None => None,
        Some(text) => Some(TicketPriority::parse(text).ok_or_else(|| {
            Problem::bad_request("`priority` is one of low, normal, high and urgent.")
        })?),
    };
    let list = format!(
        "tickets:{}:{}:{}",
        status.as_str(),
        params.company.as_deref().unwrap_or(""),
        params.priority.as_deref().unwrap_or("")
    );
    let after: Option<(i64, String)> = page.after(&list)?;
    let after = match after {
        Some((updated, id)) => Some((
            updated,
            TicketId::parse(&id).ok_or_else(super::paging::refused_cursor)?,
        )),
        None => None,
    };
    let query = TicketQuery {
        status,
        company,
        priority,
        after,
        limit: limit + 1,
        ..TicketQuery::default()
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    let rows = tx.tickets(&query).await?;
    tx.commit().await?;
    let page = Page::of(
        &list,
        rows,
        limit,
        |t| (t.updated_at, t.id.to_string()),
        Ticket::from,
    );
    json_answer(
        &headers,
        &TicketPage {
            data: page.data,
            next_cursor: page.next_cursor,
        },
    )
}

/// A message on a ticket.
#[derive(Serialize, ToSchema)]
pub(crate) struct Message {
    author: String,
    /// Written by the MSP's staff (otherwise by the client).
    from_staff: bool,
    /// An internal note: never shown to the client.
    internal: bool,
    body: String,
    #[schema(format = DateTime)]
    created_at: String,
    attachments: Vec<AttachmentBody>,
}

/// A file attached to a message.
#[derive(Serialize, ToSchema)]
pub(crate) struct AttachmentBody {
    #[schema(format = Uuid)]
    id: String,
    file_name: String,
    /// In bytes.
    size: i64,
}

/// One ticket, with its messages oldest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct TicketWithMessages {
    #[serde(flatten)]
    ticket: Ticket,
    messages: Vec<Message>,
}

impl From<TicketDetail> for TicketWithMessages {
    fn from(d: TicketDetail) -> TicketWithMessages {
        TicketWithMessages {
            ticket: Ticket::from(d.ticket),
            messages: d
                .messages
                .into_iter()
                .map(|m| Message {
                    author: m.author_name,
                    from_staff: m.from_staff,
                    internal: m.internal,
                    body: m.body,
                    created_at: time(m.created_at),
                    attachments: m
                        .attachments
                        .into_iter()
                        .map(|a| AttachmentBody {
                            id: a.id,
                            file_name: a.file_name,
                            size: a.size,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// One ticket with its messages (internal notes included: tokens act for staff).
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{ticket}",
    tag = "Tickets",
    params(("ticket" = String, Path, format = Uuid, description = "The ticket's id")),
    responses(
        (status = 200, description = "The ticket", body = TicketWithMessages),
        (status = 404, description = "No such ticket within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(ticket): ApiPath<TicketId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let detail = tx.ticket(ticket).await?;
    tx.audit_ticket_viewed(&detail.ticket)?;
    tx.commit().await?;
    json_answer(&headers, &TicketWithMessages::from(detail))
}

/// A ticket to log for one of a company's portal users.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTicket {
    #[schema(format = Uuid)]
    company_id: String,
    /// The portal user the ticket is for (see the company's users).
    #[schema(format = Uuid)]
    requester_id: String,
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(min_length = 1)]
    description: String,
    /// `low`, `normal`, `high` or `urgent`; `normal` when left out.
    #[schema(pattern = "^(low|normal|high|urgent)$")]
    priority: Option<String>,
    /// One of the workspace's ticket categories; left out, none.
    category: Option<String>,
    #[schema(format = Uuid)]
    site_id: Option<String>,
    /// A staff member who works the company's tickets.
    #[schema(format = Uuid)]
    assignee_id: Option<String>,
}

/// A field's id, or its refusal.
fn id_field<T>(
    refused: &mut Vec<(String, String)>,
    field: &str,
    text: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    message: &str,
) -> Option<T> {
    let text = text?;
    let parsed = parse(text);
    if parsed.is_none() {
        refused.push((field.to_owned(), message.to_owned()));
    }
    parsed
}

/// Logs a ticket for a company's portal user, as staff taking a call would: the client gets
/// the same receipt as for a ticket they raise. Send an `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "Tickets",
    request_body = NewTicket,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)")),
    responses(
        (status = 201, description = "The ticket, logged", body = TicketWithMessages),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let idempotency = Idempotency::of(&headers, "POST", "/api/v1/tickets", &body)?;
    let new: NewTicket = json_body(&headers, &body)?;
    let mut refused = Vec::new();
    let requester = id_field(
        &mut refused,
        "requester_id",
        Some(&new.requester_id),
        PortalUserId::parse,
        "Choose one of the company's people.",
    );
    let site = id_field(
        &mut refused,
        "site_id",
        new.site_id.as_deref(),
        SiteId::parse,
        "Choose one of the company's sites.",
    );
    let assignee = id_field(
        &mut refused,
        "assignee_id",
        new.assignee_id.as_deref(),
        StaffUserId::parse,
        "Choose someone who works this company's tickets.",
    );
    let priority = match new.priority.as_deref() {
        None => Some(TicketPriority::Normal),
        Some(text) => {
            let parsed = TicketPriority::parse(text);
            if parsed.is_none() {
                refused.push((
                    "priority".to_owned(),
                    "Choose low, normal, high or urgent.".to_owned(),
                ));
            }
            parsed
        }
    };
    let logged = LoggedTicket {
        requester,
        title: new.title,
        description: new.description,
        priority,
        category: new.category.unwrap_or_default(),
        site,
        assignee,
    };
    let links = mail_links(&state, caller.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // A company out of reach is missing, before anything about the body is judged.
    let company = CompanyId::parse(&new.company_id).ok_or_else(Problem::not_found)?;
    tx.visible_company(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    let id = match tx.log_ticket(company, &logged, &links).await {
        Ok(id) if refused.is_empty() => id,
        Ok(_) => return Err(StoreError::InvalidFields(refused).into()),
        Err(StoreError::InvalidFields(more)) => {
            // Both kinds of refusal at once, each field once under the body's name for it.
            for (field, message) in more {
                let field = match field.as_str() {
                    "requester" => "requester_id".to_owned(),
                    "site" => "site_id".to_owned(),
                    "assignee" => "assignee_id".to_owned(),
                    _ => field,
                };
                if !refused.iter().any(|(f, _)| *f == field) {
                    refused.push((field, message));
                }
            }
            return Err(StoreError::InvalidFields(refused).into());
        }
        Err(e) => return Err(e.into()),
    };
    let answer = answered_ticket(&mut tx, id).await?;
    let response = idempotency
        .answer(
            &mut tx,
            &caller,
            StatusCode::CREATED,
            &format!("/api/v1/tickets/{id}"),
            &answer,
        )
        .await?;
    tx.commit().await?;
    Ok(response)
}

/// The ticket as it stands inside the transaction that changed it.
async fn answered_ticket(
    tx: &mut ScopedTx<'_>,
    id: TicketId,
) -> Result<TicketWithMessages, Problem> {
    Ok(TicketWithMessages::from(tx.ticket(id).await?))
}

/// A reply or internal note to add to a ticket.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewReply {
    #[schema(min_length = 1)]
    body: String,
    /// An internal note, never shown to the client (default: a reply the client reads).
    #[serde(default)]
    internal: bool,
    /// The ticket's status after the reply: `new`, `open`, `awaiting_client`, `on_hold`,
    /// `resolved` or `closed`; left out, as the desk's rules set it.
    #[schema(pattern = "^(new|open|awaiting_client|on_hold|resolved|closed)$")]
    status: Option<String>,
}

/// Replies to a ticket (or adds an internal note) as the token's owner. Send an
/// `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{ticket}/replies",
    tag = "Tickets",
    request_body = NewReply,
    params(
        ("ticket" = String, Path, format = Uuid, description = "The ticket's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The ticket with the reply", body = TicketWithMessages),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such ticket within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn reply(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(ticket): ApiPath<TicketId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/tickets/{ticket}/replies");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let new: NewReply = json_body(&headers, &body)?;
    let status = match new.status.as_deref() {
        None => None,
        Some(text) => Some(TicketStatus::parse(text).ok_or_else(|| {
            let mut problem =
                Problem::unprocessable("The request was refused; see each field's reason.");
            problem.errors = vec![("status".to_owned(), "Choose a listed status.".to_owned())];
            problem
        })?),
    };
    let links = mail_links(&state, caller.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // Out of reach is missing, before anything about the body is judged.
    let company = tx.ticket(ticket).await?.ticket.company_id;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    if new.body.trim().is_empty() {
        let mut problem =
            Problem::unprocessable("The request was refused; see each field's reason.");
        problem.errors = vec![("body".to_owned(), "Write the reply.".to_owned())];
        return Err(problem);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    tx.reply(ticket, &new.body, new.internal, &[], status, &links)
        .await?;
    let answer = answered_ticket(&mut tx, ticket).await?;
    let response = idempotency
        .answer(
            &mut tx,
            &caller,
            StatusCode::CREATED,
            &format!("/api/v1/tickets/{ticket}"),
            &answer,
        )
        .await?;
    tx.commit().await?;
    Ok(response)
}

/// A present field's value, `null` included: tells "unassign" (`null`) from "leave as it is"
/// (left out).
pub(super) fn present<'de, D>(d: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(d).map(Some)
}

/// The desk's changes to a ticket; what is left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketPatch {
    /// `new`, `open`, `awaiting_client`, `on_hold`, `resolved` or `closed`.
    #[schema(pattern = "^(new|open|awaiting_client|on_hold|resolved|closed)$")]
    status: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    #[schema(pattern = "^(low|normal|high|urgent)$")]
    priority: Option<String>,
    /// A member of staff who may work the company's tickets; `null` to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Uuid, nullable)]
    assignee_id: Option<Option<String>>,
}

/// Changes a ticket's status, priority or assignee as the token's owner (each change on the
/// ticket's timeline, the new assignee and the client told as from the console), as a PSA
/// keeping the desk in step does.
#[utoipa::path(
    patch,
    path = "/api/v1/tickets/{ticket}",
    tag = "Tickets",
    request_body = TicketPatch,
    params(("ticket" = String, Path, format = Uuid, description = "The ticket's id")),
    responses(
        (status = 200, description = "The ticket, changed", body = TicketWithMessages),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such ticket within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn change(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(ticket): ApiPath<TicketId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let patch: TicketPatch = json_body(&headers, &body)?;
    let links = mail_links(&state, caller.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // Out of reach is missing, before anything about the body is judged.
    let current = tx.ticket(ticket).await?.ticket;
    let mut refusals = Vec::new();
    let status = match patch.status.as_deref() {
        None => current.status,
        Some(text) => TicketStatus::parse(text).unwrap_or_else(|| {
            refusals.push(("status".to_owned(), "Choose a listed status.".to_owned()));
            current.status
        }),
    };
    let priority = match patch.priority.as_deref() {
        None => current.priority,
        Some(text) => TicketPriority::parse(text).unwrap_or_else(|| {
            refusals.push((
                "priority".to_owned(),
                "Choose a listed priority.".to_owned(),
            ));
            current.priority
        }),
    };
    let assignee = match patch.assignee_id {
        None => current.assignee_id,
        Some(None) => None,
        Some(Some(text)) => match StaffUserId::parse(&text) {
            Some(id) => Some(id),
            None => {
                refusals.push((
                    "assignee_id".to_owned(),
                    "Choose a member of staff who may work this company's tickets.".to_owned(),
                ));
                current.assignee_id
            }
        },
    };
    if !refusals.is_empty() {
        return Err(StoreError::InvalidFields(refusals).into());
    }
    let change = portico_store::scoped::ticket_workflow::TicketChange {
        status,
        priority,
        assignee,
    };
    let assignee_changed = assignee != current.assignee_id;
    match tx.change_ticket(ticket, &change, &links).await {
        Ok(()) => {}
        // The store names an assignee it refuses in words; the API names the field.
        Err(StoreError::Invalid(message)) if assignee_changed => {
            return Err(
                StoreError::InvalidFields(vec![("assignee_id".to_owned(), message)]).into(),
            );
        }
        Err(e) => return Err(e.into()),
    }
    let answer = answered_ticket(&mut tx, ticket).await?;
    tx.commit().await?;
    json_answer(&headers, &answer)
}
