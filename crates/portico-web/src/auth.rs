//! Who is asking: the one extractor that turns a session cookie into a [`Principal`] and its
//! [`Scope`], and the sign-in, sign-out, invitation and reset pages of both surfaces.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_core::{Principal, Scope};
use portico_store::{
    Credentials, NewSession, OneTimePurpose, SessionUser, SessionVersions, SignInOutcome,
    StoreError, SurfaceKind,
};
use serde::Deserialize;
use std::sync::Arc;

use crate::error::WebError;
use crate::forms::FormData;
use crate::render::{self, Chrome};
use crate::session::{form_cookie_name, read_cookie, session_cookie_name, set_cookie};
use crate::{AppState, Site, see_other};

/// Lifetime of a password-reset link.
const RESET_TTL_SECS: i64 = 3600;

/// A signed-in caller. Only this extractor builds a principal and its scope.
pub struct Auth {
    pub principal: Arc<Principal>,
    pub scope: Scope,
    pub(crate) csrf: String,
    pub(crate) token: String,
    pub(crate) id_hash: String,
    pub(crate) site: Site,
    /// Read with the session, for a page that reuses what an instance keeps (see
    /// [`portico_store::ScopedTx::portal_tickets`]); taken once, by [`Auth::fresh_versions`].
    versions: Option<SessionVersions>,
}

/// A signed-in person's form, its CSRF token already checked against their session. Every
/// state change of a signed-in page takes its form this way (or as
/// [`crate::uploads::FormWithFiles`], which checks the same): [`FormData`] is no extractor,
/// so no handler can read a form and forget the check.
pub(crate) struct SignedForm {
    pub auth: Auth,
    pub form: FormData,
}

impl FromRequest<AppState> for SignedForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state).await?;
        let form = FormData::read(Request::from_parts(parts, body))
            .await
            .map_err(IntoResponse::into_response)?;
        auth.check_csrf(&form)
            .map_err(IntoResponse::into_response)?;
        Ok(SignedForm { auth, form })
    }
}

/// A form of the pages used before sign-in (sign in, forgotten password, setting a password),
/// its token checked against the form cookie those pages set.
pub(crate) struct PublicForm(pub FormData);

impl FromRequest<AppState> for PublicForm {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let form = FormData::read(req).await?;
        check_form_token(state, &headers, &form)?;
        Ok(PublicForm(form))
    }
}

impl Auth {
    /// Refuses a form whose CSRF token is not this session's.
    pub(crate) fn check_csrf(&self, form: &FormData) -> Result<(), WebError> {
        if constant_time_eq(form.get("csrf").as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }

    /// The versions read with this request's session, once: they describe that moment, so
    /// they suit a read made before the request writes anything, and not a stream that
    /// outlives it.
    pub(crate) fn fresh_versions(&mut self) -> Option<SessionVersions> {
        self.versions.take()
    }

    pub(crate) fn session_user(&self) -> SessionUser {
        match &*self.principal {
            Principal::Staff(s) => SessionUser::Staff(s.user_id()),
            Principal::Portal(p) => SessionUser::Portal(p.user_id()),
        }
    }
}

pub(crate) fn csrf_refused() -> WebError {
    WebError::Forbidden("This form has expired. Go back, reload the page and try again.".into())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sends a caller without a valid session to the sign-in page, remembering where they were going.
fn to_sign_in(parts: &Parts) -> Response {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if parts.method == axum::http::Method::GET && path != "/" {
        let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
        see_other(&format!("/login?next={next}"))
    } else {
        see_other("/login")
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let site = parts
            .extensions
            .get::<Site>()
            .cloned()
            .ok_or_else(|| WebError::NotFound.into_response())?;
        let name = session_cookie_name(&state.config, site.surface);
        let Some(token) = read_cookie(&parts.headers, name)
            .filter(|t| t.len() == 64)
            .map(str::to_owned)
        else {
            return Err(to_sign_in(parts));
        };
        let resolved = async {
            let mut tx = state.store.auth_read(site.workspace_id).await?;
            let resolved = tx
                .resolve_session(&token, site.surface, state.config.session_idle_secs)
                .await?;
            tx.commit().await?;
            if let Some(r) = resolved.as_ref().filter(|r| r.stale) {
                let mut tx = state.store.auth(site.workspace_id).await?;
                tx.touch_session(&r.id_hash).await?;
                tx.commit().await?;
            }
            Ok::<_, StoreError>(resolved)
        }
        .await
        .map_err(|e| WebError::from(e).into_response())?;
        let Some(resolved) = resolved else {
            return Err(to_sign_in(parts));
        };
        let scope = Scope::of(&resolved.principal);
        // A page of a portal section: switched off, or not the caller's to open, it is missing.
        if let Some(crate::registry::RouteSection(section)) =
            parts.extensions.get::<crate::registry::RouteSection>()
        {
            scope
                .may(portico_core::Action::ViewSection(*section))
                .map_err(|_| WebError::NotFound.into_response())?;
        }
        Ok(Auth {
            principal: resolved.principal,
            scope,
            csrf: resolved.csrf_token,
            token,
            id_hash: resolved.id_hash,
            site,
            versions: Some(resolved.versions),
        })
    }
}

/// The scope of `auth`'s session as it stands now, or `None` once the session has ended or
/// its user lost access. For long-lived responses that must not outlive the session.
pub(crate) async fn current_scope(
    state: &AppState,
    auth: &Auth,
) -> Result<Option<Scope>, StoreError> {
    let mut tx = state.store.auth_read(auth.site.workspace_id).await?;
    let resolved = tx
        .resolve_session(
            &auth.token,
            auth.site.surface,
            state.config.session_idle_secs,
        )
        .await?;
    tx.commit().await?;
    Ok(resolved.map(|r| Scope::of(&r.principal)))
}

impl FromRequestParts<AppState> for Site {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Site>()
            .cloned()
            .ok_or(WebError::NotFound)
    }
}

/// The client address, for throttling and the session list. Taken from the connection, never
/// from a header a client could set. Behind a proxy every request shares the proxy's address,
/// which only makes the per-address limit stricter; the per-account limit is unaffected.
pub(crate) struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let Some(peer) = peer else {
            return Ok(ClientIp("unknown".into()));
        };
        Ok(ClientIp(
            client_address(peer, &parts.headers, &state.config.trusted_proxies).to_string(),
        ))
    }
}

/// The address a request came from. `X-Forwarded-For` is believed only when the connection
/// comes from a configured proxy, and then only up to the first address that is not a proxy.
pub(crate) fn client_address(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted_proxies: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted_proxies.contains(a))
        .unwrap_or(peer)
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Where to go after signing in: only a local path, never another site.
fn safe_next(next: &str) -> &str {
    // Browsers drop tabs and newlines and read `\` as `/` in URLs, so anything beyond plain
    // path characters could turn "/\t/evil.example" into another site.
    let plain = next
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-._~?=&%+".contains(c));
    if plain && next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    }
}

// ----- sign-in ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    form_token: String,
    email: String,
    next: String,
    error: String,
    notice: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    done: String,
}

/// A fresh double-submit token for a form shown before sign-in, set as a cookie and returned
/// for the hidden field.
fn form_token(state: &AppState, headers: &HeaderMap) -> (String, Option<axum::http::HeaderValue>) {
    match read_cookie(headers, form_cookie_name(&state.config)).filter(|t| t.len() == 64) {
        Some(existing) => (existing.to_owned(), None),
        None => {
            let token = portico_store::token::generate();
            let cookie = set_cookie(&state.config, form_cookie_name(&state.config), &token, None);
            (token, Some(cookie))
        }
    }
}

fn check_form_token(
    state: &AppState,
    headers: &HeaderMap,
    form: &FormData,
) -> Result<(), WebError> {
    let cookie = read_cookie(headers, form_cookie_name(&state.config)).unwrap_or("");
    if constant_time_eq(cookie.as_bytes(), form.get("form_token").as_bytes()) {
        Ok(())
    } else {
        Err(csrf_refused())
    }
}

fn with_cookie(mut response: Response, cookie: Option<axum::http::HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    Query(query): Query<NextQuery>,
) -> Response {
    let (form_token, cookie) = form_token(&state, &headers);
    let notice = match query.done.as_str() {
        "reset" => "If that address has an account, we have sent a link to choose a new password.",
        "signed-out" => "You have signed out.",
        _ => "",
    };
    let page = LoginPage {
        chrome: Chrome::anonymous(&site, "Sign in"),
        form_token,
        email: String::new(),
        next: safe_next(&query.next).to_owned(),
        error: String::new(),
        notice: notice.to_owned(),
    };
    with_cookie(render::ok(&page), cookie)
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    PublicForm(form): PublicForm,
) -> Result<Response, WebError> {
    let email = form.get("email").trim().to_owned();
    let mut tx = state.store.auth(site.workspace_id).await?;
    let outcome = tx
        .sign_in(&Credentials {
            surface: site.surface,
            email: &email,
            password: form.get("password"),
            ip: &ip,
        })
        .await?;
    let error = match outcome {
        SignInOutcome::Success(user) => {
            let location = safe_next(form.get("next")).to_owned();
            return open_session(&state, tx, &site, user, &ip, &headers, &location).await;
        }
        SignInOutcome::Invalid => "The e-mail address or password is not correct.",
        SignInOutcome::Throttled => {
            "Too many unsuccessful attempts. Wait 15 minutes, then try again."
        }
    };
    tx.commit().await?;
    let page = LoginPage {
        chrome: Chrome::anonymous(&site, "Sign in"),
        form_token: form.get("form_token").to_owned(),
        email,
        next: safe_next(form.get("next")).to_owned(),
        error: error.to_owned(),
        notice: String::new(),
    };
    let status = if outcome == SignInOutcome::Throttled {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNAUTHORIZED
    };
    Ok(render::page(status, &page))
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    tx.end_session(&auth.token).await?;
    tx.commit().await?;
    let mut response = see_other("/login?done=signed-out");
    let name = session_cookie_name(&state.config, auth.site.surface);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.config, name, "", Some(0)),
    );
    Ok(response)
}

// ----- forgotten password ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    form_token: String,
    email: String,
    error: String,
}

pub(crate) async fn forgot_page(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
) -> Response {
    let (form_token, cookie) = form_token(&state, &headers);
    let page = ForgotPage {
        chrome: Chrome::anonymous(&site, "Reset your password"),
        form_token,
        email: String::new(),
        error: String::new(),
    };
    with_cookie(render::ok(&page), cookie)
}

pub(crate) async fn forgot_submit(
    State(state): State<AppState>,
    site: Site,
    PublicForm(form): PublicForm,
) -> Result<Response, WebError> {
    let email = form.get("email").trim();
    if !portico_store::scoped::portal_users::valid_email(email) {
        let page = ForgotPage {
            chrome: Chrome::anonymous(&site, "Reset your password"),
            form_token: form.get("form_token").to_owned(),
            email: email.to_owned(),
            error: "Enter a valid e-mail address.".into(),
        };
        return Ok(render::refused(&page));
    }
    let hostname = state
        .store
        .public()
        .await?
        .hostname(site.workspace_id, site.surface)
        .await?;
    let mut tx = state.store.auth(site.workspace_id).await?;
    if let (Some((token, address, name)), Some(hostname)) = (
        tx.start_reset(site.surface, email, RESET_TTL_SECS).await?,
        hostname,
    ) {
        let link = format!("{}/reset?token={token}", state.config.base_url(&hostname));
        let body = format!(
            "Hello {name},\n\nSomeone asked to reset the password of your {brand} account. To choose a new \
             password, open this link within the next hour:\n\n{link}\n\nIf this was not you, ignore this message; \
             your password stays as it is.\n\n{brand}",
            brand = site.branding.name
        );
        tx.queue_mail(
            &address,
            &format!("{}: reset your password", site.branding.name),
            &body,
        )
        .await?;
    }
    tx.commit().await?;
    // The same answer whether or not the address has an account.
    Ok(see_other("/login?done=reset"))
}

// ----- invitation and reset links --------------------------------------------------------------

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    form_token: String,
    token: String,
    action: &'static str,
    heading: &'static str,
    error: String,
}

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn purpose_of(path: &str) -> (OneTimePurpose, &'static str, &'static str) {
    if path.starts_with("/setup") {
        (
            OneTimePurpose::Invite,
            "/setup",
            "Welcome — choose your password",
        )
    } else {
        (OneTimePurpose::Reset, "/reset", "Choose a new password")
    }
}

pub(crate) async fn set_password_page(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(query): Query<TokenQuery>,
) -> Result<Response, WebError> {
    let (purpose, action, heading) = purpose_of(uri.path());
    let mut tx = state.store.auth(site.workspace_id).await?;
    let valid = query.token.len() == 64 && tx.peek_token(&query.token, purpose).await?.is_some();
    tx.commit().await?;
    if !valid {
        return Err(WebError::BadRequest(
            "This link has expired or was already used. Ask for a new one from the sign-in page or your administrator."
                .into(),
        ));
    }
    let (form_token, cookie) = form_token(&state, &headers);
    let page = SetPasswordPage {
        chrome: Chrome::anonymous(&site, heading),
        form_token,
        token: query.token,
        action,
        heading,
        error: String::new(),
    };
    Ok(with_cookie(render::ok(&page), cookie))
}

pub(crate) async fn set_password_submit(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    uri: axum::http::Uri,
    ClientIp(ip): ClientIp,
    PublicForm(form): PublicForm,
) -> Result<Response, WebError> {
    let (purpose, action, heading) = purpose_of(uri.path());
    let token = form.get("token");
    let refuse = |error: String| SetPasswordPage {
        chrome: Chrome::anonymous(&site, heading),
        form_token: form.get("form_token").to_owned(),
        token: token.to_owned(),
        action,
        heading,
        error,
    };
    if form.get("password") != form.get("confirm") {
        return Ok(render::refused(&refuse(
            "The two passwords do not match.".into(),
        )));
    }
    let mut tx = state.store.auth(site.workspace_id).await?;
    let user = match tx.redeem_token(token, purpose, form.get("password")).await {
        Ok(user) => user,
        Err(StoreError::Invalid(message)) => return Ok(render::refused(&refuse(message))),
        Err(StoreError::NotFound) => {
            return Err(WebError::BadRequest(
                "This link has expired or was already used.".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let matches_surface = matches!(
        (user, site.surface),
        (SessionUser::Staff(_), SurfaceKind::Console)
            | (SessionUser::Portal(_), SurfaceKind::Portal)
    );
    if !matches_surface {
        return Err(WebError::NotFound);
    }
    open_session(&state, tx, &site, user, &ip, &headers, "/").await
}

/// Opens a new session for `user` (a fresh token: any session id planted before sign-in is
/// never promoted), commits, and redirects with the session cookie set.
async fn open_session(
    state: &AppState,
    mut tx: portico_store::AuthTx,
    site: &Site,
    user: SessionUser,
    ip: &str,
    headers: &HeaderMap,
    location: &str,
) -> Result<Response, WebError> {
    let token = tx
        .create_session(&NewSession {
            surface: site.surface,
            user,
            ip,
            user_agent: user_agent(headers),
            lifetime_secs: state.config.session_max_secs,
        })
        .await?;
    tx.commit().await?;
    let mut response = see_other(location);
    let name = session_cookie_name(&state.config, site.surface);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.config, name, &token, None),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.1".parse().unwrap(),
        );
        let direct: std::net::IpAddr = "192.0.2.5".parse().unwrap();
        assert_eq!(
            client_address(direct, &headers, &[proxy]),
            direct,
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_address(proxy, &headers, &[proxy]).to_string(),
            "198.51.100.7",
            "the nearest untrusted hop"
        );
        assert_eq!(client_address(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn next_accepts_only_plain_local_paths() {
        assert_eq!(
            safe_next("/tickets?status=all&page=2"),
            "/tickets?status=all&page=2"
        );
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://x",
            "",
            "/a\r\nb",
            "/%0a",
        ] {
            let out = safe_next(bad);
            assert!(out == "/" || out == "/%0a", "{bad:?} gave {out:?}");
        }
    }
}
