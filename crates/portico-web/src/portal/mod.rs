//! The client portal: a read-mostly window onto the company's records, white-labelled.

mod overview;
mod profile;
mod tickets;

use crate::console::common_routes;
use crate::registry::{Resource, SurfaceRoutes};

pub(crate) fn routes(r: SurfaceRoutes) -> SurfaceRoutes {
    common_routes(r)
        .get("/", Resource::Page, overview::page)
        .get("/tickets", Resource::Page, tickets::list)
        .get("/tickets/{ticket}", Resource::Ticket, tickets::detail)
        .get("/profile", Resource::Page, profile::page)
        .post(
            "/profile/password",
            Resource::Page,
            profile::change_password,
        )
        .post(
            "/profile/sessions/end-others",
            Resource::Page,
            profile::end_other_sessions,
        )
        .post("/switch-company", Resource::Page, profile::switch_company)
}
