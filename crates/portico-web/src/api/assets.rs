//! A company's assets over the API.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use portico_core::{AssetId, AssetKind, CompanyId, SiteId};
use portico_store::scoped::assets::{Asset, AssetQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::companies::time;
use super::paging::{Page, PageParams};
use super::tickets::Named;
use super::{ApiAuth, ApiPath, ApiQuery, Problem, json_answer};
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
                id: id.to_string(),
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
        (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`"),
        (status = 400, description = "A parameter is not valid", body = super::ProblemBody),
        (status = 401, description = "No valid token", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 429, description = "The token's request budget is spent", body = super::ProblemBody),
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
    let after: Option<(String, String)> = page.after("assets")?;
    let after = match &after {
        Some((name, id)) => Some((
            name.as_str(),
            AssetId::parse(id)
                .ok_or_else(|| Problem::bad_request("`cursor` is not one this list gave out."))?,
        )),
        None => None,
    };
    let mut tx = state.store.scoped(&caller.scope).await?;
    tx.company(company).await?;
    let (rows, _) = tx.assets_after(company, &wanted, after, limit + 1).await?;
    tx.commit().await?;
    let page = Page::of(
        "assets",
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
        (status = 304, description = "Unchanged since the `ETag` sent in `If-None-Match`"),
        (status = 401, description = "No valid token", body = super::ProblemBody),
        (status = 404, description = "No such asset within the token's reach", body = super::ProblemBody),
        (status = 429, description = "The token's request budget is spent", body = super::ProblemBody),
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
