//! Workspace branding: name, colours, welcome text and logo, with a preview of the portal header.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::Response;
use portico_store::StoreError;
use portico_store::scoped::branding::{MAX_LOGO_BYTES, normalise_color};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FormData;
use crate::render::{self, Chrome};
use crate::svg::check_logo;
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/branding.html")]
struct BrandingPage {
    chrome: Chrome,
    name: String,
    primary: String,
    secondary: String,
    welcome: String,
    has_logo: bool,
    /// Query string of the preview stylesheet, already validated colours only.
    preview_query: String,
    error: String,
    logo_error: String,
    notice: String,
}

fn preview_query(primary: &str, secondary: &str) -> String {
    match (normalise_color(primary), normalise_color(secondary)) {
        (Some(p), Some(s)) => format!("primary=%23{}&secondary=%23{}", &p[1..], &s[1..]),
        _ => String::new(),
    }
}

async fn current(state: &AppState, auth: &Auth) -> Result<BrandingPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let b = tx.branding().await?;
    tx.commit().await?;
    Ok(BrandingPage {
        chrome: Chrome::signed_in(auth, "Branding", "/settings/branding"),
        preview_query: preview_query(&b.primary_color, &b.secondary_color),
        name: b.name,
        primary: b.primary_color,
        secondary: b.secondary_color,
        welcome: b.welcome_text,
        has_logo: b.has_logo,
        error: String::new(),
        logo_error: String::new(),
        notice: String::new(),
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let mut page = current(&state, &auth).await?;
    page.notice = match query.as_deref() {
        Some("saved") => "Branding saved. The portal shows it from the next page load.".into(),
        Some("logo") => "Logo updated.".into(),
        _ => String::new(),
    };
    Ok(render::ok(&page))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let mut page = current(&state, &auth).await?;
    let preview = form.get("action") == "preview";
    let mut error = String::new();
    if !preview {
        let mut tx = state.store.scoped_write(&auth.scope).await?;
        match tx
            .save_branding(
                form.get("name"),
                form.get("primary"),
                form.get("secondary"),
                form.get("welcome"),
            )
            .await
        {
            Ok(()) => {
                tx.commit().await?;
                state.hosts.forget(auth.site.workspace_id);
                return Ok(see_other("/settings/branding?saved"));
            }
            Err(StoreError::Invalid(m)) => error = m,
            Err(e) => return Err(e.into()),
        }
    }
    // A preview, or a refusal: the form again with what was typed, and the header in those colours.
    page.name = form.get("name").to_owned();
    page.primary = form.get("primary").to_owned();
    page.secondary = form.get("secondary").to_owned();
    page.welcome = form.get("welcome").to_owned();
    page.preview_query = preview_query(&page.primary, &page.secondary);
    if preview && page.preview_query.is_empty() {
        error = "Colours must look like #1a73e8.".into();
    }
    page.error = error;
    Ok(if page.error.is_empty() {
        render::ok(&page)
    } else {
        render::refused(&page)
    })
}

pub(crate) async fn upload_logo(
    State(state): State<AppState>,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let mut csrf = String::new();
    let mut logo: Option<Vec<u8>> = None;
    let mut remove = false;
    let unreadable = || WebError::BadRequest("The upload could not be read.".into());
    while let Some(mut field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.map_err(|_| unreadable())?,
            "remove" => remove = true,
            "logo" => {
                // Read no more than one byte past the limit, however large the body.
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_LOGO_BYTES {
                        break;
                    }
                }
                if !bytes.is_empty() {
                    logo = Some(bytes);
                }
            }
            _ => {}
        }
    }
    auth.check_csrf(&FormData::single("csrf", &csrf))?;
    let mut page = current(&state, &auth).await?;
    let checked = match (&logo, remove) {
        (_, true) => Ok(None),
        (None, false) => Err("Choose a PNG or SVG file to upload.".to_owned()),
        (Some(bytes), false) if bytes.len() > MAX_LOGO_BYTES => {
            Err("The logo may be at most 256 KiB.".to_owned())
        }
        (Some(bytes), false) => check_logo(bytes)
            .map(|mime| Some((mime, bytes.clone())))
            .map_err(|e| e.to_string()),
    };
    match checked {
        Ok(value) => {
            let mut tx = state.store.scoped_write(&auth.scope).await?;
            tx.set_logo(value).await?;
            tx.commit().await?;
            state.hosts.forget(auth.site.workspace_id);
            Ok(see_other("/settings/branding?logo"))
        }
        Err(message) => {
            page.logo_error = message;
            Ok(render::refused(&page))
        }
    }
}
