//! Workspace defaults for portal sections: what a company's portal shows unless overridden.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::Section;
use portico_store::StoreError;
use portico_store::scoped::portal_settings::MAX_LABEL_LEN;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

struct Row {
    slug: &'static str,
    product_label: &'static str,
    enabled: bool,
    label: String,
    has_pages: bool,
    always_on: bool,
}

#[derive(Template)]
#[template(path = "console/portal_defaults.html")]
struct DefaultsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    error: String,
    saved: bool,
    max_label: usize,
}

async fn rows(state: &AppState, auth: &Auth) -> Result<Vec<Row>, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let defaults = tx.section_defaults().await?;
    tx.commit().await?;
    Ok(defaults
        .into_iter()
        .map(|s| Row {
            slug: s.section.as_str(),
            product_label: s.section.label(),
            enabled: s.default_enabled,
            label: s.default_label,
            has_pages: s.section.has_pages(),
            always_on: s.section.always_on(),
        })
        .collect())
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    Ok(render::ok(&DefaultsPage {
        chrome: Chrome::signed_in(&auth, "Portal defaults", "/settings/portal"),
        rows: rows(&state, &auth).await?,
        error: String::new(),
        saved: query.as_deref() == Some("saved"),
        max_label: MAX_LABEL_LEN,
    }))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let mut current = rows(&state, &auth).await?;
    let defaults: Vec<(Section, bool, String)> = Section::ALL
        .iter()
        .map(|s| {
            (
                *s,
                form.checked(&format!("enabled_{}", s.as_str())),
                form.get(&format!("label_{}", s.as_str())).to_owned(),
            )
        })
        .collect();
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let error = match tx.save_section_defaults(&defaults).await {
        Ok(()) => {
            tx.commit().await?;
            return Ok(see_other("/settings/portal?saved"));
        }
        Err(StoreError::Invalid(message)) => message,
        Err(e) => return Err(e.into()),
    };
    drop(tx);
    for row in &mut current {
        row.enabled = form.checked(&format!("enabled_{}", row.slug));
        row.label = form.get(&format!("label_{}", row.slug)).to_owned();
    }
    Ok(render::refused(&DefaultsPage {
        chrome: Chrome::signed_in(&auth, "Portal defaults", "/settings/portal"),
        rows: current,
        error,
        saved: false,
        max_label: MAX_LABEL_LEN,
    }))
}
