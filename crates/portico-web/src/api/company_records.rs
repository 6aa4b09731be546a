//! Companies, their sites and contacts written over the API: a PSA or CRM that owns them keeps
//! them in step, through the same scoped store (and the same checks) as the console's forms.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{CompanyId, ContactId, ContactRole, SiteId};
use portico_store::scoped::companies::{CompanyDraft, ContactDraft, SiteDraft, hours_text};
use serde::Deserialize;
use utoipa::ToSchema;

use super::companies::{Company, ContactBody, SiteBody};
use super::{ApiAuth, ApiPath, Idempotency, Problem, json_answer, json_body, judged};
use crate::AppState;

/// A site as a tool sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteInput {
    #[schema(min_length = 1, max_length = 80)]
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
    #[schema(min_length = 1, max_length = 120)]
    name: String,
    /// An e-mail address; empty or left out for none.
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
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
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
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
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

/// A company as a tool sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompanyInput {
    #[schema(min_length = 1, max_length = 120)]
    name: String,
    #[schema(min_length = 1, max_length = 80)]
    plan_name: String,
    /// Work included each month, in minutes (kept to the hundredth of an hour); none when left
    /// out.
    #[schema(minimum = 0, maximum = 44640)]
    included_minutes: Option<i64>,
    /// ISO 4217; with the rates, read only from tokens whose owner may see money. Left out: as
    /// it is (the workspace's usual one for a new company).
    currency: Option<String>,
    #[schema(minimum = 0, maximum = 10_000_000_000i64)]
    monthly_fee_cents: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000_000_000i64)]
    hourly_rate_cents: Option<i64>,
}

impl CompanyInput {
    /// The console form's draft: amounts and hours written as the form would have them.
    fn draft(self) -> (CompanyDraft, Vec<(String, String)>) {
        let mut refusals = Vec::new();
        let mut amount = |field: &str, cents: Option<i64>| match cents {
            None => String::new(),
            Some(c) if (0..=MAX_CENTS).contains(&c) => format!("{}.{:02}", c / 100, c % 100),
            Some(_) => {
                refusals.push((
                    field.to_owned(),
                    format!("An amount in cents from 0 to {MAX_CENTS}."),
                ));
                String::new()
            }
        };
        let monthly_fee = amount("monthly_fee_cents", self.monthly_fee_cents);
        let hourly_rate = amount("hourly_rate_cents", self.hourly_rate_cents);
        let included_hours = match self.included_minutes {
            None => String::new(),
            // The store refuses more than its most; what is past any month is refused here.
            Some(m) if (0..=MAX_INCLUDED_MINUTES).contains(&m) => hours_text(m),
            Some(_) => {
                refusals.push((
                    "included_minutes".to_owned(),
                    format!("Minutes from 0 to {MAX_INCLUDED_MINUTES}."),
                ));
                String::new()
            }
        };
        let draft = CompanyDraft {
            name: self.name,
            plan_name: self.plan_name,
            included_hours,
            currency: self.currency.unwrap_or_default(),
            monthly_fee,
            hourly_rate,
        };
        (draft, refusals)
    }
}

/// An amount at most, in cents (the console's most).
const MAX_CENTS: i64 = 10_000_000_000;

/// A month's minutes at most (31 days): no plan includes more.
const MAX_INCLUDED_MINUTES: i64 = 31 * 24 * 60;

/// The store's names for the company form's fields, and the body's.
const COMPANY_FIELDS: &[(&str, &str)] = &[
    ("included_hours", "included_minutes"),
    ("monthly_fee", "monthly_fee_cents"),
    ("hourly_rate", "hourly_rate_cents"),
];

/// Adds a client company (its portal off until an owner switches it on). Only a token of the
/// whole workspace that may write. Send an `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/companies",
    tag = "Companies",
    request_body = CompanyInput,
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The company, added", body = Company),
        (status = 400, description = "The body is not JSON, or the key is not valid", body = super::ProblemBody),
        (status = 403, description = "The token may only read, or names one company", body = super::ProblemBody),
        (status = 409, description = "Another request with the same key came first", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused (a name another company has, too)", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn create_company(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = "/api/v1/companies";
    let idempotency = Idempotency::of(&headers, "POST", path, &body)?;
    let input: CompanyInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    // Refused before anything is claimed: a token naming a company adds none.
    caller
        .scope
        .may(portico_core::Action::ManageCompanies)
        .map_err(portico_store::StoreError::from)?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    // Claimed before the work, as every create is: a concurrent twin stops here. The key
    // names no company, there being none yet.
    idempotency.claim(&mut tx, &caller, None).await?;
    let (mut draft, own) = input.draft();
    // Left out, the currency is the workspace's usual one, as the console's form offers.
    if draft.currency.is_empty() {
        draft.currency = tx.usual_currency().await?;
    }
    let id = judged(own, COMPANY_FIELDS, tx.add_company(&draft).await)?;
    let answer = Company::from(tx.company_with_counts(id).await?);
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

/// Replaces a company's name and plan (its rates only from tokens whose owner may see money).
/// Only a token of the whole workspace that may write.
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}",
    tag = "Companies",
    request_body = CompanyInput,
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company, changed", body = Company),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read, or names one company", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn replace_company(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: CompanyInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    let current = tx.company(company).await?;
    let (mut draft, own) = input.draft();
    // Left out, the currency stays as it is.
    if draft.currency.is_empty() {
        draft.currency = current.billing.map(|b| b.currency).unwrap_or_default();
    }
    judged(
        own,
        COMPANY_FIELDS,
        tx.update_company(company, &draft).await,
    )?;
    let answer = Company::from(tx.company_with_counts(company).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}
