//! Single sign-on through the workspace's OpenID Connect provider (A3), on both surfaces: the
//! authorization-code flow with PKCE, `state` (kept server-side and bound to this browser by a
//! cookie) and `nonce`; the provider's metadata and keys discovered at each sign-in, so that a
//! provider's key rotation needs nothing here; the ID token checked for signature, issuer,
//! audience, expiry and nonce by the `openidconnect` crate; and the account found by the
//! verified e-mail address ([`portico_store::AuthTx::sso_account`]).
//!
//! The redirect address is built from the workspace's configured hostname, never from the
//! request's Host header.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use portico_core::AuditAction;
use portico_store::SessionUser;
use portico_store::sso_sign_in::{SSO_LOGIN_TTL_SECS, SsoAccount, SsoProvider};
use serde::Deserialize;

use crate::auth::{ClientIp, RequestOrigin, constant_time_eq};
use crate::error::WebError;
use crate::render;
use crate::session::{read_cookie, set_cookie};
use crate::sign_in::{self, LoginPage};
use crate::{AppState, Site, WebConfig, see_other};

/// The cookie binding a sign-in in flight to the browser that started it.
fn state_cookie_name(config: &WebConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-portico_sso"
    } else {
        "portico_sso"
    }
}

/// One client for every provider: no redirects followed (a provider's endpoints answer
/// directly), and a bound on how long a slow provider holds a sign-in.
fn http() -> &'static openidconnect::reqwest::Client {
    static CLIENT: OnceLock<openidconnect::reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client with rustls builds")
    })
}

/// Why a single sign-on failed: what the person reads, and what the audit log records.
struct Refusal {
    shown: &'static str,
    recorded: String,
}

impl Refusal {
    fn new(shown: &'static str, recorded: impl Into<String>) -> Refusal {
        Refusal {
            shown,
            recorded: recorded.into(),
        }
    }
}

const UNREACHABLE: &str = "The sign-in provider could not be reached. Try again in a moment, or sign in with your password.";

/// The provider's metadata and keys, fetched now.
async fn client_for(
    provider: &SsoProvider,
    redirect: String,
) -> Result<
    openidconnect::Client<
        openidconnect::EmptyAdditionalClaims,
        openidconnect::core::CoreAuthDisplay,
        openidconnect::core::CoreGenderClaim,
        openidconnect::core::CoreJweContentEncryptionAlgorithm,
        openidconnect::core::CoreJsonWebKey,
        openidconnect::core::CoreAuthPrompt,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
        openidconnect::core::CoreTokenResponse,
        openidconnect::core::CoreTokenIntrospectionResponse,
        openidconnect::core::CoreRevocableToken,
        openidconnect::core::CoreRevocationErrorResponse,
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    Refusal,
> {
    let issuer = IssuerUrl::new(provider.issuer_url.clone())
        .map_err(|e| Refusal::new(UNREACHABLE, format!("issuer URL: {e}")))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http())
        .await
        .map_err(|e| Refusal::new(UNREACHABLE, format!("discovery: {e}")))?;
    let redirect = RedirectUrl::new(redirect)
        .map_err(|e| Refusal::new(UNREACHABLE, format!("redirect URL: {e}")))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

/// Where the provider sends people back: this surface's configured host.
async fn callback_url(state: &AppState, site: &Site) -> Result<String, WebError> {
    let hostname = state
        .store
        .public()
        .await?
        .hostname(site.workspace_id, site.surface)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(format!(
        "{}/login/sso/callback",
        state.config.base_url(&hostname)
    ))
}

#[derive(Deserialize, Default)]
pub(crate) struct StartQuery {
    #[serde(default)]
    next: String,
}

/// Sends the browser to the provider.
pub(crate) async fn start(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Result<Response, WebError> {
    let mut tx = state.store.auth(site.workspace_id).await?;
    let provider = tx
        .sso_provider(site.surface)
        .await?
        .ok_or(WebError::NotFound)?;
    tx.commit().await?;
    let client = match client_for(&provider, callback_url(&state, &site).await?).await {
        Ok(client) => client,
        Err(refusal) => {
            tracing::warn!(issuer = %provider.issuer_url, error = %refusal.recorded, "single sign-on start failed");
            return refuse(
                &state,
                &site,
                &headers,
                refusal.shown,
                StatusCode::BAD_GATEWAY,
            )
            .await;
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut tx = state.store.auth(site.workspace_id).await?;
    tx.begin_sso(
        site.surface,
        csrf.secret(),
        nonce.secret(),
        verifier.secret(),
        sign_in::safe_next(&query.next),
    )
    .await?;
    tx.commit().await?;
    let mut response = see_other(url.as_str());
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state.config,
            state_cookie_name(&state.config),
            csrf.secret(),
            Some(SSO_LOGIN_TTL_SECS),
        ),
    );
    Ok(response)
}

#[derive(Deserialize, Default)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// The provider sends the person back: check everything, find the account, open a session.
pub(crate) async fn callback(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    RequestOrigin(origin): RequestOrigin,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    let outcome = verify(&state, &site, &headers, &query).await?;
    let mut tx = state.store.auth(site.workspace_id).await?;
    let (email, user, created, next, provider) = match outcome {
        Ok(found) => found,
        Err((email, refusal)) => {
            tx.audit_attempt(
                site.surface,
                &email,
                AuditAction::SignInFailed,
                &origin,
                &format!("single sign-on: {}", refusal.recorded),
            )
            .await?;
            tx.commit().await?;
            return refuse(
                &state,
                &site,
                &headers,
                refusal.shown,
                StatusCode::UNAUTHORIZED,
            )
            .await;
        }
    };
    // An account with Portico's own second factor (or required to have one) passes it after
    // the provider too: the provider vouches for the address, not for a second factor.
    let device = crate::second_factor::device_token(&state.config, site.surface, &headers);
    if let Some(challenge) = tx.second_step(site.surface, user, device, &next).await? {
        if created {
            tx.audit_account(
                user,
                AuditAction::RecordCreated,
                &origin,
                &format!("portal user made at first single sign-on ({email})"),
            )
            .await?;
        }
        tx.commit().await?;
        let mut response = crate::second_factor::to_second_step(&state.config, &challenge);
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state.config, state_cookie_name(&state.config), "", Some(0)),
        );
        return Ok(response);
    }
    if created {
        tx.audit_account(
            user,
            AuditAction::RecordCreated,
            &origin,
            &format!("portal user made at first single sign-on ({email})"),
        )
        .await?;
    }
    tx.audit_account(
        user,
        AuditAction::SignIn,
        &origin,
        &format!("single sign-on ({provider})"),
    )
    .await?;
    let session = sign_in::start_session(&state, tx, &site, user, &ip, &headers).await?;
    let mut response = see_other(&next);
    response.headers_mut().append(header::SET_COOKIE, session);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.config, state_cookie_name(&state.config), "", Some(0)),
    );
    Ok(response)
}

type Verified = (String, SessionUser, bool, String, String);

/// Every check of the provider's answer; `Err` carries the address (if one was learnt) and why.
async fn verify(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    query: &CallbackQuery,
) -> Result<Result<Verified, (String, Refusal)>, WebError> {
    let refused = |email: &str, shown: &'static str, recorded: String| {
        Ok(Err((email.to_owned(), Refusal::new(shown, recorded))))
    };
    if !query.error.is_empty() {
        return refused(
            "",
            "The sign-in provider did not sign you in.",
            format!(
                "the provider answered {}: {}",
                query.error, query.error_description
            ),
        );
    }
    // The state must be the one this browser was given: a link from anywhere else (or the
    // same answer replayed) opens nothing.
    let cookie = read_cookie(headers, state_cookie_name(&state.config)).unwrap_or("");
    if query.state.is_empty() || !constant_time_eq(cookie.as_bytes(), query.state.as_bytes()) {
        return refused(
            "",
            "This sign-in did not start in this browser. Sign in again.",
            "state does not match this browser's".into(),
        );
    }
    let mut tx = state.store.auth(site.workspace_id).await?;
    let login = tx.take_sso(site.surface, &query.state).await?;
    let provider = tx.sso_provider(site.surface).await?;
    tx.commit().await?;
    let Some(login) = login else {
        return refused(
            "",
            "This sign-in has expired or was already used. Sign in again.",
            "state unknown, expired or already used".into(),
        );
    };
    let Some(provider) = provider else {
        return Err(WebError::NotFound);
    };
    let client = match client_for(&provider, callback_url(state, site).await?).await {
        Ok(client) => client,
        Err(refusal) => return Ok(Err((String::new(), refusal))),
    };
    let request = match client.exchange_code(AuthorizationCode::new(query.code.clone())) {
        Ok(request) => request,
        Err(e) => {
            return refused("", UNREACHABLE, format!("token endpoint: {e}"));
        }
    };
    let token = match request
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
        .request_async(http())
        .await
    {
        Ok(token) => token,
        Err(e) => {
            return refused(
                "",
                "The sign-in provider refused to complete the sign-in. Sign in again.",
                format!("code exchange: {e}"),
            );
        }
    };
    let Some(id_token) = token.id_token() else {
        return refused(
            "",
            "The sign-in provider's answer could not be trusted.",
            "no ID token".into(),
        );
    };
    let verifier = client.id_token_verifier();
    let claims = match id_token.claims(&verifier, &Nonce::new(login.nonce)) {
        Ok(claims) => claims,
        Err(e) => {
            return refused(
                "",
                "The sign-in provider's answer could not be trusted.",
                format!("ID token: {e}"),
            );
        }
    };
    // The address and its verification from the ID token, or (providers that keep them for
    // the user-info endpoint) from there, for the same subject.
    let mut email = claims.email().map(|e| e.as_str().to_owned());
    let mut verified = claims.email_verified();
    let mut name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    if email.is_none() {
        let request =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()));
        let info: Result<openidconnect::core::CoreUserInfoClaims, String> = match request {
            Ok(request) => request
                .request_async(http())
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match info {
            Ok(info) => {
                email = info.email().map(|e| e.as_str().to_owned());
                verified = info.email_verified();
                if name.is_empty() {
                    name = info
                        .name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.as_str().to_owned())
                        .unwrap_or_default();
                }
            }
            Err(e) => {
                return refused(
                    "",
                    "The sign-in provider did not tell us your e-mail address.",
                    format!("user info: {e}"),
                );
            }
        }
    }
    let Some(email) = email else {
        return refused(
            "",
            "The sign-in provider did not tell us your e-mail address.",
            "no e-mail address from the provider".into(),
        );
    };
    if verified != Some(true) {
        return refused(
            &email,
            "The sign-in provider has not verified your e-mail address, so it cannot sign you in here.",
            "e-mail address not verified by the provider".into(),
        );
    }
    let mut tx = state.store.auth(site.workspace_id).await?;
    let account = tx.sso_account(site.surface, &email, &name).await?;
    tx.commit().await?;
    let no_access = "There is no account for this address here. Ask your administrator for access.";
    Ok(match account {
        SsoAccount::User(user) => Ok((email, user, false, login.next, provider.display_name)),
        SsoAccount::Created(user) => Ok((email, user, true, login.next, provider.display_name)),
        SsoAccount::NoAccount => Err((
            email,
            Refusal::new(
                no_access,
                "no account, and no company owns the address's domain",
            ),
        )),
        SsoAccount::OtherDomain => Err((
            email,
            Refusal::new(
                no_access,
                "the account's company does not own the address's domain",
            ),
        )),
        SsoAccount::Disabled => Err((email, Refusal::new(no_access, "the account is disabled"))),
    })
}

/// The sign-in page again, with why single sign-on did not work.
async fn refuse(
    state: &AppState,
    site: &Site,
    headers: &HeaderMap,
    shown: &str,
    status: StatusCode,
) -> Result<Response, WebError> {
    let (form_token, cookie) = sign_in::form_token(state, headers);
    let page = LoginPage::build(state, site, form_token, String::new(), "/", shown, "").await?;
    Ok(sign_in::with_cookie(render::page(status, &page), cookie))
}
