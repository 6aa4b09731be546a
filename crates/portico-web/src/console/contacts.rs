//! A company's contacts and their roles: added, edited, archived and restored by owners and
//! the company's technicians.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, CompanyId, ContactId, ContactRole};
use portico_store::StoreError;
use portico_store::scoped::companies::ContactDraft;

use crate::auth::{Auth, SignedForm};
use crate::console::company_edit::archiving;
use crate::error::WebError;
use crate::forms::{FieldErrors, FormData};
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};
use portico_store::scoped::record_history::RecordEdit;

#[derive(Template)]
#[template(path = "console/contact_form.html")]
struct ContactForm {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    /// `None` while adding.
    contact_id: Option<ContactId>,
    archived: bool,
    draft: ContactDraft,
    errors: FieldErrors,
    roles: &'static [ContactRole],
    history: Vec<RecordEdit>,
}

fn draft_of(form: &FormData) -> ContactDraft {
    ContactDraft {
        name: form.get("name").to_owned(),
        email: form.get("email").to_owned(),
        phone: form.get("phone").to_owned(),
        title: form.get("title").to_owned(),
        roles: form
            .all("roles")
            .into_iter()
            .filter_map(ContactRole::parse)
            .collect(),
    }
}

fn form_page(
    auth: &Auth,
    company: (CompanyId, String),
    contact: Option<(ContactId, bool)>,
    draft: ContactDraft,
    errors: FieldErrors,
    history: Vec<RecordEdit>,
) -> ContactForm {
    let title = match contact {
        Some(_) => format!("{} — {}", draft.name, company.1),
        None => format!("Add a contact — {}", company.1),
    };
    ContactForm {
        chrome: Chrome::signed_in(auth, &title, "/companies"),
        company_id: company.0,
        company_name: company.1,
        contact_id: contact.map(|(id, _)| id),
        archived: contact.is_some_and(|(_, archived)| archived),
        draft,
        errors,
        roles: ContactRole::ALL,
        history,
    }
}

pub(crate) async fn new_contact(
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
        ContactDraft::default(),
        FieldErrors::default(),
        Vec::new(),
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
    match tx.add_contact(company, &draft).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}?done=contact-added"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => Ok(render::refused(&form_page(
            &auth,
            (company, summary.name),
            None,
            draft,
            FieldErrors(errors),
            Vec::new(),
        ))),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    IdPath((company, contact)): IdPath<(CompanyId, ContactId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let stored = tx.contact(company, contact).await?;
    let history = tx.contact_history(company, contact).await?;
    tx.commit().await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    crate::audited::viewed(
        &state,
        &auth,
        company,
        portico_core::AuditTarget::new("contact", contact, stored.name.clone()),
    )?;
    let draft = ContactDraft {
        name: stored.name,
        email: stored.email,
        phone: stored.phone,
        title: stored.title,
        roles: stored.roles,
    };
    Ok(render::ok(&form_page(
        &auth,
        (company, summary.name),
        Some((contact, stored.archived_at.is_some())),
        draft,
        FieldErrors::default(),
        history,
    )))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, contact),
    }: SignedForm<(CompanyId, ContactId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let stored = tx.contact(company, contact).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let draft = draft_of(&form);
    match tx.update_contact(company, contact, &draft).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!(
                "/companies/{company}?done=contact-saved"
            )))
        }
        Err(StoreError::InvalidFields(errors)) => {
            let history = tx.contact_history(company, contact).await?;
            Ok(render::refused(&form_page(
                &auth,
                (company, summary.name),
                Some((contact, stored.archived_at.is_some())),
                draft,
                FieldErrors(errors),
                history,
            )))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn archive(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: (company, contact),
    }: SignedForm<(CompanyId, ContactId)>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.contact(company, contact).await?;
    auth.scope.may(Action::ManageCompanyRecords)?;
    let archive = archiving(&form)?;
    tx.set_contact_archived(company, contact, archive).await?;
    tx.commit().await?;
    let done = if archive {
        "contact-archived"
    } else {
        "contact-restored"
    };
    Ok(see_other(&format!("/companies/{company}?done={done}")))
}

/// A company's current roster as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    // A company out of scope is not found, never an empty roster.
    tx.company(company).await?;
    let contacts = tx.contacts(company).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, Some(company), "Contacts (CSV)", "")?;
    Ok(crate::csv_export::contacts(&contacts))
}
