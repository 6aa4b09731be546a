//! A company's security alerts over the API (P5): read as the Security section shows them, and
//! pushed by a tool Portico has no connector for (a SIEM, another EDR), into the same records
//! the Microsoft 365 connector's Defender alerts fill.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{CompanyId, Section};
use portico_store::StoreError;
use portico_store::scoped::pushed_records::{PushedAlert, check_alerts, tenant_name};
use portico_store::scoped::security_alerts::{AlertPosition, SecurityAlert};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::companies::time;
use super::paging::{PageParams, cursor};
use super::{ApiAuth, ApiPath, ApiQuery, Idempotency, Problem, json_answer, json_body};
use crate::AppState;

/// A security alert, as its source last reported it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Alert {
    /// The vendor's tenant it came from.
    tenant: String,
    /// The vendor's (or tool's) id of the alert.
    id: String,
    title: String,
    /// `unknown`, `informational`, `low`, `medium` or `high`.
    severity: String,
    /// `new`, `inProgress` or `resolved`.
    status: String,
    /// The product that raised it, in the vendor's word (`microsoftDefenderForEndpoint`).
    service_source: String,
    category: String,
    /// What it concerns: a device, a mailbox, a user.
    subject: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    #[schema(format = DateTime)]
    resolved_at: Option<String>,
}

impl Alert {
    fn of(company: CompanyId, a: SecurityAlert) -> Alert {
        Alert {
            tenant: tenant_name(company, &a.external_tenant).to_owned(),
            id: a.external_id,
            title: a.title,
            severity: a.severity,
            status: a.status,
            service_source: a.service_source,
            category: a.category,
            subject: a.subject,
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
            resolved_at: a.resolved_at.map(time),
        }
    }
}

/// A page of alerts, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct AlertList {
    data: Vec<Alert>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
    /// When the stalest of the company's sources was last read; `null` before the first read.
    #[schema(format = DateTime)]
    updated_at: Option<String>,
}

/// Which alerts a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertQuery {
    /// How many alerts to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// `open` (default: not resolved) or `all`.
    #[param(pattern = "^(open|all)$")]
    show: Option<String>,
}

/// A company's security alerts, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/security-alerts",
    tag = "Records",
    params(("company" = String, Path, format = Uuid, description = "The company's id"), AlertQuery),
    responses(
        (status = 200, description = "A page of the company's alerts, newest first", body = AlertList),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach, or its Security section is off", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<AlertQuery>,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    let open_only = match params.show.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(_) => return Err(Problem::bad_request("`show` is `open` or `all`.")),
    };
    // A cursor belongs to its list: this company's, with this filter.
    let list = format!(
        "security-alerts:{company}:{}",
        if open_only { "open" } else { "all" }
    );
    let after = page.after::<AlertPosition>(&list)?;
    let mut tx = state.store.scoped(&caller.scope).await?;
    tx.company(company).await?;
    let alerts = tx
        .security_alert_page(company, open_only, after.as_ref(), limit)
        .await?;
    // Microsoft 365 feeds them, with the licences and users (as the console's page reads it).
    let fresh = tx.connector_freshness(company, Section::Licences).await?;
    tx.commit().await?;
    json_answer(
        &headers,
        &AlertList {
            next_cursor: alerts.next.map(|last| cursor(&list, last)),
            data: alerts
                .alerts
                .into_iter()
                .map(|a| Alert::of(company, a))
                .collect(),
            updated_at: fresh.updated_at.map(time),
        },
    )
}

/// A security alert as a tool pushes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertInput {
    /// The tool's (or vendor's) id of the alert: a later push with the same id changes it.
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    #[schema(min_length = 1, max_length = 500)]
    title: String,
    /// `unknown`, `informational`, `low`, `medium` or `high`.
    #[schema(pattern = "^(unknown|informational|low|medium|high)$")]
    severity: String,
    /// `new`, `inProgress` or `resolved`.
    #[schema(pattern = "^(new|inProgress|resolved)$")]
    status: String,
    /// The product that raised it.
    #[schema(max_length = 100)]
    service_source: Option<String>,
    #[schema(max_length = 100)]
    category: Option<String>,
    /// What it concerns: a device, a mailbox, a user.
    #[schema(max_length = 300)]
    subject: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    /// Its last change; `created_at` when left out.
    #[schema(format = DateTime)]
    updated_at: Option<String>,
    /// When it was resolved; its last change when left out of a resolved alert.
    #[schema(format = DateTime)]
    resolved_at: Option<String>,
}

/// Alerts of a tenant that are new or changed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertsPush {
    /// The tenant the alerts belong to, as the licences name it; one tenant a company.
    #[schema(min_length = 1, max_length = 200)]
    tenant: String,
    #[schema(max_items = 50000)]
    alerts: Vec<AlertInput>,
}

/// What an alerts push changed.
#[derive(Serialize, ToSchema)]
pub(crate) struct AlertsPushAnswer {
    /// Alerts the push named.
    seen: i64,
    added: i64,
    changed: i64,
}

/// Adds or changes a company's security alerts from a tenant, for a tool Portico has no
/// connector for. Alerts are reported as they change, so alerts not named are left as they
/// are: a tool resolves one by pushing it `resolved`. A repeat changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/security-alerts",
    tag = "Records",
    request_body = AlertsPush,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 200, description = "What the push changed", body = AlertsPushAnswer),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused (each with its reason), or the tenant feeds another company", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn push(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/companies/{company}/security-alerts");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let input: AlertsPush = json_body(&headers, &body)?;
    // A read-only token, or a company out of reach, is told so before any field is judged.
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    let mut refusals = Vec::new();
    let mut alerts = Vec::with_capacity(input.alerts.len());
    for (i, a) in input.alerts.into_iter().enumerate() {
        let mut moment = |field: &str, text: Option<&str>| {
            super::pushed_time(&mut refusals, format!("alerts[{i}].{field}"), text)
        };
        let created_at = moment("created_at", Some(&a.created_at)).unwrap_or(0);
        let updated_at = moment("updated_at", a.updated_at.as_deref()).unwrap_or(created_at);
        let resolved_at = moment("resolved_at", a.resolved_at.as_deref());
        alerts.push(PushedAlert {
            external_id: a.id,
            title: a.title,
            severity: a.severity,
            status: a.status,
            service_source: a.service_source.unwrap_or_default(),
            category: a.category.unwrap_or_default(),
            subject: a.subject.unwrap_or_default(),
            created_at,
            updated_at,
            resolved_at,
        });
    }
    if !refusals.is_empty() {
        // Every problem at once: the times', then the fields' the store judges.
        if let Err(StoreError::InvalidFields(more)) = check_alerts(&alerts) {
            refusals.extend(more);
        }
        refusals.truncate(100);
        return Err(StoreError::InvalidFields(refusals).into());
    }
    let outcome = tx
        .push_security_alerts(company, &input.tenant, &alerts)
        .await?;
    let answer = AlertsPushAnswer {
        seen: outcome.seen,
        added: outcome.added,
        changed: outcome.changed,
    };
    let response = idempotency
        .answer(&mut tx, &caller, StatusCode::OK, &path, &answer)
        .await?;
    tx.commit().await?;
    Ok(response)
}
