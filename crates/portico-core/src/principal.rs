//! Who is asking. A principal is only ever built by the store while resolving a session or token;
//! nothing here can be deserialised from a request.

use crate::{
    CompanyId, PortalRole, PortalUserId, Section, SiteId, StaffRole, StaffUserId, TicketView,
    WorkspaceId, Zone,
};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    Staff(StaffPrincipal),
    Portal(PortalPrincipal),
}

impl Principal {
    pub fn workspace_id(&self) -> WorkspaceId {
        match self {
            Principal::Staff(s) => s.workspace_id,
            Principal::Portal(p) => p.workspace_id,
        }
    }

    pub fn display_name(&self) -> &str {
        match self {
            Principal::Staff(s) => &s.name,
            Principal::Portal(p) => &p.name,
        }
    }

    /// The zone this person reads times in: their own, else their company's (staff: the
    /// workspace's), else the workspace's.
    pub fn zone(&self) -> &Zone {
        match self {
            Principal::Staff(s) => &s.zone,
            Principal::Portal(p) => &p.zone,
        }
    }

    /// The same principal reading times in `zone` (the store sets it when building one).
    pub fn with_zone(mut self, zone: Zone) -> Self {
        match &mut self {
            Principal::Staff(s) => s.zone = zone,
            Principal::Portal(p) => p.zone = zone,
        }
        self
    }
}

/// A member of the MSP's staff in the console.
#[derive(Debug, Clone)]
pub struct StaffPrincipal {
    user_id: StaffUserId,
    workspace_id: WorkspaceId,
    role: StaffRole,
    assigned: Vec<CompanyId>,
    name: String,
    email: String,
    zone: Zone,
}

impl StaffPrincipal {
    /// Built by the store from the staff user's row and their company assignments.
    pub fn new(
        user_id: StaffUserId,
        workspace_id: WorkspaceId,
        role: StaffRole,
        assigned: Vec<CompanyId>,
        name: String,
        email: String,
    ) -> Self {
        Self {
            user_id,
            workspace_id,
            role,
            assigned,
            name,
            email,
            zone: Zone::utc(),
        }
    }

    pub fn user_id(&self) -> StaffUserId {
        self.user_id
    }
    pub fn workspace_id(&self) -> WorkspaceId {
        self.workspace_id
    }
    pub fn role(&self) -> StaffRole {
        self.role
    }
    pub fn assigned(&self) -> &[CompanyId] {
        &self.assigned
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn email(&self) -> &str {
        &self.email
    }
}

/// A client's user in the portal, acting for exactly one company (the one chosen in the switcher).
#[derive(Debug, Clone)]
pub struct PortalPrincipal {
    pub(crate) user_id: PortalUserId,
    pub(crate) workspace_id: WorkspaceId,
    pub(crate) company_id: CompanyId,
    pub(crate) role: PortalRole,
    pub(crate) sites: Option<Vec<SiteId>>,
    pub(crate) own_only: bool,
    pub(crate) billing: bool,
    pub(crate) client_admin_edits: bool,
    pub(crate) sections: Vec<(Section, String)>,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) company_name: String,
    pub(crate) switchable: Vec<(CompanyId, String)>,
    pub(crate) zone: Zone,
    pub(crate) ticket_view: TicketView,
}

/// Everything the store read about a portal user acting for one company.
#[derive(Debug, Clone)]
pub struct PortalGrant {
    pub user_id: PortalUserId,
    pub workspace_id: WorkspaceId,
    pub company_id: CompanyId,
    pub role: PortalRole,
    /// `None`: every site of the company; `Some`: only these.
    pub sites: Option<Vec<SiteId>>,
    pub own_only: bool,
    pub billing: bool,
    /// The company lets its client admins edit contact and asset details directly.
    pub client_admin_edits: bool,
    /// The enabled sections of the company with their effective labels.
    pub sections: Vec<(Section, String)>,
    pub name: String,
    pub email: String,
    /// The name of the company acted for.
    pub company_name: String,
    /// Every company the user may switch to (including the current one), for the switcher.
    pub switchable: Vec<(CompanyId, String)>,
}

impl PortalPrincipal {
    pub fn new(grant: PortalGrant) -> Self {
        let PortalGrant {
            user_id,
            workspace_id,
            company_id,
            role,
            sites,
            own_only,
            billing,
            client_admin_edits,
            sections,
            name,
            email,
            company_name,
            switchable,
        } = grant;
        Self {
            user_id,
            workspace_id,
            company_id,
            role,
            sites,
            own_only,
            billing,
            client_admin_edits,
            sections,
            name,
            email,
            company_name,
            switchable,
            zone: Zone::utc(),
            ticket_view: TicketView::everything(),
        }
    }

    /// The same principal seeing only what the MSP shows its role of a ticket (the store sets
    /// it when building one).
    pub fn with_ticket_view(mut self, view: TicketView) -> Self {
        self.ticket_view = view;
        self
    }

    pub fn ticket_view(&self) -> &TicketView {
        &self.ticket_view
    }

    pub fn company_name(&self) -> &str {
        &self.company_name
    }
    pub fn switchable(&self) -> &[(CompanyId, String)] {
        &self.switchable
    }
    pub fn billing(&self) -> bool {
        self.billing
    }
    pub fn client_admin_edits(&self) -> bool {
        self.client_admin_edits
    }

    pub fn user_id(&self) -> PortalUserId {
        self.user_id
    }
    pub fn company_id(&self) -> CompanyId {
        self.company_id
    }
    pub fn role(&self) -> PortalRole {
        self.role
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn email(&self) -> &str {
        &self.email
    }
    pub fn own_only(&self) -> bool {
        self.own_only
    }
    pub fn sites(&self) -> Option<&[SiteId]> {
        self.sites.as_deref()
    }
    /// Enabled sections that have portal pages and admit this user, with their labels, in
    /// navigation order.
    pub fn navigation(&self) -> impl Iterator<Item = &(Section, String)> {
        self.sections
            .iter()
            .filter(|(s, _)| s.has_pages() && s.spec().admits(self.role, self.billing))
    }
    pub fn section_label(&self, section: Section) -> Option<&str> {
        self.sections
            .iter()
            .find(|(s, _)| *s == section)
            .map(|(_, l)| l.as_str())
    }
}
