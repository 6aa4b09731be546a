//! View as (C6), the portal's side: redeeming the console's hand-over for a read-only session
//! of the chosen user, and ending the view. The console's side is
//! `console::portal_users::view_as`; the read-only guard and the audit of every page seen are
//! in the `Auth` extractor.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use portico_core::AuditAction;
use portico_store::StoreError;
use serde::Deserialize;

use crate::auth::{ClientIp, SignedForm};
use crate::error::WebError;
use crate::session::{session_cookie_name, set_cookie};
use crate::{AppState, Site, see_other};

#[derive(Deserialize, Default)]
pub(crate) struct HandoffQuery {
    #[serde(default)]
    token: String,
}

/// `GET /view-as?token=…`: the console's hand-over, good once and for a minute.
pub(crate) async fn start(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Query(query): Query<HandoffQuery>,
) -> Result<Response, WebError> {
    if query.token.len() != 64 {
        return Err(expired());
    }
    let mut tx = state.store.auth(site.workspace_id).await?;
    let session = match tx
        .redeem_view_as(&query.token, &ip, crate::sign_in::user_agent(&headers))
        .await
    {
        Ok(session) => session,
        Err(StoreError::NotFound) => return Err(expired()),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let mut response = see_other("/");
    let name = session_cookie_name(&state.config, site.surface);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.config, name, &session.token, None),
    );
    Ok(response)
}

fn expired() -> WebError {
    WebError::BadRequest(
        "This view-as link has expired or was already used. Start again from the console.".into(),
    )
}

/// `POST /view-as/end`: the view ends before its fifteen minutes.
pub(crate) async fn end(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = match auth.scope.companies() {
        portico_core::CompanySet::Only(ids) => ids.first().copied(),
        portico_core::CompanySet::All => None,
    };
    let Some(target) = auth
        .scope
        .view_as()
        .map(|view| view.target(auth.scope.actor(), auth.scope.actor_name()))
    else {
        return Err(WebError::NotFound);
    };
    let mut tx = state.store.auth(auth.site.workspace_id).await?;
    tx.end_session(&auth.token).await?;
    tx.commit().await?;
    state.store.audit_view(
        &auth.scope,
        AuditAction::ViewAsEnded,
        company,
        target,
        "ended by the viewer",
    )?;
    let mut response = see_other("/login?done=view-ended");
    let name = session_cookie_name(&state.config, auth.site.surface);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.config, name, "", Some(0)),
    );
    Ok(response)
}
