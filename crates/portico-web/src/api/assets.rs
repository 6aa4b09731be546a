//! A company's assets over the API.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portico_core::{AssetId, AssetKind, CompanyId, SiteId};
use portico_store::scoped::ScopedTx;
use portico_store::scoped::assets::{Asset, AssetDraft, AssetQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::companies::time;
use super::paging::{Page, PageParams};
use super::tickets::Named;
use super::{ApiAuth, ApiPath, ApiQuery, Idempotency, Problem, json_answer, json_body, judged};
use crate::AppState;

/// A device or other thing the MSP looks after for a company.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssetBody {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = Uuid)]
    company_id: String,
    site: Option<Named>,
    name: String,
    /// `workstation`, `laptop`, `server`, `network`, `printer`, `phone`, `tablet` or `other`.
    kind: &'static str,
    manufacturer: String,
    model: String,
    serial: String,
    os: String,
    #[schema(format = Date)]
    warranty_end: Option<String>,
    #[schema(format = Date)]
    purchased_on: Option<String>,
    #[schema(format = DateTime)]
    last_seen_at: Option<String>,
    assigned_user: String,
    notes: String,
    #[schema(format = DateTime)]
    archived_at: Option<String>,
    /// The workspace's own fields, with this asset's values (one asset's answer only).
    custom_fields: Vec<CustomValue>,
}

/// One of the workspace's own asset fields, with its value.
#[derive(Serialize, ToSchema)]
pub(crate) struct CustomValue {
    label: String,
    value: String,
}

impl From<Asset> for AssetBody {
    fn from(a: Asset) -> AssetBody {
        AssetBody {
            id: a.id.to_string(),
            company_id: a.company_id.to_string(),
            site: a.site_id.map(|id| Named {
                id: super::InlineId::of(id),
                name: a.site_name.unwrap_or_default(),
            }),
            name: a.name,
            kind: a.kind.as_str(),
            manufacturer: a.manufacturer,
            model: a.model,
            serial: a.serial,
            os: a.os,
            warranty_end: a.warranty_end,
            purchased_on: a.purchased_on,
            last_seen_at: a.last_seen_at.map(time),
            assigned_user: a.assigned_user,
            notes: a.notes,
            archived_at: a.archived_at.map(time),
            custom_fields: a
                .custom
                .into_iter()
                .map(|(label, value)| CustomValue { label, value })
                .collect(),
        }
    }
}

/// A page of assets.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssetPage {
    data: Vec<AssetBody>,
    /// Pass as `cursor` for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// Which assets a list answers, and where the page starts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AssetListQuery {
    /// How many assets to answer, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where to go on from: the `next_cursor` of the page before.
    #[param(pattern = "^[A-Za-z0-9_-]{1,1024}$")]
    cursor: Option<String>,
    /// Only this site's assets.
    #[param(format = Uuid)]
    site: Option<String>,
    /// Only assets of this kind.
    #[param(pattern = "^(workstation|laptop|server|network|printer|phone|tablet|other)$")]
    kind: Option<String>,
    /// Words found in the name, serial number, model, manufacturer or assigned user.
    search: Option<String>,
    /// `true`: the archived assets instead of the current ones.
    #[serde(default)]
    archived: bool,
}

/// A company's assets, by name.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/assets",
    tag = "Assets",
    params(("company" = String, Path, format = Uuid, description = "The company's id"), AssetListQuery),
    responses(
        (status = 200, description = "A page of the company's assets, by name", body = AssetPage),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<AssetListQuery>,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let page = PageParams::new(params.limit, params.cursor);
    let limit = page.limit()?;
    let site = match params.site.as_deref() {
        None => None,
        Some(text) => Some(
            SiteId::parse(text).ok_or_else(|| Problem::bad_request("`site` is a site's id."))?,
        ),
    };
    let kind = match params.kind.as_deref() {
        None => None,
        Some(text) => Some(AssetKind::parse(text).ok_or_else(|| {
            Problem::bad_request(
                "`kind` is one of workstation, laptop, server, network, printer, phone, tablet and other.",
            )
        })?),
    };
    let wanted = AssetQuery {
        site,
        kind,
        search: params.search.unwrap_or_default(),
        archived: params.archived,
        ..AssetQuery::default()
    };
    // A cursor belongs to its list: this company's, with these filters.
    let list = format!(
        "assets:{company}:{}:{}:{}:{}",
        params.site.as_deref().unwrap_or(""),
        params.kind.as_deref().unwrap_or(""),
        wanted.search,
        wanted.archived
    );
    let after: Option<(String, String)> = page.after(&list)?;
    let after = match &after {
        Some((name, id)) => Some((
            name.as_str(),
            AssetId::parse(id).ok_or_else(super::paging::refused_cursor)?,
        )),
        None => None,
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    tx.visible_company(company).await?;
    let (rows, _) = tx.assets_after(company, &wanted, after, limit + 1).await?;
    tx.commit().await?;
    let page = Page::of(
        &list,
        rows,
        limit,
        |a| (a.name.clone(), a.id.to_string()),
        AssetBody::from,
    );
    json_answer(
        &headers,
        &AssetPage {
            data: page.data,
            next_cursor: page.next_cursor,
        },
    )
}

/// One asset of a company, with the workspace's own fields.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/assets/{asset}",
    tag = "Assets",
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("asset" = String, Path, format = Uuid, description = "The asset's id"),
    ),
    responses(
        (status = 200, description = "The asset", body = AssetBody),
        (status = 404, description = "No such asset within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, asset)): ApiPath<(CompanyId, AssetId)>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let found = tx.asset(company, asset).await?;
    tx.audit_viewed(
        company,
        portico_core::AuditTarget::new("asset", asset, found.name.clone()),
    )?;
    tx.commit().await?;
    json_answer(&headers, &AssetBody::from(found))
}

/// An asset as a tool sends it: every field but the name and kind may be left out (empty).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssetInput {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// `workstation`, `laptop`, `server`, `network`, `printer`, `phone`, `tablet` or `other`.
    #[schema(pattern = "^(workstation|laptop|server|network|printer|phone|tablet|other)$")]
    kind: String,
    /// One of the company's sites.
    #[schema(format = Uuid)]
    site_id: Option<String>,
    manufacturer: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    os: Option<String>,
    #[schema(format = Date)]
    warranty_end: Option<String>,
    #[schema(format = Date)]
    purchased_on: Option<String>,
    assigned_user: Option<String>,
    notes: Option<String>,
}

impl AssetInput {
    fn draft(self, custom: Vec<(String, String)>) -> AssetDraft {
        AssetDraft {
            name: self.name,
            kind: self.kind,
            site: self.site_id.unwrap_or_default(),
            manufacturer: self.manufacturer.unwrap_or_default(),
            model: self.model.unwrap_or_default(),
            serial: self.serial.unwrap_or_default(),
            os: self.os.unwrap_or_default(),
            warranty_end: self.warranty_end.unwrap_or_default(),
            purchased_on: self.purchased_on.unwrap_or_default(),
            assigned_user: self.assigned_user.unwrap_or_default(),
            notes: self.notes.unwrap_or_default(),
            custom,
        }
    }
}

impl AssetInput {
    /// What the store cannot tell from its form's text: a `site_id` sent empty (the form's
    /// "no site") is no site's id.
    fn refusals(&self) -> Vec<(String, String)> {
        match &self.site_id {
            Some(site) if SiteId::parse(site).is_none() => vec![(
                "site_id".to_owned(),
                "Choose one of the company's sites.".to_owned(),
            )],
            _ => Vec::new(),
        }
    }
}

/// The store's name for the site field, and the body's.
const SITE: &[(&str, &str)] = &[("site", "site_id")];

/// The asset as it stands inside the transaction that changed it.
async fn answered_asset(
    tx: &mut ScopedTx<'_>,
    company: CompanyId,
    id: AssetId,
) -> Result<AssetBody, Problem> {
    Ok(AssetBody::from(tx.asset(company, id).await?))
}

/// Adds an asset to a company (from a tool Portico has no connector for). Send an
/// `Idempotency-Key` to make a retry safe.
#[utoipa::path(
    post,
    path = "/api/v1/companies/{company}/assets",
    tag = "Assets",
    request_body = AssetInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a retry safe: the same key and body answer the first answer again (1 to 255 visible ASCII characters; a UUID is a good one)"),
    ),
    responses(
        (status = 201, description = "The asset, added", body = AssetBody),
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
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/companies/{company}/assets");
    let idempotency = Idempotency::of(&headers, "POST", &path, &body)?;
    let input: AssetInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    if let Some(replayed) = idempotency.replayed(&mut tx, &caller).await? {
        return Ok(replayed);
    }
    idempotency.claim(&mut tx, &caller, Some(company)).await?;
    let own = input.refusals();
    let id = judged(
        own,
        SITE,
        tx.add_asset(company, &input.draft(Vec::new())).await,
    )?;
    let answer = answered_asset(&mut tx, company, id).await?;
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

/// Replaces an asset's fields with the body's (what is left out is emptied; the workspace's
/// own fields keep their values), as a tool that owns the record sends it.
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/assets/{asset}",
    tag = "Assets",
    request_body = AssetInput,
    params(
        ("company" = String, Path, format = Uuid, description = "The company's id"),
        ("asset" = String, Path, format = Uuid, description = "The asset's id"),
    ),
    responses(
        (status = 200, description = "The asset, changed", body = AssetBody),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such asset within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused; each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn replace(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath((company, id)): ApiPath<(CompanyId, AssetId)>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: AssetInput = json_body(&headers, &body)?;
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.asset(company, id).await?;
    let custom = tx.asset_custom_values(id).await?;
    let own = input.refusals();
    judged(
        own,
        SITE,
        tx.update_asset(company, id, &input.draft(custom)).await,
    )?;
    let answer = answered_asset(&mut tx, company, id).await?;
    tx.commit().await?;
    written_asset(&answer)
}

/// The answer to a write of an asset: the asset as it now stands, never kept by a cache.
pub(super) fn written_asset(answer: &AssetBody) -> Result<Response, Problem> {
    let mut response = json_answer(&HeaderMap::new(), answer)?;
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
