//! "Why can this person see this?" (C9): an owner names a person (a staff member or a portal
//! user) and a record or a portal section, and gets the decision and the rule that made it.
//!
//! Nothing here decides anything itself. The person's principal is built by the code that
//! builds it at sign-in, and the decision is the answer of the very read the record's page
//! makes, run under the person's scope (no view is recorded: these reads record none). The
//! rule is then found with the same checks in the order reads make them: the section
//! ([`Scope::section_access`]), the action ([`Scope::may`]), and the fenced query of the
//! record's table run once with the companies alone, once with the site restriction, once
//! whole ([`Scope::explanation_stages`]), the first stage that hides the record naming the rule.

use portico_core::{
    Action, AssetId, ChangeRequestId, CompanyId, ContactId, InvoiceId, MaintenanceId, PortalUserId,
    Principal, Scope, Section, SectionAccess, StaffRole, StaffUserId, TicketId, Zone,
};

use crate::scoped::fence::{self, Tenant};
use crate::sql::q;
use crate::{Store, StoreError};

/// The person asked about, by e-mail address.
#[derive(Debug, Clone)]
pub enum Person {
    Staff(String),
    Portal(String),
}

/// A kind of record that can be asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Company,
    Ticket,
    Asset,
    Contact,
    Invoice,
    PortalUser,
    ChangeRequest,
    Maintenance,
}

impl RecordKind {
    fn table(self) -> &'static Tenant {
        match self {
            RecordKind::Company => &fence::COMPANIES,
            RecordKind::Ticket => &fence::TICKETS,
            RecordKind::Asset => &fence::ASSETS,
            RecordKind::Contact => &fence::CONTACTS,
            RecordKind::Invoice => &fence::INVOICES,
            RecordKind::PortalUser => &fence::PORTAL_USERS,
            RecordKind::ChangeRequest => &fence::CHANGE_REQUESTS,
            RecordKind::Maintenance => &fence::MAINTENANCE_RECORDS,
        }
    }

    /// The record's company and how people know it.
    fn facts(self) -> (&'static str, &'static str) {
        match self {
            RecordKind::Company => ("r.id", "r.name"),
            RecordKind::Ticket => ("r.company_id", "r.title"),
            RecordKind::Asset | RecordKind::Contact => ("r.company_id", "r.name"),
            RecordKind::Invoice => (
                "r.company_id",
                "COALESCE(CAST(r.number AS TEXT), NULLIF(r.external_number, ''), 'draft')",
            ),
            RecordKind::PortalUser => ("r.company_id", "r.email"),
            RecordKind::ChangeRequest | RecordKind::Maintenance => ("r.company_id", "r.title"),
        }
    }

    /// The portal section a client reads it in.
    fn section(self) -> Option<Section> {
        match self {
            RecordKind::Company => None,
            RecordKind::Ticket => Some(Section::Tickets),
            RecordKind::Asset => Some(Section::Assets),
            RecordKind::Contact => Some(Section::Contacts),
            RecordKind::Invoice => Some(Section::Invoices),
            RecordKind::PortalUser => Some(Section::Users),
            RecordKind::ChangeRequest => Some(Section::ChangeRequests),
            RecordKind::Maintenance => Some(Section::Maintenance),
        }
    }

    /// What reading it takes besides its fence.
    fn action(self, portal: bool) -> Action {
        match (self, portal) {
            (RecordKind::Ticket, _) => Action::ViewTickets,
            (RecordKind::Invoice, _) => Action::ViewInvoices,
            (RecordKind::PortalUser, true) => Action::ManagePortalUsers,
            (RecordKind::ChangeRequest, false) => Action::WorkChangeRequests,
            (kind, true) => Action::ViewSection(kind.section().unwrap_or(Section::Overview)),
            (_, false) => Action::ViewCompanies,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            RecordKind::Company => "company",
            RecordKind::Ticket => "ticket",
            RecordKind::Asset => "asset",
            RecordKind::Contact => "contact",
            RecordKind::Invoice => "invoice",
            RecordKind::PortalUser => "portal user",
            RecordKind::ChangeRequest => "change request",
            RecordKind::Maintenance => "maintenance record",
        }
    }
}

/// What is asked about.
#[derive(Debug, Clone)]
pub enum Target {
    /// A record, optionally under the company its link names (a console link names both).
    Record {
        kind: RecordKind,
        id: String,
        company: Option<CompanyId>,
    },
    /// A portal section's pages.
    Section(Section),
}

/// The answer, as enforcement would give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// Seen, but not to be done: a 403.
    Forbidden,
    /// Out of sight: the same answer as a missing record, a 404.
    NotVisible,
}

#[derive(Debug, Clone)]
pub struct Explanation {
    /// The person as the answer names them: name, role and company.
    pub person: String,
    /// The record or section asked about.
    pub target: String,
    pub outcome: Outcome,
    /// The rule that decided, in words: "allowed: Technician assigned to Acme Dental".
    pub rule: String,
}

struct PersonRow {
    id: String,
    company_id: Option<String>,
    disabled: bool,
}
crate::sql::db_row!(PersonRow {
    id,
    company_id,
    disabled
});

impl Store {
    /// Explains whether `person` can see `target`, for an owner (`asker`).
    pub async fn explain_access(
        &self,
        asker: &Scope,
        person: &Person,
        target: &Target,
    ) -> Result<Explanation, StoreError> {
        asker.may(Action::ExplainAccess)?;
        let workspace = asker.workspace();
        // The person, as the sign-in code finds them.
        let mut auth = self.auth(workspace).await?;
        let (query, email) = match person {
            Person::Staff(email) => (
                q!(
                    "SELECT id, NULL AS company_id, disabled FROM staff_users WHERE workspace_id = $1 AND lower(email) = $2",
                    workspace,
                    email.trim().to_lowercase()
                ),
                email,
            ),
            Person::Portal(email) => (
                q!(
                    "SELECT id, company_id, disabled FROM portal_users WHERE workspace_id = $1 AND lower(email) = $2",
                    workspace,
                    email.trim().to_lowercase()
                ),
                email,
            ),
        };
        let found: Option<PersonRow> = auth.tx.optional(query).await?;
        let Some(found) = found else {
            return Err(StoreError::NotFound);
        };
        // The record, as the owner asking sees it.
        let mut owner = self.scoped(asker).await?;
        let (record, target_label) = match target {
            Target::Record { kind, id, company } => {
                let (company_column, label) = kind.facts();
                let mut query =
                    owner.select(&format!("{company_column}, {label}"), kind.table(), "r");
                query.sql(" AND r.id = ").arg(id.as_str());
                let row: Option<(String, String)> = owner.tx.optional(query).await?;
                match row {
                    Some((record_company, label))
                        if company.is_none_or(|c| c.as_text() == record_company) =>
                    {
                        let company = CompanyId::from_stored(&record_company);
                        let company_name = company_name(&mut owner, company).await?;
                        (
                            Some((*kind, id.clone(), company, company_name.clone(), false)),
                            match kind {
                                RecordKind::Company => format!("company {label}"),
                                _ => format!("{} “{label}” of {company_name}", kind.noun()),
                            },
                        )
                    }
                    // Not under the company the link names: the page still makes its read
                    // (with the link's company), which answers for the person.
                    Some(_) if let Some(linked) = company => (
                        Some((*kind, id.clone(), *linked, "that company".to_owned(), true)),
                        format!("{} {id} (under another company's link)", kind.noun()),
                    ),
                    _ => {
                        owner.commit().await?;
                        auth.commit().await?;
                        return Ok(Explanation {
                            person: email.clone(),
                            target: format!("{} {id}", kind.noun()),
                            outcome: Outcome::NotVisible,
                            rule: format!("not found: there is no such {}", kind.noun()),
                        });
                    }
                }
            }
            Target::Section(section) => (None, format!("the {} section", section.label())),
        };
        // The person's principal, built as at sign-in: a portal user acts for the record's
        // company when it is one of theirs (they would switch to it), else for their own.
        let principal = if found.disabled {
            None
        } else if let Some(home) = found.company_id.as_deref() {
            let user = PortalUserId::from_stored(&found.id);
            let home = CompanyId::from_stored(home);
            let mut built = None;
            if let Some((_, _, company, _, _)) = &record
                && *company != home
            {
                built = auth.portal_principal(user, *company).await?;
            }
            match built {
                Some(p) => Some(p),
                None => auth.portal_principal(user, home).await?,
            }
        } else {
            auth.staff_principal(StaffUserId::from_stored(&found.id))
                .await?
        };
        auth.commit().await?;
        let Some(principal) = principal else {
            owner.commit().await?;
            let why = if found.disabled {
                "denied: the account is disabled"
            } else {
                "denied: the company's portal is switched off"
            };
            return Ok(Explanation {
                person: email.clone(),
                target: target_label,
                outcome: Outcome::NotVisible,
                rule: why.to_owned(),
            });
        };
        // A person of a client group answers for the record's company after switching to it.
        let switched = matches!(
            (&principal, found.company_id.as_deref()),
            (Principal::Portal(p), Some(home)) if p.company_id().as_text() != home
        );
        let person_label = describe(&principal);
        let scope = Scope::of(&principal);
        let mut decided = |outcome: Outcome, rule: String| Explanation {
            person: person_label.clone(),
            target: target_label.clone(),
            outcome,
            rule,
        };
        let explanation = match (target, record) {
            (Target::Section(section), _) => match scope.section_access(*section) {
                SectionAccess::NotPortal => decided(
                    Outcome::NotVisible,
                    "denied: portal pages are for a company's people; staff work in the console (or view the portal as a user)".into(),
                ),
                access => section_rule(&principal, *section, access, &mut decided),
            },
            (Target::Record { .. }, Some((kind, id, company, company_name, misplaced))) => {
                self.record_rule(
                    &principal,
                    &scope,
                    (kind, &id, company, &company_name, misplaced),
                    &mut owner,
                    &mut decided,
                )
                .await?
            }
            (Target::Record { .. }, None) => unreachable!("a record target was found above"),
        };
        owner.commit().await?;
        let mut explanation = explanation;
        if switched && explanation.outcome == Outcome::Allowed {
            explanation
                .rule
                .push_str(" (after switching to it in the portal)");
        }
        Ok(explanation)
    }

    async fn record_rule(
        &self,
        principal: &Principal,
        scope: &Scope,
        (kind, id, company, company_name, misplaced): (RecordKind, &str, CompanyId, &str, bool),
        owner: &mut crate::ScopedTx<'_>,
        decided: &mut impl FnMut(Outcome, String) -> Explanation,
    ) -> Result<Explanation, StoreError> {
        // The decision: the very read the record's page makes, under the person's scope.
        let outcome = self.read_as(scope, kind, id, company).await?;
        if outcome == Outcome::Allowed {
            return Ok(decided(
                Outcome::Allowed,
                allowed_rule(principal, scope, company_name, owner).await?,
            ));
        }
        // The rule: the first of the same checks that refuses, in the order reads make them.
        if misplaced && outcome == Outcome::NotVisible {
            return Ok(decided(
                outcome,
                format!(
                    "not found: there is no such {} in that company, for anyone",
                    kind.noun()
                ),
            ));
        }
        let portal = scope.is_portal();
        if portal && let Some(section) = kind.section() {
            let access = scope.section_access(section);
            if access != SectionAccess::Open {
                let mut explained = section_rule(principal, section, access, decided);
                explained.outcome = outcome;
                return Ok(explained);
            }
        }
        if scope.may(kind.action(portal)).is_err() {
            return Ok(decided(
                outcome,
                format!(
                    "denied: a {} may not {}",
                    role_label(principal),
                    match kind {
                        RecordKind::Ticket => "read tickets".to_owned(),
                        RecordKind::Invoice => "see invoices (no billing rights)".to_owned(),
                        RecordKind::PortalUser => "manage portal users".to_owned(),
                        RecordKind::ChangeRequest => "work change requests".to_owned(),
                        other => format!("read {}s", other.noun()),
                    }
                ),
            ));
        }
        if kind == RecordKind::Invoice && !scope.billing() {
            return Ok(decided(
                outcome,
                "denied: no billing rights (plan, rates and invoices)".to_owned(),
            ));
        }
        // The fence, stage by stage: the same query every read of the table runs.
        let [companies, sites, whole] = scope.explanation_stages();
        for (stage, stage_scope) in [companies, sites, whole].iter().enumerate() {
            let mut tx = self.scoped(stage_scope).await?;
            let mut query = tx.select("COUNT(*)", kind.table(), "r");
            query.sql(" AND r.id = ").arg(id);
            let seen = tx.tx.count(query).await? > 0;
            tx.commit().await?;
            if seen {
                continue;
            }
            let rule = match (stage, principal) {
                (0, Principal::Staff(staff)) => format!(
                    "denied: {} is a {} not assigned to {company_name}",
                    staff.name(),
                    staff.role().label()
                ),
                (0, Principal::Portal(user)) => {
                    format!("denied: {company_name} is not {}'s company", user.name())
                }
                (1, _) => {
                    let names = site_names(owner, scope).await?;
                    format!("denied: site restriction ({names} only)")
                }
                (_, _) if kind == RecordKind::Ticket => {
                    "denied: sees only the tickets they raised or are copied on".to_owned()
                }
                (_, _) if kind == RecordKind::Invoice => {
                    "denied: a draft invoice never reaches the portal".to_owned()
                }
                (_, _) if kind == RecordKind::ChangeRequest => {
                    "denied: sees only the change requests they raised".to_owned()
                }
                _ => "denied: outside what this person may see".to_owned(),
            };
            return Ok(decided(outcome, rule));
        }
        Ok(decided(
            outcome,
            "denied: the record's page refuses this person".to_owned(),
        ))
    }

    /// The read a record's page makes, as `scope`: what it answers is the decision.
    async fn read_as(
        &self,
        scope: &Scope,
        kind: RecordKind,
        id: &str,
        company: CompanyId,
    ) -> Result<Outcome, StoreError> {
        let mut tx = self.scoped(scope).await?;
        let read = match kind {
            RecordKind::Company => tx.company(CompanyId::from_stored(id)).await.map(drop),
            RecordKind::Ticket => tx.ticket(TicketId::from_stored(id)).await.map(drop),
            RecordKind::Asset => tx.asset(company, AssetId::from_stored(id)).await.map(drop),
            RecordKind::Contact => tx
                .contact(company, ContactId::from_stored(id))
                .await
                .map(drop),
            RecordKind::Invoice => tx
                .invoice(company, InvoiceId::from_stored(id), &Zone::utc())
                .await
                .map(drop),
            RecordKind::PortalUser => tx
                .portal_user(company, PortalUserId::from_stored(id))
                .await
                .map(drop),
            RecordKind::ChangeRequest => tx
                .change_request(ChangeRequestId::from_stored(id))
                .await
                .map(drop),
            RecordKind::Maintenance => tx
                .maintenance_record(company, MaintenanceId::from_stored(id))
                .await
                .map(drop),
        };
        tx.commit().await?;
        match read {
            Ok(()) => Ok(Outcome::Allowed),
            Err(StoreError::NotFound) => Ok(Outcome::NotVisible),
            Err(StoreError::Forbidden) => Ok(Outcome::Forbidden),
            Err(e) => Err(e),
        }
    }
}

async fn company_name(
    tx: &mut crate::ScopedTx<'_>,
    company: CompanyId,
) -> Result<String, StoreError> {
    let mut query = tx.select("c.name", &fence::COMPANIES, "c");
    query.sql(" AND c.id = ").arg(company);
    let (name,): (String,) = tx.tx.one(query).await?;
    Ok(name)
}

/// The names of the sites a restricted scope sees, for the rule.
async fn site_names(tx: &mut crate::ScopedTx<'_>, scope: &Scope) -> Result<String, StoreError> {
    let Some(sites) = scope.sites() else {
        return Ok("its sites".into());
    };
    let mut query = tx.select("s.name", &fence::SITES, "s");
    query.sql(" AND ");
    query.in_list("s.id", sites);
    query.sql(" ORDER BY s.name");
    let names: Vec<(String,)> = tx.tx.all(query).await?;
    Ok(names
        .into_iter()
        .map(|(n,)| n)
        .collect::<Vec<_>>()
        .join(", "))
}

fn role_label(principal: &Principal) -> &'static str {
    match principal {
        Principal::Staff(s) => s.role().label(),
        Principal::Portal(p) => p.role().label(),
    }
}

fn describe(principal: &Principal) -> String {
    match principal {
        Principal::Staff(s) => format!("{} ({}, staff)", s.name(), s.role().label()),
        Principal::Portal(p) => format!(
            "{} ({} of {})",
            p.name(),
            p.role().label(),
            p.company_name()
        ),
    }
}

fn section_rule(
    principal: &Principal,
    section: Section,
    access: SectionAccess,
    decided: &mut impl FnMut(Outcome, String) -> Explanation,
) -> Explanation {
    let company = match principal {
        Principal::Portal(p) => p.company_name().to_owned(),
        Principal::Staff(_) => String::new(),
    };
    match access {
        SectionAccess::Open => decided(
            Outcome::Allowed,
            format!(
                "allowed: section {} is on for {company} and open to a {}",
                section.label(),
                role_label(principal)
            ),
        ),
        SectionAccess::SwitchedOff => decided(
            Outcome::NotVisible,
            format!(
                "denied: section {} switched off for {company}",
                section.label()
            ),
        ),
        SectionAccess::ClientAdminsOnly => decided(
            Outcome::NotVisible,
            format!(
                "denied: section {} is for client admins only",
                section.label()
            ),
        ),
        SectionAccess::BillingOnly => decided(
            Outcome::NotVisible,
            format!("denied: section {} needs billing rights", section.label()),
        ),
        SectionAccess::NotPortal => decided(
            Outcome::NotVisible,
            "denied: portal sections are the portal's".into(),
        ),
    }
}

async fn allowed_rule(
    principal: &Principal,
    scope: &Scope,
    company_name: &str,
    owner: &mut crate::ScopedTx<'_>,
) -> Result<String, StoreError> {
    Ok(match principal {
        Principal::Staff(staff) => match staff.role() {
            StaffRole::Owner | StaffRole::Billing => {
                format!("allowed: a {} sees every company", staff.role().label())
            }
            role => format!("allowed: {} assigned to {company_name}", role.label()),
        },
        Principal::Portal(user) => {
            let mut rule = format!("allowed: {} of {company_name}", user.role().label());
            if scope.sites().is_some() {
                let names = site_names(owner, scope).await?;
                rule.push_str(&format!(", sites {names}"));
            }
            if user.own_only() {
                rule.push_str(", their own tickets");
            }
            rule
        }
    })
}
