//! P10 Contacts: who the MSP deals with at the client, and in which role (the purchase approver
//! is the one purchase requests go to). The roster is kept in the console; where the MSP allows
//! it, the company's client admins correct a contact's details here (never archive), otherwise
//! they request the change. Every edit is on the contact's history.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, ContactId, ContactRole, Principal, Section};
use portico_store::StoreError;
use portico_store::scoped::companies::{Contact, ContactDraft};
use portico_store::scoped::record_history::RecordEdit;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::{DoneQuery, FieldErrors};
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "portal/contacts.html")]
struct ContactsPage {
    chrome: Chrome,
    heading: String,
    contacts: Vec<Contact>,
    /// Change requests are on for the company and the reader may raise them.
    can_request_change: bool,
    /// The reader edits contacts directly.
    can_edit: bool,
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
        can_edit: auth
            .scope
            .may(Action::EditRecordDetails(Section::Contacts))
            .is_ok(),
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
    crate::audited::exported(&state, &auth, None, "Contacts (CSV)", "")?;
    Ok(crate::csv_export::contacts(&contacts))
}

#[derive(Template)]
#[template(path = "portal/contact.html")]
struct ContactPage {
    chrome: Chrome,
    heading: String,
    contact: Contact,
    draft: ContactDraft,
    errors: FieldErrors,
    roles: &'static [ContactRole],
    can_edit: bool,
    can_request_change: bool,
    history: Vec<RecordEdit>,
    notice: &'static str,
}

impl ContactPage {
    /// The contact approves purchases: their address stays as the MSP keeps it.
    fn approver(&self) -> bool {
        self.contact.roles.contains(&ContactRole::PurchaseApprover)
    }
}

async fn contact_page(
    state: &AppState,
    auth: &Auth,
    contact: ContactId,
    typed: Option<(ContactDraft, FieldErrors)>,
    notice: &'static str,
) -> Result<ContactPage, WebError> {
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    let company = portal.company_id();
    let mut tx = state.store.scoped(&auth.scope).await?;
    let stored = tx.contact(company, contact).await?;
    // Archived contacts have left the roster: not found, as on the list.
    if stored.archived_at.is_some() {
        return Err(WebError::NotFound);
    }
    tx.audit_viewed(
        company,
        portico_core::AuditTarget::new("contact", contact, stored.name.clone()),
    )?;
    let history = tx.contact_history(company, contact).await?;
    tx.commit().await?;
    let heading = portal
        .section_label(Section::Contacts)
        .unwrap_or(Section::Contacts.label())
        .to_owned();
    let (draft, errors) = typed.unwrap_or_else(|| {
        (
            ContactDraft {
                name: stored.name.clone(),
                email: stored.email.clone(),
                phone: stored.phone.clone(),
                title: stored.title.clone(),
                roles: stored.roles.clone(),
            },
            FieldErrors::default(),
        )
    });
    Ok(ContactPage {
        chrome: Chrome::signed_in(auth, &stored.name, "/contacts"),
        heading,
        contact: stored,
        draft,
        errors,
        roles: ContactRole::ALL,
        can_edit: auth
            .scope
            .may(Action::EditRecordDetails(Section::Contacts))
            .is_ok(),
        can_request_change: auth.scope.may(Action::RequestChanges).is_ok(),
        history,
        notice,
    })
}

/// A contact's page: details, history, and the edit form for client admins where allowed.
pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(query): axum::extract::Query<DoneQuery>,
    IdPath(contact): IdPath<ContactId>,
) -> Result<Response, WebError> {
    let notice = if query.done == "saved" {
        "Saved. The change is on the contact's history."
    } else {
        ""
    };
    Ok(render::ok(
        &contact_page(&state, &auth, contact, None, notice).await?,
    ))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: contact,
    }: SignedForm<ContactId>,
) -> Result<Response, WebError> {
    let Principal::Portal(portal) = &*auth.principal else {
        return Err(WebError::NotFound);
    };
    let company = portal.company_id();
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.editable_contact(company, contact).await?;
    let draft = ContactDraft {
        name: form.get("name").to_owned(),
        email: form.get("email").to_owned(),
        phone: form.get("phone").to_owned(),
        title: form.get("title").to_owned(),
        roles: form
            .all("roles")
            .into_iter()
            .filter_map(ContactRole::parse)
            .collect(),
    };
    match tx.update_contact(company, contact, &draft).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/contacts/{contact}?done=saved")))
        }
        Err(StoreError::InvalidFields(errors)) => {
            drop(tx);
            Ok(render::refused(
                &contact_page(
                    &state,
                    &auth,
                    contact,
                    Some((draft, FieldErrors(errors))),
                    "",
                )
                .await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
