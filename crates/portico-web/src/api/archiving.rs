//! Archiving and restoring companies, sites, contacts and assets over the API: a PSA or CRM that
//! retires a record retires it here too. Archived records keep their history and stay readable
//! (with `archived_at`); the console's own store calls and checks do the work, and a repeated
//! request answers the record as it already is, without a second audit entry.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use portico_core::{AssetId, CompanyId, ContactId, SiteId};

use super::assets::{AssetBody, written_asset};
use super::companies::{Company, ContactBody, SiteBody};
use super::{ApiAuth, ApiPath, Problem, json_answer, judged};
use crate::AppState;

/// Archives a company: it leaves pickers and the company list, takes no new work, and its
/// portal is switched off. Only a token of the whole workspace that may write.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/archive",
    tag = "Companies",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company, archived (as it was, if it already was)", body = Company),
        (status = 403, description = "The token may only read, or names one company", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn archive_company(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    company_archival(state, caller, headers, company, true).await
}

/// Restores an archived company; its portal stays off until an owner switches it on. Only a
/// token of the whole workspace that may write.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/restore",
    tag = "Companies",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company, taking work again (as it was, if it already did)", body = Company),
        (status = 403, description = "The token may only read, or names one company", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn restore_company(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    company_archival(state, caller, headers, company, false).await
}

async fn company_archival(
    state: AppState,
    caller: super::ApiCaller,
    headers: HeaderMap,
    company: CompanyId,
    archived: bool,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    let current = tx.company(company).await?;
    // Out of reach is missing first; then only a token that manages companies goes on, even
    // where nothing would change.
    caller
        .scope
        .may(portico_core::Action::ManageCompanies)
        .map_err(portico_store::StoreError::from)?;
    if current.archived_at.is_some() != archived {
        if archived {
            tx.archive_company(company).await?;
        } else {
            tx.restore_company(company).await?;
        }
    }
    let answer = Company::from(tx.company_with_counts(company).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// Archives a site: it leaves pickers; its assets and tickets keep it.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/sites/{site}/archive",
    tag = "Companies",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("site" = String, Path, format = Uuid, description = "The site's id"),
    ),
    responses(
        (status = 200, description = "The site, archived (as it was, if it already was)", body = SiteBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such site within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn archive_site(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, site)): ApiPath<(CompanyId, SiteId)>,
) -> Result<Response, Problem> {
    site_archival(state, caller, headers, company, site, true).await
}

/// Restores an archived site (of a company that takes work).
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/sites/{site}/restore",
    tag = "Companies",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("site" = String, Path, format = Uuid, description = "The site's id"),
    ),
    responses(
        (status = 200, description = "The site, current again (as it was, if it already was)", body = SiteBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such site within the token's reach", body = super::ProblemBody),
        (status = 422, description = "The company is archived: restore it first", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn restore_site(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, site)): ApiPath<(CompanyId, SiteId)>,
) -> Result<Response, Problem> {
    site_archival(state, caller, headers, company, site, false).await
}

async fn site_archival(
    state: AppState,
    caller: super::ApiCaller,
    headers: HeaderMap,
    company: CompanyId,
    site: SiteId,
    archived: bool,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    if tx.site(company, site).await?.archived_at.is_some() != archived {
        judged(
            Vec::new(),
            &[],
            tx.set_site_archived(company, site, archived).await,
        )?;
    }
    let answer = SiteBody::from(tx.site(company, site).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// Archives a contact: it leaves the roster on both surfaces; its roles are kept for a restore.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/contacts/{contact}/archive",
    tag = "Companies",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("contact" = String, Path, format = Uuid, description = "The contact's id"),
    ),
    responses(
        (status = 200, description = "The contact, archived (as it was, if it already was)", body = ContactBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such contact within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn archive_contact(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, contact)): ApiPath<(CompanyId, ContactId)>,
) -> Result<Response, Problem> {
    contact_archival(state, caller, headers, company, contact, true).await
}

/// Restores an archived contact (of a company that takes work), with the roles it had.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/contacts/{contact}/restore",
    tag = "Companies",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("contact" = String, Path, format = Uuid, description = "The contact's id"),
    ),
    responses(
        (status = 200, description = "The contact, on the roster again (as it was, if it already was)", body = ContactBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such contact within the token's reach", body = super::ProblemBody),
        (status = 422, description = "The company is archived: restore it first", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn restore_contact(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, contact)): ApiPath<(CompanyId, ContactId)>,
) -> Result<Response, Problem> {
    contact_archival(state, caller, headers, company, contact, false).await
}

async fn contact_archival(
    state: AppState,
    caller: super::ApiCaller,
    headers: HeaderMap,
    company: CompanyId,
    contact: ContactId,
    archived: bool,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    if tx.contact(company, contact).await?.archived_at.is_some() != archived {
        judged(
            Vec::new(),
            &[],
            tx.set_contact_archived(company, contact, archived).await,
        )?;
    }
    let answer = ContactBody::from(tx.contact(company, contact).await?);
    tx.commit().await?;
    json_answer(&headers, &answer)
}

/// Archives an asset: retired, kept with its tickets and history.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/assets/{asset}/archive",
    tag = "Assets",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("asset" = String, Path, format = Uuid, description = "The asset's id"),
    ),
    responses(
        (status = 200, description = "The asset, archived (as it was, if it already was)", body = AssetBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such asset within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn archive_asset(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    ApiPath((company, asset)): ApiPath<(CompanyId, AssetId)>,
) -> Result<Response, Problem> {
    asset_archival(state, caller, company, asset, true).await
}

/// Restores an archived asset (of a company that takes work).
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/assets/{asset}/restore",
    tag = "Assets",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("asset" = String, Path, format = Uuid, description = "The asset's id"),
    ),
    responses(
        (status = 200, description = "The asset, in service again (as it was, if it already was)", body = AssetBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such asset within the token's reach", body = super::ProblemBody),
        (status = 422, description = "The company is archived: restore it first", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn restore_asset(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    ApiPath((company, asset)): ApiPath<(CompanyId, AssetId)>,
) -> Result<Response, Problem> {
    asset_archival(state, caller, company, asset, false).await
}

async fn asset_archival(
    state: AppState,
    caller: super::ApiCaller,
    company: CompanyId,
    asset: AssetId,
    archived: bool,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    if tx.asset(company, asset).await?.archived_at.is_some() != archived {
        judged(
            Vec::new(),
            &[],
            tx.set_asset_archived(company, asset, archived).await,
        )?;
    }
    let answer = AssetBody::from(tx.asset(company, asset).await?);
    tx.commit().await?;
    written_asset(&answer)
}
