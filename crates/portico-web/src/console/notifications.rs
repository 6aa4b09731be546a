//! A staff user's own settings: which of the desk's mails they receive, and their time zone.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_store::scoped::staff::StaffNotifications;
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::local_time::MyZone;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    prefs: StaffNotifications,
    my_zone: MyZone,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    zone: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let prefs = tx.my_notifications().await?;
    let my_zone = MyZone::read(&auth, &mut tx).await?;
    tx.commit().await?;
    Ok(render::ok(&NotificationsPage {
        chrome: Chrome::signed_in(&auth, "My settings", "/settings/notifications"),
        prefs,
        my_zone,
        notice: if query.saved.is_some() {
            "Your notification settings were saved."
        } else if query.zone.is_some() {
            "Your time zone was saved."
        } else {
            ""
        },
    }))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let prefs = StaffNotifications {
        new_portal_tickets: form.checked("new_portal_tickets"),
        client_activity: form.checked("client_activity"),
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_my_notifications(prefs).await?;
    tx.commit().await?;
    Ok(see_other("/settings/notifications?saved"))
}
