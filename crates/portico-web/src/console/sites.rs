//! A company's sites: added, edited, archived and restored by owners and the company's
//! technicians.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, CompanyId, SiteId};
use portico_store::StoreError;
use portico_store::scoped::companies::SiteDraft;

use crate::auth::{Auth, SignedForm};
use crate::console::company_edit::archiving;
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/site_form.html")]
struct SiteForm {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    /// `None` while adding.
    site_id: Option<SiteId>,
    archived: bool,
    draft: SiteDraft,
    errors: FieldErrors,
}

fn draft_of(form: &FormData) -> SiteDraft {
    SiteDraft {
        name: form.get("name").to_owned(),
        address: form.get("address").to_owned(),
    }
}

fn form_page(
    auth: &Auth,
    company: (CompanyId, String),
    site: Option<(SiteId, bool)>,
    draft: SiteDraft,
    errors: FieldErrors,
) -> SiteForm {
    let title = match site {
        Some(_) => format!("Site {} — {}", draft.name, company.1),
        None => format!("Add a site — {}", company.1),
    };
    SiteForm {
        chrome: Chrome::signed_in(auth, &title, "/companies"),
        company_id: company.0,
        company_name: company.1,
        site_id: site.map(|(id, _)| id),
        archived: site.is_some_and(|(_, archived)| archived),
        draft,
        errors,
    }
}

pub(crate) async fn new_site(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    tx.commit().await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    Ok(render::ok(&form_page(
        &auth,
        (company, summary.name),
        None,
        SiteDraft::default(),
        FieldErrors::default(),
    )))
}

pub(crate) async fn add(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let summary = tx.company(company).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let draft = draft_of(&form);
    match tx.add_site(company, &draft).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(see_other(&format!("/companies/{company}?done=site-added")))
        }
        Err(StoreError::InvalidFields(errors)) => Ok(render::refused(&form_page(
            &auth,
            (company, summary.name),
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
    IdPath((company, site)): IdPath<(CompanyId, SiteId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let stored = tx.site(company, site).await?;
    tx.commit().await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let draft = SiteDraft {
        name: stored.name,
        address: stored.address,
    };
    Ok(render::ok(&form_page(
        &auth,
        (company, summary.name),
        Some((site, stored.archived_at.is_some())),
        draft,
        FieldErrors::default(),
    )))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, site),
    }: SignedForm<(CompanyId, SiteId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let stored = tx.site(company, site).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let draft = draft_of(&form);
    match tx.update_site(company, site, &draft).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/companies/{company}?done=site-saved")))
        }
        Err(StoreError::InvalidFields(errors)) => Ok(render::refused(&form_page(
            &auth,
            (company, summary.name),
            Some((site, stored.archived_at.is_some())),
            draft,
            FieldErrors(errors),
        ))),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn archive(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, site),
    }: SignedForm<(CompanyId, SiteId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.site(company, site).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let archive = archiving(&form)?;
    tx.set_site_archived(company, site, archive).await?;
    tx.commit().await?;
    let done = if archive {
        "site-archived"
    } else {
        "site-restored"
    };
    Ok(see_other(&format!("/companies/{company}?done={done}")))
}
