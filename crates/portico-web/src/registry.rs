//! Every route is registered through [`SurfaceRoutes`], which records its method, path, surface
//! and the kind of record it addresses. The authorization matrix test reads this registry, so a
//! route cannot be added without the test noticing.

use axum::handler::Handler;
use axum::routing::{MethodRouter, get, patch, post, put};
use axum::{Extension, Router};
use portico_core::Section;
use portico_store::SurfaceKind;

use crate::AppState;

/// The kind of record a route's path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// No record in the path; may be reachable without signing in.
    Public,
    /// No record in the path; needs a signed-in principal.
    Page,
    /// `{company}`: a company.
    Company,
    /// `{company}/…/{user}`: a portal user of a company.
    CompanyPortalUser,
    /// `{company}/…/{site}`: a site of a company.
    CompanySite,
    /// `{company}/…/{contact}`: a contact of a company.
    CompanyContact,
    /// `{company}/…/{asset}`: an asset of a company.
    CompanyAsset,
    /// `{company}/…/{maintenance}`: a maintenance record of a company.
    CompanyMaintenance,
    /// `{company}/…/{invoice}`: an invoice of a company.
    CompanyInvoice,
    /// `{invoice}`: an invoice of the portal user's company.
    Invoice,
    /// `{change}`: a change request.
    ChangeRequest,
    /// `{asset}`: an asset of the portal user's company.
    Asset,
    /// `{contact}`: a contact of the portal user's company.
    Contact,
    /// `{user}`: a portal user of the portal user's company.
    PortalUser,
    /// `{staff}`: a staff user of the workspace.
    StaffUser,
    /// `{import}`: a CSV file the staff user uploaded for import.
    Import,
    /// `{ticket}`: a ticket.
    Ticket,
    /// `{ticket}/…/{attachment}`: a file attached to a ticket.
    TicketAttachment,
    /// `{connector}`: a connector of the workspace.
    Connector,
    /// `{company}/…/{pentest}`: a penetration test of a company.
    CompanyPentest,
    /// `{pentest}`: a penetration test of the portal user's company.
    Pentest,
    /// `{company}/…/{requirement}`: a requirement of a compliance framework, for a company.
    CompanyRequirement,
    /// `{company}/…/{attestation}`: staff's judgement of a company's compliance requirement.
    CompanyAttestation,
}

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub surface: SurfaceKind,
    pub resource: Resource,
    /// The portal section the route belongs to: while the section is switched off for the
    /// caller's company, or not open to the caller (its descriptor's audience), the route
    /// answers 404 like a missing page.
    pub section: Option<Section>,
}

/// The section of the route a request reached, put in the request's extensions by the router;
/// [`crate::auth::Auth`] refuses the request with 404 unless the caller may open it, so no
/// handler of a section can forget the check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteSection(pub(crate) Section);

/// A surface's router under construction, with its registry.
pub struct SurfaceRoutes {
    surface: SurfaceKind,
    specs: Vec<RouteSpec>,
    router: Router<AppState>,
    /// The section routes added now belong to ([`SurfaceRoutes::section`]).
    section: Option<Section>,
}

impl SurfaceRoutes {
    pub(crate) fn new(surface: SurfaceKind) -> Self {
        SurfaceRoutes {
            surface,
            specs: Vec::new(),
            router: Router::new(),
            section: None,
        }
    }

    /// Registers the routes `routes` adds as the pages of a portal section.
    pub(crate) fn section(
        mut self,
        section: Section,
        routes: impl FnOnce(SurfaceRoutes) -> SurfaceRoutes,
    ) -> Self {
        let outer = self.section.replace(section);
        self = routes(self);
        self.section = outer;
        self
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        resource: Resource,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.specs.push(RouteSpec {
            method,
            path,
            surface: self.surface,
            resource,
            section: self.section,
        });
        let route = match self.section {
            Some(section) => route.layer(Extension(RouteSection(section))),
            None => route,
        };
        self.router = self.router.route(path, route);
        self
    }

    pub(crate) fn get<H, T>(self, path: &'static str, resource: Resource, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", path, resource, get(handler))
    }

    pub(crate) fn post<H, T>(self, path: &'static str, resource: Resource, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, resource, post(handler))
    }

    pub(crate) fn put<H, T>(self, path: &'static str, resource: Resource, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("PUT", path, resource, put(handler))
    }

    pub(crate) fn patch<H, T>(self, path: &'static str, resource: Resource, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("PATCH", path, resource, patch(handler))
    }

    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    pub(crate) fn into_router(self, state: AppState) -> Router {
        self.router
            .fallback(crate::error::not_found)
            .with_state(state)
    }
}

/// The console's routes.
pub fn console_router() -> SurfaceRoutes {
    crate::console::routes(SurfaceRoutes::new(SurfaceKind::Console))
}

/// The portal's routes.
pub fn portal_router() -> SurfaceRoutes {
    crate::portal::routes(SurfaceRoutes::new(SurfaceKind::Portal))
}

/// Every registered route of both surfaces, for the authorization matrix.
pub fn route_table() -> Vec<RouteSpec> {
    let mut all = console_router().specs().to_vec();
    all.extend_from_slice(portal_router().specs());
    all
}
