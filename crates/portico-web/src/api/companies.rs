//! Companies and what belongs to each (sites, contacts, portal users) over the API.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use portico_core::CompanyId;
use portico_store::scoped::companies::{CompanySummary, Contact, Site};
use portico_store::scoped::portal_users::PortalUser;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::paging::{Page, PageParams};
use super::{ApiAuth, ApiPath, ApiQuery, Problem, json_answer};
use crate::AppState;

/// A time as RFC 3339 in UTC (`2026-11-23T16:13:00Z`).
pub(crate) fn time(secs: i64) -> String {
    crate::render::iso(&secs).to_string()
}

/// A company the token reaches.
#[derive(Serialize, ToSchema)]
pub(crate) struct Company {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    plan: Plan,
    /// Whether the company's people may sign in to its portal.
    portal_enabled: bool,
    /// Current sites (one company's answer only; lists leave it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    site_count: Option<i64>,
    /// Tickets neither resolved nor closed (one company's answer only; lists leave it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    open_tickets: Option<i64>,
    /// When the company was archived: it keeps its history and takes no new work.
    #[schema(format = DateTime)]
    archived_at: Option<String>,
}

/// The company's plan. Its rates are answered only to tokens whose owner may see money.
#[derive(Serialize, ToSchema)]
pub(crate) struct Plan {
    name: String,
    /// Work included each month, in minutes; `null` when the plan includes none.
    included_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    monthly_fee_cents: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hourly_rate_cents: Option<i64>,
    /// ISO 4217, with the rates.
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<String>,
}

impl From<CompanySummary> for Company {
    fn from(c: CompanySummary) -> Company {
        let (monthly_fee_cents, hourly_rate_cents, currency) = match c.billing {
            Some(b) => (b.monthly_fee_cents, b.hourly_rate_cents, Some(b.currency)),
            None => (None, None, None),
        };
        Company {
            id: c.id.to_string(),
            name: c.name,
            plan: Plan {
                name: c.plan_name,
                included_minutes: c.included_minutes,
                monthly_fee_cents,
                hourly_rate_cents,
                currency,
            },
            portal_enabled: c.portal_enabled,
            site_count: c.site_count,
            open_tickets: c.open_tickets,
            archived_at: c.archived_at.map(time),
        }
    }
}

/// A page of companies.
#[derive(Serialize, ToSchema)]
pub(crate) struct CompanyPage {
    data: Vec<Company>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

impl From<Page<Company>> for CompanyPage {
    fn from(p: Page<Company>) -> CompanyPage {
        CompanyPage {
            data: p.data,
            next_cursor: p.next_cursor,
        }
    }
}

/// Which companies a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CompanyQuery {
    /// How many companies to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// `true`: the archived companies instead of those taking work.
    #[serde(default)]
    archived: bool,
    /// Words that must all appear in the name (any case).
    #[param(max_length = 200)]
    q: Option<String>,
}

/// The companies the token reaches, by name.
#[utoipa::path(
    get,
    path = "/api/v1/companies",
    tag = "Companies",
    params(CompanyQuery),
    responses(
        (status = 200, description = "A page of companies, by name", body = CompanyPage),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<CompanyQuery>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    if params.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(Problem::bad_request("`q` has at most 200 characters."));
    }
    let list = format!(
        "companies:{}:{}",
        params.archived,
        params.q.as_deref().unwrap_or("")
    );
    let after: Option<(String, String)> = page.after(&list)?;
    let after = match &after {
        Some((name, id)) => Some((
            name.as_str(),
            CompanyId::parse(id).ok_or_else(super::paging::refused_cursor)?,
        )),
        None => None,
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    let rows = tx
        .companies_after(
            params.archived,
            params.q.as_deref().unwrap_or_default(),
            after,
            limit + 1,
        )
        .await?;
    tx.commit().await?;
    let page = Page::of(
        &list,
        rows,
        limit,
        |c| (c.name.clone(), c.id.to_string()),
        Company::from,
    );
    json_answer(&headers, &CompanyPage::from(page))
}

/// One company.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}",
    tag = "Companies",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company", body = Company),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let found = tx.company_with_counts(company).await?;
    tx.commit().await?;
    json_answer(&headers, &Company::from(found))
}

/// A site of a company.
#[derive(Serialize, ToSchema)]
pub(crate) struct SiteBody {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    address: String,
    #[schema(format = DateTime)]
    archived_at: Option<String>,
}

impl From<Site> for SiteBody {
    fn from(s: Site) -> SiteBody {
        SiteBody {
            id: s.id,
            name: s.name,
            address: s.address,
            archived_at: s.archived_at.map(time),
        }
    }
}

/// A company's sites.
#[derive(Serialize, ToSchema)]
pub(crate) struct SiteList {
    data: Vec<SiteBody>,
}

/// A company's current sites, by name.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/sites",
    tag = "Companies",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company's current sites", body = SiteList),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn sites(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    tx.visible_company(company).await?;
    let sites = tx.sites(company).await?;
    tx.commit().await?;
    json_answer(
        &headers,
        &SiteList {
            data: sites.into_iter().map(SiteBody::from).collect(),
        },
    )
}

/// A contact of a company: someone the MSP deals with, who may or may not use the portal.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContactBody {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    email: String,
    phone: String,
    title: String,
    /// Any of `primary`, `backup`, `purchase_approver`, `billing`, `technical`.
    roles: Vec<&'static str>,
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> ContactBody {
        ContactBody {
            id: c.id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            title: c.title,
            roles: c.roles.iter().map(|r| r.as_str()).collect(),
        }
    }
}

/// A company's contacts.
#[derive(Serialize, ToSchema)]
pub(crate) struct ContactList {
    data: Vec<ContactBody>,
}

/// A company's current contacts, by name.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/contacts",
    tag = "Companies",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company's current contacts", body = ContactList),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn contacts(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let contacts = tx.contacts(company).await?;
    tx.commit().await?;
    json_answer(
        &headers,
        &ContactList {
            data: contacts.into_iter().map(ContactBody::from).collect(),
        },
    )
}

/// A portal user of a company.
#[derive(Serialize, ToSchema)]
pub(crate) struct PortalUserBody {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    email: String,
    /// `client_admin`, `member` or `viewer`.
    role: &'static str,
    /// Sees only the tickets they raised or are copied on.
    own_tickets_only: bool,
    /// May see the plan, rates and invoices.
    billing_access: bool,
    disabled: bool,
    /// False until the invitation was accepted.
    activated: bool,
    /// The sites the user is restricted to; empty: every site.
    sites: Vec<String>,
}

impl From<PortalUser> for PortalUserBody {
    fn from(u: PortalUser) -> PortalUserBody {
        PortalUserBody {
            id: u.id.to_string(),
            name: u.name,
            email: u.email,
            role: u.role.as_str(),
            own_tickets_only: u.own_only,
            billing_access: u.billing_access,
            disabled: u.disabled,
            activated: u.activated,
            sites: u.sites.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A company's portal users.
#[derive(Serialize, ToSchema)]
pub(crate) struct PortalUserList {
    data: Vec<PortalUserBody>,
}

/// A company's portal users: who may raise tickets, the requesters of tickets logged through
/// the API.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/users",
    tag = "Companies",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company's portal users", body = PortalUserList),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn users(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let users = tx.portal_users(company).await?;
    tx.commit().await?;
    json_answer(
        &headers,
        &PortalUserList {
            data: users.into_iter().map(PortalUserBody::from).collect(),
        },
    )
}
