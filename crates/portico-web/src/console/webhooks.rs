//! The owners' webhooks (I1): URLs subscribed to the workspace's events, each with its signing
//! secret (shown once), switched on and off, removed; every delivery's attempts with the
//! receiver's answers, and a delivery sent again by hand. The sending is `portico-hooks`'.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::WebhookEndpointId;
use portico_store::StoreError;
use portico_store::scoped::webhooks::{
    NewWebhookEndpoint, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent,
};
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct EndpointsPage {
    chrome: Chrome,
    endpoints: Vec<WebhookEndpoint>,
    events: &'static [WebhookEvent],
    notice: &'static str,
    /// The form as typed (refused), or empty.
    url: String,
    description: String,
    chosen: Vec<String>,
    errors: FieldErrors,
    /// An endpoint just made, with its secret: shown this once.
    created: Option<(WebhookEndpointId, String)>,
}

async fn endpoints_page(
    state: &AppState,
    auth: &Auth,
    form: Option<&FormData>,
    errors: FieldErrors,
    created: Option<(WebhookEndpointId, String)>,
    notice: &'static str,
) -> Result<EndpointsPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let endpoints = tx.webhook_endpoints().await?;
    tx.commit().await?;
    Ok(EndpointsPage {
        chrome: Chrome::signed_in(auth, "Webhooks", "/settings/webhooks"),
        endpoints,
        events: WebhookEvent::ALL,
        notice,
        url: form.map(|f| f.get("url").to_owned()).unwrap_or_default(),
        description: form
            .map(|f| f.get("description").to_owned())
            .unwrap_or_default(),
        chosen: match form {
            Some(f) => f.all("events").into_iter().map(str::to_owned).collect(),
            None => WebhookEvent::ALL
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect(),
        },
        errors,
        created,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let notice = match query.as_deref() {
        Some("on") => "The endpoint is switched on: events are sent to it again.",
        Some("off") => "The endpoint is switched off: nothing is sent to it.",
        Some("removed") => "The endpoint was removed with its delivery log.",
        _ => "",
    };
    Ok(render::ok(
        &endpoints_page(&state, &auth, None, FieldErrors::default(), None, notice).await?,
    ))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let new = NewWebhookEndpoint {
        url: form.get("url"),
        description: form.get("description"),
        events: form
            .all("events")
            .into_iter()
            .filter_map(WebhookEvent::parse)
            .collect(),
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.create_webhook_endpoint(&new).await {
        Ok(created) => {
            tx.commit().await?;
            let page = endpoints_page(
                &state,
                &auth,
                None,
                FieldErrors::default(),
                Some(created),
                "",
            )
            .await?;
            Ok(render::secret_once(&page))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page =
                endpoints_page(&state, &auth, Some(&form), FieldErrors(errors), None, "").await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

/// The endpoint a form or link names; an unreadable id is one of nobody's (not found, after
/// the permission check the store makes first).
fn endpoint_named(text: &str) -> WebhookEndpointId {
    WebhookEndpointId::parse(text).unwrap_or_default()
}

pub(crate) async fn switch(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let on = form.get("enabled") == "1";
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_webhook_endpoint_enabled(endpoint_named(form.get("endpoint")), on)
        .await?;
    tx.commit().await?;
    Ok(see_other(if on {
        "/settings/webhooks?on"
    } else {
        "/settings/webhooks?off"
    }))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.delete_webhook_endpoint(endpoint_named(form.get("endpoint")))
        .await?;
    tx.commit().await?;
    Ok(see_other("/settings/webhooks?removed"))
}

#[derive(Template)]
#[template(path = "console/webhook_log.html")]
struct LogPage {
    chrome: Chrome,
    endpoint: WebhookEndpoint,
    deliveries: Vec<(WebhookDelivery, Vec<WebhookAttempt>)>,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
pub(crate) struct LogQuery {
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    done: String,
}

/// `GET /settings/webhooks/log?endpoint=…`: an endpoint's latest deliveries and attempts.
pub(crate) async fn log(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<LogQuery>,
) -> Result<Response, WebError> {
    let id = endpoint_named(&query.endpoint);
    let mut tx = state.store.scoped(&auth.scope).await?;
    let endpoint = tx.webhook_endpoint(id).await?;
    let deliveries = tx.webhook_deliveries(id).await?;
    tx.commit().await?;
    Ok(render::ok(&LogPage {
        chrome: Chrome::signed_in(&auth, "Webhook deliveries", "/settings/webhooks"),
        endpoint,
        deliveries,
        notice: match query.done.as_str() {
            "redeliver" => "The delivery is queued to be sent again within seconds.",
            _ => "",
        },
    }))
}

pub(crate) async fn redeliver(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let id = endpoint_named(form.get("endpoint"));
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.redeliver_webhook(id, form.get("delivery")).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "/settings/webhooks/log?endpoint={id}&done=redeliver"
    )))
}
