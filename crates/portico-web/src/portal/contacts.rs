//! P10 Contacts: who the MSP deals with at the client, and in which role (the purchase approver
//! is the one purchase requests go to). Read-only here (a change is requested); the roster is kept in the console.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Principal, Section};
use portico_store::scoped::companies::Contact;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "portal/contacts.html")]
struct ContactsPage {
    chrome: Chrome,
    heading: String,
    contacts: Vec<Contact>,
    /// Change requests are on for the company and the reader may raise them.
    can_request_change: bool,
}

pub(crate) async fn list(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    let heading = portal
        .section_label(Section::Contacts)
        .unwrap_or(Section::Contacts.label())
        .to_owned();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let contacts = tx.contacts(portal.company_id()).await?;
    tx.commit().await?;
    Ok(render::ok(&ContactsPage {
        chrome: Chrome::signed_in(&auth, &heading, "/contacts"),
        heading,
        contacts,
        can_request_change: auth.scope.may(portico_core::Action::RequestChanges).is_ok(),
    }))
}

/// The roster as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, WebError> {
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    let mut tx = state.store.scoped(&auth.scope).await?;
    let contacts = tx.contacts(portal.company_id()).await?;
    tx.commit().await?;
    Ok(crate::csv_export::contacts(&contacts))
}
