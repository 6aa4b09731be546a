//! Who is asking: the one extractor that turns a session cookie into a [`Principal`] and its
//! [`Scope`], the extractors that hand a handler a form only once its CSRF token is checked, and
//! the site and client address of a request. The pages that open and close sessions are in
//! [`crate::sign_in`].

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use portico_core::{Principal, Scope};
use portico_store::{SessionUser, SessionVersions, StoreError};
use std::sync::Arc;

use crate::error::WebError;
use crate::forms::FormData;
use crate::id_path::PathIds;
use crate::session::{form_cookie_name, read_cookie, session_cookie_name};
use crate::{AppState, Site, see_other};

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
///
/// `P` is the ids in the route's path (see [`IdPath`](crate::id_path::IdPath)):
/// `SignedForm<TicketId>` for `/tickets/{ticket}/…`, nothing for a route without ids.
pub(crate) struct SignedForm<P = ()> {
    pub auth: Auth,
    pub form: FormData,
    pub path: P,
}

impl<P: PathIds> FromRequest<AppState> for SignedForm<P> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        // The path is read first and its ids judged last: whoever may not post here, or sends
        // no valid token, hears that whatever the id.
        let path = P::read(&mut parts).await?;
        let auth = Auth::from_request_parts(&mut parts, state).await?;
        let form = FormData::read(Request::from_parts(parts, body))
            .await
            .map_err(IntoResponse::into_response)?;
        auth.check_csrf(&form)
            .map_err(IntoResponse::into_response)?;
        let path = P::parse(path).ok_or_else(|| WebError::NotFound.into_response())?;
        Ok(SignedForm { auth, form, path })
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

/// Refuses a form shown before sign-in whose token is not the one its page set in the form
/// cookie ([`crate::sign_in`] issues both).
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

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
        let mut scope = Scope::of(&resolved.principal).from_origin(request_origin(parts, state));
        if let Some(view) = resolved.view_as {
            scope = scope.viewed_by(view);
            view_as_guard(parts, state, &scope).map_err(IntoResponse::into_response)?;
        }
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

/// A staff member viewing the portal as one of its users (C6) reads only: anything but a page
/// or ending the view is refused before a handler runs (the store refuses writes as well), and
/// every page seen goes on the company's audit chain.
fn view_as_guard(parts: &Parts, state: &AppState, scope: &Scope) -> Result<(), WebError> {
    let path = parts.uri.path();
    let reads = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    // Signing out would be recorded as the client's own sign-out: the view ends instead.
    if !reads && path != "/view-as/end" {
        return Err(WebError::Forbidden(
            "You are viewing the portal as a client's user: nothing can be changed. End the \
             view to act in the console."
                .into(),
        ));
    }
    // Live updates reconnect on their own: the page that opened them is on the record.
    if reads && !path.ends_with("/events") {
        let company = match scope.companies() {
            portico_core::CompanySet::Only(ids) => ids.first().copied(),
            portico_core::CompanySet::All => None,
        };
        let page = match parts.uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        let Some(view) = scope.view_as() else {
            return Ok(());
        };
        state.store.audit_view(
            scope,
            portico_core::AuditAction::ViewAsPage,
            company,
            view.target(scope.actor(), scope.actor_name()),
            &page.chars().take(300).collect::<String>(),
        )?;
    }
    Ok(())
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
    Ok(resolved.map(|r| {
        let scope = Scope::of(&r.principal);
        match r.view_as {
            Some(view) => scope.viewed_by(view),
            None => scope,
        }
    }))
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

/// Where a request came from, for the audit log: the client address (as [`ClientIp`] reads
/// it) and the user agent.
pub(crate) fn request_origin(parts: &Parts, state: &AppState) -> portico_core::Origin {
    let ip = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| client_address(c.0.ip(), &parts.headers, &state.config.trusted_proxies));
    let agent = parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    portico_core::Origin::new(ip, agent)
}

/// A request's origin as an extractor, for the pages used before sign-in.
pub(crate) struct RequestOrigin(pub portico_core::Origin);

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestOrigin(request_origin(parts, state)))
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
}
