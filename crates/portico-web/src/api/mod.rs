//! The API's edge (I1): bearer tokens made by owners ([`portico_store::scoped::api_tokens`]),
//! errors as `application/problem+json` (RFC 9457). Each request runs in the token's scope
//! through the same scoped store as the pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_store::SurfaceKind;
use portico_store::api_auth::ApiCaller;
use serde::Serialize;

use crate::auth::request_origin;
use crate::{AppState, Site};

/// An API error, as problem details.
#[derive(Debug)]
pub(crate) struct Problem {
    status: StatusCode,
    title: &'static str,
    detail: String,
}

impl Problem {
    pub(crate) fn new(
        status: StatusCode,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            title,
            detail: detail.into(),
        }
    }

    fn unauthorized(detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: &'a str,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&ProblemBody {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            );
        }
        response
    }
}

impl From<crate::error::WebError> for Problem {
    fn from(e: crate::error::WebError) -> Problem {
        use crate::error::WebError;
        match e {
            WebError::NotFound => {
                Problem::new(StatusCode::NOT_FOUND, "Not Found", "No such resource.")
            }
            WebError::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, "Forbidden", m),
            WebError::BadRequest(m) => Problem::new(StatusCode::BAD_REQUEST, "Bad Request", m),
            WebError::Unprocessable(m) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Unprocessable Content", m)
            }
            WebError::Internal(m) => {
                tracing::error!(error = %m, "API request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                    "Something went wrong on our side.",
                )
            }
        }
    }
}

impl From<portico_store::StoreError> for Problem {
    fn from(e: portico_store::StoreError) -> Problem {
        Problem::from(crate::error::WebError::from(e))
    }
}

/// An API request's caller, from its `Authorization: Bearer` token on the console's host.
pub(crate) struct ApiAuth(pub ApiCaller);

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let site = parts
            .extensions
            .get::<Site>()
            .cloned()
            .filter(|s| s.surface == SurfaceKind::Console)
            .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "Not Found", "No such resource."))?;
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                Problem::unauthorized("Send an API token as `Authorization: Bearer <token>`.")
            })?;
        let origin = request_origin(parts, state);
        let mut tx = state.store.auth(site.workspace_id).await?;
        let caller = tx.resolve_api_token(bearer, &origin).await?;
        tx.commit().await?;
        caller.map(ApiAuth).ok_or_else(|| {
            Problem::unauthorized("The token is not valid: unknown, revoked or expired.")
        })
    }
}

/// What `GET /api/v1/token` answers: the token the request carries and what it reaches.
#[derive(Serialize)]
struct TokenInfo {
    id: String,
    name: String,
    access: &'static str,
    /// `null`: every company of the workspace.
    company: Option<CompanyRef>,
    expires_at: String,
    acts_for: String,
}

#[derive(Serialize)]
struct CompanyRef {
    id: String,
    name: String,
}

/// `GET /api/v1/token`: which token this is, for whom it acts and within what.
pub(crate) async fn token(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiAuth(caller): ApiAuth,
) -> Result<Response, Problem> {
    let company = match caller.company {
        Some(id) => {
            let mut tx = state.store.scoped(&caller.scope).await?;
            let name = tx.company(id).await?.name;
            tx.commit().await?;
            Some(CompanyRef {
                id: id.to_string(),
                name,
            })
        }
        None => None,
    };
    let info = TokenInfo {
        id: caller.token_id.to_string(),
        name: caller.name.clone(),
        access: caller.access.as_str(),
        company,
        expires_at: crate::render::iso(&caller.expires_at).to_string(),
        acts_for: caller.principal.display_name().to_owned(),
    };
    let mut response = axum::Json(info).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
