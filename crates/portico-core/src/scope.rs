//! What a principal may see. [`Scope::of`] is the only way to obtain a scope; the store reads its
//! parts to put them into every query's SQL.

use crate::{
    CompanyId, Origin, PortalRole, PortalUserId, Principal, Section, SiteId, StaffRole,
    StaffUserId, TicketView, WorkspaceId,
};

/// The companies a scope covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanySet {
    /// Every company of the workspace (owners, billing staff).
    All,
    /// Only these (possibly none).
    Only(Vec<CompanyId>),
}

impl CompanySet {
    pub fn contains(&self, id: CompanyId) -> bool {
        match self {
            CompanySet::All => true,
            CompanySet::Only(ids) => ids.contains(&id),
        }
    }
}

/// Who acts, for the records that remember it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Staff(StaffUserId),
    Portal(PortalUserId),
}

/// The surface-specific part of a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Surface {
    Console {
        role: StaffRole,
    },
    Portal {
        role: PortalRole,
        sections: Vec<Section>,
        /// What of a ticket this role is shown.
        ticket_view: TicketView,
        /// The company lets its client admins edit contact and asset details directly.
        client_admin_edits: bool,
    },
}

/// The fence around every read and write.
#[derive(Debug, Clone)]
pub struct Scope {
    workspace: WorkspaceId,
    companies: CompanySet,
    sites: Option<Vec<SiteId>>,
    requester: Option<PortalUserId>,
    billing: bool,
    surface: Surface,
    actor: Actor,
    actor_name: String,
    /// Where the request came from, for the audit log; not part of what the caller may see.
    origin: Origin,
    /// A staff member viewing the portal as this portal user: nothing may be changed.
    view_as: Option<Box<crate::ViewAs>>,
    /// Acting through a read-only API token: nothing may be changed.
    read_only: bool,
    /// Acting through an API token (`Some(true)`: one naming a company): never the workspace's
    /// administration (see [`Scope::may`]).
    api_token: Option<bool>,
    /// A connector writing what a tool reported (a PSA's reply or status change): the tool's
    /// name. Such a scope belongs to no user; what it writes names the tool.
    connector: Option<String>,
}

impl Scope {
    /// The one place a scope is computed from a principal.
    pub fn of(principal: &Principal) -> Scope {
        match principal {
            Principal::Staff(staff) => {
                let companies = match staff.role() {
                    StaffRole::Owner | StaffRole::Billing => CompanySet::All,
                    StaffRole::Technician | StaffRole::Sales => {
                        CompanySet::Only(staff.assigned().to_vec())
                    }
                };
                Scope {
                    workspace: staff.workspace_id(),
                    companies,
                    sites: None,
                    requester: None,
                    billing: matches!(staff.role(), StaffRole::Owner | StaffRole::Billing),
                    surface: Surface::Console { role: staff.role() },
                    actor: Actor::Staff(staff.user_id()),
                    actor_name: staff.name().to_owned(),
                    origin: Origin::default(),
                    view_as: None,
                    read_only: false,
                    api_token: None,
                    connector: None,
                }
            }
            Principal::Portal(portal) => Scope {
                workspace: portal.workspace_id,
                companies: CompanySet::Only(vec![portal.company_id]),
                sites: portal.sites.clone(),
                requester: portal.own_only.then_some(portal.user_id),
                billing: portal.billing,
                surface: Surface::Portal {
                    role: portal.role,
                    sections: portal.sections.iter().map(|(s, _)| *s).collect(),
                    ticket_view: portal.ticket_view.clone(),
                    client_admin_edits: portal.client_admin_edits,
                },
                actor: Actor::Portal(portal.user_id),
                actor_name: portal.name.clone(),
                origin: Origin::default(),
                view_as: None,
                read_only: false,
                api_token: None,
                connector: None,
            },
        }
    }

    /// A connector's hand in one company's tickets (built by the store for a sync run): what
    /// a technician may do there, recorded under the tool's name `tool` rather than a user's.
    pub fn for_connector(workspace: WorkspaceId, company: CompanyId, tool: &str) -> Scope {
        Scope {
            workspace,
            companies: CompanySet::Only(vec![company]),
            sites: None,
            requester: None,
            billing: false,
            surface: Surface::Console {
                role: StaffRole::Technician,
            },
            // No user: the nil id never reaches a row (writes of a connector scope name the
            // tool instead, see `Scope::connector`).
            actor: Actor::Staff(StaffUserId::from_stored("")),
            // What the client may read (a ticket's timeline) names the desk, never the MSP's
            // tools: the MSP's brand is the only one the portal shows.
            actor_name: "Service desk".to_owned(),
            origin: Origin::default(),
            view_as: None,
            read_only: false,
            api_token: None,
            connector: Some(tool.to_owned()),
        }
    }

    /// `Some(tool)` when a connector acts, not a person.
    pub fn connector(&self) -> Option<&str> {
        self.connector.as_deref()
    }

    pub fn workspace(&self) -> WorkspaceId {
        self.workspace
    }
    pub fn companies(&self) -> &CompanySet {
        &self.companies
    }
    /// `Some(sites)` when the caller sees only these sites' tickets and assets.
    pub fn sites(&self) -> Option<&[SiteId]> {
        self.sites.as_deref()
    }
    /// `Some(user)` when the caller sees only tickets they requested or are cc'd on.
    pub fn requester(&self) -> Option<PortalUserId> {
        self.requester
    }
    /// Whether financial fields may exist in what the caller receives.
    pub fn billing(&self) -> bool {
        self.billing
    }
    /// What of a ticket the caller is shown: everything for staff.
    pub fn ticket_view(&self) -> &TicketView {
        static EVERYTHING: std::sync::OnceLock<TicketView> = std::sync::OnceLock::new();
        match &self.surface {
            Surface::Portal { ticket_view, .. } => ticket_view,
            Surface::Console { .. } => EVERYTHING.get_or_init(TicketView::everything),
        }
    }

    pub fn surface(&self) -> &Surface {
        &self.surface
    }
    pub fn actor(&self) -> Actor {
        self.actor
    }
    /// The acting person's display name, recorded on what they write.
    pub fn actor_name(&self) -> &str {
        &self.actor_name
    }
    /// The same scope, noting where its request came from (the audit log records it).
    pub fn from_origin(mut self, origin: Origin) -> Scope {
        self.origin = origin;
        self
    }
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
    /// The same portal scope, seen by a staff member viewing as its user (read-only). The store
    /// builds it from a view-as session only.
    /// Never more than the staff member may see themselves: money only for those with billing
    /// rights, the audit log only for those who read it in the console.
    pub fn viewed_by(mut self, view_as: crate::ViewAs) -> Scope {
        if self.is_portal() {
            self.billing &= view_as.billing;
            if let Surface::Portal { sections, .. } = &mut self.surface {
                sections.retain(|s| match s {
                    crate::Section::Invoices => view_as.billing,
                    crate::Section::AuditLog => view_as.audit,
                    _ => true,
                });
            }
            self.view_as = Some(Box::new(view_as));
        }
        self
    }
    /// The scope of an API token of this (staff) principal: never more than the principal's,
    /// narrowed to one company when the token names one, read-only unless it may write, and
    /// named in the audit log by the token as well as the person.
    pub fn through_api_token(
        mut self,
        token_name: &str,
        company: Option<CompanyId>,
        read_only: bool,
    ) -> Scope {
        if let Some(company) = company {
            self.companies = if self.companies.contains(company) {
                CompanySet::Only(vec![company])
            } else {
                CompanySet::Only(Vec::new())
            };
        }
        self.read_only |= read_only;
        self.api_token = Some(company.is_some());
        self.actor_name = format!("{} (API token “{token_name}”)", self.actor_name);
        self
    }
    /// The stages in which this scope's fence narrows what it sees, to tell which one hides a
    /// record: its companies alone; with its site restriction; with its own-only restriction
    /// (this scope). Each is read-only and serves only to explain access ("why can this person
    /// see this?"): the store runs the same fenced query under each.
    pub fn explanation_stages(&self) -> [Scope; 3] {
        let mut companies = self.clone();
        companies.sites = None;
        companies.requester = None;
        companies.read_only = true;
        let mut sites = self.clone();
        sites.requester = None;
        sites.read_only = true;
        let mut whole = self.clone();
        whole.read_only = true;
        [companies, sites, whole]
    }
    /// `Some(names_a_company)` when acting through an API token.
    pub fn api_token(&self) -> Option<bool> {
        self.api_token
    }
    /// Whether every change is refused: viewing the portal as someone, or a read-only token.
    pub fn is_read_only(&self) -> bool {
        self.read_only || self.view_as.is_some()
    }
    /// Who is viewing as this portal user, if someone is: every change is refused.
    pub fn view_as(&self) -> Option<&crate::ViewAs> {
        self.view_as.as_deref()
    }
    pub fn is_portal(&self) -> bool {
        matches!(self.surface, Surface::Portal { .. })
    }
    pub fn staff_role(&self) -> Option<StaffRole> {
        match self.surface {
            Surface::Console { role } => Some(role),
            Surface::Portal { .. } => None,
        }
    }
    pub fn portal_role(&self) -> Option<PortalRole> {
        match self.surface {
            Surface::Portal { role, .. } => Some(role),
            Surface::Console { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::PortalGrant;
    use crate::{PortalPrincipal, StaffPrincipal};

    fn staff(role: StaffRole, assigned: Vec<CompanyId>) -> Principal {
        Principal::Staff(StaffPrincipal::new(
            StaffUserId::new(),
            WorkspaceId::new(),
            role,
            assigned,
            "S".into(),
            "s@example.test".into(),
        ))
    }

    #[test]
    fn technicians_and_sales_see_only_their_assigned_companies() {
        let a = CompanyId::new();
        for role in [StaffRole::Technician, StaffRole::Sales] {
            let scope = Scope::of(&staff(role, vec![a]));
            assert!(scope.companies().contains(a));
            assert!(!scope.companies().contains(CompanyId::new()));
            assert!(!scope.billing());
        }
    }

    #[test]
    fn owners_and_billing_see_every_company_and_financials() {
        for role in [StaffRole::Owner, StaffRole::Billing] {
            let scope = Scope::of(&staff(role, vec![]));
            assert_eq!(scope.companies(), &CompanySet::All);
            assert!(scope.billing());
        }
    }

    #[test]
    fn a_portal_scope_is_one_company_with_its_restrictions() {
        let company = CompanyId::new();
        let site = SiteId::new();
        let user = PortalUserId::new();
        let principal = Principal::Portal(PortalPrincipal::new(PortalGrant {
            user_id: user,
            workspace_id: WorkspaceId::new(),
            company_id: company,
            role: PortalRole::Member,
            sites: Some(vec![site]),
            own_only: true,
            billing: false,
            client_admin_edits: false,
            sections: vec![(Section::Tickets, "Tickets".into())],
            name: "P".into(),
            email: "p@example.test".into(),
            company_name: "C".into(),
            switchable: vec![],
        }));
        let scope = Scope::of(&principal);
        assert_eq!(scope.companies(), &CompanySet::Only(vec![company]));
        assert_eq!(scope.sites(), Some(&[site][..]));
        assert_eq!(scope.requester(), Some(user));
        assert!(!scope.billing());
    }
}
