//! A company's portal settings: the portal switch, section toggles and labels.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{CompanyId, Section};
use portico_store::StoreError;
use portico_store::scoped::portal_settings::{MAX_LABEL_LEN, SectionChange, clean_label};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// One row of the form, as stored or as just submitted.
struct Row {
    slug: &'static str,
    default_label: String,
    default_enabled: bool,
    /// "default", "on" or "off".
    state: String,
    label: String,
    has_pages: bool,
    always_on: bool,
}

#[derive(Template)]
#[template(path = "console/portal_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    company_id: String,
    company_name: String,
    portal_enabled: bool,
    client_admin_edits: bool,
    /// The company's portal users must use two-step verification.
    mfa_required: bool,
    /// The company's portal users sign in through single sign-on only.
    sso_required: bool,
    rows: Vec<Row>,
    error: String,
    saved: bool,
    max_label: usize,
}

async fn load(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
) -> Result<(String, bool, bool, (bool, bool), Vec<Row>), WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let name = tx.company(company).await?.name;
    let settings = tx.portal_settings(company).await?;
    let mfa_required = tx.portal_mfa_required(company).await?;
    let sso_required = tx.company_sso_required(company).await?;
    tx.commit().await?;
    let rows = settings
        .sections
        .into_iter()
        .map(|s| Row {
            slug: s.section.as_str(),
            default_label: s.default_label,
            default_enabled: s.default_enabled,
            state: match s.enabled_override {
                None => "default".into(),
                Some(true) => "on".into(),
                Some(false) => "off".into(),
            },
            label: s.label_override.unwrap_or_default(),
            has_pages: s.section.has_pages(),
            always_on: s.section.always_on(),
        })
        .collect();
    Ok((
        name,
        settings.portal_enabled,
        settings.client_admin_edits,
        (mfa_required, sso_required),
        rows,
    ))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let (company_name, portal_enabled, client_admin_edits, (mfa_required, sso_required), rows) =
        load(&state, &auth, company).await?;
    Ok(render::ok(&SettingsPage {
        chrome: Chrome::signed_in(&auth, "Portal settings", "/companies"),
        company_id: company.to_string(),
        company_name,
        portal_enabled,
        client_admin_edits,
        mfa_required,
        sso_required,
        rows,
        error: String::new(),
        saved: query.as_deref() == Some("saved"),
        max_label: MAX_LABEL_LEN,
    }))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    // Visibility and permission come before any look at the input.
    load(&state, &auth, company).await?;
    let portal_enabled = form.checked("portal_enabled");
    let client_admin_edits = form.checked("client_admin_edits");
    let mfa_required = form.checked("mfa_required");
    let sso_required = form.checked("sso_required");
    let mut changes = Vec::new();
    let mut error = String::new();
    for section in Section::ALL {
        let slug = section.as_str();
        let enabled = match form.get(&format!("state_{slug}")) {
            "on" => Some(true),
            "off" => Some(false),
            "default" | "" => None,
            _ => {
                error = "Choose on, off or the workspace default for each section.".into();
                None
            }
        };
        let label = match clean_label(form.get(&format!("label_{slug}"))) {
            Ok(label) => label,
            Err(StoreError::Invalid(message)) => {
                error = message;
                None
            }
            Err(e) => return Err(e.into()),
        };
        changes.push(SectionChange {
            section: *section,
            enabled,
            label,
        });
    }
    if error.is_empty() {
        let mut tx = state.store.scoped_write(&auth.scope).await?;
        match tx
            .save_portal_settings(company, portal_enabled, client_admin_edits, &changes)
            .await
        {
            Ok(()) if let Err(e) = tx.set_portal_mfa_required(company, mfa_required).await => {
                return Err(e.into());
            }
            Ok(()) if let Err(e) = tx.set_company_sso_required(company, sso_required).await => {
                match e {
                    StoreError::Invalid(message) => error = message,
                    e => return Err(e.into()),
                }
            }
            Ok(()) => {
                tx.commit().await?;
                return Ok(see_other(&format!("/companies/{company}/portal?saved")));
            }
            Err(StoreError::Invalid(message)) => error = message,
            Err(e) => return Err(e.into()),
        }
    }
    // Show the form again with what was submitted.
    let (company_name, _, _, _, mut rows) = load(&state, &auth, company).await?;
    for row in &mut rows {
        row.state = form.get(&format!("state_{}", row.slug)).to_owned();
        row.label = form.get(&format!("label_{}", row.slug)).to_owned();
    }
    Ok(render::refused(&SettingsPage {
        chrome: Chrome::signed_in(&auth, "Portal settings", "/companies"),
        company_id: company.to_string(),
        company_name,
        portal_enabled,
        client_admin_edits,
        mfa_required,
        sso_required,
        rows,
        error,
        saved: false,
        max_label: MAX_LABEL_LEN,
    }))
}
