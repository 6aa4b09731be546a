//! What a connector read for a company, over the API: its licences (P11; the MSP's price only
//! for tokens whose owner may see money) and its Microsoft 365 users (P19), through the same
//! scoped store as the pages.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use portico_core::{CompanyId, Section};
use portico_store::StoreError;
use portico_store::scoped::licences::{DirectoryShow, DirectoryUser, Licence as StoredLicence};
use portico_store::scoped::pushed_records::{PushOutcome, PushedLicence, PushedUser, tenant_name};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::companies::time;
use super::paging::{PageParams, cursor};
use super::{ApiAuth, ApiPath, ApiQuery, Problem, json_answer, json_body};
use crate::AppState;

/// A product a company subscribes to, as the connector last read it.
#[derive(Serialize, ToSchema)]
pub(crate) struct Licence {
    /// The vendor's tenant the product belongs to.
    tenant: String,
    sku_id: String,
    /// The vendor's product code (`SPE_E3`).
    sku_part_number: String,
    product_name: String,
    /// The vendor's word for its state (`Enabled`, `Warning`, `Suspended`, `LockedOut`).
    capability_status: String,
    purchased: i64,
    assigned: i64,
    available: i64,
    suspended: i64,
    /// Assigned to disabled users.
    unused_disabled: i64,
    /// Assigned to enabled users not signed in for the connector's inactivity period.
    unused_inactive: i64,
    /// The next renewal (staff's date when entered, else the vendor's).
    #[schema(format = Date)]
    renews_on: Option<String>,
    /// The MSP's price per user and month in cents: only for tokens that see money.
    monthly_price_cents: Option<i64>,
    currency: Option<String>,
    /// When the vendor stopped listing it (kept, never deleted).
    #[schema(format = DateTime)]
    retired_at: Option<String>,
    #[schema(format = DateTime)]
    synced_at: String,
}

impl Licence {
    fn of(company: CompanyId, l: StoredLicence) -> Licence {
        Licence {
            available: l.available(),
            tenant: tenant_name(company, &l.external_tenant).to_owned(),
            sku_id: l.sku_id,
            sku_part_number: l.sku_part_number,
            product_name: l.product_name,
            capability_status: l.capability_status,
            purchased: l.purchased,
            assigned: l.assigned,
            suspended: l.suspended,
            unused_disabled: l.unused_disabled,
            unused_inactive: l.unused_inactive,
            renews_on: l.renews_on,
            monthly_price_cents: l.monthly_cents,
            currency: Some(l.currency).filter(|c| !c.is_empty()),
            retired_at: l.retired_at.map(time),
            synced_at: time(l.synced_at),
        }
    }
}

/// A company's licences, current products first.
#[derive(Serialize, ToSchema)]
pub(crate) struct LicenceList {
    data: Vec<Licence>,
    /// When the stalest of the company's sources was last read; `null` before the first read.
    #[schema(format = DateTime)]
    updated_at: Option<String>,
}

/// A company's licences, as its connector last read them.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/licences",
    tag = "Records",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company's licences", body = LicenceList),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn licences(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    tx.company(company).await?;
    let summary = tx.licences(company).await?;
    let fresh = tx.connector_freshness(company, Section::Licences).await?;
    tx.commit().await?;
    json_answer(
        &headers,
        &LicenceList {
            data: summary
                .licences
                .into_iter()
                .map(|l| Licence::of(company, l))
                .collect(),
            updated_at: fresh.updated_at.map(time),
        },
    )
}

/// A user of a company's directory, as the connector last read it.
#[derive(Serialize, ToSchema)]
pub(crate) struct DirectoryUserBody {
    tenant: String,
    /// The vendor's id of the user.
    id: String,
    display_name: String,
    user_principal_name: String,
    mail: String,
    enabled: bool,
    /// Product names of the licences assigned.
    licences: Vec<String>,
    /// Whether a second factor is registered; `null` when the vendor did not say.
    mfa_registered: Option<bool>,
    is_admin: bool,
    #[schema(format = DateTime)]
    last_sign_in_at: Option<String>,
    /// When the vendor stopped listing the user (kept, never deleted).
    #[schema(format = DateTime)]
    retired_at: Option<String>,
}

impl DirectoryUserBody {
    fn of(company: CompanyId, u: DirectoryUser) -> DirectoryUserBody {
        DirectoryUserBody {
            tenant: tenant_name(company, &u.external_tenant).to_owned(),
            id: u.external_id,
            display_name: u.display_name,
            user_principal_name: u.user_principal_name,
            mail: u.mail,
            enabled: u.enabled,
            licences: u.licences,
            mfa_registered: u.mfa_registered,
            is_admin: u.is_admin,
            last_sign_in_at: u.last_sign_in_at.map(time),
            retired_at: u.retired_at.map(time),
        }
    }
}

/// A page of directory users.
#[derive(Serialize, ToSchema)]
pub(crate) struct DirectoryUserPage {
    data: Vec<DirectoryUserBody>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Which directory users a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DirectoryQuery {
    /// How many users to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// `current` (default), `no-mfa` (enabled without a second factor), `disabled` or
    /// `removed` (gone upstream).
    #[param(pattern = "^(current|no-mfa|disabled|removed)$")]
    show: Option<String>,
}

/// A company's Microsoft 365 users by name.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/directory-users",
    tag = "Records",
    params(("company" = String, Path, format = Uuid, description = "The company's id"), DirectoryQuery),
    responses(
        (status = 200, description = "A page of the company's directory users, by name", body = DirectoryUserPage),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn directory_users(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<DirectoryQuery>,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    let show = match params.show.as_deref() {
        None => DirectoryShow::Current,
        Some(text) => DirectoryShow::parse(text).ok_or_else(|| {
            Problem::bad_request("`show` is one of current, no-mfa, disabled and removed.")
        })?,
    };
    // A cursor belongs to its list: this company's, with this filter.
    let list = format!("directory-users:{company}:{}", show.as_str());
    let after = page.after::<String>(&list)?;
    let mut tx = state.store.scoped(&caller.scope).await?;
    tx.company(company).await?;
    let users = tx
        .directory_users(company, show, "", after.as_deref(), limit)
        .await?;
    tx.commit().await?;
    json_answer(
        &headers,
        &DirectoryUserPage {
            next_cursor: users.next.map(|last| cursor(&list, last)),
            data: users
                .users
                .into_iter()
                .map(|u| DirectoryUserBody::of(company, u))
                .collect(),
        },
    )
}

/// A product as a tool pushes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LicenceInput {
    #[schema(min_length = 1, max_length = 100)]
    sku_id: String,
    /// The vendor's product code (`SPE_E3`): the MSP's price per product goes by it.
    #[schema(min_length = 1, max_length = 100)]
    sku_part_number: String,
    #[schema(min_length = 1, max_length = 200)]
    product_name: String,
    /// The vendor's word for its state; `Enabled` when left out.
    capability_status: Option<String>,
    #[schema(minimum = 0, maximum = 10_000_000)]
    purchased: i64,
    #[schema(minimum = 0, maximum = 10_000_000)]
    assigned: i64,
    #[schema(minimum = 0, maximum = 10_000_000)]
    suspended: Option<i64>,
    /// Assigned to disabled users, as the tool counted them.
    #[schema(minimum = 0, maximum = 10_000_000)]
    unused_disabled: Option<i64>,
    /// Assigned to users not signed in lately, as the tool counted them.
    #[schema(minimum = 0, maximum = 10_000_000)]
    unused_inactive: Option<i64>,
    #[schema(format = Date)]
    renews_on: Option<String>,
}

/// A tenant's whole list of products.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LicencesPush {
    /// The tenant the products belong to, as the tool names it (its id or domain); one
    /// tenant a company.
    #[schema(min_length = 1, max_length = 200)]
    tenant: String,
    #[schema(max_items = 50000)]
    licences: Vec<LicenceInput>,
}

/// What a push changed.
#[derive(Serialize, ToSchema)]
pub(crate) struct PushAnswer {
    /// Records the push named.
    seen: i64,
    added: i64,
    changed: i64,
    /// Records the tenant had that the push no longer named: marked retired, kept.
    retired: i64,
}

impl From<PushOutcome> for PushAnswer {
    fn from(o: PushOutcome) -> PushAnswer {
        PushAnswer {
            seen: o.seen,
            added: o.added,
            changed: o.changed,
            retired: o.retired,
        }
    }
}

/// Replaces a company's licences from a tenant with the body's list, for a source Portico has
/// no connector for: new products added, changed ones changed, products no longer named
/// retired. A repeat changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/licences",
    tag = "Records",
    request_body = LicencesPush,
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "What the push changed", body = PushAnswer),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused (each with its reason), or the tenant feeds another company", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn push_licences(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: LicencesPush = json_body(&headers, &body)?;
    let licences: Vec<PushedLicence> = input
        .licences
        .into_iter()
        .map(|l| PushedLicence {
            sku_id: l.sku_id,
            sku_part_number: l.sku_part_number,
            product_name: l.product_name,
            capability_status: l.capability_status.unwrap_or_default(),
            purchased: l.purchased,
            assigned: l.assigned,
            suspended: l.suspended.unwrap_or(0),
            unused_disabled: l.unused_disabled.unwrap_or(0),
            unused_inactive: l.unused_inactive.unwrap_or(0),
            renews_on: l.renews_on,
        })
        .collect();
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    let outcome = tx.push_licences(company, &input.tenant, &licences).await?;
    tx.commit().await?;
    json_answer(&headers, &PushAnswer::from(outcome))
}

/// A directory user as a tool pushes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirectoryUserInput {
    /// The tool's (or vendor's) id of the user.
    #[schema(min_length = 1, max_length = 100)]
    id: String,
    #[schema(min_length = 1, max_length = 200)]
    display_name: String,
    #[schema(min_length = 1, max_length = 320)]
    user_principal_name: String,
    mail: Option<String>,
    enabled: bool,
    /// The `sku_id`s of the products assigned (as pushed to the licences).
    licence_sku_ids: Option<Vec<String>>,
    /// Whether a second factor is registered; left out when unknown.
    mfa_registered: Option<bool>,
    is_admin: Option<bool>,
    #[schema(format = DateTime)]
    last_sign_in_at: Option<String>,
}

/// A tenant's whole directory.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirectoryUsersPush {
    /// The tenant the users belong to, as the licences name it.
    #[schema(min_length = 1, max_length = 200)]
    tenant: String,
    #[schema(max_items = 50000)]
    users: Vec<DirectoryUserInput>,
}

/// Replaces a company's directory users from a tenant with the body's list, as the licences
/// push does its products.
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/directory-users",
    tag = "Records",
    request_body = DirectoryUsersPush,
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "What the push changed", body = PushAnswer),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused (each with its reason), or the tenant feeds another company", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn push_directory_users(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: DirectoryUsersPush = json_body(&headers, &body)?;
    // A read-only token, or a company out of reach, is told so before any field is judged.
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    let mut refusals = Vec::new();
    let mut users = Vec::with_capacity(input.users.len());
    for (i, u) in input.users.into_iter().enumerate() {
        let last_sign_in_at = super::pushed_time(
            &mut refusals,
            format!("users[{i}].last_sign_in_at"),
            u.last_sign_in_at.as_deref(),
        );
        users.push(PushedUser {
            external_id: u.id,
            display_name: u.display_name,
            user_principal_name: u.user_principal_name,
            mail: u.mail.unwrap_or_default(),
            enabled: u.enabled,
            licence_skus: u.licence_sku_ids.unwrap_or_default(),
            mfa_registered: u.mfa_registered,
            is_admin: u.is_admin.unwrap_or(false),
            last_sign_in_at,
        });
    }
    if !refusals.is_empty() {
        refusals.truncate(100);
        return Err(StoreError::InvalidFields(refusals).into());
    }
    let outcome = tx
        .push_directory_users(company, &input.tenant, &users)
        .await?;
    tx.commit().await?;
    json_answer(&headers, &PushAnswer::from(outcome))
}
