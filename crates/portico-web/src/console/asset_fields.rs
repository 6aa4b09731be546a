//! C4 which asset fields clients see: the workspace's own fields, the workspace's choice of
//! shown fields, and a company's own choice where it differs. Owners only.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId};
use portico_store::StoreError;
use portico_store::scoped::assets::FieldSetting;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FieldErrors;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/asset_fields.html")]
struct FieldsPage {
    chrome: Chrome,
    /// The company whose own choice this is; `None` for the workspace's page.
    company: Option<(CompanyId, String)>,
    own_choice: bool,
    settings: Vec<FieldSetting>,
    custom_labels: String,
    errors: FieldErrors,
    notice: &'static str,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn fields_page(
    state: &AppState,
    auth: &Auth,
    company: Option<CompanyId>,
    custom_labels: Option<String>,
    errors: FieldErrors,
    notice: &'static str,
) -> Result<FieldsPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let company = match company {
        Some(id) => Some((id, tx.company(id).await?.name)),
        None => None,
    };
    auth.scope.may(Action::ManageCompanies)?;
    let settings = tx
        .asset_field_settings(company.as_ref().map(|c| c.0))
        .await?;
    let own_choice = match &company {
        Some((id, _)) => tx.company_has_own_asset_fields(*id).await?,
        None => true,
    };
    let labels = match custom_labels {
        Some(labels) => labels,
        None => tx
            .custom_asset_fields()
            .await?
            .into_iter()
            .map(|f| f.label)
            .collect::<Vec<_>>()
            .join("\n"),
    };
    tx.commit().await?;
    let title = match &company {
        Some((_, name)) => format!("Asset fields — {name}"),
        None => "Asset fields".to_owned(),
    };
    let current = if company.is_some() {
        "/companies"
    } else {
        "/settings/assets"
    };
    Ok(FieldsPage {
        chrome: Chrome::signed_in(auth, &title, current),
        company,
        own_choice,
        settings,
        custom_labels: labels,
        errors,
        notice,
    })
}

fn saved_notice(query: &PageQuery) -> &'static str {
    if query.saved.is_some() { "Saved." } else { "" }
}

pub(crate) async fn workspace_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let page = fields_page(
        &state,
        &auth,
        None,
        None,
        FieldErrors::default(),
        saved_notice(&query),
    )
    .await?;
    Ok(render::ok(&page))
}

pub(crate) async fn workspace_save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageCompanies)?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let result = match form.get("action") {
        "fields" => {
            let labels: Vec<&str> = form.get("fields").lines().collect();
            tx.set_custom_asset_fields(&labels).await
        }
        "shown" => {
            let shown = form.all("shown");
            tx.set_shown_asset_fields(None, Some(&shown)).await
        }
        _ => {
            return Err(WebError::BadRequest("Send this form from its page.".into()));
        }
    };
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other("/settings/assets?saved"))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            let page = fields_page(
                &state,
                &auth,
                None,
                Some(form.get("fields").to_owned()),
                FieldErrors(errors),
                "",
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn company_page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<PageQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let page = fields_page(
        &state,
        &auth,
        Some(company),
        None,
        FieldErrors::default(),
        saved_notice(&query),
    )
    .await?;
    Ok(render::ok(&page))
}

pub(crate) async fn company_save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.company(company).await?;
    auth.scope.may(Action::ManageCompanies)?;
    let shown = form.all("shown");
    match form.get("choice") {
        "workspace" => tx.set_shown_asset_fields(Some(company), None).await?,
        "own" => {
            tx.set_shown_asset_fields(Some(company), Some(&shown))
                .await?
        }
        _ => {
            return Err(WebError::BadRequest(
                "Choose whether the company follows the workspace.".into(),
            ));
        }
    }
    tx.commit().await?;
    Ok(see_other(&format!(
        "/companies/{company}/asset-fields?saved"
    )))
}
