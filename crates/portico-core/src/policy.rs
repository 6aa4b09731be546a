//! The access policy: which actions a scope may take. Record visibility (which rows) is the
//! store's job through the scope's predicates; this decides what a visible caller may *do*.

use crate::scope::{Scope, Surface};
use crate::{PortalRole, Section, StaffRole};

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read companies, sites and contacts in scope.
    ViewCompanies,
    /// Read tickets in scope (the portal only through an enabled Tickets section).
    ViewTickets,
    /// Read internal notes on tickets. Never granted on the portal.
    ViewInternalNotes,
    /// Raise tickets, reply publicly, resolve, reopen, rate and cc. Portal viewers may not.
    ContributeTickets,
    /// Internal notes, assignment, status and priority changes: the service desk's work.
    WorkTickets,
    /// Add, edit, archive and restore companies and their service plans (rates only with the
    /// billing entitlement).
    ManageCompanies,
    /// Add, edit, archive and restore a company's sites and contacts.
    ManageCompanyRecords,
    /// Edit the ticket submission form and its categories.
    ManageTicketForm,
    /// A portal user's own e-mail preferences.
    ManageOwnPreferences,
    /// Enable a company's portal, toggle and relabel its sections.
    ManagePortalSettings,
    /// Invite, change and disable a company's portal users (client admins too, through the
    /// portal's Users section, within their own rights).
    ManagePortalUsers,
    /// Edit a contact's or an asset's details (the section says which), never archive: staff
    /// who manage records, and client admins where the MSP allows it for their company.
    EditRecordDetails(Section),
    /// Invite a portal user at an address outside the company's e-mail domains (and set those
    /// domains): the owners' call, since an account at any address outlives the inviter's access.
    ManageCompanyDomains,
    /// Change the workspace's name, logo, colours and welcome text.
    ManageBranding,
    /// Add staff, change their roles and company assignments.
    ManageStaff,
    /// Read a company's invoices (billing-entitled principals only; the portal through its
    /// Invoices section).
    ViewInvoices,
    /// Draft, send, and mark invoices paid or void.
    ManageInvoices,
    /// Ask the MSP for a change (portal members and client admins through the Change requests
    /// section; viewers see requests but may not raise them).
    RequestChanges,
    /// Read the console's change-request queue and act on requests: assign, approve, reject,
    /// mark done.
    WorkChangeRequests,
    /// Read the outgoing mail queue.
    ViewOutbox,
    /// Open a portal section.
    ViewSection(Section),
    /// Open the portal as one of a company's portal users, read-only (C6): those who serve the
    /// company's people.
    ViewAsPortalUser,
    /// Read the audit log: the owners, the whole workspace's; client admins, their company's
    /// chain through the Audit log section.
    ViewAudit,
    /// Reset a portal user's two-step verification (a lost phone): staff who serve the
    /// company's people; never on the portal, where each user manages their own.
    ResetPortalUserMfa,
    /// Create, list and revoke the workspace's API tokens: the owners'.
    ManageApiTokens,
    /// Ask why a person can or cannot see a record or page: the owners'.
    ExplainAccess,
    /// Configure the workspace's single sign-on provider: the owners'.
    ManageSingleSignOn,
    /// Subscribe URLs to the workspace's events, read their delivery log and redeliver: the
    /// owners'.
    ManageWebhooks,
    /// Configure the workspace's connectors (their credentials), map vendor tenants to
    /// companies, read their runs: the owners'.
    ManageConnectors,
    /// Read a company's licences (P11): staff who serve or bill it; on the portal, through the
    /// Licences section.
    ViewLicences,
    /// Read a company's directory users (P19): staff who serve it; on the portal, the client
    /// admins through the Users section.
    ViewDirectoryUsers,
    /// Ask for the records of a section fed by a connector to be read again now (throttled per
    /// company): whoever may read them.
    RefreshConnectorData(Section),
    /// Read a company's security alerts (P5): staff who serve it; on the portal, through the
    /// Security section.
    ViewSecurityAlerts,
    /// Read the health of a company's e-mail domains (P5): as its security alerts.
    ViewDomainHealth,
    /// Read a company's backup jobs (P7): staff who serve it; on the portal, through the
    /// Backup section.
    ViewBackups,
    /// Read a company's recorded compliance assessments (P6): staff who serve it; on the
    /// portal, through the Compliance section.
    ViewCompliance,
    /// Set a company's DKIM selectors and have its domains checked again now: staff who serve
    /// it; on the portal, whoever reads the Security section may ask for a check.
    CheckDomainHealth,
}

/// Whether a portal section is open to a scope, and if not, why: the one test
/// [`Scope::may`] applies to every section (and the answer "why can this person see this?"
/// gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionAccess {
    Open,
    /// The section is switched off for the company.
    SwitchedOff,
    /// Only client admins see it.
    ClientAdminsOnly,
    /// Only people with billing rights see it.
    BillingOnly,
    /// A console scope: sections are the portal's.
    NotPortal,
}

fn section_access(
    role: PortalRole,
    billing: bool,
    sections: &[Section],
    section: Section,
) -> SectionAccess {
    use crate::section::SectionAudience;
    if !(section.always_on() || sections.contains(&section)) {
        return SectionAccess::SwitchedOff;
    }
    if section.spec().admits(role, billing) {
        return SectionAccess::Open;
    }
    match section.spec().audience {
        SectionAudience::Billing => SectionAccess::BillingOnly,
        _ => SectionAccess::ClientAdminsOnly,
    }
}

/// Why an action was refused. `NotVisible` must be answered exactly like a missing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("not found")]
    NotVisible,
    #[error("you do not have permission to do that")]
    Forbidden,
}

impl Scope {
    /// Whether a portal section is open to this scope, and if not, why.
    pub fn section_access(&self, section: Section) -> SectionAccess {
        match self.surface() {
            Surface::Portal { role, sections, .. } => {
                section_access(*role, self.billing(), sections, section)
            }
            Surface::Console { .. } => SectionAccess::NotPortal,
        }
    }

    /// Decides whether this scope may take `action`.
    pub fn may(&self, action: Action) -> Result<(), Denied> {
        // An API token never administers the workspace's people, tokens or sign-in, however
        // much its owner may; one naming a company, nothing of the workspace's own.
        if let Some(names_a_company) = self.api_token() {
            let administration = matches!(
                action,
                Action::ManageApiTokens
                    | Action::ManageStaff
                    | Action::ManageSingleSignOn
                    | Action::ManageWebhooks
                    | Action::ManageConnectors
                    | Action::ExplainAccess
            );
            let workspace_wide = matches!(
                action,
                Action::ManageBranding
                    | Action::ManageTicketForm
                    | Action::ManageCompanies
                    | Action::ManageCompanyDomains
                    | Action::ViewOutbox
                    | Action::ViewAudit
            );
            if administration || (names_a_company && workspace_wide) {
                return Err(Denied::Forbidden);
            }
        }
        // The portal viewed as a role is no one's account: no personal page opens.
        if self.view_as().is_some_and(|v| v.role.is_some())
            && matches!(
                action,
                Action::ViewSection(Section::Profile | Section::EmailPreferences)
                    | Action::ManageOwnPreferences
            )
        {
            return Err(Denied::NotVisible);
        }
        match self.surface() {
            Surface::Console { role } => staff_may(*role, action),
            Surface::Portal {
                role,
                sections,
                client_admin_edits,
                ..
            } => portal_may(*role, self.billing(), *client_admin_edits, sections, action),
        }
    }
}

fn staff_may(role: StaffRole, action: Action) -> Result<(), Denied> {
    use StaffRole::*;
    let allowed = match action {
        Action::ViewCompanies => true,
        Action::ViewTickets
        | Action::ViewInternalNotes
        | Action::ContributeTickets
        | Action::WorkTickets => matches!(role, Owner | Technician),
        Action::ManagePortalUsers | Action::ManageCompanyRecords | Action::EditRecordDetails(_) => {
            matches!(role, Owner | Technician)
        }
        Action::ViewInvoices | Action::ManageInvoices => matches!(role, Owner | StaffRole::Billing),
        Action::WorkChangeRequests | Action::ViewAsPortalUser | Action::ResetPortalUserMfa => {
            matches!(role, Owner | Technician)
        }
        Action::RequestChanges => return Err(Denied::NotVisible),
        Action::ManagePortalSettings
        | Action::ManageCompanies
        | Action::ManageBranding
        | Action::ManageStaff
        | Action::ManageTicketForm
        | Action::ManageCompanyDomains
        | Action::ViewOutbox
        | Action::ViewAudit
        | Action::ManageApiTokens
        | Action::ExplainAccess
        | Action::ManageSingleSignOn
        | Action::ManageWebhooks
        | Action::ManageConnectors => role == Owner,
        Action::ViewLicences => matches!(role, Owner | Technician | StaffRole::Billing),
        Action::ViewDirectoryUsers
        | Action::ViewSecurityAlerts
        | Action::ViewDomainHealth
        | Action::ViewBackups
        | Action::ViewCompliance
        | Action::CheckDomainHealth => {
            matches!(role, Owner | Technician)
        }
        Action::RefreshConnectorData(Section::Licences) => {
            matches!(role, Owner | Technician | StaffRole::Billing)
        }
        Action::RefreshConnectorData(_) => matches!(role, Owner | Technician),
        // Portal sections and preferences are not console concepts.
        Action::ViewSection(_) | Action::ManageOwnPreferences => return Err(Denied::NotVisible),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

fn portal_may(
    role: PortalRole,
    billing: bool,
    client_admin_edits: bool,
    sections: &[Section],
    action: Action,
) -> Result<(), Denied> {
    // Switched on for the company (or always on), and open to this user (its descriptor).
    let section_on = |s: Section| section_access(role, billing, sections, s) == SectionAccess::Open;
    match action {
        Action::ViewSection(section) if section_on(section) => Ok(()),
        Action::ViewTickets if section_on(Section::Tickets) => Ok(()),
        // A viewer sees the ticket, so the refusal says so instead of hiding it.
        Action::ContributeTickets if section_on(Section::Tickets) => {
            if role == PortalRole::Viewer {
                Err(Denied::Forbidden)
            } else {
                Ok(())
            }
        }
        Action::ViewInvoices if section_on(Section::Invoices) && billing => Ok(()),
        Action::RequestChanges if section_on(Section::ChangeRequests) => {
            if role == PortalRole::Viewer {
                Err(Denied::Forbidden)
            } else {
                Ok(())
            }
        }
        // The Users section admits client admins only.
        Action::ManagePortalUsers if section_on(Section::Users) => Ok(()),
        Action::EditRecordDetails(section @ (Section::Contacts | Section::Assets))
            if section_on(section) =>
        {
            if role == PortalRole::ClientAdmin && client_admin_edits {
                Ok(())
            } else {
                Err(Denied::Forbidden)
            }
        }
        Action::ManageOwnPreferences => Ok(()),
        Action::ViewAudit if section_on(Section::AuditLog) => Ok(()),
        Action::ViewLicences if section_on(Section::Licences) => Ok(()),
        Action::ViewBackups if section_on(Section::Backup) => Ok(()),
        Action::ViewCompliance if section_on(Section::Compliance) => Ok(()),
        Action::ViewSecurityAlerts | Action::ViewDomainHealth | Action::CheckDomainHealth
            if section_on(Section::Security) =>
        {
            Ok(())
        }
        // The Users section admits client admins only.
        Action::ViewDirectoryUsers if section_on(Section::Users) => Ok(()),
        Action::RefreshConnectorData(
            section @ (Section::Licences
            | Section::Users
            | Section::Assets
            | Section::Maintenance
            | Section::Security
            | Section::Backup),
        ) if section_on(section) => Ok(()),
        // Everything else does not exist on the portal: same answer as a missing record.
        _ => Err(Denied::NotVisible),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::PortalGrant;
    use crate::*;

    fn portal(sections: Vec<Section>) -> Scope {
        Scope::of(&Principal::Portal(PortalPrincipal::new(PortalGrant {
            user_id: PortalUserId::new(),
            workspace_id: WorkspaceId::new(),
            company_id: CompanyId::new(),
            role: PortalRole::ClientAdmin,
            sites: None,
            own_only: false,
            billing: true,
            client_admin_edits: false,
            sections: sections
                .into_iter()
                .map(|s| (s, s.label().to_string()))
                .collect(),
            name: "P".into(),
            email: "p@example.test".into(),
            company_name: "C".into(),
            switchable: vec![],
        })))
    }

    #[test]
    fn a_disabled_portal_section_is_not_visible() {
        let scope = portal(vec![Section::Overview]);
        assert_eq!(
            scope.may(Action::ViewSection(Section::Tickets)),
            Err(Denied::NotVisible)
        );
        assert_eq!(scope.may(Action::ViewTickets), Err(Denied::NotVisible));
        assert_eq!(scope.may(Action::ViewSection(Section::Overview)), Ok(()));
        assert_eq!(scope.may(Action::ViewSection(Section::Profile)), Ok(()));
    }

    #[test]
    fn the_portal_never_reads_internal_notes_or_manages_the_msps_things() {
        let scope = portal(Section::ALL.to_vec());
        for action in [
            Action::ViewInternalNotes,
            Action::WorkTickets,
            Action::ManageTicketForm,
            Action::ManagePortalSettings,
            Action::ManageCompanies,
            Action::ManageCompanyRecords,
            Action::ManageBranding,
            Action::ManageStaff,
            Action::ViewOutbox,
        ] {
            assert_eq!(scope.may(action), Err(Denied::NotVisible), "{action:?}");
        }
    }

    #[test]
    fn client_admins_manage_users_and_edit_details_only_where_allowed() {
        let scope = portal(Section::ALL.to_vec());
        assert_eq!(scope.may(Action::ManagePortalUsers), Ok(()));
        // The company has not allowed direct edits: the admin sees the record, may not edit.
        assert_eq!(
            scope.may(Action::EditRecordDetails(Section::Contacts)),
            Err(Denied::Forbidden)
        );
        let off = portal(vec![Section::Overview]);
        assert_eq!(off.may(Action::ManagePortalUsers), Err(Denied::NotVisible));
        assert_eq!(
            off.may(Action::EditRecordDetails(Section::Assets)),
            Err(Denied::NotVisible)
        );
        let viewer = Scope::of(&viewer_principal());
        assert_eq!(
            viewer.may(Action::ManagePortalUsers),
            Err(Denied::NotVisible)
        );
    }

    #[test]
    fn a_portal_viewer_sees_tickets_but_may_not_contribute() {
        let member = portal(Section::ALL.to_vec());
        assert_eq!(member.may(Action::ContributeTickets), Ok(()));
        let scope = Scope::of(&viewer_principal());
        assert_eq!(scope.may(Action::ViewTickets), Ok(()));
        assert_eq!(scope.may(Action::ContributeTickets), Err(Denied::Forbidden));
        let off = portal(vec![Section::Overview]);
        assert_eq!(off.may(Action::ContributeTickets), Err(Denied::NotVisible));
    }

    fn viewer_principal() -> Principal {
        Principal::Portal(PortalPrincipal::new(PortalGrant {
            user_id: PortalUserId::new(),
            workspace_id: WorkspaceId::new(),
            company_id: CompanyId::new(),
            role: PortalRole::Viewer,
            sites: None,
            own_only: false,
            billing: false,
            client_admin_edits: false,
            sections: Section::ALL
                .iter()
                .map(|s| (*s, s.label().to_string()))
                .collect(),
            name: "V".into(),
            email: "v@example.test".into(),
            company_name: "C".into(),
            switchable: vec![],
        }))
    }

    #[test]
    fn sales_and_billing_take_no_operational_actions() {
        for role in [StaffRole::Sales, StaffRole::Billing] {
            let scope = Scope::of(&Principal::Staff(StaffPrincipal::new(
                StaffUserId::new(),
                WorkspaceId::new(),
                role,
                vec![],
                "S".into(),
                "s@example.test".into(),
            )));
            assert_eq!(scope.may(Action::ViewCompanies), Ok(()));
            assert_eq!(scope.may(Action::ManagePortalUsers), Err(Denied::Forbidden));
            assert_eq!(scope.may(Action::ManageCompanies), Err(Denied::Forbidden));
            assert_eq!(
                scope.may(Action::ManageCompanyRecords),
                Err(Denied::Forbidden)
            );
            assert_eq!(scope.may(Action::ViewTickets), Err(Denied::Forbidden));
        }
    }
}
