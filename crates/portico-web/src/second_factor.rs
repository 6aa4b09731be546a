//! Two-step verification on both surfaces (A3, P17): the second step of signing in (a code
//! from an authenticator app, or a recovery code; setting the app up first when the workspace
//! or company requires it), and each person's security page, where they turn it on and off,
//! make new recovery codes and forget remembered browsers.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use portico_core::AuditAction;
use portico_store::mfa::{ChallengeOutcome, Enrolment, MfaStatus};
use portico_store::{SessionUser, StoreError, SurfaceKind};

use crate::auth::{Auth, ClientIp, PublicForm, RequestOrigin, SignedForm};
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::session::{read_cookie, set_cookie};
use crate::sign_in::{self, user_agent};
use crate::{AppState, Site, WebConfig, see_other};

/// The cookie carrying a sign-in's challenge between the password and the code.
fn challenge_cookie_name(config: &WebConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-portico_mfa"
    } else {
        "portico_mfa"
    }
}

/// The cookie of a browser the user chose to remember.
pub(crate) fn device_cookie_name(config: &WebConfig, surface: SurfaceKind) -> &'static str {
    match (config.secure_cookies, surface) {
        (true, SurfaceKind::Console) => "__Host-portico_device_console",
        (true, SurfaceKind::Portal) => "__Host-portico_device_portal",
        (false, SurfaceKind::Console) => "portico_device_console",
        (false, SurfaceKind::Portal) => "portico_device_portal",
    }
}

/// Sets the challenge cookie and sends the browser to the second step.
pub(crate) fn to_second_step(config: &WebConfig, challenge: &str) -> Response {
    let mut response = see_other("/login/verify");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            config,
            challenge_cookie_name(config),
            challenge,
            Some(portico_store::mfa::CHALLENGE_TTL_SECS),
        ),
    );
    response
}

/// An enrolment's QR code as inline SVG (our own markup: the only text in it is the code's
/// geometry), with the link it encodes for screen readers.
pub(crate) fn qr_svg(enrolment: &Enrolment) -> String {
    match qrcode::QrCode::with_error_correction_level(&enrolment.url, qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            // Inline SVG takes no XML declaration.
            let svg = svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest);
            svg.replacen(
                "<svg ",
                "<svg role=\"img\" aria-label=\"QR code to scan with your authenticator app\" class=\"qr\" ",
                1,
            )
        }
        Err(_) => String::new(),
    }
}

// ----- the second step of signing in ----------------------------------------------------------

#[derive(Template)]
#[template(path = "second_step.html")]
struct SecondStepPage {
    chrome: Chrome,
    form_token: String,
    enrolment: Option<Enrolment>,
    qr: String,
    error: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    heading: &'static str,
    codes: Vec<String>,
    next: String,
}

fn second_step_page(
    site: &Site,
    form_token: String,
    enrolment: Option<Enrolment>,
    error: &str,
) -> SecondStepPage {
    let title = if enrolment.is_some() {
        "Set up two-step verification"
    } else {
        "Two-step verification"
    };
    SecondStepPage {
        chrome: Chrome::anonymous(site, title),
        form_token,
        qr: enrolment.as_ref().map(qr_svg).unwrap_or_default(),
        enrolment,
        error: error.to_owned(),
    }
}

fn expired() -> Response {
    see_other("/login?done=expired")
}

pub(crate) async fn second_step(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let Some(challenge) = read_cookie(&headers, challenge_cookie_name(&state.config)) else {
        return Ok(expired());
    };
    let mut tx = state.store.auth(site.workspace_id).await?;
    let open = tx.challenge(site.surface, challenge).await?;
    tx.commit().await?;
    let Some(open) = open else {
        return Ok(expired());
    };
    let (form_token, cookie) = sign_in::form_token(&state, &headers);
    let page = second_step_page(&site, form_token, open.enrolment, "");
    Ok(sign_in::with_cookie(render::ok(&page), cookie))
}

pub(crate) async fn second_step_submit(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    RequestOrigin(origin): RequestOrigin,
    PublicForm(form): PublicForm,
) -> Result<Response, WebError> {
    let Some(challenge) = read_cookie(&headers, challenge_cookie_name(&state.config)) else {
        return Ok(expired());
    };
    let mut tx = state.store.auth(site.workspace_id).await?;
    let Some(open) = tx.challenge(site.surface, challenge).await? else {
        tx.commit().await?;
        return Ok(expired());
    };
    let outcome = tx
        .answer_challenge(site.surface, challenge, form.get("code"), &ip)
        .await?;
    let (error, status) = match outcome {
        ChallengeOutcome::Passed {
            user,
            next,
            recovery_codes,
            how,
        } => {
            if !recovery_codes.is_empty() {
                tx.audit_account(user, AuditAction::MfaEnabled, &origin, "at sign-in")
                    .await?;
            }
            tx.audit_account(user, AuditAction::SignIn, &origin, how)
                .await?;
            let device = if form.get("remember") == "on" && recovery_codes.is_empty() {
                Some(tx.remember_device(user, user_agent(&headers)).await?)
            } else {
                None
            };
            let session = sign_in::start_session(&state, tx, &site, user, &ip, &headers).await?;
            let mut response = if recovery_codes.is_empty() {
                see_other(&next)
            } else {
                render::ok(&RecoveryCodesPage {
                    chrome: Chrome::anonymous(&site, "Your recovery codes"),
                    heading: "Two-step verification is on",
                    codes: recovery_codes,
                    next,
                })
            };
            let cookies = response.headers_mut();
            cookies.append(header::SET_COOKIE, session);
            cookies.append(
                header::SET_COOKIE,
                set_cookie(
                    &state.config,
                    challenge_cookie_name(&state.config),
                    "",
                    Some(0),
                ),
            );
            if let Some(device) = device {
                cookies.append(
                    header::SET_COOKIE,
                    set_cookie(
                        &state.config,
                        device_cookie_name(&state.config, site.surface),
                        &device,
                        Some(portico_store::mfa::REMEMBERED_DEVICE_SECS),
                    ),
                );
            }
            return Ok(response);
        }
        ChallengeOutcome::Wrong => (
            "That code is not right. Enter the code your app shows now, or one of your recovery codes.",
            StatusCode::UNAUTHORIZED,
        ),
        ChallengeOutcome::Throttled => (
            "Too many unsuccessful attempts. Wait 15 minutes, then try again.",
            StatusCode::TOO_MANY_REQUESTS,
        ),
        ChallengeOutcome::Expired => {
            tx.commit().await?;
            return Ok(expired());
        }
    };
    let why = if status == StatusCode::TOO_MANY_REQUESTS {
        "second step refused: too many attempts"
    } else {
        "wrong verification code"
    };
    tx.audit_account(open.user, AuditAction::SignInFailed, &origin, why)
        .await?;
    // The enrolment shown again is the same secret: the app already set up stays good.
    let still = tx.challenge(site.surface, challenge).await?;
    tx.commit().await?;
    let Some(still) = still else {
        return Ok(expired());
    };
    let page = second_step_page(
        &site,
        form.get("form_token").to_owned(),
        still.enrolment,
        error,
    );
    Ok(render::page(status, &page))
}

// ----- each person's security page ----------------------------------------------------------

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    chrome: Chrome,
    status: MfaStatus,
    error: String,
    notice: &'static str,
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    chrome: Chrome,
    enrolment: Enrolment,
    qr: String,
    error: String,
}

/// The security page is the signed-in person's own: never shown to staff viewing the portal
/// as them.
fn own(auth: &Auth) -> Result<SessionUser, WebError> {
    if auth.scope.view_as().is_some() {
        return Err(WebError::NotFound);
    }
    Ok(auth.session_user())
}

fn current(auth: &Auth) -> &'static str {
    match auth.session_user() {
        SessionUser::Staff(_) => "/settings",
        SessionUser::Portal(_) => "/profile",
    }
}

async fn security_page(
    state: &AppState,
    auth: &Auth,
    error: String,
    notice: &'static str,
) -> Result<SecurityPage, WebError> {
    let user = own(auth)?;
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    let status = tx.mfa_status(user).await?;
    tx.commit().await?;
    Ok(SecurityPage {
        chrome: Chrome::signed_in(auth, "Sign-in security", current(auth)),
        status,
        error,
        notice,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let notice = match query.as_deref() {
        Some("off") => "Two-step verification is off.",
        Some("forgotten") => "Remembered browsers were forgotten: each asks for a code again.",
        _ => "",
    };
    Ok(render::ok(
        &security_page(&state, &auth, String::new(), notice).await?,
    ))
}

async fn enrol_page(state: &AppState, auth: &Auth, error: String) -> Result<Response, WebError> {
    let user = own(auth)?;
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    let enrolment = match tx.begin_enrolment(user).await {
        Ok(enrolment) => enrolment,
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            return Ok(render::refused(
                &security_page(state, auth, message, "").await?,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let page = EnrolPage {
        chrome: Chrome::signed_in(auth, "Set up two-step verification", current(auth)),
        qr: qr_svg(&enrolment),
        enrolment,
        error: error.clone(),
    };
    Ok(if error.is_empty() {
        render::ok(&page)
    } else {
        render::refused(&page)
    })
}

/// Starts (or shows again) setting up an authenticator app.
pub(crate) async fn enrol(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    enrol_page(&state, &auth, String::new()).await
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let user = own(&auth)?;
    let code: String = form
        .get("code")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return enrol_page(
            &state,
            &auth,
            "Enter the six-digit code your authenticator app shows.".into(),
        )
        .await;
    }
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    match tx.confirm_enrolment(user, &code).await {
        Ok(codes) => {
            tx.audit_account(
                user,
                AuditAction::MfaEnabled,
                auth.scope.origin(),
                "from the security page",
            )
            .await?;
            tx.commit().await?;
            Ok(render::ok(&RecoveryCodesPage {
                chrome: Chrome::signed_in(&auth, "Your recovery codes", current(&auth)),
                heading: "Two-step verification is on",
                codes,
                next: "/security".into(),
            }))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            enrol_page(&state, &auth, message).await
        }
        Err(StoreError::NotFound) => Ok(see_other("/security")),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn disable(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let user = own(&auth)?;
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    match tx.disable_mfa(user, form.get("password")).await {
        Ok(()) => {
            tx.audit_account(
                user,
                AuditAction::MfaDisabled,
                auth.scope.origin(),
                "from the security page",
            )
            .await?;
            tx.commit().await?;
            Ok(see_other("/security?off"))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            Ok(render::refused(
                &security_page(&state, &auth, message, "").await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn renew_codes(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let user = own(&auth)?;
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    match tx.renew_recovery_codes(user, form.get("password")).await {
        Ok(codes) => {
            tx.audit_account(
                user,
                AuditAction::RecoveryCodesRenewed,
                auth.scope.origin(),
                "the earlier codes stopped working",
            )
            .await?;
            tx.commit().await?;
            Ok(render::ok(&RecoveryCodesPage {
                chrome: Chrome::signed_in(&auth, "Your recovery codes", current(&auth)),
                heading: "New recovery codes",
                codes,
                next: "/security".into(),
            }))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            Ok(render::refused(
                &security_page(&state, &auth, message, "").await?,
            ))
        }
        Err(StoreError::NotFound) => Ok(see_other("/security")),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn forget_devices(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let user = own(&auth)?;
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    let forgotten = tx.forget_devices(user).await?;
    tx.audit_account(
        user,
        AuditAction::DevicesForgotten,
        auth.scope.origin(),
        &format!("{forgotten} browser(s)"),
    )
    .await?;
    tx.commit().await?;
    let mut response = see_other("/security?forgotten");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state.config,
            device_cookie_name(&state.config, auth.site.surface),
            "",
            Some(0),
        ),
    );
    Ok(response)
}

/// The remembered-device token this browser sent, for the sign-in.
pub(crate) fn device_token<'h>(
    config: &WebConfig,
    surface: SurfaceKind,
    headers: &'h HeaderMap,
) -> Option<&'h str> {
    read_cookie(headers, device_cookie_name(config, surface))
}
