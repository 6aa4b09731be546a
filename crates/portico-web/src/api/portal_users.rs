//! A company's portal users managed over the API (C5), as the console's Users page does it:
//! invited with the same mail (the link built from the workspace's configured portal
//! hostname), disabled (their sessions ended at once) and enabled again.

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{CompanyId, PortalRole, PortalUserId, SiteId};
use portico_store::StoreError;
use portico_store::scoped::portal_users::PortalUserFields;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::companies::PortalUserBody;
use super::{ApiAuth, ApiPath, Idempotency, Problem, json_answer, json_body};
use crate::user_admin::{Inviter, mail_invitation};
use crate::{AppState, Site};

/// Someone to invite to a company's portal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InviteInput {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// `client_admin`, `member` or `viewer`.
    #[schema(pattern = "^(client_admin|member|viewer)$")]
    role: String,
    /// Sees only the tickets they raise or are copied on (default false).
    own_tickets_only: Option<bool>,
    /// May see the plan, rates and invoices (default false).
    billing_access: Option<bool>,
    /// The sites the user is restricted to (ids); left out or empty: every site.
    sites: Option<Vec<String>>,
}

/// What an invitation answers: alike whether or not the address was new to the workspace, so
/// that nobody learns that an address belongs to another company's user.
#[derive(Serialize, ToSchema)]
pub(crate) struct InviteAnswer {
    /// The address the invitation went to.
    email: String,
    /// Always `invited`: the user appears in the company's list once created.
    status: &'static str,
}

/// Invites someone to a company's portal: a new portal user and an e-mail with a link (valid
/// for 7 days, once) to choose a password; the company's client admins are told. An address
/// that already has an account elsewhere in the workspace gets a note to sign in instead, and
/// the answer is the same.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/users",
    tag = "Companies",
    request_body = InviteInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 202, description = "The invitation is on its way", body = InviteAnswer),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 409, description = "The company has a portal user with this address, or another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused (each with its reason), or the workspace has no portal hostname", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn invite(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    Extension(site): Extension<Site>,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/companies/{company}/users");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let input: InviteInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.require_user_admin(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    let mut refusals = Vec::new();
    let role = PortalRole::parse(&input.role);
    if role.is_none() {
        refusals.push((
            "role".to_owned(),
            "One of client_admin, member and viewer.".to_owned(),
        ));
    }
    let mut sites = Vec::new();
    for (i, text) in input.sites.unwrap_or_default().iter().enumerate() {
        match SiteId::parse(text) {
            Some(id) => sites.push(id),
            None => refusals.push((format!("sites[{i}]"), "A site of this company.".to_owned())),
        }
    }
    let Some(role) = role.filter(|_| refusals.is_empty()) else {
        return Err(StoreError::InvalidFields(refusals).into());
    };
    let fields = PortalUserFields {
        name: input.name,
        email: input.email,
        role,
        sites,
        own_only: input.own_tickets_only.unwrap_or(false),
        billing_access: input.billing_access.unwrap_or(false),
    };
    let invitation = tx.invite_portal_user(company, &fields).await?;
    let by = Inviter {
        principal: &caller.principal,
        scope: &caller.scope,
        site: &site,
    };
    mail_invitation(&state, by, &mut tx, company, &fields, invitation)
        .await
        .map_err(|e| match e {
            // The link is built from the configured hostname, never the request's.
            crate::error::WebError::BadRequest(m) => Problem::unprocessable(m),
            other => Problem::from(other),
        })?;
    let answer = InviteAnswer {
        email: fields.email.trim().to_owned(),
        status: "invited",
    };
    let response = idempotency
        .answer(&mut tx, &caller, StatusCode::ACCEPTED, &path, &answer)
        .await?;
    tx.commit().await?;
    Ok(response)
}

/// Disables a portal user: they can no longer sign in, and their sessions end at once. A
/// repeat changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/users/{user}/disable",
    tag = "Companies",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("user" = String, Path, format = Uuid, description = "The portal user's id"),
    ),
    responses(
        (status = 200, description = "The user, disabled", body = PortalUserBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such user within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn disable(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, user)): ApiPath<(CompanyId, PortalUserId)>,
) -> Result<Response, Problem> {
    set_disabled(&state, &caller, &headers, company, user, true).await
}

/// Enables a disabled portal user again. A repeat changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/users/{user}/enable",
    tag = "Companies",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("user" = String, Path, format = Uuid, description = "The portal user's id"),
    ),
    responses(
        (status = 200, description = "The user, enabled", body = PortalUserBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such user within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn enable(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, user)): ApiPath<(CompanyId, PortalUserId)>,
) -> Result<Response, Problem> {
    set_disabled(&state, &caller, &headers, company, user, false).await
}

async fn set_disabled(
    state: &AppState,
    caller: &portico_store::api_auth::ApiCaller,
    headers: &HeaderMap,
    company: CompanyId,
    user: PortalUserId,
    disabled: bool,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.require_user_admin(company).await?;
    // A repeat answers the user as they are, with no second entry in the history.
    if tx.portal_user(company, user).await?.disabled != disabled {
        tx.set_portal_user_disabled(company, user, disabled).await?;
    }
    let answer = PortalUserBody::from(tx.portal_user(company, user).await?);
    tx.commit().await?;
    json_answer(headers, &answer)
}
