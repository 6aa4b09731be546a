//! A company's contacts and their roles (primary, backup, purchase approver, billing,
//! technical; several per contact): added, edited, archived and restored by owners and the
//! company's technicians. A contact is a person the MSP deals with, not an account: portal
//! users are separate.

use portico_core::{Action, CompanyId, ContactId, ContactRole, Section};

use super::read::Contact;
use crate::StoreError;
use crate::scoped::portal_users::valid_email;
use crate::scoped::record_history::{RecordEdit, RecordKind, Values};
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

const MAX_NAME: usize = 120;
const MAX_TITLE: usize = 120;
const MAX_PHONE: usize = 40;

/// A contact as its form submits it.
#[derive(Debug, Clone, Default)]
pub struct ContactDraft {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub title: String,
    pub roles: Vec<ContactRole>,
}

struct CheckedContact {
    name: String,
    email: String,
    phone: String,
    title: String,
}

fn check(draft: &ContactDraft) -> Result<CheckedContact, StoreError> {
    let mut refusals = Vec::new();
    let line = |text: &str, max: usize| {
        let text = text.trim();
        (text.chars().count() <= max && !text.chars().any(char::is_control))
            .then(|| text.to_owned())
    };
    let name = line(&draft.name, MAX_NAME).filter(|n| !n.is_empty());
    if name.is_none() {
        refusals.push((
            "name".to_owned(),
            format!("Enter the contact's name (one line, at most {MAX_NAME} characters)."),
        ));
    }
    let email = draft.email.trim().to_owned();
    if !email.is_empty() && !valid_email(&email) {
        refusals.push((
            "email".to_owned(),
            "Enter an e-mail address such as name@example.com, or leave it empty.".to_owned(),
        ));
    }
    let phone = line(&draft.phone, MAX_PHONE).filter(|p| {
        p.chars()
            .all(|c| c.is_ascii_digit() || " +-().x".contains(c))
    });
    if phone.is_none() {
        refusals.push((
            "phone".to_owned(),
            "Enter a phone number of digits, spaces and + - ( ) (at most 40), or leave it empty."
                .to_owned(),
        ));
    }
    let title = line(&draft.title, MAX_TITLE);
    if title.is_none() {
        refusals.push((
            "title".to_owned(),
            format!("Keep the job title to one line of at most {MAX_TITLE} characters."),
        ));
    }
    match (name, phone, title) {
        (Some(name), Some(phone), Some(title)) if refusals.is_empty() => Ok(CheckedContact {
            name,
            email,
            phone,
            title,
        }),
        _ => Err(StoreError::InvalidFields(refusals)),
    }
}

/// A contact's values as its history records them.
fn contact_values(contact: &Contact) -> Values {
    vec![
        ("name".into(), contact.name.clone()),
        ("email".into(), contact.email.clone()),
        ("phone".into(), contact.phone.clone()),
        ("title".into(), contact.title.clone()),
        (
            "roles".into(),
            contact
                .roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ]
}

impl ScopedTx<'_> {
    /// Adds a contact to a company in scope that takes work.
    pub async fn add_contact(
        &mut self,
        company: CompanyId,
        draft: &ContactDraft,
    ) -> Result<ContactId, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        let checked = check(draft)?;
        let id = ContactId::new();
        self.tx
            .exec(q!(
                "INSERT INTO contacts (workspace_id, company_id, id, name, email, phone, title) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                self.scope.workspace(),
                company,
                id,
                checked.name.as_str(),
                checked.email.as_str(),
                checked.phone.as_str(),
                checked.title.as_str()
            ))
            .await?;
        self.write_contact_roles(company, id, &draft.roles).await?;
        self.audit(
            portico_core::AuditAction::RecordCreated,
            Some(company),
            portico_core::AuditTarget::new("contact", id, checked.name.as_str()),
            "",
        )
        .await?;
        Ok(id)
    }

    /// Checks a contact is visible (else `NotFound`: on the portal, a current one of the
    /// roster) and its details may be edited by the caller (else `Forbidden`), before any input
    /// is looked at.
    pub async fn editable_contact(
        &mut self,
        company: CompanyId,
        contact: ContactId,
    ) -> Result<Contact, StoreError> {
        let current = self.contact(company, contact).await?;
        if self.scope.is_portal() && current.archived_at.is_some() {
            return Err(StoreError::NotFound);
        }
        self.scope
            .may(Action::EditRecordDetails(Section::Contacts))?;
        Ok(current)
    }

    /// Rewrites a contact's details and roles, keeping the edit on the contact's history.
    pub async fn update_contact(
        &mut self,
        company: CompanyId,
        contact: ContactId,
        draft: &ContactDraft,
    ) -> Result<(), StoreError> {
        let before = self.editable_contact(company, contact).await?;
        // Purchases go to the purchase approver, found by this role and address: on the
        // portal neither is a client admin's to change (or they could approve their own).
        let kept;
        let draft = if self.scope.is_portal() {
            let approver = before.roles.contains(&ContactRole::PurchaseApprover);
            let mut roles: Vec<ContactRole> = draft
                .roles
                .iter()
                .copied()
                .filter(|r| *r != ContactRole::PurchaseApprover)
                .collect();
            if approver {
                roles.push(ContactRole::PurchaseApprover);
            }
            kept = ContactDraft {
                email: if approver {
                    before.email.clone()
                } else {
                    draft.email.clone()
                },
                roles,
                ..draft.clone()
            };
            &kept
        } else {
            draft
        };
        let checked = check(draft)?;
        let mut update = self.update(&fence::CONTACTS, |set| {
            set.sql("name = ")
                .arg(checked.name.as_str())
                .sql(", email = ")
                .arg(checked.email.as_str())
                .sql(", phone = ")
                .arg(checked.phone.as_str())
                .sql(", title = ")
                .arg(checked.title.as_str());
        });
        update
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(contact);
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::NotFound);
        }
        self.write_contact_roles(company, contact, &draft.roles)
            .await?;
        let after = self.contact(company, contact).await?;
        self.keep_edit(
            company,
            RecordKind::Contact,
            &contact.to_string(),
            &contact_values(&before),
            &contact_values(&after),
        )
        .await
    }

    /// A contact's edits, latest first (after reading the contact itself).
    pub async fn contact_history(
        &mut self,
        company: CompanyId,
        contact: ContactId,
    ) -> Result<Vec<RecordEdit>, StoreError> {
        self.contact(company, contact).await?;
        self.record_history(company, RecordKind::Contact, &contact.to_string(), None)
            .await
    }

    async fn write_contact_roles(
        &mut self,
        company: CompanyId,
        contact: ContactId,
        roles: &[ContactRole],
    ) -> Result<(), StoreError> {
        let mut delete = self.delete(&fence::CONTACT_ROLES);
        delete.sql(" AND contact_id = ").arg(contact);
        self.tx.exec(delete).await?;
        let mut written: Vec<ContactRole> = Vec::new();
        for role in roles {
            if written.contains(role) {
                continue;
            }
            written.push(*role);
            self.tx
                .exec(q!(
                    "INSERT INTO contact_roles (workspace_id, company_id, contact_id, role) VALUES ($1, $2, $3, $4)",
                    self.scope.workspace(),
                    company,
                    contact,
                    role.as_str()
                ))
                .await?;
        }
        Ok(())
    }

    /// Archives a contact (`archived`) or restores it. An archived contact leaves the roster
    /// on both surfaces; its roles are kept for a restore.
    pub async fn set_contact_archived(
        &mut self,
        company: CompanyId,
        contact: ContactId,
        archived: bool,
    ) -> Result<(), StoreError> {
        self.contact(company, contact).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        if !archived {
            self.company_taking_work(company).await?;
        }
        self.set_record_archived(&fence::CONTACTS, company, contact, archived)
            .await
    }
}
