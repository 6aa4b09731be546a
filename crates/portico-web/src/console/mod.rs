//! The console: the MSP's staff run their clients from here.

pub mod access;
mod api_tokens;
mod asset_fields;
mod assets;
mod audit;
mod backup;
mod branding;
mod breach_monitoring;
mod canned_responses;
mod changes;
mod companies;
mod company_edit;
mod company_grants;
mod company_hours;
mod compliance;
mod connectors;
mod contacts;
mod domains;
mod import;
mod invoices;
pub(crate) mod licences;
mod maintenance;
mod notifications;
mod outbox;
mod pentests;
mod portal_defaults;
mod portal_settings;
pub(crate) mod portal_users;
mod routing;

mod settings;
mod sites;
mod sla;

mod sso;
mod staff;
mod ticket_form;
mod ticket_intake;
mod ticket_visibility;
mod time;

pub(crate) mod tickets;
mod webhooks;
mod work;

use crate::registry::{Resource, SurfaceRoutes};
use crate::{brand, second_factor, sign_in};

pub(crate) fn routes(r: SurfaceRoutes) -> SurfaceRoutes {
    common_routes(r)
        .get("/", Resource::Page, work::home)
        .get("/companies", Resource::Page, companies::list)
        .get("/companies.csv", Resource::Page, companies::export)
        .get("/companies/new", Resource::Page, company_edit::new_company)
        .post("/companies", Resource::Page, company_edit::add)
        .get("/companies/{company}", Resource::Company, companies::detail)
        .post(
            "/companies/{company}",
            Resource::Company,
            company_edit::save,
        )
        .get(
            "/companies/{company}/edit",
            Resource::Company,
            company_edit::edit,
        )
        .post(
            "/companies/{company}/archive",
            Resource::Company,
            company_edit::archive,
        )
        .get(
            "/companies/{company}/assets",
            Resource::Company,
            assets::list,
        )
        .get(
            "/companies/{company}/assets.csv",
            Resource::Company,
            assets::export,
        )
        .get(
            "/companies/{company}/assets/new",
            Resource::Company,
            assets::new_asset,
        )
        .post(
            "/companies/{company}/assets",
            Resource::Company,
            assets::add,
        )
        .get(
            "/companies/{company}/assets/{asset}",
            Resource::CompanyAsset,
            assets::detail,
        )
        .post(
            "/companies/{company}/assets/{asset}",
            Resource::CompanyAsset,
            assets::save,
        )
        .post(
            "/companies/{company}/assets/{asset}/archive",
            Resource::CompanyAsset,
            assets::archive,
        )
        .get(
            "/companies/{company}/asset-fields",
            Resource::Company,
            asset_fields::company_page,
        )
        .post(
            "/companies/{company}/asset-fields",
            Resource::Company,
            asset_fields::company_save,
        )
        .get(
            "/settings/assets",
            Resource::Page,
            asset_fields::workspace_page,
        )
        .post(
            "/settings/assets",
            Resource::Page,
            asset_fields::workspace_save,
        )
        .get("/import", Resource::Page, import::page)
        .post("/import", Resource::Page, import::upload)
        .get("/import/template.csv", Resource::Page, import::template)
        .post("/import/{import}/apply", Resource::Import, import::apply)
        .get("/changes", Resource::Page, changes::queue)
        .get("/changes.csv", Resource::Page, changes::export)
        .get(
            "/changes/{change}",
            Resource::ChangeRequest,
            changes::detail,
        )
        .post(
            "/changes/{change}/assign",
            Resource::ChangeRequest,
            changes::assign,
        )
        .post(
            "/changes/{change}/decision",
            Resource::ChangeRequest,
            changes::decide,
        )
        .get(
            "/companies/{company}/invoices",
            Resource::Company,
            invoices::list,
        )
        .get(
            "/companies/{company}/invoices.csv",
            Resource::Company,
            invoices::export,
        )
        .get(
            "/companies/{company}/contacts.csv",
            Resource::Company,
            contacts::export,
        )
        .get(
            "/companies/{company}/invoices/new",
            Resource::Company,
            invoices::new_invoice,
        )
        .post(
            "/companies/{company}/invoices",
            Resource::Company,
            invoices::create,
        )
        .get(
            "/companies/{company}/invoices/{invoice}",
            Resource::CompanyInvoice,
            invoices::detail,
        )
        .post(
            "/companies/{company}/invoices/{invoice}",
            Resource::CompanyInvoice,
            invoices::save,
        )
        .post(
            "/companies/{company}/invoices/{invoice}/status",
            Resource::CompanyInvoice,
            invoices::set_status,
        )
        .get(
            "/companies/{company}/invoices/{invoice}/pdf",
            Resource::CompanyInvoice,
            invoices::pdf,
        )
        .get(
            "/companies/{company}/maintenance",
            Resource::Company,
            maintenance::list,
        )
        .get(
            "/companies/{company}/maintenance.csv",
            Resource::Company,
            maintenance::export,
        )
        .get(
            "/companies/{company}/work.csv",
            Resource::Company,
            time::company_export,
        )
        .get(
            "/companies/{company}/maintenance/new",
            Resource::Company,
            maintenance::new_record,
        )
        .post(
            "/companies/{company}/maintenance",
            Resource::Company,
            maintenance::add,
        )
        .get(
            "/companies/{company}/maintenance/{maintenance}",
            Resource::CompanyMaintenance,
            maintenance::edit,
        )
        .post(
            "/companies/{company}/maintenance/{maintenance}",
            Resource::CompanyMaintenance,
            maintenance::save,
        )
        .get(
            "/companies/{company}/sites/new",
            Resource::Company,
            sites::new_site,
        )
        .post("/companies/{company}/sites", Resource::Company, sites::add)
        .get(
            "/companies/{company}/sites/{site}",
            Resource::CompanySite,
            sites::edit,
        )
        .post(
            "/companies/{company}/sites/{site}",
            Resource::CompanySite,
            sites::save,
        )
        .post(
            "/companies/{company}/sites/{site}/archive",
            Resource::CompanySite,
            sites::archive,
        )
        .get(
            "/companies/{company}/contacts/new",
            Resource::Company,
            contacts::new_contact,
        )
        .post(
            "/companies/{company}/contacts",
            Resource::Company,
            contacts::add,
        )
        .get(
            "/companies/{company}/contacts/{contact}",
            Resource::CompanyContact,
            contacts::edit,
        )
        .post(
            "/companies/{company}/contacts/{contact}",
            Resource::CompanyContact,
            contacts::save,
        )
        .post(
            "/companies/{company}/contacts/{contact}/archive",
            Resource::CompanyContact,
            contacts::archive,
        )
        .get(
            "/companies/{company}/portal",
            Resource::Company,
            portal_settings::page,
        )
        .post(
            "/companies/{company}/portal",
            Resource::Company,
            portal_settings::save,
        )
        .get(
            "/companies/{company}/hours",
            Resource::Company,
            company_hours::page,
        )
        .post(
            "/companies/{company}/hours",
            Resource::Company,
            company_hours::save,
        )
        .get(
            "/companies/{company}/users",
            Resource::Company,
            portal_users::list,
        )
        .post(
            "/companies/{company}/users",
            Resource::Company,
            portal_users::invite,
        )
        .post(
            "/companies/{company}/domains",
            Resource::Company,
            portal_users::set_domains,
        )
        .get(
            "/companies/{company}/users.csv",
            Resource::Company,
            portal_users::export,
        )
        .get(
            "/companies/{company}/users/{user}",
            Resource::CompanyPortalUser,
            portal_users::edit,
        )
        .post(
            "/companies/{company}/users/{user}",
            Resource::CompanyPortalUser,
            portal_users::update,
        )
        .post(
            "/companies/{company}/users/{user}/disable",
            Resource::CompanyPortalUser,
            portal_users::disable,
        )
        .post(
            "/companies/{company}/users/{user}/enable",
            Resource::CompanyPortalUser,
            portal_users::enable,
        )
        .post(
            "/companies/{company}/users/{user}/grants",
            Resource::CompanyPortalUser,
            company_grants::grant,
        )
        .post(
            "/companies/{company}/users/{user}/grants/revoke",
            Resource::CompanyPortalUser,
            company_grants::revoke,
        )
        .post(
            "/companies/{company}/users/{user}/resend",
            Resource::CompanyPortalUser,
            portal_users::resend,
        )
        .post(
            "/companies/{company}/view-as",
            Resource::Company,
            portal_users::view_as_role,
        )
        .post(
            "/companies/{company}/users/{user}/view-as",
            Resource::CompanyPortalUser,
            portal_users::view_as,
        )
        .post(
            "/companies/{company}/users/{user}/mfa-reset",
            Resource::CompanyPortalUser,
            portal_users::reset_mfa,
        )
        .get(
            "/companies/{company}/tickets/new",
            Resource::Company,
            ticket_intake::page,
        )
        .post(
            "/companies/{company}/tickets",
            Resource::Company,
            ticket_intake::log,
        )
        .get(
            "/settings/canned-responses",
            Resource::Page,
            canned_responses::page,
        )
        .post(
            "/settings/canned-responses",
            Resource::Page,
            canned_responses::save,
        )
        .get(
            "/settings/notifications",
            Resource::Page,
            notifications::page,
        )
        .post(
            "/settings/notifications",
            Resource::Page,
            notifications::save,
        )
        .post(
            "/settings/time-zone",
            Resource::Page,
            crate::local_time::save_my_time_zone,
        )
        .get("/tickets", Resource::Page, tickets::queue)
        .get("/tickets.csv", Resource::Page, tickets::export)
        .get("/tickets/events", Resource::Page, crate::live::list_events)
        .get(
            "/tickets/{ticket}/events",
            Resource::Ticket,
            crate::live::ticket_events,
        )
        .post(
            "/tickets/{ticket}/replying",
            Resource::Ticket,
            tickets::replying,
        )
        .post("/tickets/views", Resource::Page, tickets::views)
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
            "/tickets/{ticket}/update",
            Resource::Ticket,
            tickets::update,
        )
        .post("/tickets/{ticket}/merge", Resource::Ticket, tickets::merge)
        .post("/tickets/{ticket}/time", Resource::Ticket, time::log)
        .get(
            "/companies/{company}/work",
            Resource::Company,
            time::company,
        )
        .get("/my-time", Resource::Page, time::mine)
        .get("/my-time.csv", Resource::Page, time::mine_export)
        .get("/staff", Resource::Page, staff::list)
        .get("/staff.csv", Resource::Page, staff::export)
        .post("/staff", Resource::Page, staff::add)
        .post("/staff/{staff}", Resource::StaffUser, staff::update)
        .post(
            "/staff/{staff}/mfa-reset",
            Resource::StaffUser,
            staff::reset_mfa,
        )
        .post(
            "/settings/staff-mfa",
            Resource::Page,
            staff::set_mfa_required,
        )
        .get("/access", Resource::Page, access::page)
        .get("/settings/sso", Resource::Page, sso::page)
        .post("/settings/sso", Resource::Page, sso::save)
        .get("/settings/api-tokens", Resource::Page, api_tokens::page)
        .post("/settings/api-tokens", Resource::Page, api_tokens::create)
        .post(
            "/settings/api-tokens/revoke",
            Resource::Page,
            api_tokens::revoke,
        )
        .get("/settings", Resource::Page, settings::page)
        .get(
            "/settings/breach-monitoring",
            Resource::Page,
            breach_monitoring::page,
        )
        .post(
            "/settings/breach-monitoring",
            Resource::Page,
            breach_monitoring::save,
        )
        .post(
            "/settings/breach-monitoring/remove",
            Resource::Page,
            breach_monitoring::remove,
        )
        .get("/settings/connectors", Resource::Page, connectors::page)
        .post("/settings/connectors", Resource::Page, connectors::create)
        .get(
            "/settings/connectors/{connector}",
            Resource::Connector,
            connectors::detail,
        )
        .post(
            "/settings/connectors/{connector}",
            Resource::Connector,
            connectors::save,
        )
        .post(
            "/settings/connectors/{connector}/switch",
            Resource::Connector,
            connectors::switch,
        )
        .post(
            "/settings/connectors/{connector}/discover",
            Resource::Connector,
            connectors::discover,
        )
        .post(
            "/settings/connectors/{connector}/map",
            Resource::Connector,
            connectors::map,
        )
        .post(
            "/settings/connectors/{connector}/sync",
            Resource::Connector,
            connectors::sync,
        )
        .post(
            "/settings/connectors/{connector}/statuses",
            Resource::Connector,
            connectors::statuses,
        )
        .get(
            "/companies/{company}/licences",
            Resource::Company,
            licences::list,
        )
        .post(
            "/companies/{company}/licences/renewal",
            Resource::Company,
            licences::renewal,
        )
        .post(
            "/companies/{company}/licences/price",
            Resource::Company,
            licences::price,
        )
        .post(
            "/companies/{company}/licences/refresh",
            Resource::Company,
            licences::refresh,
        )
        .get(
            "/companies/{company}/directory",
            Resource::Company,
            licences::directory,
        )
        .get(
            "/companies/{company}/security",
            Resource::Company,
            licences::security_alerts,
        )
        .post(
            "/companies/{company}/security/refresh",
            Resource::Company,
            licences::security_refresh,
        )
        .get(
            "/companies/{company}/pentests",
            Resource::Company,
            pentests::list,
        )
        .get(
            "/companies/{company}/pentests/new",
            Resource::Company,
            pentests::new_test,
        )
        .post(
            "/companies/{company}/pentests",
            Resource::Company,
            pentests::add,
        )
        .get(
            "/companies/{company}/pentests/{pentest}",
            Resource::CompanyPentest,
            pentests::edit,
        )
        .post(
            "/companies/{company}/pentests/{pentest}",
            Resource::CompanyPentest,
            pentests::save,
        )
        .post(
            "/companies/{company}/pentests/{pentest}/publish",
            Resource::CompanyPentest,
            pentests::publish,
        )
        .post(
            "/companies/{company}/pentests/{pentest}/delete",
            Resource::CompanyPentest,
            pentests::delete,
        )
        .get(
            "/companies/{company}/pentests/{pentest}/report",
            Resource::CompanyPentest,
            pentests::report,
        )
        .get(
            "/companies/{company}/compliance",
            Resource::Company,
            compliance::page,
        )
        .post(
            "/companies/{company}/compliance/assessments",
            Resource::Company,
            compliance::assess,
        )
        .get(
            "/companies/{company}/compliance/{requirement}",
            Resource::CompanyRequirement,
            compliance::requirement,
        )
        .post(
            "/companies/{company}/compliance/{requirement}",
            Resource::CompanyRequirement,
            compliance::attest,
        )
        .get(
            "/companies/{company}/compliance/evidence/{attestation}",
            Resource::CompanyAttestation,
            compliance::evidence,
        )
        .get(
            "/companies/{company}/domains",
            Resource::Company,
            domains::page,
        )
        .get(
            "/companies/{company}/backup",
            Resource::Company,
            backup::page,
        )
        .post(
            "/companies/{company}/backup/refresh",
            Resource::Company,
            backup::refresh,
        )
        .post(
            "/companies/{company}/domains/check",
            Resource::Company,
            domains::check,
        )
        .post(
            "/companies/{company}/domains/selectors",
            Resource::Company,
            domains::set_selectors,
        )
        .post(
            "/companies/{company}/domains/breach-alerts",
            Resource::Company,
            domains::breach_alerts,
        )
        .post(
            "/companies/{company}/directory/refresh",
            Resource::Company,
            licences::directory_refresh,
        )
        .get("/settings/webhooks", Resource::Page, webhooks::page)
        .post("/settings/webhooks", Resource::Page, webhooks::create)
        .post(
            "/settings/webhooks/switch",
            Resource::Page,
            webhooks::switch,
        )
        .post(
            "/settings/webhooks/delete",
            Resource::Page,
            webhooks::delete,
        )
        .get("/settings/webhooks/log", Resource::Page, webhooks::log)
        .post(
            "/settings/webhooks/redeliver",
            Resource::Page,
            webhooks::redeliver,
        )
        .get("/api/v1/token", Resource::Public, crate::api::token)
        .get(
            "/api/v1/openapi.json",
            Resource::Public,
            crate::api::openapi::document,
        )
        .get("/api", Resource::Page, crate::api::openapi::page)
        .get(
            "/api/v1/companies",
            Resource::Public,
            crate::api::companies::list,
        )
        .post(
            "/api/v1/companies",
            Resource::Public,
            crate::api::company_records::create_company,
        )
        .get(
            "/api/v1/companies/{company}",
            Resource::Public,
            crate::api::companies::one,
        )
        .put(
            "/api/v1/companies/{company}",
            Resource::Public,
            crate::api::company_records::replace_company,
        )
        .get(
            "/api/v1/companies/{company}/sites",
            Resource::Public,
            crate::api::companies::sites,
        )
        .post(
            "/api/v1/companies/{company}/sites",
            Resource::Public,
            crate::api::company_records::create_site,
        )
        .put(
            "/api/v1/companies/{company}/sites/{site}",
            Resource::Public,
            crate::api::company_records::replace_site,
        )
        .get(
            "/api/v1/companies/{company}/contacts",
            Resource::Public,
            crate::api::companies::contacts,
        )
        .post(
            "/api/v1/companies/{company}/contacts",
            Resource::Public,
            crate::api::company_records::create_contact,
        )
        .put(
            "/api/v1/companies/{company}/contacts/{contact}",
            Resource::Public,
            crate::api::company_records::replace_contact,
        )
        .get(
            "/api/v1/companies/{company}/users",
            Resource::Public,
            crate::api::companies::users,
        )
        .post(
            "/api/v1/companies/{company}/users",
            Resource::Public,
            crate::api::portal_users::invite,
        )
        .post(
            "/api/v1/companies/{company}/users/{user}/disable",
            Resource::Public,
            crate::api::portal_users::disable,
        )
        .post(
            "/api/v1/companies/{company}/users/{user}/enable",
            Resource::Public,
            crate::api::portal_users::enable,
        )
        .get(
            "/api/v1/companies/{company}/assets",
            Resource::Public,
            crate::api::assets::list,
        )
        .get(
            "/api/v1/companies/{company}/assets/{asset}",
            Resource::Public,
            crate::api::assets::one,
        )
        .post(
            "/api/v1/companies/{company}/assets",
            Resource::Public,
            crate::api::assets::create,
        )
        .put(
            "/api/v1/companies/{company}/assets/{asset}",
            Resource::Public,
            crate::api::assets::replace,
        )
        .post(
            "/api/v1/companies/{company}/archive",
            Resource::Public,
            crate::api::archiving::archive_company,
        )
        .post(
            "/api/v1/companies/{company}/restore",
            Resource::Public,
            crate::api::archiving::restore_company,
        )
        .post(
            "/api/v1/companies/{company}/sites/{site}/archive",
            Resource::Public,
            crate::api::archiving::archive_site,
        )
        .post(
            "/api/v1/companies/{company}/sites/{site}/restore",
            Resource::Public,
            crate::api::archiving::restore_site,
        )
        .post(
            "/api/v1/companies/{company}/contacts/{contact}/archive",
            Resource::Public,
            crate::api::archiving::archive_contact,
        )
        .post(
            "/api/v1/companies/{company}/contacts/{contact}/restore",
            Resource::Public,
            crate::api::archiving::restore_contact,
        )
        .post(
            "/api/v1/companies/{company}/assets/{asset}/archive",
            Resource::Public,
            crate::api::archiving::archive_asset,
        )
        .post(
            "/api/v1/companies/{company}/assets/{asset}/restore",
            Resource::Public,
            crate::api::archiving::restore_asset,
        )
        .get(
            "/api/v1/tickets",
            Resource::Public,
            crate::api::tickets::list,
        )
        .post(
            "/api/v1/tickets",
            Resource::Public,
            crate::api::tickets::create,
        )
        .get(
            "/api/v1/tickets/{ticket}",
            Resource::Public,
            crate::api::tickets::one,
        )
        .patch(
            "/api/v1/tickets/{ticket}",
            Resource::Public,
            crate::api::tickets::change,
        )
        .post(
            "/api/v1/tickets/{ticket}/replies",
            Resource::Public,
            crate::api::tickets::reply,
        )
        .get(
            "/api/v1/companies/{company}/maintenance",
            Resource::Public,
            crate::api::records::maintenance,
        )
        .post(
            "/api/v1/companies/{company}/maintenance",
            Resource::Public,
            crate::api::records::create_maintenance,
        )
        .get(
            "/api/v1/companies/{company}/maintenance/{maintenance}",
            Resource::Public,
            crate::api::records::maintenance_record,
        )
        .put(
            "/api/v1/companies/{company}/maintenance/{maintenance}",
            Resource::Public,
            crate::api::records::replace_maintenance,
        )
        .get(
            "/api/v1/companies/{company}/invoices",
            Resource::Public,
            crate::api::records::invoices,
        )
        .get(
            "/api/v1/companies/{company}/invoices/{invoice}",
            Resource::Public,
            crate::api::records::invoice,
        )
        .post(
            "/api/v1/companies/{company}/invoices",
            Resource::Public,
            crate::api::records::create_invoice,
        )
        .put(
            "/api/v1/companies/{company}/invoices/{invoice}",
            Resource::Public,
            crate::api::records::replace_invoice,
        )
        .post(
            "/api/v1/companies/{company}/invoices/{invoice}/status",
            Resource::Public,
            crate::api::records::set_invoice_status,
        )
        .get(
            "/api/v1/companies/{company}/licences",
            Resource::Public,
            crate::api::licences::licences,
        )
        .put(
            "/api/v1/companies/{company}/licences",
            Resource::Public,
            crate::api::licences::push_licences,
        )
        .get(
            "/api/v1/companies/{company}/directory-users",
            Resource::Public,
            crate::api::licences::directory_users,
        )
        .put(
            "/api/v1/companies/{company}/directory-users",
            Resource::Public,
            crate::api::licences::push_directory_users,
        )
        .get(
            "/api/v1/companies/{company}/backup-jobs",
            Resource::Public,
            crate::api::backups::list,
        )
        .put(
            "/api/v1/companies/{company}/backup-jobs",
            Resource::Public,
            crate::api::backups::push,
        )
        .get(
            "/api/v1/companies/{company}/security-alerts",
            Resource::Public,
            crate::api::security_alerts::list,
        )
        .post(
            "/api/v1/companies/{company}/security-alerts",
            Resource::Public,
            crate::api::security_alerts::push,
        )
        .get(
            "/api/v1/change-requests",
            Resource::Public,
            crate::api::records::change_requests,
        )
        .get(
            "/api/v1/change-requests/{change}",
            Resource::Public,
            crate::api::records::change_request,
        )
        .patch(
            "/api/v1/change-requests/{change}",
            Resource::Public,
            crate::api::records::assign_change_request,
        )
        .post(
            "/api/v1/change-requests/{change}/decisions",
            Resource::Public,
            crate::api::records::decide_change_request,
        )
        .get(
            "/api/v1/companies/{company}/work",
            Resource::Public,
            crate::api::work::month,
        )
        .post(
            "/api/v1/tickets/{ticket}/time",
            Resource::Public,
            crate::api::work::log,
        )
        .get("/settings/branding", Resource::Page, branding::page)
        .post("/settings/branding", Resource::Page, branding::save)
        .post(
            "/settings/branding/logo",
            Resource::Page,
            branding::upload_logo,
        )
        .get("/settings/ticket-form", Resource::Page, ticket_form::page)
        .post("/settings/ticket-form", Resource::Page, ticket_form::save)
        .get(
            "/settings/ticket-visibility",
            Resource::Page,
            ticket_visibility::page,
        )
        .post(
            "/settings/ticket-visibility",
            Resource::Page,
            ticket_visibility::save,
        )
        .get("/settings/routing", Resource::Page, routing::page)
        .post("/settings/routing", Resource::Page, routing::save)
        .get("/settings/sla", Resource::Page, sla::page)
        .post("/settings/sla", Resource::Page, sla::save)
        .get("/settings/portal", Resource::Page, portal_defaults::page)
        .post("/settings/portal", Resource::Page, portal_defaults::save)
        .get("/outbox", Resource::Page, outbox::list)
        .get("/audit", Resource::Page, audit::page)
        .get("/audit.csv", Resource::Page, audit::export)
        .get(
            "/companies/{company}/audit-bundle.json",
            Resource::Company,
            audit::bundle,
        )
}

/// Routes both surfaces have: sign-in flows, brand assets, static files.
pub(crate) fn common_routes(r: SurfaceRoutes) -> SurfaceRoutes {
    r.get("/login", Resource::Public, sign_in::login_page)
        .post("/login", Resource::Public, sign_in::login_submit)
        .post("/logout", Resource::Page, sign_in::logout)
        .get("/forgot", Resource::Public, sign_in::forgot_page)
        .post("/forgot", Resource::Public, sign_in::forgot_submit)
        .get(
            "/login/verify",
            Resource::Public,
            second_factor::second_step,
        )
        .post(
            "/login/verify",
            Resource::Public,
            second_factor::second_step_submit,
        )
        .get("/login/sso", Resource::Public, crate::sso::start)
        .get(
            "/login/sso/callback",
            Resource::Public,
            crate::sso::callback,
        )
        .get("/security", Resource::Page, second_factor::page)
        .post("/security/enrol", Resource::Page, second_factor::enrol)
        .post(
            "/security/enrol/confirm",
            Resource::Page,
            second_factor::confirm,
        )
        .post("/security/disable", Resource::Page, second_factor::disable)
        .post(
            "/security/recovery-codes",
            Resource::Page,
            second_factor::renew_codes,
        )
        .post(
            "/security/forget-devices",
            Resource::Page,
            second_factor::forget_devices,
        )
        .get("/setup", Resource::Public, sign_in::set_password_page)
        .post("/setup", Resource::Public, sign_in::set_password_submit)
        .get("/reset", Resource::Public, sign_in::set_password_page)
        .post("/reset", Resource::Public, sign_in::set_password_submit)
        .get("/brand.css", Resource::Public, brand::brand_css)
        .get("/brand/logo", Resource::Public, brand::logo)
        .get("/static/app.css", Resource::Public, brand::app_css)
        .get("/static/app.js", Resource::Public, brand::app_js)
}
