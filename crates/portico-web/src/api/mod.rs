//! The REST API (I1) under `/api/v1`, and its edge: bearer tokens made by owners
//! ([`portico_store::scoped::api_tokens`]), a request budget per token, errors as
//! `application/problem+json` (RFC 9457), `ETag`s on every answer and idempotency keys on
//! every POST. Each request runs in the token's scope through the same scoped store as the
//! pages: there is no second access path.

pub(crate) mod archiving;
pub(crate) mod assets;
pub(crate) mod backups;
pub(crate) mod companies;
pub(crate) mod company_records;
pub(crate) mod licences;
pub(crate) mod openapi;
mod paging;
pub(crate) mod portal_users;
pub(crate) mod records;
pub(crate) mod security_alerts;
pub(crate) mod tickets;
pub(crate) mod work;

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
    /// Seconds to wait before trying again (`429`).
    retry_after: Option<u64>,
    /// Each refused field of a request body, with its reason (`422`).
    errors: Vec<(String, String)>,
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
            retry_after: None,
            errors: Vec::new(),
        }
    }

    pub(crate) fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Not Found", "No such resource.")
    }

    pub(crate) fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }

    pub(crate) fn unprocessable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable Content",
            detail,
        )
    }

    fn unauthorized(detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }
}

/// Problem details (RFC 9457), as every error of the API answers.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(crate) struct ProblemBody<'a> {
    /// Always `about:blank`: the status and title say what happened.
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    /// What went wrong with this request, for a person to read.
    detail: &'a str,
    /// The refused fields of a request body, each with its reason.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
}

/// One refused field of a request body.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FieldError {
    /// The field's name in the request body.
    field: String,
    message: String,
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let errors: Vec<FieldError> = self
            .errors
            .into_iter()
            .map(|(field, message)| FieldError { field, message })
            .collect();
        let body = serde_json::to_string(&ProblemBody {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: &errors,
        })
        .unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
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
            WebError::NotFound => Problem::not_found(),
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
        match e {
            portico_store::StoreError::InvalidFields(fields) => {
                let mut problem =
                    Problem::unprocessable("The request was refused; see each field's reason.");
                problem.errors = fields;
                problem
            }
            portico_store::StoreError::Conflict(what) => Problem::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!("That {what} already exists."),
            ),
            portico_store::StoreError::Invalid(m) => Problem::unprocessable(m),
            other => Problem::from(crate::error::WebError::from(other)),
        }
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
        // Read-only, as every page's session lookup: SQLite has one writer.
        let mut tx = state.store.auth_read(site.workspace_id).await?;
        let caller = tx.resolve_api_token(bearer, &origin).await?;
        tx.commit().await?;
        let caller = caller.ok_or_else(|| {
            Problem::unauthorized("The token is not valid: unknown, revoked or expired.")
        })?;
        state.api_budget.spend(caller.token_id)?;
        if caller.use_due() {
            let mut tx = state.store.auth(site.workspace_id).await?;
            tx.record_api_token_use(&caller, &origin).await?;
            tx.commit().await?;
        }
        Ok(ApiAuth(caller))
    }
}

/// Each token's request budget on this instance: a steady rate with a burst of a tenth of a
/// minute's worth. With several instances behind a balancer each keeps its own.
pub(crate) struct RequestBudget {
    limiter: governor::DefaultKeyedRateLimiter<portico_core::ApiTokenId>,
    spent: std::sync::atomic::AtomicU32,
}

impl RequestBudget {
    pub(crate) fn per_minute(requests: u32) -> RequestBudget {
        let steady =
            std::num::NonZeroU32::new(requests.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        let burst = std::num::NonZeroU32::new((requests / 10).max(10)).unwrap_or(steady);
        RequestBudget {
            limiter: governor::RateLimiter::keyed(
                governor::Quota::per_minute(steady).allow_burst(burst),
            ),
            spent: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// Takes one request from the token's budget, or says when the next one is allowed.
    fn spend(&self, token: portico_core::ApiTokenId) -> Result<(), Problem> {
        use governor::clock::Clock;
        // Now and then, forget the tokens whose budget is full again, so that the map holds
        // only the tokens in use.
        if self
            .spent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(4096)
        {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&token).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            let mut problem = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                "This token has used its request budget; try again after the time in Retry-After.",
            );
            problem.retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
            problem
        })
    }
}

/// A record's ids from an API path: a malformed one is answered like a missing record.
pub(crate) struct ApiPath<T>(pub T);

impl<T: crate::id_path::PathIds> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Problem> {
        let text = T::read(parts).await.map_err(|_| Problem::not_found())?;
        T::parse(text).map(ApiPath).ok_or_else(Problem::not_found)
    }
}

/// A query string read into `T`, refused as problem details when it does not fit.
pub(crate) struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Problem> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map(ApiQuery)
            .map_err(|e| Problem::bad_request(format!("The query string is not valid: {e}.")))
    }
}

/// A JSON request body read into `T`, refused as problem details when it does not fit.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<T, Problem> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            "Send the body as `Content-Type: application/json`.",
        ));
    }
    // Every body is an object: serde would also read a struct from an array of its fields
    // in order, which no description allows.
    if body.trim_ascii_start().first() != Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
    {
        return Err(Problem::unprocessable(
            "The body is not valid: send a JSON object.",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let detail = format!("The body is not valid: {e}.");
        if e.is_syntax() || e.is_eof() {
            Problem::bad_request(detail)
        } else {
            Problem::unprocessable(detail)
        }
    })
}

/// The outcome of a store write with the body's own refusals: every problem at once, under the
/// body's names for the fields (`renamed`: the store's name and the body's, where they differ).
/// A field the body already refused keeps the body's reason; an error other than a refusal
/// (missing, forbidden) wins over any refusal.
pub(crate) fn judged<T>(
    own: Vec<(String, String)>,
    renamed: &[(&str, &str)],
    result: Result<T, portico_store::StoreError>,
) -> Result<T, Problem> {
    use portico_store::StoreError;
    let mut refusals = own;
    match result {
        Ok(value) if refusals.is_empty() => return Ok(value),
        Ok(_) => {}
        Err(StoreError::InvalidFields(fields)) => {
            for (field, message) in fields {
                let field = renamed
                    .iter()
                    .find(|(store, _)| *store == field)
                    .map_or(field, |(_, body)| (*body).to_owned());
                if !refusals.iter().any(|(f, _)| *f == field) {
                    refusals.push((field, message));
                }
            }
        }
        Err(e) => return Err(e.into()),
    }
    Err(StoreError::InvalidFields(refusals).into())
}

/// Answers `value` as JSON with an `ETag`, or `304 Not Modified` when the request's
/// `If-None-Match` names the same.
pub(crate) fn json_answer<T: Serialize>(
    request: &axum::http::HeaderMap,
    value: &T,
) -> Result<Response, Problem> {
    // A list page is tens of kilobytes: grown from 128 bytes it was copied over eight times on
    // the way. Written by sonic-rs (the same bytes as serde_json): nearly every key and value of
    // 50 tickets is a string, and its SIMD escaping halved the desk list's serialisation, from a
    // third of the request's CPU time.
    let mut body = Vec::with_capacity(16 * 1024);
    sonic_rs::to_writer(&mut body, value)
        .map_err(|e| Problem::from(crate::error::WebError::Internal(e.to_string())))?;
    let etag = etag_of(&body);
    let unchanged = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag.trim_start_matches("W/"));
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // Whatever a token reads is for that token alone, and is revalidated each time.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Authorization"));
    Ok(response)
}

/// A time as the API answers it (RFC 3339 in UTC, `2026-03-01T09:30:00Z`), written into the
/// answer from a stack buffer: a page of 50 tickets has up to 250 of them, and a `String` each
/// was an allocation, a copy and a free.
#[derive(Clone, Copy)]
pub(crate) struct ApiTime(pub(crate) i64);

impl Serialize for ApiTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use crate::render::PlainText;
        crate::render::Iso(self.0).with_text(|text| serializer.serialize_str(text))
    }
}

/// An id as the API answers it, written the same way ([`ApiTime`]).
#[derive(Clone, Copy)]
pub(crate) struct ApiId<I>(pub(crate) I);

impl<I: portico_core::Id> Serialize for ApiId<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.encode(&mut [0; portico_core::ID_TEXT_LEN]))
    }
}

/// An id's text kept inline (no allocation) for a struct that holds ids of several kinds
/// ([`tickets::Named`]), serialised as [`ApiId`] is.
#[derive(Clone, Copy)]
pub(crate) struct InlineId([u8; portico_core::ID_TEXT_LEN]);

impl InlineId {
    pub(crate) fn of(id: impl portico_core::Id) -> InlineId {
        let mut text = [0; portico_core::ID_TEXT_LEN];
        id.encode(&mut text);
        InlineId(text)
    }
}

impl Serialize for InlineId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written by `Id::encode`: lower-case hex and hyphens.
        serializer.serialize_str(std::str::from_utf8(&self.0).unwrap_or_default())
    }
}

/// A weak tag of a body: its 128-bit XXH3, which tells versions of one answer apart (no secret
/// rests on it: whoever can read the answer can read its tag).
fn etag_of(body: &[u8]) -> String {
    format!("W/\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(body))
}

/// An optional RFC 3339 time of a pushed record as Unix seconds; a time that does not parse is
/// refused under `field` (the body's name for it) and read as absent.
pub(crate) fn pushed_time(
    refusals: &mut Vec<(String, String)>,
    field: String,
    text: Option<&str>,
) -> Option<i64> {
    let text = text?;
    match text.parse::<jiff::Timestamp>() {
        Ok(at) => Some(at.as_second()),
        Err(_) => {
            refusals.push((
                field,
                "Send a time as RFC 3339, such as 2026-12-03T22:00:00Z.".to_owned(),
            ));
            None
        }
    }
}

/// A POST's `Idempotency-Key` and the fingerprint of the request it came with.
pub(crate) struct Idempotency {
    key: Option<String>,
    request_hash: String,
}

impl Idempotency {
    /// Reads the key (1–255 visible ASCII characters) and fingerprints the request.
    pub(crate) fn of(
        headers: &axum::http::HeaderMap,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<Idempotency, Problem> {
        use sha2::Digest;
        let key = match headers.get("idempotency-key") {
            None => None,
            Some(v) => {
                let key = v.to_str().ok().map(str::trim).unwrap_or_default();
                if key.is_empty()
                    || key.len() > portico_store::scoped::api_idempotency::MAX_KEY_LEN
                    || !key.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(Problem::bad_request(
                        "An Idempotency-Key has 1 to 255 visible ASCII characters (a UUID is a good one).",
                    ));
                }
                Some(key.to_owned())
            }
        };
        let mut hasher = sha2::Sha256::new();
        for part in [method.as_bytes(), b"\n", path.as_bytes(), b"\n", body] {
            hasher.update(part);
        }
        Ok(Idempotency {
            key,
            request_hash: hex::encode(hasher.finalize()),
        })
    }

    /// Inside the write transaction, before the change: the answer already given to this key,
    /// replayed, or a refusal when the key came with another request.
    pub(crate) async fn replayed(
        &self,
        tx: &mut portico_store::scoped::ScopedTx<'_>,
        caller: &ApiCaller,
    ) -> Result<Option<Response>, Problem> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let Some(kept) = tx.idempotent_answer(caller.token_id, key).await? else {
            return Ok(None);
        };
        if kept.request_hash != self.request_hash {
            return Err(Problem::unprocessable(
                "This Idempotency-Key was used with another request; use a new key for a new request.",
            ));
        }
        let mut response = (
            StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK),
            kept.body,
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Ok(location) = HeaderValue::from_str(&kept.location) {
            headers.insert(header::LOCATION, location);
        }
        Ok(Some(response))
    }

    /// Inside the write transaction, once the record is known to be in reach and before it
    /// changes: claims the key under the company of that record, so that a concurrent request
    /// with the same key stops at once (409) rather than doing the work again.
    pub(crate) async fn claim(
        &self,
        tx: &mut portico_store::scoped::ScopedTx<'_>,
        caller: &ApiCaller,
        company: Option<portico_core::CompanyId>,
    ) -> Result<(), Problem> {
        if let Some(key) = &self.key {
            tx.reserve_idempotency_key(caller.token_id, company, key, &self.request_hash)
                .await?;
        }
        Ok(())
    }

    /// Inside the same transaction, after the change: answers `value` with `status` (and
    /// `location`), keeping the answer for the claimed key.
    pub(crate) async fn answer<T: Serialize>(
        &self,
        tx: &mut portico_store::scoped::ScopedTx<'_>,
        caller: &ApiCaller,
        status: StatusCode,
        location: &str,
        value: &T,
    ) -> Result<Response, Problem> {
        let body = serde_json::to_string(value)
            .map_err(|e| Problem::from(crate::error::WebError::Internal(e.to_string())))?;
        if let Some(key) = &self.key {
            let kept = portico_store::scoped::api_idempotency::KeptAnswer {
                request_hash: self.request_hash.clone(),
                status: status.as_u16(),
                location: location.to_owned(),
                body: body.clone(),
            };
            tx.keep_idempotent_answer(caller.token_id, key, &kept)
                .await?;
        }
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Ok(location) = HeaderValue::from_str(location) {
            headers.insert(header::LOCATION, location);
        }
        Ok(response)
    }
}

/// What `GET /api/v1/token` answers: the token the request carries and what it reaches.
#[derive(Serialize, utoipa::ToSchema)]
struct TokenInfo {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    /// `read` or `read_write`.
    access: &'static str,
    /// `null`: every company of the workspace.
    company: Option<CompanyRef>,
    #[schema(format = DateTime)]
    expires_at: String,
    /// The owner the token acts for.
    acts_for: String,
}

/// The one company a token reaches.
#[derive(Serialize, utoipa::ToSchema)]
struct CompanyRef {
    #[schema(format = Uuid)]
    id: String,
    name: String,
}

/// Which token this is, for whom it acts and within what.
#[utoipa::path(
    get,
    path = "/api/v1/token",
    tag = "Token",
    responses(
        (status = 200, description = "The token the request carries", body = TokenInfo),
    ),
    security(("token" = []))
)]
pub(crate) async fn token(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: axum::http::HeaderMap,
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
    json_answer(&headers, &info)
}
