//! A company's other records over the API: maintenance, invoices (money: only for tokens whose
//! owner may see it, which owners may) and change requests.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{
    ChangeRequestId, ChangeStatus, CompanyId, InvoiceId, InvoiceStatus, MaintenanceId,
    MaintenanceKind, Zone,
};
use portico_store::scoped::change_requests::{ChangeFilter, ChangeRequest};
use portico_store::scoped::invoices::{Invoice, InvoiceFilter, InvoiceSummary};
use portico_store::scoped::maintenance::{MaintenanceDraft, MaintenanceRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::InlineId;
use super::companies::time;
use super::paging::{Page, PageParams, refused_cursor};
use super::tickets::Named;
use super::{ApiAuth, ApiPath, ApiQuery, Idempotency, Problem, json_answer, json_body, judged};
use crate::AppState;

/// Work done on a company's systems, or planned ahead.
#[derive(Serialize, ToSchema)]
pub(crate) struct Maintenance {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    company_id: String,
    /// `patching`, `updates`, `scheduled` or `other`.
    kind: &'static str,
    /// `planned`, `succeeded`, `partial`, `failed` or `cancelled`.
    outcome: &'static str,
    title: String,
    summary: String,
    #[schema(format = DateTime)]
    starts_at: String,
    #[schema(format = DateTime)]
    ends_at: Option<String>,
    /// Who did (or will do) the work.
    staff: String,
    /// The sites it touched as a whole; with no assets either, the whole company.
    sites: Vec<Named>,
    assets: Vec<Named>,
}

impl From<MaintenanceRecord> for Maintenance {
    fn from(m: MaintenanceRecord) -> Maintenance {
        let named = |(id, name): (InlineId, String)| Named { id, name };
        Maintenance {
            id: m.id.to_string(),
            company_id: m.company_id.to_string(),
            kind: m.kind.as_str(),
            outcome: m.outcome.as_str(),
            title: m.title,
            summary: m.summary,
            starts_at: time(m.starts_at),
            ends_at: m.ends_at.map(time),
            staff: m.staff_name,
            sites: m
                .sites
                .into_iter()
                .map(|(id, name)| named((InlineId::of(id), name)))
                .collect(),
            assets: m
                .assets
                .into_iter()
                .map(|(id, name)| named((InlineId::of(id), name)))
                .collect(),
        }
    }
}

/// A page of maintenance records.
#[derive(Serialize, ToSchema)]
pub(crate) struct MaintenancePage {
    data: Vec<Maintenance>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Which maintenance records a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MaintenanceQuery {
    /// How many records to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// Only records of this kind.
    #[param(pattern = "^(patching|updates|scheduled|other)$")]
    kind: Option<String>,
}

/// A company's maintenance, planned and done, latest start first.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/maintenance",
    tag = "Records",
    params(("company" = String, Path, format = Uuid, description = "The company's id"), MaintenanceQuery),
    responses(
        (status = 200, description = "A page of the company's maintenance, latest start first", body = MaintenancePage),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn maintenance(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<MaintenanceQuery>,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    let kind = match params.kind.as_deref() {
        None => None,
        Some(text) => Some(MaintenanceKind::parse(text).ok_or_else(|| {
            Problem::bad_request("`kind` is one of patching, updates, scheduled and other.")
        })?),
    };
    // A cursor belongs to its list: this company's, with this filter.
    let list = format!(
        "maintenance:{company}:{}",
        params.kind.as_deref().unwrap_or("")
    );
    let after = match page.after::<(i64, String)>(&list)? {
        Some((starts, id)) => Some((
            starts,
            MaintenanceId::parse(&id).ok_or_else(refused_cursor)?,
        )),
        None => None,
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    let rows = tx
        .maintenance_after(company, kind, after, limit + 1)
        .await?;
    tx.commit().await?;
    let page = Page::of(
        &list,
        rows,
        limit,
        |m| (m.starts_at, m.id.to_string()),
        Maintenance::from,
    );
    json_answer(
        &headers,
        &MaintenancePage {
            data: page.data,
            next_cursor: page.next_cursor,
        },
    )
}

/// One maintenance record of a company.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/maintenance/{maintenance}",
    tag = "Records",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("maintenance" = String, Path, format = Uuid, description = "The record's id"),
    ),
    responses(
        (status = 200, description = "The record", body = Maintenance),
        (status = 404, description = "No such record within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn maintenance_record(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, id)): ApiPath<(CompanyId, MaintenanceId)>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let record = tx.maintenance_record(company, id).await?;
    tx.commit().await?;
    json_answer(&headers, &Maintenance::from(record))
}

/// Maintenance as a tool that did (or plans) the work sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MaintenanceInput {
    /// `patching`, `updates`, `scheduled` or `other`.
    #[schema(pattern = "^(patching|updates|scheduled|other)$")]
    kind: String,
    /// `planned`, `succeeded`, `partial`, `failed` or `cancelled`.
    #[schema(pattern = "^(planned|succeeded|partial|failed|cancelled)$")]
    outcome: String,
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    summary: Option<String>,
    /// RFC 3339; kept to the minute.
    #[schema(format = DateTime)]
    starts_at: String,
    /// RFC 3339, not before `starts_at`; none for work done at a moment.
    #[schema(format = DateTime)]
    ends_at: Option<String>,
    /// Ids of the company's sites touched as a whole.
    #[schema(value_type = Option<Vec<String>>)]
    site_ids: Option<Vec<String>>,
    /// The assets touched, each by its name or serial number.
    assets: Option<Vec<String>>,
}

impl MaintenanceInput {
    /// The store's draft, its times as UTC wall clock; and the body's own refusals (times that
    /// are not RFC 3339), under the body's names.
    fn draft(self) -> (MaintenanceDraft, Vec<(String, String)>) {
        let mut refusals = Vec::new();
        let mut moment = |field: &str, text: &str| match text.parse::<jiff::Timestamp>() {
            Ok(at) => Zone::utc().local_input(at.as_second()),
            Err(_) => {
                refusals.push((
                    field.to_owned(),
                    "Send a time as RFC 3339, such as 2026-12-03T22:00:00Z.".to_owned(),
                ));
                String::new()
            }
        };
        let starts_at = moment("starts_at", &self.starts_at);
        let ends_at = self
            .ends_at
            .as_deref()
            .map(|t| moment("ends_at", t))
            .unwrap_or_default();
        let draft = MaintenanceDraft {
            kind: self.kind,
            outcome: self.outcome,
            title: self.title,
            summary: self.summary.unwrap_or_default(),
            starts_at,
            ends_at,
            sites: self.site_ids.unwrap_or_default(),
            assets: self.assets.unwrap_or_default().join("\n"),
        };
        (draft, refusals)
    }
}

/// The store's name for the sites field, and the body's.
const SITES: &[(&str, &str)] = &[("sites", "site_ids")];

/// Records maintenance on a company: patching or other work a tool Portico has no connector
/// for did or plans. Send an `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/maintenance",
    tag = "Records",
    request_body = MaintenanceInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The record, added", body = Maintenance),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn create_maintenance(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/companies/{company}/maintenance");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let input: MaintenanceInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    let (draft, own) = input.draft();
    let id = judged(
        own,
        SITES,
        tx.add_maintenance(company, &draft, &Zone::utc()).await,
    )?;
    let answer = Maintenance::from(tx.maintenance_record(company, id).await?);
    let response = idempotency
        .answer(
            &mut tx,
            &caller,
            StatusCode::CREATED,
            &format!("{path}/{id}"),
            &answer,
        )
        .await?;
    tx.commit().await?;
    Ok(response)
}

/// Replaces a maintenance record with the body (its outcome once the work is done, its
/// window, what it touched).
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/maintenance/{maintenance}",
    tag = "Records",
    request_body = MaintenanceInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("maintenance" = String, Path, format = Uuid, description = "The record's id"),
    ),
    responses(
        (status = 200, description = "The record, changed", body = Maintenance),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such record within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn replace_maintenance(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, id)): ApiPath<(CompanyId, MaintenanceId)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: MaintenanceInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    let (draft, own) = input.draft();
    judged(
        own,
        SITES,
        tx.update_maintenance(company, id, &draft, &Zone::utc())
            .await,
    )?;
    let answer = Maintenance::from(tx.maintenance_record(company, id).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// An invoice of a company. Amounts are in cents of its currency.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvoiceBody {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    company_id: String,
    /// Portico's number; `null` while a draft, and for an invoice the accounting tool issued
    /// (see `external_number`).
    number: Option<i64>,
    /// The accounting tool's own number, for an invoice it issued (`issued_by`); else empty.
    external_number: String,
    /// The accounting tool that issued it (`Xero`); `null` for Portico's own.
    issued_by: Option<&'static str>,
    /// What is still owed, as the accounting tool reports it; `null` for Portico's own.
    amount_due_cents: Option<i64>,
    /// `draft`, `sent`, `overdue` (sent, past its due date), `paid` or `void`.
    status: &'static str,
    #[schema(format = Date)]
    issued_on: String,
    #[schema(format = Date)]
    due_on: String,
    /// ISO 4217.
    currency: String,
    subtotal_cents: i64,
    tax_cents: i64,
    total_cents: i64,
    /// One invoice's answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    /// One invoice's answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<InvoiceLineBody>>,
}

/// A line of an invoice.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvoiceLineBody {
    description: String,
    /// In thousandths: 1500 is one and a half.
    quantity_milli: i64,
    unit_cents: i64,
    /// In hundredths of a percent: 1000 is 10 %.
    tax_basis_points: i64,
    amount_cents: i64,
    tax_cents: i64,
}

impl From<InvoiceSummary> for InvoiceBody {
    fn from(i: InvoiceSummary) -> InvoiceBody {
        InvoiceBody {
            id: i.id.to_string(),
            company_id: i.company_id.to_string(),
            number: i.number,
            external_number: i.external_number,
            issued_by: i.issued_by,
            amount_due_cents: i.amount_due_cents,
            status: i.status.as_str(),
            issued_on: i.issued_on,
            due_on: i.due_on,
            currency: i.currency,
            subtotal_cents: i.subtotal_cents,
            tax_cents: i.tax_cents,
            total_cents: i.total_cents,
            notes: None,
            lines: None,
        }
    }
}

impl From<Invoice> for InvoiceBody {
    fn from(i: Invoice) -> InvoiceBody {
        let mut body = InvoiceBody::from(i.summary);
        body.notes = Some(i.notes);
        body.lines = Some(
            i.lines
                .into_iter()
                .map(|l| InvoiceLineBody {
                    description: l.description,
                    quantity_milli: l.quantity_milli,
                    unit_cents: l.unit_cents,
                    tax_basis_points: l.tax_basis_points,
                    amount_cents: l.amount_cents,
                    tax_cents: l.tax_cents,
                })
                .collect(),
        );
        body
    }
}

/// A page of invoices.
#[derive(Serialize, ToSchema)]
pub(crate) struct InvoicePage {
    data: Vec<InvoiceBody>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Which invoices a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InvoiceQuery {
    /// How many invoices to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// Only invoices in this state.
    #[param(pattern = "^(draft|sent|overdue|paid|void)$")]
    status: Option<String>,
}

/// A company's invoices, latest first.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/invoices",
    tag = "Records",
    params(("company" = String, Path, format = Uuid, description = "The company's id"), InvoiceQuery),
    responses(
        (status = 200, description = "A page of the company's invoices, latest first", body = InvoicePage),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
        (status = 403, description = "The token's owner may not see money", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn invoices(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<InvoiceQuery>,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    let status = match params.status.as_deref() {
        None => None,
        Some(text) => Some(InvoiceStatus::parse(text).ok_or_else(|| {
            Problem::bad_request("`status` is one of draft, sent, overdue, paid and void.")
        })?),
    };
    let list = format!(
        "invoices:{company}:{}",
        params.status.as_deref().unwrap_or("")
    );
    let after = match page.after::<(String, String)>(&list)? {
        Some((issued, id)) => Some((issued, InvoiceId::parse(&id).ok_or_else(refused_cursor)?)),
        None => None,
    };
    let filter = InvoiceFilter {
        status,
        limit: Some(limit + 1),
        after,
        ..InvoiceFilter::default()
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    let found = tx
        .invoices(company, &filter, caller.principal.zone())
        .await?;
    tx.commit().await?;
    let page = Page::of(
        &list,
        found.invoices,
        limit,
        |i| (i.issued_on.clone(), i.id.to_string()),
        InvoiceBody::from,
    );
    json_answer(
        &headers,
        &InvoicePage {
            data: page.data,
            next_cursor: page.next_cursor,
        },
    )
}

/// One invoice of a company, with its lines.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/invoices/{invoice}",
    tag = "Records",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("invoice" = String, Path, format = Uuid, description = "The invoice's id"),
    ),
    responses(
        (status = 200, description = "The invoice", body = InvoiceBody),
        (status = 403, description = "The token's owner may not see money", body = super::ProblemBody),
        (status = 404, description = "No such invoice within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn invoice(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, id)): ApiPath<(CompanyId, InvoiceId)>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let found = tx.invoice(company, id, caller.principal.zone()).await?;
    let target = portico_core::AuditTarget::new("invoice", id, found.summary.number_text());
    // A draft is the MSP's own until sent: its views stay off the client's chain.
    if found.summary.status == InvoiceStatus::Draft {
        tx.audit_viewed_internally(company, target)?;
    } else {
        tx.audit_viewed(company, target)?;
    }
    tx.commit().await?;
    json_answer(&headers, &InvoiceBody::from(found))
}

/// Something a client asked the MSP to change.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChangeRequestBody {
    #[schema(format = Uuid)]
    id: String,
    company: Named,
    /// `update`, `add`, `remove`, `purchase` or `other`.
    kind: &'static str,
    /// `asset`, `contact`, `portal_user` or `general`.
    target: &'static str,
    /// The id of the record it is about, if any.
    target_id: Option<String>,
    /// The record's name when the request was raised.
    target_label: String,
    title: String,
    details: String,
    /// `awaiting_approval`, `declined`, `open`, `approved`, `rejected` or `done`.
    status: &'static str,
    requested_by: Named,
    assignee: Option<Named>,
    /// The reason given with a rejection, or a note with a decision.
    decision_note: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

impl From<ChangeRequest> for ChangeRequestBody {
    fn from(c: ChangeRequest) -> ChangeRequestBody {
        ChangeRequestBody {
            id: c.id.to_string(),
            company: Named {
                id: InlineId::of(c.company_id),
                name: c.company_name,
            },
            kind: c.kind.as_str(),
            target: c.target.as_str(),
            target_id: c.target_id,
            target_label: c.target_label,
            title: c.title,
            details: c.details,
            status: c.status.as_str(),
            requested_by: Named {
                id: InlineId::of(c.requested_by),
                name: c.requester_name,
            },
            assignee: c.assignee.map(|(id, name)| Named {
                id: InlineId::of(id),
                name,
            }),
            decision_note: c.decision_note,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

/// A page of change requests.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChangeRequestPage {
    data: Vec<ChangeRequestBody>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Which change requests a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChangeRequestQuery {
    /// How many requests to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// Only requests in this state; left out, those still to be acted on (awaiting approval,
    /// with the MSP, approved); `all` for every one.
    #[param(pattern = "^(awaiting_approval|declined|open|approved|rejected|done|all)$")]
    status: Option<String>,
    /// Only this company's requests.
    #[param(format = Uuid)]
    company: Option<String>,
}

/// Change requests the token reaches, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/change-requests",
    tag = "Records",
    params(ChangeRequestQuery),
    responses(
        (status = 200, description = "A page of change requests, newest first", body = ChangeRequestPage),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn change_requests(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<ChangeRequestQuery>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    let (status, all) = match params.status.as_deref() {
        None => (None, false),
        Some("all") => (None, true),
        Some(text) => (
            Some(ChangeStatus::parse(text).ok_or_else(|| {
                Problem::bad_request(
                    "`status` is one of awaiting_approval, declined, open, approved, rejected, done and all.",
                )
            })?),
            false,
        ),
    };
    let company = match params.company.as_deref() {
        None => None,
        Some(text) => Some(
            CompanyId::parse(text)
                .ok_or_else(|| Problem::bad_request("`company` is a company's id."))?,
        ),
    };
    let list = format!(
        "change_requests:{}:{}",
        params.status.as_deref().unwrap_or(""),
        params.company.as_deref().unwrap_or("")
    );
    let after = match page.after::<(i64, String)>(&list)? {
        Some((created, id)) => Some((
            created,
            ChangeRequestId::parse(&id).ok_or_else(refused_cursor)?,
        )),
        None => None,
    };
    let filter = ChangeFilter {
        status,
        all,
        company,
        limit: Some(limit + 1),
        after,
        ..ChangeFilter::default()
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    let found = tx.change_requests(&filter).await?;
    tx.commit().await?;
    let page = Page::of(
        &list,
        found.requests,
        limit,
        |c| (c.created_at, c.id.to_string()),
        ChangeRequestBody::from,
    );
    json_answer(
        &headers,
        &ChangeRequestPage {
            data: page.data,
            next_cursor: page.next_cursor,
        },
    )
}

/// One change request.
#[utoipa::path(
    get,
    path = "/api/v1/change-requests/{change}",
    tag = "Records",
    params(("change" = String, Path, format = Uuid, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = ChangeRequestBody),
        (status = 404, description = "No such request within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn change_request(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<ChangeRequestId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let found = tx.change_request(id).await?;
    tx.commit().await?;
    json_answer(&headers, &ChangeRequestBody::from(found))
}

/// What the desk does with a change request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeDecisionInput {
    /// `approve` (an open request), `reject` (with a note for the client) or `done`.
    #[schema(pattern = "^(approve|reject|done)$")]
    decision: String,
    /// Told to the client; required to reject.
    note: Option<String>,
}

/// Approves, rejects or marks done a change request as the token's owner; the client is told,
/// as from the console. Repeating a decision the request already has changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/change-requests/{change}/decisions",
    tag = "Records",
    request_body = ChangeDecisionInput,
    params(("change" = String, Path, format = Uuid, description = "The request's id")),
    responses(
        (status = 200, description = "The request, decided", body = ChangeRequestBody),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such request within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused, or the request cannot be decided so now", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn decide_change_request(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<ChangeRequestId>,
    body: Bytes,
) -> Result<Response, Problem> {
    use portico_store::scoped::change_requests::ChangeDecision;
    let input: ChangeDecisionInput = json_body(&headers, &body)?;
    let links = crate::mail_links(&state, caller.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // Out of reach is missing, before anything about the body is judged.
    let current = tx.change_request(id).await?;
    let (decision, reached) = match input.decision.as_str() {
        "approve" => (ChangeDecision::Approve, ChangeStatus::Approved),
        "reject" => (ChangeDecision::Reject, ChangeStatus::Rejected),
        "done" => (ChangeDecision::Done, ChangeStatus::Done),
        _ => {
            return Err(portico_store::StoreError::InvalidFields(vec![(
                "decision".to_owned(),
                "One of approve, reject and done.".to_owned(),
            )])
            .into());
        }
    };
    // A retry of a decision already taken answers the request as it stands.
    if current.status != reached {
        tx.decide_change_request(
            id,
            decision,
            input.note.as_deref().unwrap_or(""),
            &links.portal,
        )
        .await?;
    }
    let answer = ChangeRequestBody::from(tx.change_request(id).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// Who at the MSP looks after a change request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeAssignment {
    /// A member of staff who works the company's tickets; `null` for nobody; left out, as it is.
    #[serde(default, deserialize_with = "super::tickets::present")]
    #[schema(value_type = Option<String>, format = Uuid, nullable)]
    assignee_id: Option<Option<String>>,
}

/// Assigns an open change request to a member of staff, or to nobody.
#[utoipa::path(
    patch,
    path = "/api/v1/change-requests/{change}",
    tag = "Records",
    request_body = ChangeAssignment,
    params(("change" = String, Path, format = Uuid, description = "The request's id")),
    responses(
        (status = 200, description = "The request, assigned", body = ChangeRequestBody),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such request within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "Not someone who works for the company, or the request is closed", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn assign_change_request(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<ChangeRequestId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: ChangeAssignment = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.change_request(id).await?;
    if let Some(assignee) = input.assignee_id {
        let assignee = match assignee.as_deref() {
            None => None,
            Some(text) => Some(portico_core::StaffUserId::parse(text).ok_or_else(|| {
                Problem::from(portico_store::StoreError::InvalidFields(vec![(
                    "assignee_id".to_owned(),
                    "Choose someone who works for this company.".to_owned(),
                )]))
            })?),
        };
        judged(
            Vec::new(),
            &[("assignee", "assignee_id")],
            tx.assign_change_request(id, assignee).await,
        )?;
    }
    let answer = ChangeRequestBody::from(tx.change_request(id).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// `value` in units of `10^-places`, written as the invoice form takes it (`1500`, 3 → `1.500`).
fn decimal(value: i64, places: u32) -> String {
    let scale = 10i64.pow(places);
    format!(
        "{}.{:0width$}",
        value / scale,
        value % scale,
        width = places as usize
    )
}

/// An invoice line as a tool sends it, in the units the API answers with.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvoiceLineInput {
    #[schema(min_length = 1, max_length = 200)]
    description: String,
    /// In thousandths: 1500 is one and a half.
    #[schema(minimum = 1, maximum = 1_000_000_000_000i64)]
    quantity_milli: i64,
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    unit_cents: i64,
    /// In hundredths of a percent: 1000 is 10 %.
    #[schema(minimum = 0, maximum = 10000)]
    tax_basis_points: Option<i64>,
}

/// A draft invoice as a tool sends it; the company's plan gives its currency.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvoiceInput {
    #[schema(format = Date)]
    issued_on: String,
    #[schema(format = Date)]
    due_on: String,
    notes: Option<String>,
    lines: Vec<InvoiceLineInput>,
}

impl InvoiceInput {
    fn draft(
        self,
    ) -> (
        portico_store::scoped::invoices::InvoiceDraft,
        Vec<(String, String)>,
    ) {
        use portico_store::scoped::invoices::{InvoiceDraft, LineDraft};
        let mut refusals = Vec::new();
        let lines = self
            .lines
            .into_iter()
            .map(|l| {
                let tax = l.tax_basis_points.unwrap_or(0);
                let bounded = (1..=1_000_000_000_000).contains(&l.quantity_milli)
                    && (0..=1_000_000_000_000).contains(&l.unit_cents)
                    && (0..=10_000).contains(&tax);
                if !bounded && refusals.is_empty() {
                    refusals.push((
                        "lines".to_owned(),
                        "Each line: a quantity above 0, a unit price of 0 or more and a tax \
                         rate from 0 to 10000 basis points."
                            .to_owned(),
                    ));
                }
                LineDraft {
                    description: l.description,
                    quantity: decimal(l.quantity_milli.max(0), 3),
                    unit_price: decimal(l.unit_cents.max(0), 2),
                    tax_rate: decimal(tax.max(0), 2),
                }
            })
            .collect();
        let draft = InvoiceDraft {
            issued_on: self.issued_on,
            due_on: self.due_on,
            notes: self.notes.unwrap_or_default(),
            lines,
        };
        (draft, refusals)
    }
}

/// Drafts an invoice to a company (from an accounting or billing tool); it reaches the portal
/// once sent. Money: only tokens whose owner may see it. Send an `Idempotency-Key` to make a
/// retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/invoices",
    tag = "Records",
    request_body = InvoiceInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The draft, added", body = InvoiceBody),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn create_invoice(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/companies/{company}/invoices");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let input: InvoiceInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    let (draft, own) = input.draft();
    let id = judged(own, &[], tx.create_invoice(company, &draft).await)?;
    let answer = InvoiceBody::from(tx.invoice(company, id, &Zone::utc()).await?);
    let response = idempotency
        .answer(
            &mut tx,
            &caller,
            StatusCode::CREATED,
            &format!("{path}/{id}"),
            &answer,
        )
        .await?;
    tx.commit().await?;
    Ok(response)
}

/// Replaces a draft invoice's dates, notes and lines (what is left out is emptied), as the
/// console's draft form does. A sent invoice is not changed: void it and draft another.
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/invoices/{invoice}",
    tag = "Records",
    request_body = InvoiceInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("invoice" = String, Path, format = Uuid, description = "The invoice's id"),
    ),
    responses(
        (status = 200, description = "The draft, changed", body = InvoiceBody),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such invoice within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused, or the invoice is no longer a draft", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn replace_invoice(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, invoice)): ApiPath<(CompanyId, InvoiceId)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: InvoiceInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // Out of reach is missing, before anything about the body is judged.
    tx.invoice(company, invoice, &Zone::utc()).await?;
    let (draft, own) = input.draft();
    judged(own, &[], tx.update_invoice(company, invoice, &draft).await)?;
    let answer = InvoiceBody::from(tx.invoice(company, invoice, &Zone::utc()).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// What happens to an invoice.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvoiceStatusInput {
    /// `send` (a draft: it takes the next number and reaches the portal), `paid`, `unpaid`
    /// (paid by mistake) or `void` (sent, kept with its number).
    #[schema(pattern = "^(send|paid|unpaid|void)$")]
    action: String,
}

/// Sends an invoice, marks it paid or unpaid, or voids it. Repeating what the invoice already
/// is changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/invoices/{invoice}/status",
    tag = "Records",
    request_body = InvoiceStatusInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("invoice" = String, Path, format = Uuid, description = "The invoice's id"),
    ),
    responses(
        (status = 200, description = "The invoice as it now stands", body = InvoiceBody),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such invoice within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "The action is not one, or not allowed from the invoice's status", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn set_invoice_status(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, id)): ApiPath<(CompanyId, InvoiceId)>,
    body: Bytes,
) -> Result<Response, Problem> {
    use portico_store::scoped::invoices::InvoiceAction;
    let input: InvoiceStatusInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // Out of reach is missing, before anything about the body is judged.
    let current = tx.invoice(company, id, &Zone::utc()).await?.summary.status;
    let (action, reached) = match input.action.as_str() {
        "send" => (
            InvoiceAction::Send,
            [InvoiceStatus::Sent, InvoiceStatus::Overdue],
        ),
        "paid" => (
            InvoiceAction::MarkPaid,
            [InvoiceStatus::Paid, InvoiceStatus::Paid],
        ),
        "unpaid" => (
            InvoiceAction::MarkUnpaid,
            [InvoiceStatus::Sent, InvoiceStatus::Overdue],
        ),
        "void" => (
            InvoiceAction::Void,
            [InvoiceStatus::Void, InvoiceStatus::Void],
        ),
        _ => {
            return Err(portico_store::StoreError::InvalidFields(vec![(
                "action".to_owned(),
                "One of send, paid, unpaid and void.".to_owned(),
            )])
            .into());
        }
    };
    // A retry of an action already carried out answers the invoice as it stands.
    if !reached.contains(&current) {
        tx.set_invoice_status(company, id, action).await?;
    }
    let answer = InvoiceBody::from(tx.invoice(company, id, &Zone::utc()).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}
