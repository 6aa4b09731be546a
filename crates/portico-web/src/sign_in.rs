//! The pages that open and close a session, on both surfaces: sign in, sign out, a forgotten
//! password, and the invitation and reset links that set one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use portico_core::AuditAction;
use portico_store::{
    Credentials, NewSession, OneTimePurpose, SessionUser, SignInOutcome, StoreError, SurfaceKind,
};
use serde::Deserialize;

use crate::auth::{ClientIp, PublicForm, RequestOrigin, SignedForm};
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::session::{form_cookie_name, read_cookie, session_cookie_name, set_cookie};
use crate::{AppState, Site, see_other};

/// Lifetime of a password-reset link.
const RESET_TTL_SECS: i64 = 3600;

pub(crate) fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Where to go after signing in: only a local path, never another site.
pub(crate) fn safe_next(next: &str) -> &str {
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
pub(crate) struct LoginPage {
    chrome: Chrome,
    form_token: String,
    email: String,
    next: String,
    error: String,
    notice: String,
    /// The workspace's single sign-on provider for this surface, by name.
    sso: Option<String>,
    /// Where its button leads, the page to return to kept.
    sso_href: String,
}

impl LoginPage {
    /// The sign-in page with `error` (or `notice`) shown and the typed address kept.
    pub(crate) async fn build(
        state: &AppState,
        site: &Site,
        form_token: String,
        email: String,
        next: &str,
        error: &str,
        notice: &str,
    ) -> Result<LoginPage, WebError> {
        let mut tx = state.store.auth(site.workspace_id).await?;
        let sso = tx.sso_button(site.surface).await?;
        tx.commit().await?;
        let next = safe_next(next);
        let sso_href = if next == "/" {
            "/login/sso".to_owned()
        } else {
            format!(
                "/login/sso?next={}",
                form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            )
        };
        Ok(LoginPage {
            chrome: Chrome::anonymous(site, "Sign in"),
            form_token,
            email,
            sso_href,
            next: next.to_owned(),
            error: error.to_owned(),
            notice: notice.to_owned(),
            sso,
        })
    }
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
pub(crate) fn form_token(
    state: &AppState,
    headers: &HeaderMap,
) -> (String, Option<axum::http::HeaderValue>) {
    match read_cookie(headers, form_cookie_name(&state.config)).filter(|t| t.len() == 64) {
        Some(existing) => (existing.to_owned(), None),
        None => {
            let token = portico_store::token::generate();
            let cookie = set_cookie(&state.config, form_cookie_name(&state.config), &token, None);
            (token, Some(cookie))
        }
    }
}

pub(crate) fn with_cookie(
    mut response: Response,
    cookie: Option<axum::http::HeaderValue>,
) -> Response {
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
) -> Result<Response, WebError> {
    let (form_token, cookie) = form_token(&state, &headers);
    let notice = match query.done.as_str() {
        "reset" => "If that address has an account, we have sent a link to choose a new password.",
        "signed-out" => "You have signed out.",
        "expired" => "The sign-in took too long or was already used. Sign in again.",
        "sso" => "Your company signs in through single sign-on: use the button below.",
        "view-ended" => {
            "You stopped viewing the portal. The view is recorded in the company's audit log."
        }
        _ => "",
    };
    let page = LoginPage::build(
        &state,
        &site,
        form_token,
        String::new(),
        &query.next,
        "",
        notice,
    )
    .await?;
    Ok(with_cookie(render::ok(&page), cookie))
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    RequestOrigin(origin): RequestOrigin,
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
            remembered_device: crate::second_factor::device_token(
                &state.config,
                site.surface,
                &headers,
            ),
            next: safe_next(form.get("next")),
        })
        .await?;
    let error = match outcome {
        SignInOutcome::Success(user) => {
            let location = safe_next(form.get("next")).to_owned();
            tx.audit_account(user, AuditAction::SignIn, &origin, "password")
                .await?;
            return open_session(&state, tx, &site, user, &ip, &headers, &location).await;
        }
        SignInOutcome::SecondFactor { challenge, .. } => {
            tx.commit().await?;
            return Ok(crate::second_factor::to_second_step(
                &state.config,
                &challenge,
            ));
        }
        SignInOutcome::SsoRequired => {
            tx.commit().await?;
            return Ok(see_other("/login?done=sso"));
        }
        SignInOutcome::Invalid => "The e-mail address or password is not correct.",
        SignInOutcome::Throttled => {
            "Too many unsuccessful attempts. Wait 15 minutes, then try again."
        }
    };
    let why = if outcome == SignInOutcome::Throttled {
        "refused: too many attempts"
    } else {
        "wrong e-mail address or password"
    };
    tx.audit_attempt(
        site.surface,
        &email,
        AuditAction::SignInFailed,
        &origin,
        why,
    )
    .await?;
    tx.commit().await?;
    let page = LoginPage::build(
        &state,
        &site,
        form.get("form_token").to_owned(),
        email,
        form.get("next"),
        error,
        "",
    )
    .await?;
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
    tx.audit_account(
        auth.session_user(),
        AuditAction::SignOut,
        auth.scope.origin(),
        "",
    )
    .await?;
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
    RequestOrigin(origin): RequestOrigin,
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
    tx.audit_attempt(
        site.surface,
        email,
        AuditAction::PasswordResetRequested,
        &origin,
        "",
    )
    .await?;
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
    RequestOrigin(origin): RequestOrigin,
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
    let (done, how) = match purpose {
        OneTimePurpose::Invite => (AuditAction::InvitationAccepted, "invitation link"),
        _ => (AuditAction::PasswordChanged, "reset link"),
    };
    tx.audit_account(user, done, &origin, how).await?;
    // A company that signs in through single sign-on only: the password is kept (should the
    // requirement be lifted) but opens nothing.
    if let SessionUser::Portal(portal) = user
        && tx.sso_required_for(portal).await?
    {
        tx.commit().await?;
        return Ok(see_other("/login?done=sso"));
    }
    // A new password is one factor: an account with a second one (or required to have one)
    // still passes the second step before a session opens.
    let device = crate::second_factor::device_token(&state.config, site.surface, &headers);
    if let Some(challenge) = tx.second_step(site.surface, user, device, "/").await? {
        tx.commit().await?;
        return Ok(crate::second_factor::to_second_step(
            &state.config,
            &challenge,
        ));
    }
    tx.audit_account(user, AuditAction::SignIn, &origin, how)
        .await?;
    open_session(&state, tx, &site, user, &ip, &headers, "/").await
}

/// Opens a new session for `user` (a fresh token: any session id planted before sign-in is
/// never promoted), commits, and redirects with the session cookie set.
async fn open_session(
    state: &AppState,
    tx: portico_store::AuthTx,
    site: &Site,
    user: SessionUser,
    ip: &str,
    headers: &HeaderMap,
    location: &str,
) -> Result<Response, WebError> {
    let cookie = start_session(state, tx, site, user, ip, headers).await?;
    let mut response = see_other(location);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Opens a new session for `user`, commits, and returns its `Set-Cookie` value.
pub(crate) async fn start_session(
    state: &AppState,
    mut tx: portico_store::AuthTx,
    site: &Site,
    user: SessionUser,
    ip: &str,
    headers: &HeaderMap,
) -> Result<axum::http::HeaderValue, WebError> {
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
    let name = session_cookie_name(&state.config, site.surface);
    Ok(set_cookie(&state.config, name, &token, None))
}

#[cfg(test)]
mod tests {
    use super::*;

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
