//! Adding and editing a company and its service plan, archiving and restoring it (C1). Owners
//! only; the plan's rates appear on the form only for those with the billing entitlement.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, CompanyId};
use portico_store::StoreError;
use portico_store::scoped::companies::CompanyDraft;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/company_form.html")]
struct CompanyForm {
    chrome: Chrome,
    /// `None` while adding.
    company_id: Option<CompanyId>,
    draft: CompanyDraft,
    billing: bool,
    errors: FieldErrors,
}

fn draft_of(form: &FormData) -> CompanyDraft {
    CompanyDraft {
        name: form.get("name").to_owned(),
        plan_name: form.get("plan_name").to_owned(),
        included_hours: form.get("included_hours").to_owned(),
        currency: form.get("currency").to_owned(),
        monthly_fee: form.get("monthly_fee").to_owned(),
        hourly_rate: form.get("hourly_rate").to_owned(),
    }
}

fn form_page(
    auth: &Auth,
    company: Option<(CompanyId, &str)>,
    draft: CompanyDraft,
    errors: FieldErrors,
) -> CompanyForm {
    let title = match company {
        Some((_, name)) => format!("Edit {name}"),
        None => "Add a company".to_owned(),
    };
    CompanyForm {
        chrome: Chrome::signed_in(auth, &title, "/companies"),
        company_id: company.map(|(id, _)| id),
        draft,
        billing: auth.scope.billing(),
        errors,
    }
}

pub(crate) async fn new_company(auth: Auth) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageCompanies)?;
    let draft = CompanyDraft {
        plan_name: "Managed services".to_owned(),
        ..CompanyDraft::default()
    };
    Ok(render::ok(&form_page(
        &auth,
        None,
        draft,
        FieldErrors::default(),
    )))
}

pub(crate) async fn add(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageCompanies)?;
    let draft = draft_of(&form);
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.add_company(&draft).await {
        Ok(id) => {
            tx.commit().await?;
            Ok(see_other(&format!("/companies/{id}?done=added")))
        }
        Err(StoreError::InvalidFields(errors)) => Ok(render::refused(&form_page(
            &auth,
            None,
            draft,
            FieldErrors(errors),
        ))),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    tx.commit().await?;
    auth.scope.may(Action::ManageCompanies)?;
    Ok(render::ok(&form_page(
        &auth,
        Some((company, &summary.name)),
        CompanyDraft::of(&summary),
        FieldErrors::default(),
    )))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let summary = tx.company(company).await?;
    auth.scope.may(Action::ManageCompanies)?;
    let draft = draft_of(&form);
    match tx.update_company(company, &draft).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/companies/{company}?done=saved")))
        }
        Err(StoreError::InvalidFields(errors)) => Ok(render::refused(&form_page(
            &auth,
            Some((company, &summary.name)),
            draft,
            FieldErrors(errors),
        ))),
        Err(e) => Err(e.into()),
    }
}

/// What an archive form asks for: `archive` or `restore`.
pub(crate) fn archiving(form: &FormData) -> Result<bool, WebError> {
    match form.get("action") {
        "archive" => Ok(true),
        "restore" => Ok(false),
        _ => Err(WebError::BadRequest(
            "Choose whether to archive or restore.".into(),
        )),
    }
}

pub(crate) async fn archive(
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
    let done = if archiving(&form)? {
        tx.archive_company(company).await?;
        "archived"
    } else {
        tx.restore_company(company).await?;
        "restored"
    };
    tx.commit().await?;
    Ok(see_other(&format!("/companies/{company}?done={done}")))
}
