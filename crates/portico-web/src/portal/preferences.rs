//! P16 E-mail preferences: which ticket mails the signed-in portal user receives.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, Principal, Section};
use portico_store::scoped::ticket_workflow::NotificationPreferences;
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "portal/preferences.html")]
struct PreferencesPage {
    chrome: Chrome,
    heading: String,
    prefs: NotificationPreferences,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let heading = section_heading(&auth)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let prefs = tx.notification_preferences().await?;
    tx.commit().await?;
    Ok(render::ok(&PreferencesPage {
        chrome: Chrome::signed_in(&auth, &heading, "/preferences"),
        heading,
        prefs,
        notice: if query.saved.is_some() {
            "Your preferences were saved."
        } else {
            ""
        },
    }))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    section_heading(&auth)?;
    let prefs = NotificationPreferences {
        ticket_updates: form.checked("ticket_updates"),
        ticket_resolved: form.checked("ticket_resolved"),
        satisfaction_survey: form.checked("satisfaction_survey"),
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_notification_preferences(prefs).await?;
    tx.commit().await?;
    Ok(see_other("/preferences?saved"))
}

/// The section's label as the company names it; `NotFound` when the company switched the
/// section off, like any other section.
fn section_heading(auth: &Auth) -> Result<String, WebError> {
    auth.scope
        .may(Action::ViewSection(Section::EmailPreferences))
        .map_err(|_| WebError::NotFound)?;
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    Ok(portal
        .section_label(Section::EmailPreferences)
        .unwrap_or(Section::EmailPreferences.label())
        .to_owned())
}
