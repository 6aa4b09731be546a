//! A company's sites and contacts written over the API: a PSA or CRM that owns them keeps them
//! in step, through the same scoped store (and the same checks) as the console's forms.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{CompanyId, ContactId, ContactRole, SiteId};
use portico_store::scoped::companies::{ContactDraft, SiteDraft};
use serde::Deserialize;
use utoipa::ToSchema;

use super::companies::{ContactBody, SiteBody};
use super::{ApiAuth, ApiPath, Idempotency, Problem, json_answer, json_body, judged};
use crate::AppState;

/// A site as a tool sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteInput {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// As it is to be shown; lines allowed.
    address: Option<String>,
}

impl SiteInput {
    fn draft(self) -> SiteDraft {
        SiteDraft {
            name: self.name,
            address: self.address.unwrap_or_default(),
        }
    }
}

/// A contact as a tool sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContactInput {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(format = Email)]
    email: Option<String>,
    phone: Option<String>,
    title: Option<String>,
    /// Any of `primary`, `backup`, `purchase_approver`, `billing`, `technical`.
    roles: Option<Vec<String>>,
}

impl ContactInput {
    /// The store's draft, and the body's own refusal of a role it does not know.
    fn draft(self) -> (ContactDraft, Vec<(String, String)>) {
        let mut refusals = Vec::new();
        let mut roles = Vec::new();
        for text in self.roles.unwrap_or_default() {
            match ContactRole::parse(&text) {
                Some(role) if !roles.contains(&role) => roles.push(role),
                Some(_) => {}
                None => {
                    refusals.push((
                        "roles".to_owned(),
                        "Each role is one of primary, backup, purchase_approver, billing and technical."
                            .to_owned(),
                    ));
                    break;
                }
            }
        }
        let draft = ContactDraft {
            name: self.name,
            email: self.email.unwrap_or_default(),
            phone: self.phone.unwrap_or_default(),
            title: self.title.unwrap_or_default(),
            roles,
        };
        (draft, refusals)
    }
}

/// Adds a site to a company. Send an `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/sites",
    tag = "Companies",
    request_body = SiteInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The site, added", body = SiteBody),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused (a name the company's other site has, too)", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn create_site(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/companies/{company}/sites");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let input: SiteInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, company).await?;
    let id = judged(Vec::new(), &[], tx.add_site(company, &input.draft()).await)?;
    let answer = SiteBody::from(tx.site(company, id).await?);
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

/// Renames a site or changes its address.
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/sites/{site}",
    tag = "Companies",
    request_body = SiteInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("site" = String, Path, format = Uuid, description = "The site's id"),
    ),
    responses(
        (status = 200, description = "The site, changed", body = SiteBody),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such site within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn replace_site(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, site)): ApiPath<(CompanyId, SiteId)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: SiteInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    judged(
        Vec::new(),
        &[],
        tx.update_site(company, site, &input.draft()).await,
    )?;
    let answer = SiteBody::from(tx.site(company, site).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// Adds a contact to a company. Send an `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/contacts",
    tag = "Companies",
    request_body = ContactInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The contact, added", body = ContactBody),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn create_contact(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/companies/{company}/contacts");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let input: ContactInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, company).await?;
    let (draft, own) = input.draft();
    let id = judged(own, &[], tx.add_contact(company, &draft).await)?;
    let answer = ContactBody::from(tx.contact(company, id).await?);
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

/// Replaces a contact's details and roles with the body's (what is left out is emptied).
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/contacts/{contact}",
    tag = "Companies",
    request_body = ContactInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("contact" = String, Path, format = Uuid, description = "The contact's id"),
    ),
    responses(
        (status = 200, description = "The contact, changed", body = ContactBody),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such contact within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn replace_contact(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, contact)): ApiPath<(CompanyId, ContactId)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: ContactInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    let (draft, own) = input.draft();
    judged(own, &[], tx.update_contact(company, contact, &draft).await)?;
    let answer = ContactBody::from(tx.contact(company, contact).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}
