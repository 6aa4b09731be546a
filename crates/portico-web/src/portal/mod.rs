//! The client portal: a read-mostly window onto the company's records, white-labelled.

mod assets;
mod audit;
mod backup;
mod changes;
mod compliance;
mod contacts;
mod directory;
mod invoices;
mod licences;
mod maintenance;
mod new_ticket;
mod overview;
mod preferences;
mod profile;
mod security;
pub(crate) mod tickets;
mod users;
mod work;

use portico_core::Section;

use crate::console::common_routes;
use crate::registry::{Resource, SurfaceRoutes};

pub(crate) fn routes(r: SurfaceRoutes) -> SurfaceRoutes {
    common_routes(r)
        // The landing page: with Overview switched off it sends the user to the first section
        // they have rather than answering 404, so it checks the section itself.
        .get("/", Resource::Page, overview::page)
        // View as (C6): the console's hand-over, and ending the view.
        .get("/view-as", Resource::Public, crate::view_as::start)
        .post("/view-as/end", Resource::Page, crate::view_as::end)
        .section(Section::Tickets, |r| {
            r.get("/tickets", Resource::Page, tickets::list)
                .get("/tickets.csv", Resource::Page, tickets::export)
                .post("/tickets", Resource::Page, new_ticket::submit)
                .get("/tickets/new", Resource::Page, new_ticket::new_ticket)
                .get("/tickets/events", Resource::Page, crate::live::list_events)
                .get(
                    "/tickets/{ticket}/events",
                    Resource::Ticket,
                    crate::live::ticket_events,
                )
                .get("/tickets/{ticket}", Resource::Ticket, tickets::detail)
                .get(
                    "/tickets/{ticket}/attachments/{attachment}",
                    Resource::TicketAttachment,
                    crate::attachments::download,
                )
                .post(
                    "/tickets/{ticket}/replies",
                    Resource::Ticket,
                    tickets::reply,
                )
                .post(
                    "/tickets/{ticket}/resolve",
                    Resource::Ticket,
                    tickets::resolve,
                )
                .post(
                    "/tickets/{ticket}/reopen",
                    Resource::Ticket,
                    tickets::reopen,
                )
                .post("/tickets/{ticket}/rating", Resource::Ticket, tickets::rate)
                .post("/tickets/{ticket}/cc", Resource::Ticket, tickets::set_cc)
        })
        .section(Section::Work, |r| {
            r.get("/work", Resource::Page, work::page).get(
                "/work.csv",
                Resource::Page,
                work::export,
            )
        })
        .section(Section::Maintenance, |r| {
            r.get("/maintenance", Resource::Page, maintenance::page)
                .get("/maintenance.csv", Resource::Page, maintenance::export)
                .post("/maintenance/refresh", Resource::Page, maintenance::refresh)
        })
        .section(Section::Assets, |r| {
            r.get("/assets", Resource::Page, assets::list)
                .get("/assets.csv", Resource::Page, assets::export)
                .post("/assets/refresh", Resource::Page, assets::refresh)
                .get("/assets/{asset}", Resource::Asset, assets::detail)
                .get("/assets/{asset}/edit", Resource::Asset, assets::edit)
                .post("/assets/{asset}/edit", Resource::Asset, assets::save)
        })
        .section(Section::Invoices, |r| {
            r.get("/invoices", Resource::Page, invoices::list)
                .get("/invoices.csv", Resource::Page, invoices::export)
                .get("/invoices/{invoice}", Resource::Invoice, invoices::detail)
                .get("/invoices/{invoice}/pdf", Resource::Invoice, invoices::pdf)
        })
        .section(Section::Contacts, |r| {
            r.get("/contacts", Resource::Page, contacts::list)
                .get("/contacts.csv", Resource::Page, contacts::export)
                .get("/contacts/{contact}", Resource::Contact, contacts::detail)
                .post("/contacts/{contact}", Resource::Contact, contacts::save)
        })
        .section(Section::ChangeRequests, |r| {
            r.get("/changes", Resource::Page, changes::list)
                .get("/changes.csv", Resource::Page, changes::export)
                .post("/changes", Resource::Page, changes::submit)
                .get("/changes/new", Resource::Page, changes::new_change)
                .get(
                    "/changes/{change}",
                    Resource::ChangeRequest,
                    changes::detail,
                )
                .post(
                    "/changes/{change}/approval",
                    Resource::ChangeRequest,
                    changes::approval,
                )
        })
        .section(Section::AuditLog, |r| {
            r.get("/audit", Resource::Page, audit::page)
                .get("/audit.csv", Resource::Page, audit::export)
                .get("/audit/bundle.json", Resource::Page, audit::bundle)
        })
        .section(Section::Backup, |r| {
            r.get("/backup", Resource::Page, backup::page).post(
                "/backup/refresh",
                Resource::Page,
                backup::refresh,
            )
        })
        .section(Section::Compliance, |r| {
            r.get("/compliance", Resource::Page, compliance::page)
        })
        .section(Section::Security, |r| {
            r.get("/protection", Resource::Page, security::page)
                .post("/protection/check", Resource::Page, security::check)
                .post("/protection/refresh", Resource::Page, security::refresh)
                .get(
                    "/protection/pentests/{pentest}/report",
                    Resource::Pentest,
                    security::pentest_report,
                )
                .post(
                    "/protection/breach-alerts",
                    Resource::Page,
                    security::breach_alerts,
                )
        })
        .section(Section::Licences, |r| {
            r.get("/licences", Resource::Page, licences::list).post(
                "/licences/refresh",
                Resource::Page,
                licences::refresh,
            )
        })
        .section(Section::Users, |r| {
            r.get("/users/directory", Resource::Page, directory::list)
                .post(
                    "/users/directory/refresh",
                    Resource::Page,
                    directory::refresh,
                )
                .get("/users", Resource::Page, users::list)
                .post("/users", Resource::Page, users::invite)
                .get("/users.csv", Resource::Page, users::export)
                .get("/users/new", Resource::Page, users::new_user)
                .get("/users/{user}", Resource::PortalUser, users::detail)
                .post("/users/{user}", Resource::PortalUser, users::update)
                .post(
                    "/users/{user}/disable",
                    Resource::PortalUser,
                    users::disable,
                )
                .post("/users/{user}/enable", Resource::PortalUser, users::enable)
                .post(
                    "/users/{user}/invitation",
                    Resource::PortalUser,
                    users::resend,
                )
        })
        .section(Section::EmailPreferences, |r| {
            r.get("/preferences", Resource::Page, preferences::page)
                .post("/preferences", Resource::Page, preferences::save)
        })
        .section(Section::Profile, |r| {
            r.get("/profile", Resource::Page, profile::page)
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
                .post(
                    "/profile/sessions/end",
                    Resource::Page,
                    profile::end_session,
                )
                .post(
                    "/profile/time-zone",
                    Resource::Page,
                    crate::local_time::save_my_time_zone,
                )
        })
        .post("/switch-company", Resource::Page, profile::switch_company)
}
