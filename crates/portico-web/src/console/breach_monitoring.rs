//! The workspace's breach monitoring (P5), for owners: the MSP's Have I Been Pwned API key
//! (sealed at rest, never shown again but for its last characters) and the address it is used
//! at. The domain worker searches each client's e-mail domains with it.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_store::StoreError;
use portico_store::scoped::breaches::{BreachMonitoring, HIBP_API_URL};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{DoneQuery, FieldErrors};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/breach_monitoring.html")]
struct BreachMonitoringPage {
    chrome: Chrome,
    current: Option<BreachMonitoring>,
    api_url: String,
    errors: FieldErrors,
    notice: &'static str,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let notice = match done.done.as_str() {
        "saved" => "Saved: each client's domains are searched at their next check.",
        "removed" => "The key was removed: no more searches are made.",
        _ => "",
    };
    render_page(&state, &auth, None, FieldErrors::default(), notice).await
}

async fn render_page(
    state: &AppState,
    auth: &Auth,
    typed_url: Option<String>,
    errors: FieldErrors,
    notice: &'static str,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let current = tx.breach_monitoring().await?;
    tx.commit().await?;
    let api_url = typed_url.unwrap_or_else(|| {
        current
            .as_ref()
            .map(|c| c.api_url.clone())
            .unwrap_or_else(|| HIBP_API_URL.to_owned())
    });
    let refused = !errors.is_empty();
    let page = BreachMonitoringPage {
        chrome: Chrome::signed_in(auth, "Breach monitoring", "/settings"),
        current,
        api_url,
        errors,
        notice,
    };
    Ok(if refused {
        render::refused(&page)
    } else {
        render::ok(&page)
    })
}

/// Saves the key (a new one, or the one set when left empty) and the address.
pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let key = form.get("key").to_owned();
    let api_url = form.get("api_url").to_owned();
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx
        .set_breach_monitoring(
            Some(key.as_str()).filter(|k| !k.trim().is_empty()),
            &api_url,
        )
        .await
    {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other("/settings/breach-monitoring?done=saved"))
        }
        Err(StoreError::InvalidFields(fields)) => {
            drop(tx);
            // The key is never shown again, not even as typed.
            render_page(&state, &auth, Some(api_url), FieldErrors(fields), "").await
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.remove_breach_monitoring().await?;
    tx.commit().await?;
    Ok(see_other("/settings/breach-monitoring?done=removed"))
}
