//! The owners' single sign-on page: the workspace's OpenID Connect provider (A3).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_store::StoreError;
use portico_store::scoped::sso::{SsoChange, SsoSettings};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/sso.html")]
struct SsoPage {
    chrome: Chrome,
    settings: SsoSettings,
    configured: bool,
    errors: FieldErrors,
    saved: bool,
    /// The addresses to register at the provider.
    console_callback: String,
    portal_callback: String,
}

async fn sso_page(
    state: &AppState,
    auth: &Auth,
    typed: Option<&FormData>,
    errors: FieldErrors,
    saved: bool,
) -> Result<SsoPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let stored = tx.sso_settings().await?;
    tx.commit().await?;
    let configured = stored.is_some();
    let mut settings = stored.unwrap_or_default();
    if let Some(form) = typed {
        settings.display_name = form.get("display_name").to_owned();
        settings.issuer_url = form.get("issuer_url").to_owned();
        settings.client_id = form.get("client_id").to_owned();
        settings.for_staff = form.checked("for_staff");
        settings.for_portal = form.checked("for_portal");
    }
    let links = crate::mail_links(state, auth.site.workspace_id).await?;
    Ok(SsoPage {
        chrome: Chrome::signed_in(auth, "Single sign-on", "/settings/sso"),
        settings,
        configured,
        errors,
        saved,
        console_callback: format!("{}/login/sso/callback", links.console),
        portal_callback: format!("{}/login/sso/callback", links.portal),
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let saved = query.as_deref() == Some("saved");
    Ok(render::ok(
        &sso_page(&state, &auth, None, FieldErrors::default(), saved).await?,
    ))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let change = SsoChange {
        display_name: form.get("display_name"),
        issuer_url: form.get("issuer_url"),
        client_id: form.get("client_id"),
        client_secret: form.get("client_secret"),
        for_staff: form.checked("for_staff"),
        for_portal: form.checked("for_portal"),
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.save_sso_settings(&change).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other("/settings/sso?saved"))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = sso_page(&state, &auth, Some(&form), FieldErrors(errors), false).await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}
