//! C2 the workspace's canned responses: owners write them here; everyone who answers tickets
//! inserts them on a ticket's page, placeholders filled in.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, CannedResponseId};
use portico_store::StoreError;
use portico_store::scoped::canned_responses::{CannedResponse, PLACEHOLDERS};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// One response's form as shown: as stored, or as typed when it was refused.
pub(crate) struct Editing {
    /// Empty for the form that adds one.
    id: String,
    title: String,
    body: String,
    errors: Vec<(String, String)>,
}

impl Editing {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The id of a field of this form (each response has its own form on the page).
    fn field(&self, name: &str) -> String {
        if self.id.is_empty() {
            format!("new-{name}")
        } else {
            format!("{name}-{}", self.id)
        }
    }
}

#[derive(Template)]
#[template(path = "console/canned_responses.html")]
struct CannedPage {
    chrome: Chrome,
    adding: Editing,
    responses: Vec<Editing>,
    placeholders: &'static [(&'static str, &'static str)],
    notice: &'static str,
}

fn shown(r: CannedResponse) -> Editing {
    Editing {
        id: r.id.to_string(),
        title: r.title,
        body: r.body,
        errors: Vec::new(),
    }
}

async fn canned_page(
    state: &AppState,
    auth: &Auth,
    refused: Option<Editing>,
    notice: &'static str,
) -> Result<CannedPage, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let stored = tx.canned_responses().await?;
    tx.commit().await?;
    let mut adding = Editing {
        id: String::new(),
        title: String::new(),
        body: String::new(),
        errors: Vec::new(),
    };
    let mut responses: Vec<Editing> = stored.into_iter().map(shown).collect();
    if let Some(refused) = refused {
        if refused.id.is_empty() {
            adding = refused;
        } else if let Some(slot) = responses.iter_mut().find(|r| r.id == refused.id) {
            *slot = refused;
        }
    }
    Ok(CannedPage {
        chrome: Chrome::signed_in(auth, "Canned responses", "/settings/canned-responses"),
        adding,
        responses,
        placeholders: PLACEHOLDERS,
        notice,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let notice = match query.get("done").map(String::as_str) {
        Some("added") => "Canned response added.",
        Some("saved") => "Canned response saved.",
        Some("deleted") => "Canned response deleted.",
        _ => "",
    };
    Ok(render::ok(&canned_page(&state, &auth, None, notice).await?))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let id =
        match form.get("id") {
            "" => None,
            text => Some(CannedResponseId::parse(text).ok_or_else(|| {
                WebError::BadRequest("That canned response does not exist.".into())
            })?),
        };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    if form.get("action") == "delete" {
        let id = id.ok_or_else(|| WebError::BadRequest("Choose a canned response.".into()))?;
        tx.delete_canned_response(id).await?;
        tx.commit().await?;
        return Ok(see_other("/settings/canned-responses?done=deleted"));
    }
    match tx
        .save_canned_response(id, form.get("title"), form.get("body"))
        .await
    {
        Ok(_) => {
            tx.commit().await?;
            Ok(see_other(if id.is_some() {
                "/settings/canned-responses?done=saved"
            } else {
                "/settings/canned-responses?done=added"
            }))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let refused = Editing {
                id: id.map(|i| i.to_string()).unwrap_or_default(),
                title: form.get("title").to_owned(),
                body: form.get("body").to_owned(),
                errors,
            };
            Ok(render::refused(
                &canned_page(&state, &auth, Some(refused), "").await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
