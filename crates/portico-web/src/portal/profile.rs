//! P17 Profile: change password, see active sessions, sign out everywhere else, and switch
//! company for users of a client group.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{CompanyId, Principal};
use portico_store::{SessionInfo, StoreError};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::local_time::MyZone;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "portal/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    name: String,
    email: String,
    role: String,
    sessions: Vec<SessionInfo>,
    current: String,
    /// The latest sign-ins (and failed ones) to this account, from the audit log.
    sign_ins: Vec<portico_store::scoped::audit_log::AuditEntry>,
    error: String,
    notice: String,
    my_zone: MyZone,
}

async fn profile_page(
    state: &AppState,
    auth: &Auth,
    error: String,
    notice: &str,
) -> Result<ProfilePage, WebError> {
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    let sessions = tx.sessions_of(auth.session_user()).await?;
    tx.commit().await?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let my_zone = MyZone::read(auth, &mut tx).await?;
    let sign_ins = tx.my_sign_ins(10).await?;
    tx.commit().await?;
    Ok(ProfilePage {
        chrome: Chrome::signed_in(auth, "Profile", "/profile"),
        name: portal.name().to_owned(),
        email: portal.email().to_owned(),
        role: portal.role().label().to_owned(),
        sessions,
        current: auth.id_hash.clone(),
        sign_ins,
        error,
        notice: notice.to_owned(),
        my_zone,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let notice = match query.as_deref() {
        Some("password") => "Your password was changed.",
        Some("signed-out") => "Your other sessions were signed out.",
        Some("zone") => "Your time zone was saved.",
        _ => "",
    };
    Ok(render::ok(
        &profile_page(&state, &auth, String::new(), notice).await?,
    ))
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let error = if form.get("new_password") != form.get("confirm") {
        "The two new passwords do not match.".to_owned()
    } else {
        let mut tx = state.store.auth(auth.site.workspace_id).await?;
        match tx
            .change_password(
                auth.session_user(),
                form.get("current_password"),
                form.get("new_password"),
            )
            .await
        {
            Ok(()) => {
                // Other sessions opened with the old password end; this one stays.
                tx.end_other_sessions(auth.session_user(), &auth.id_hash)
                    .await?;
                tx.audit_account(
                    auth.session_user(),
                    portico_core::AuditAction::PasswordChanged,
                    auth.scope.origin(),
                    "from the profile",
                )
                .await?;
                tx.commit().await?;
                return Ok(see_other("/profile?password"));
            }
            Err(StoreError::Invalid(m)) => m,
            Err(e) => return Err(e.into()),
        }
    };
    Ok(render::refused(
        &profile_page(&state, &auth, error, "").await?,
    ))
}

pub(crate) async fn end_other_sessions(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    let ended = tx
        .end_other_sessions(auth.session_user(), &auth.id_hash)
        .await?;
    tx.audit_account(
        auth.session_user(),
        portico_core::AuditAction::SessionEnded,
        auth.scope.origin(),
        &format!("{ended} other session(s) of their own"),
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/profile?signed-out"))
}

/// Ends one of the user's other sessions (a browser left signed in somewhere).
pub(crate) async fn end_session(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let id_hash = form.get("session");
    if id_hash == auth.id_hash {
        return Err(WebError::BadRequest(
            "To end this browser's session, sign out.".into(),
        ));
    }
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    // Ended already, or never theirs: the same answer either way.
    match tx.end_session_of(auth.session_user(), id_hash).await {
        Err(StoreError::NotFound) => {
            return Err(WebError::BadRequest(
                "That session has ended already.".into(),
            ));
        }
        other => other?,
    }
    tx.audit_account(
        auth.session_user(),
        portico_core::AuditAction::SessionEnded,
        auth.scope.origin(),
        "one other session of their own",
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/profile?signed-out"))
}

pub(crate) async fn switch_company(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    let company = CompanyId::parse(form.get("company")).ok_or(WebError::NotFound)?;
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    tx.switch_company(&auth.token, portal.user_id(), company)
        .await?;
    tx.commit().await?;
    Ok(see_other("/"))
}
