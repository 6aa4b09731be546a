//! The authorization matrix: every route registered on the console and portal routers × every
//! kind of principal × every kind of object → the expected status. Routes come from the
//! routers' own registry; a route without a row here fails the test.

mod common;

use portico_store::explain::{Outcome, Person, Target};
use portico_web::console::access::parse_target;

use common::{CONSOLE, Object, PORTAL, TestApp, Who, objects, path_for};
use portico_store::SurfaceKind;
use portico_web::{Resource, RouteSpec};

/// Which company an object class points at (A is the callers' company).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Co {
    A,
    B,
    C,
    None,
}

fn company_of(object: Object) -> Co {
    match object {
        Object::Own | Object::SameCompanyOtherSite | Object::SameCompanyOtherRequester => Co::A,
        Object::OtherCompanySameWorkspace => Co::B,
        Object::OtherWorkspace => Co::C,
        Object::NonExistent | Object::Malformed => Co::None,
    }
}

fn staff_sees(who: Who, co: Co) -> bool {
    match who {
        Who::Owner | Who::Billing => matches!(co, Co::A | Co::B),
        Who::TechnicianAssigned | Who::Sales => co == Co::A,
        Who::TechnicianNotAssigned => co == Co::B,
        _ => false,
    }
}

fn portal_sees_ticket(who: Who, object: Object) -> bool {
    match object {
        Object::Own => true,
        Object::SameCompanyOtherSite => !matches!(who, Who::OwnTicketsOnly | Who::SiteRestricted),
        Object::SameCompanyOtherRequester => who != Who::OwnTicketsOnly,
        _ => false,
    }
}

/// The expected status of one cell.
fn expected(route: &RouteSpec, who: Who, object: Object) -> u16 {
    let on_surface = match route.surface {
        SurfaceKind::Console => who.is_staff(),
        SurfaceKind::Portal => who.is_portal(),
    };
    let owner = who == Who::Owner;
    let manages_users = matches!(
        who,
        Who::Owner | Who::TechnicianAssigned | Who::TechnicianNotAssigned
    );
    let reads_tickets = matches!(
        who,
        Who::Owner | Who::TechnicianAssigned | Who::TechnicianNotAssigned
    );
    let viewer = who == Who::Viewer;
    let billing_staff = matches!(who, Who::Owner | Who::Billing);
    let co = company_of(object);
    // Routes anyone may reach: the answer does not depend on who asks.
    let public = match (route.method, route.path) {
        ("GET", "/login" | "/forgot" | "/brand.css" | "/static/app.css" | "/static/app.js") => {
            Some(200)
        }
        ("GET", "/setup" | "/reset" | "/view-as") => Some(400), // no token in the link
        ("GET", "/brand/logo") => Some(404),                    // the fixture has no logo
        ("GET", "/login/verify") => Some(303), // no sign-in waiting for its second step
        // The API takes tokens, never a session cookie (its own matrix is `tests/api.rs`);
        // its description is public.
        ("GET", "/api/v1/openapi.json") => Some(200),
        (_, path) if path.starts_with("/api/v1/") => Some(401),
        ("GET", "/login/sso") => Some(404), // the fixture's workspace has no provider
        ("GET", "/login/sso/callback") => Some(401), // no sign-in started in this browser
        ("POST", "/login/verify") => Some(403), // no sign-in form token
        ("POST", "/login" | "/forgot" | "/setup" | "/reset") => Some(403), // no sign-in form token
        _ => None,
    };
    if let Some(status) = public {
        assert_eq!(
            route.resource,
            Resource::Public,
            "{} {} answers without a session",
            route.method,
            route.path
        );
        return status;
    }
    if !on_surface {
        return 303; // no session on this host: to the sign-in page
    }
    let sees = staff_sees(who, co);
    // A company visible, then a record inside it: foreign or absent records answer 404.
    let in_company = |allowed: bool, ok: u16| -> u16 {
        if !sees {
            404
        } else if !allowed {
            403
        } else {
            ok
        }
    };
    // Portal-user objects: SameCompanyOtherRequester is company A's path with company B's user.
    let user_of_company = !matches!(
        object,
        Object::SameCompanyOtherRequester | Object::NonExistent | Object::Malformed
    );
    // Company B's user has accepted the invitation already; A's targets have not.
    let activated = object == Object::OtherCompanySameWorkspace;
    match (route.surface, route.method, route.path) {
        (_, "POST", "/logout") => 303,
        // Everyone's own sign-in security, on both surfaces: setting up an app shows its code;
        // a confirmation without a six-digit code, and turning off or renewing codes with a
        // wrong password, are refused.
        (_, "GET", "/security") => 200,
        (_, "POST", "/security/enrol") => 200,
        (
            _,
            "POST",
            "/security/enrol/confirm" | "/security/disable" | "/security/recovery-codes",
        ) => 422,
        (_, "POST", "/security/forget-devices") => 303,
        // ---- console
        // The work view for those who answer tickets; the company list for the others.
        (SurfaceKind::Console, "GET", "/") => {
            if reads_tickets {
                200
            } else {
                303
            }
        }
        (SurfaceKind::Console, "GET", "/companies" | "/companies.csv") => 200,
        // Adding and editing companies and plans: owners; the empty form is refused field by
        // field; an archive form that says neither archive nor restore is a bad request.
        (SurfaceKind::Console, "GET", "/companies/new") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/companies") => {
            if owner {
                422
            } else {
                403
            }
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/edit") => in_company(owner, 200),
        // A company's audit chain as a proof bundle: the owners'.
        (SurfaceKind::Console, "GET", "/companies/{company}/audit-bundle.json") => {
            in_company(owner, 200)
        }
        // Assets: every staff member reads a visible company's; owners and technicians add and
        // edit them; which fields clients see is the owners' call.
        (
            SurfaceKind::Console,
            "GET",
            "/companies/{company}/assets"
            | "/companies/{company}/assets.csv"
            | "/companies/{company}/contacts.csv"
            | "/companies/{company}/maintenance.csv"
            | "/companies/{company}/work.csv",
        ) => in_company(true, 200),
        // Time: a company's month for every staff member who sees it; logging time and one's
        // own month for those who work tickets.
        (SurfaceKind::Console, "GET", "/companies/{company}/work") => in_company(true, 200),
        (SurfaceKind::Console, "GET", "/my-time" | "/my-time.csv") => {
            if reads_tickets {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/tickets/{ticket}/time") => {
            if sees && reads_tickets {
                422
            } else {
                404
            }
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/assets/new") => {
            in_company(manages_users, 200)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/assets") => {
            in_company(manages_users, 422)
        }
        (
            SurfaceKind::Console,
            method,
            "/companies/{company}/assets/{asset}" | "/companies/{company}/assets/{asset}/archive",
        ) => {
            let ok = match (method, route.path.ends_with("/archive")) {
                ("GET", _) => 200,
                (_, false) => 422,
                (_, true) => 400,
            };
            if !sees || !user_of_company {
                404
            } else if method == "GET" {
                200
            } else {
                in_company(manages_users, ok)
            }
        }
        // Invoices: owners and billing staff only, of companies they see; a sent invoice is not
        // changed (400), an empty draft form is refused field by field, a status form that
        // says no action is a bad request.
        (
            SurfaceKind::Console,
            "GET",
            "/companies/{company}/invoices"
            | "/companies/{company}/invoices.csv"
            | "/companies/{company}/invoices/new",
        ) => in_company(billing_staff, 200),
        (SurfaceKind::Console, "POST", "/companies/{company}/invoices") => {
            in_company(billing_staff, 422)
        }
        (SurfaceKind::Console, method, path)
            if path.starts_with("/companies/{company}/invoices/{invoice}") =>
        {
            if !sees {
                404
            } else if !billing_staff {
                403
            } else if !user_of_company {
                404
            } else {
                match (method, path.rsplit('/').next()) {
                    ("GET", _) => 200,
                    (_, Some("status")) => 400,
                    // A's draft takes edits; its sent invoice does not.
                    _ if object == Object::SameCompanyOtherSite => 422,
                    _ => 400,
                }
            }
        }
        // Change requests: the queue and its requests for those who work tickets; assigning to
        // nobody is saved, a decision that names none is a bad request.
        (SurfaceKind::Console, "GET", "/changes" | "/changes.csv") => {
            if reads_tickets {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, method, path) if path.starts_with("/changes/{change}") => {
            if !sees {
                404
            } else if !reads_tickets {
                403
            } else {
                match (method, path.rsplit('/').next()) {
                    ("GET", _) => 200,
                    (_, Some("assign")) => 303,
                    _ => 400,
                }
            }
        }
        // Maintenance: every staff member reads a visible company's; owners and technicians
        // record it (the empty form is refused field by field).
        (SurfaceKind::Console, "GET", "/companies/{company}/maintenance") => in_company(true, 200),
        (SurfaceKind::Console, "GET", "/companies/{company}/maintenance/new") => {
            in_company(manages_users, 200)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/maintenance") => {
            in_company(manages_users, 422)
        }
        (SurfaceKind::Console, method, "/companies/{company}/maintenance/{maintenance}") => {
            if !sees || !user_of_company {
                404
            } else {
                in_company(manages_users, if method == "GET" { 200 } else { 422 })
            }
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/asset-fields") => {
            in_company(owner, 200)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/asset-fields") => {
            in_company(owner, 400)
        }
        (SurfaceKind::Console, "GET", "/settings/assets") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/assets") => {
            if owner {
                400
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/companies/{company}") => in_company(owner, 422),
        (SurfaceKind::Console, "POST", "/companies/{company}/archive") => in_company(owner, 400),
        // Sites and contacts: owners and technicians, of companies they see.
        (
            SurfaceKind::Console,
            "GET",
            "/companies/{company}/sites/new" | "/companies/{company}/contacts/new",
        ) => in_company(manages_users, 200),
        (
            SurfaceKind::Console,
            "POST",
            "/companies/{company}/sites" | "/companies/{company}/contacts",
        ) => in_company(manages_users, 422),
        (
            SurfaceKind::Console,
            method,
            "/companies/{company}/sites/{site}"
            | "/companies/{company}/contacts/{contact}"
            | "/companies/{company}/sites/{site}/archive"
            | "/companies/{company}/contacts/{contact}/archive",
        ) => {
            let ok = match (method, route.path.ends_with("/archive")) {
                ("GET", _) => 200,
                (_, false) => 422,
                (_, true) => 400,
            };
            // A record of another company under a visible company's path is not found.
            if !sees || !user_of_company {
                404
            } else {
                in_company(manages_users, ok)
            }
        }
        // Logging a ticket for a client: those who work the company's tickets; the empty form
        // is refused field by field.
        (SurfaceKind::Console, "GET", "/companies/{company}/tickets/new") => {
            in_company(reads_tickets, 200)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/tickets") => {
            in_company(reads_tickets, 422)
        }
        // Canned responses: written by owners; an empty one is refused.
        (SurfaceKind::Console, "GET", "/settings/canned-responses") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/canned-responses") => {
            if owner {
                422
            } else {
                403
            }
        }
        // Every staff user's own notification settings.
        (SurfaceKind::Console, "GET", "/settings/notifications") => 200,
        (SurfaceKind::Console, "POST", "/settings/notifications") => 303,
        (SurfaceKind::Console, "GET", "/companies/{company}") => in_company(true, 200),
        // A company's own hours and zone: owners; a zone that is not one is refused.
        (SurfaceKind::Console, "GET", "/companies/{company}/hours") => in_company(owner, 200),
        (SurfaceKind::Console, "POST", "/companies/{company}/hours") => in_company(owner, 422),
        // Everyone's own time zone; a name that is not a zone is a bad request.
        (SurfaceKind::Console, "POST", "/settings/time-zone") => 400,
        (SurfaceKind::Console, "GET", "/companies/{company}/portal") => in_company(owner, 200),
        (SurfaceKind::Console, "POST", "/companies/{company}/portal") => in_company(owner, 422),
        (
            SurfaceKind::Console,
            "GET",
            "/companies/{company}/users" | "/companies/{company}/users.csv",
        ) => in_company(true, 200),
        // An empty list of domains is a valid one (it clears them).
        (SurfaceKind::Console, "POST", "/companies/{company}/domains") => in_company(owner, 303),
        (SurfaceKind::Console, "POST", "/companies/{company}/users") => {
            in_company(manages_users, 422)
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/users/{user}") => {
            if sees && user_of_company { 200 } else { 404 }
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/users/{user}") => {
            let status = in_company(manages_users, 422);
            if status == 422 && !user_of_company {
                404
            } else {
                status
            }
        }
        (
            SurfaceKind::Console,
            "POST",
            "/companies/{company}/users/{user}/disable"
            | "/companies/{company}/users/{user}/enable",
        ) => {
            let status = in_company(manages_users, 303);
            if status == 303 && !user_of_company {
                404
            } else {
                status
            }
        }
        // Client groups: owners grant a visible company's user further companies; an empty
        // grant is refused field by field, a revoke naming no company is a bad request.
        (
            SurfaceKind::Console,
            "POST",
            "/companies/{company}/users/{user}/grants"
            | "/companies/{company}/users/{user}/grants/revoke",
        ) => {
            if !sees || !user_of_company {
                404
            } else if !owner {
                403
            } else if route.path.ends_with("/revoke") {
                400
            } else {
                422
            }
        }
        // Viewing the portal as a role: those who serve the company's people; a request naming
        // no role is refused.
        (SurfaceKind::Console, "POST", "/companies/{company}/view-as") => {
            in_company(manages_users, 422)
        }
        // Viewing the portal as a user: those who serve the company's people; a request with
        // no reason is refused.
        (SurfaceKind::Console, "POST", "/companies/{company}/users/{user}/view-as") => {
            if !user_of_company {
                404
            } else {
                in_company(manages_users, 422)
            }
        }
        // Resetting a portal user's two-step verification: those who serve the company's
        // people; the fixture's users have none to reset.
        (SurfaceKind::Console, "POST", "/companies/{company}/users/{user}/mfa-reset") => {
            if !user_of_company {
                404
            } else {
                in_company(manages_users, 422)
            }
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/users/{user}/resend") => {
            let status = in_company(manages_users, 303);
            if status == 303 && !user_of_company {
                404
            } else if status == 303 && activated {
                400
            } else {
                status
            }
        }
        // Import: owners and technicians (who manage records); an upload without a file is
        // refused; an upload is its uploader's (the owner's fixture file does not apply).
        (SurfaceKind::Console, "GET", "/import" | "/import/template.csv") => {
            if manages_users {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/import") => {
            if manages_users {
                422
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/import/{import}/apply") => {
            if owner && object == Object::Own {
                422
            } else {
                404
            }
        }
        (SurfaceKind::Console, "POST", "/tickets/views") => {
            if reads_tickets {
                422
            } else {
                403
            }
        }
        (SurfaceKind::Console, "GET", "/tickets" | "/tickets.csv") => {
            if reads_tickets {
                200
            } else {
                403
            }
        }
        // Live updates of the queue and of a ticket, as the pages themselves answer.
        (SurfaceKind::Console, "GET", "/tickets/events") => {
            if reads_tickets {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "GET", "/tickets/{ticket}/events") => {
            if sees && reads_tickets {
                200
            } else {
                404
            }
        }
        // Saying one is writing a reply: those who work the ticket.
        (SurfaceKind::Console, "POST", "/tickets/{ticket}/replying") => {
            if sees && reads_tickets {
                204
            } else {
                404
            }
        }
        (SurfaceKind::Console, "GET", "/tickets/{ticket}/attachments/{attachment}") => {
            if sees && reads_tickets { 200 } else { 404 }
        }
        (SurfaceKind::Console, "GET", "/tickets/{ticket}") => {
            if sees && reads_tickets {
                200
            } else {
                404
            }
        }
        // Visible tickets get to judge the (empty) form: 422; others are not found.
        (
            SurfaceKind::Console,
            "POST",
            "/tickets/{ticket}/replies" | "/tickets/{ticket}/update" | "/tickets/{ticket}/merge",
        ) => {
            if sees && reads_tickets {
                422
            } else {
                404
            }
        }
        (
            SurfaceKind::Console,
            "GET",
            "/staff"
            | "/staff.csv"
            | "/settings/branding"
            | "/settings/portal"
            | "/settings/sla"
            | "/settings/ticket-form"
            | "/settings/ticket-visibility"
            | "/settings/routing"
            | "/outbox"
            | "/audit"
            | "/audit.csv",
        ) => {
            if owner {
                200
            } else {
                403
            }
        }
        (
            SurfaceKind::Console,
            "POST",
            "/staff"
            | "/settings/branding"
            | "/settings/branding/logo"
            | "/settings/portal"
            | "/settings/sla"
            | "/settings/ticket-form"
            | "/settings/routing",
        ) => {
            if owner {
                422
            } else {
                403
            }
        }
        // A field that is on no form is refused.
        (SurfaceKind::Console, "POST", "/settings/ticket-visibility") => {
            if owner {
                400
            } else {
                403
            }
        }
        // Single sign-on settings: the owners'; an empty form is refused field by field.
        (SurfaceKind::Console, "GET", "/settings/sso") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/sso") => {
            if owner {
                422
            } else {
                403
            }
        }
        // Why can this person see this: the owners'.
        (SurfaceKind::Console, "GET", "/access") => {
            if owner {
                200
            } else {
                403
            }
        }
        // API tokens: the owners'; a token made of an empty form is refused field by field, and
        // revoking a token of nobody's is not found.
        (SurfaceKind::Console, "GET", "/settings/api-tokens") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/api-tokens") => {
            if owner {
                422
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/api-tokens/revoke") => {
            if owner {
                404
            } else {
                403
            }
        }
        // The API's reference: every member of staff may read it.
        (SurfaceKind::Console, "GET", "/api") => 200,
        // The settings hub: the owners'.
        (SurfaceKind::Console, "GET", "/settings") => {
            if owner {
                200
            } else {
                403
            }
        }
        // Webhooks: the owners'; an empty endpoint is refused field by field, and an endpoint of
        // nobody's (no id in the form or the link) is not found.
        (SurfaceKind::Console, "GET", "/settings/webhooks") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/webhooks") => {
            if owner {
                422
            } else {
                403
            }
        }
        (
            SurfaceKind::Console,
            "GET" | "POST",
            "/settings/webhooks/log"
            | "/settings/webhooks/switch"
            | "/settings/webhooks/delete"
            | "/settings/webhooks/redeliver",
        ) => {
            if owner {
                404
            } else {
                403
            }
        }
        // Connectors: the owners'. An empty connector is refused field by field; a connector
        // of another workspace, or none, is not found; mapping a tenant the form does not name
        // is not found, syncing one of a switched-off connector refused.
        // Breach monitoring: the MSP's HIBP key, its owners'; the empty form sets no key.
        (SurfaceKind::Console, "GET", "/settings/breach-monitoring") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/breach-monitoring") => {
            if owner {
                422
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/breach-monitoring/remove") => {
            if owner {
                303
            } else {
                403
            }
        }
        (SurfaceKind::Console, "GET", "/settings/connectors") => {
            if owner {
                200
            } else {
                403
            }
        }
        (SurfaceKind::Console, "POST", "/settings/connectors") => {
            if owner {
                422
            } else {
                403
            }
        }
        (SurfaceKind::Console, method, path)
            if path.starts_with("/settings/connectors/{connector}") =>
        {
            let ours = !matches!(
                object,
                Object::OtherWorkspace | Object::NonExistent | Object::Malformed
            );
            if object == Object::Malformed {
                404
            } else if !owner {
                403
            } else if !ours {
                404
            } else {
                match (method, path.rsplit('/').next()) {
                    ("GET", _) => 200,
                    (_, Some("{connector}")) => 422,
                    (_, Some("switch" | "discover")) => 303,
                    // The fixture's connector is switched off: nothing to sync.
                    (_, Some("sync")) => 400,
                    // The fixture's connector is Microsoft 365's: no PSA statuses to map.
                    (_, Some("statuses")) => 422,
                    _ => 404,
                }
            }
        }
        // Licences: staff who serve or bill the company; renewal dates by those who keep its
        // records, prices by those who bill (the empty form names no product: not found); a
        // refresh is queued (or throttled) and lands back on the page.
        (SurfaceKind::Console, "GET", "/companies/{company}/licences") => in_company(
            matches!(
                who,
                Who::Owner | Who::TechnicianAssigned | Who::TechnicianNotAssigned | Who::Billing
            ),
            200,
        ),
        (SurfaceKind::Console, "POST", "/companies/{company}/licences/refresh") => in_company(
            matches!(
                who,
                Who::Owner | Who::TechnicianAssigned | Who::TechnicianNotAssigned | Who::Billing
            ),
            303,
        ),
        (SurfaceKind::Console, "POST", "/companies/{company}/licences/renewal") => {
            in_company(manages_users, 404)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/licences/price") => {
            in_company(billing_staff, 404)
        }
        (
            SurfaceKind::Console,
            "GET",
            "/companies/{company}/directory" | "/companies/{company}/security",
        ) => in_company(manages_users, 200),
        (
            SurfaceKind::Console,
            "POST",
            "/companies/{company}/directory/refresh"
            | "/companies/{company}/security/refresh"
            | "/companies/{company}/backup/refresh",
        ) => in_company(manages_users, 303),
        // E-mail domain health: staff who serve the company; a check is queued (or throttled)
        // and lands back; the empty selectors form names none of its domains (not found).
        // Penetration tests: staff who manage the company's records; A's draft is reached like
        // its published test (the console sees drafts). An empty form is refused field by field;
        // publishing and deleting without their field are bad requests.
        (
            SurfaceKind::Console,
            "GET",
            "/companies/{company}/pentests" | "/companies/{company}/pentests/new",
        ) => in_company(manages_users, 200),
        (SurfaceKind::Console, "POST", "/companies/{company}/pentests") => {
            in_company(manages_users, 422)
        }
        (SurfaceKind::Console, method, path)
            if path.starts_with("/companies/{company}/pentests/{pentest}") =>
        {
            if !sees {
                404
            } else if !manages_users {
                403
            } else if !user_of_company {
                404
            } else {
                match (method, path.rsplit('/').next()) {
                    ("GET", _) => 200,
                    (_, Some("publish" | "delete")) => 400,
                    _ => 422,
                }
            }
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/backup") => {
            in_company(manages_users, 200)
        }
        // Compliance: staff who manage the company's records judge it and record assessments.
        // An assessment without a framework is a bad request; an empty judgement is refused
        // field by field. Evidence: A's under A's path; B's under A's path is not found.
        (SurfaceKind::Console, "GET", "/companies/{company}/compliance") => {
            in_company(manages_users, 200)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/compliance/assessments") => {
            in_company(manages_users, 400)
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/compliance/{requirement}") => {
            in_company(manages_users, 200)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/compliance/{requirement}") => {
            in_company(manages_users, 422)
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/compliance/evidence/{attestation}") => {
            if !sees {
                404
            } else if !manages_users {
                403
            } else if !user_of_company {
                404
            } else {
                200
            }
        }
        (SurfaceKind::Console, "GET", "/companies/{company}/domains") => {
            in_company(manages_users, 200)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/domains/check") => {
            in_company(manages_users, 303)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/domains/selectors") => {
            in_company(manages_users, 404)
        }
        (SurfaceKind::Console, "POST", "/companies/{company}/domains/breach-alerts") => {
            in_company(manages_users, 303)
        }
        // Requiring two-step verification of staff: owners (the form without the box leaves
        // it off, as the fixture has it).
        (SurfaceKind::Console, "POST", "/settings/staff-mfa") => {
            if owner {
                303
            } else {
                403
            }
        }
        // Owners reset another's two-step verification; their own is theirs to manage, and
        // the fixture's staff have none to reset.
        (SurfaceKind::Console, "POST", "/staff/{staff}/mfa-reset") => match object {
            Object::Malformed => 404,
            _ if !owner => 403,
            Object::Own
            | Object::SameCompanyOtherSite
            | Object::SameCompanyOtherRequester
            | Object::OtherCompanySameWorkspace => 422,
            _ => 404,
        },
        (SurfaceKind::Console, "POST", "/staff/{staff}") => match object {
            Object::Malformed => 404,
            _ if !owner => 403,
            Object::Own
            | Object::SameCompanyOtherSite
            | Object::SameCompanyOtherRequester
            | Object::OtherCompanySameWorkspace => 422,
            _ => 404,
        },
        // ---- portal
        (
            SurfaceKind::Portal,
            "GET",
            "/" | "/tickets" | "/tickets.csv" | "/profile" | "/contacts" | "/contacts.csv"
            | "/assets" | "/assets.csv" | "/maintenance" | "/maintenance.csv",
        ) => 200,
        // Invoices: the billing-entitled (the client admin) see the company's sent ones; its
        // draft and anything of another company are not found.
        (SurfaceKind::Portal, "GET", "/invoices" | "/invoices.csv") => {
            if who == Who::ClientAdmin {
                200
            } else {
                404
            }
        }
        (SurfaceKind::Portal, "GET", "/invoices/{invoice}" | "/invoices/{invoice}/pdf") => {
            if who == Who::ClientAdmin && object == Object::Own {
                200
            } else {
                404
            }
        }
        // Change requests: everyone reads the list; viewers may not raise them (the empty form
        // is refused field by field). A request is its requester's and the client admins'.
        (SurfaceKind::Portal, "GET", "/changes" | "/changes.csv") => 200,
        (SurfaceKind::Portal, "GET", "/changes/new") => {
            if viewer {
                403
            } else {
                200
            }
        }
        (SurfaceKind::Portal, "POST", "/changes") => {
            if viewer {
                403
            } else {
                422
            }
        }
        (SurfaceKind::Portal, method, "/changes/{change}" | "/changes/{change}/approval") => {
            let sees_request = match object {
                Object::Own => matches!(who, Who::Member | Who::ClientAdmin),
                Object::SameCompanyOtherSite | Object::SameCompanyOtherRequester => {
                    who == Who::ClientAdmin
                }
                _ => false,
            };
            match (sees_request, method) {
                (false, _) => 404,
                (true, "GET") => 200,
                (true, _) => 400,
            }
        }
        // The company's use of its plan is its client admins' section.
        (SurfaceKind::Portal, "GET", "/work" | "/work.csv") => {
            if who == Who::ClientAdmin {
                200
            } else {
                404
            }
        }
        // An asset of the company: at another site, or at none, is beyond a site-restricted
        // user; anything of another company is not found.
        (SurfaceKind::Portal, "GET", "/assets/{asset}") => match object {
            Object::Own => 200,
            Object::SameCompanyOtherSite | Object::SameCompanyOtherRequester => {
                if who == Who::SiteRestricted { 404 } else { 200 }
            }
            _ => 404,
        },
        // Editing an asset's details: client admins of a company that allows it (A does); the
        // empty form is refused field by field. The asset must be visible first.
        (SurfaceKind::Portal, method, "/assets/{asset}/edit") => {
            let visible = match object {
                Object::Own => true,
                Object::SameCompanyOtherSite | Object::SameCompanyOtherRequester => {
                    who != Who::SiteRestricted
                }
                _ => false,
            };
            match (visible, who == Who::ClientAdmin, method) {
                (false, _, _) => 404,
                (true, false, _) => 403,
                (true, true, "GET") => 200,
                (true, true, _) => 422,
            }
        }
        // A contact of the company: everyone reads it; its client admins edit it.
        (SurfaceKind::Portal, method, "/contacts/{contact}") => {
            let visible = matches!(object, Object::Own | Object::SameCompanyOtherSite);
            match (visible, method, who == Who::ClientAdmin) {
                (false, _, _) => 404,
                (true, "GET", _) => 200,
                (true, _, true) => 422,
                (true, _, false) => 403,
            }
        }
        // Users: the client admins' section; the company's users only (B's under A's portal
        // is not found). An empty invitation or edit is refused.
        // Licences: everyone's section; a refresh is queued (or throttled) and lands back.
        (SurfaceKind::Portal, "GET", "/licences") => 200,
        (SurfaceKind::Portal, "POST", "/licences/refresh") => 303,
        // Devices and patching from an RMM: everyone who reads the section may ask again.
        (
            SurfaceKind::Portal,
            "POST",
            "/assets/refresh" | "/maintenance/refresh" | "/backup/refresh",
        ) => 303,
        // The directory half of Users: its client admins'.
        (SurfaceKind::Portal, "GET", "/users/directory") => {
            if who == Who::ClientAdmin {
                200
            } else {
                404
            }
        }
        (SurfaceKind::Portal, "POST", "/users/directory/refresh") => {
            if who == Who::ClientAdmin {
                303
            } else {
                404
            }
        }
        (SurfaceKind::Portal, "GET", "/users" | "/users.csv" | "/users/new") => {
            if who == Who::ClientAdmin { 200 } else { 404 }
        }
        // Backup: everyone's section.
        (SurfaceKind::Portal, "GET", "/backup") => 200,
        // Compliance: the client admins' section, as Security.
        (SurfaceKind::Portal, "GET", "/compliance") => {
            if who == Who::ClientAdmin {
                200
            } else {
                404
            }
        }
        // Security: the client admins' section; a domain check is queued (or throttled).
        (SurfaceKind::Portal, "GET", "/protection") => {
            if who == Who::ClientAdmin {
                200
            } else {
                404
            }
        }
        (
            SurfaceKind::Portal,
            "POST",
            "/protection/check" | "/protection/breach-alerts" | "/protection/refresh",
        ) => {
            if who == Who::ClientAdmin {
                303
            } else {
                404
            }
        }
        // A published test's report: the client admins'; a draft is not there.
        (SurfaceKind::Portal, "GET", "/protection/pentests/{pentest}/report") => {
            if who == Who::ClientAdmin && object == Object::Own {
                200
            } else {
                404
            }
        }
        // The company's audit chain: its client admins' section.
        (SurfaceKind::Portal, "GET", "/audit" | "/audit.csv" | "/audit/bundle.json") => {
            if who == Who::ClientAdmin { 200 } else { 404 }
        }
        (SurfaceKind::Portal, "POST", "/users") => {
            if who == Who::ClientAdmin {
                422
            } else {
                404
            }
        }
        (SurfaceKind::Portal, method, path) if path.starts_with("/users/{user}") => {
            let users_of_a = matches!(object, Object::Own | Object::SameCompanyOtherSite);
            if who != Who::ClientAdmin || !users_of_a {
                404
            } else if method == "GET" {
                200
            } else if path == "/users/{user}" {
                422
            } else {
                303
            }
        }
        (SurfaceKind::Portal, "GET", "/tickets/events") => 200,
        (SurfaceKind::Portal, "GET", "/tickets/{ticket}/events") => {
            if portal_sees_ticket(who, object) {
                200
            } else {
                404
            }
        }
        (SurfaceKind::Portal, "GET", "/tickets/{ticket}/attachments/{attachment}") => {
            if portal_sees_ticket(who, object) {
                200
            } else {
                404
            }
        }
        (SurfaceKind::Portal, "GET", "/tickets/{ticket}") => {
            if portal_sees_ticket(who, object) {
                200
            } else {
                404
            }
        }
        (SurfaceKind::Portal, "POST", "/profile/password") => 422,
        // Ending a view as someone: no view to end in an ordinary session.
        (SurfaceKind::Portal, "POST", "/view-as/end") => 404,
        // No such session of theirs (ended, or someone else's: the same answer).
        (SurfaceKind::Portal, "POST", "/profile/sessions/end") => 400,
        (SurfaceKind::Portal, "POST", "/profile/time-zone") => 400,
        // Viewers read tickets but change nothing: a clear 403, never a 404 for what they see.
        (SurfaceKind::Portal, "GET", "/tickets/new") => {
            if viewer {
                403
            } else {
                200
            }
        }
        (SurfaceKind::Portal, "POST", "/tickets") => {
            if viewer {
                403
            } else {
                422
            }
        }
        (SurfaceKind::Portal, "POST", "/tickets/{ticket}/replies" | "/tickets/{ticket}/rating") => {
            if !portal_sees_ticket(who, object) {
                404
            } else if viewer {
                403
            } else {
                422
            }
        }
        // Idempotent changes: resolving a resolved ticket or reopening an open one is a no-op.
        (
            SurfaceKind::Portal,
            "POST",
            "/tickets/{ticket}/resolve" | "/tickets/{ticket}/reopen" | "/tickets/{ticket}/cc",
        ) => {
            if !portal_sees_ticket(who, object) {
                404
            } else if viewer {
                403
            } else {
                303
            }
        }
        (SurfaceKind::Portal, "GET", "/preferences") => 200,
        (SurfaceKind::Portal, "POST", "/preferences") => 303,
        (SurfaceKind::Portal, "POST", "/profile/sessions/end-others" | "/switch-company") => 303,
        _ => panic!(
            "route {} {} ({:?}) has no row in the authorization matrix: add its expected statuses here",
            route.method, route.path, route.surface
        ),
    }
}

/// A body for a state-changing route: valid CSRF, and content the handler refuses (422) where
/// the change would otherwise alter what later cells see.
fn body_for(app: &TestApp, route: &RouteSpec, csrf: &str) -> Vec<(String, String)> {
    let mut pairs = vec![("csrf".to_owned(), csrf.to_owned())];
    let mut add = |k: &str, v: &str| pairs.push((k.to_owned(), v.to_owned()));
    match route.path {
        "/companies/{company}/portal" => add("state_overview", "sideways"),
        "/companies/{company}/users" | "/companies/{company}/users/{user}" => {
            add("role", "superuser");
            add("name", "Someone");
            add("email", "someone@example.test");
        }
        "/staff" | "/staff/{staff}" => add("role", "superuser"),
        "/settings/portal" => add("label_tickets", &"x".repeat(80)),
        "/settings/sla" => add("first_urgent", "soon"),
        "/settings/ticket-visibility" => add("item", "no-such-field"),
        "/companies/{company}/hours" | "/settings/time-zone" | "/profile/time-zone" => {
            add("time_zone", "Nowhere/Land")
        }
        "/settings/routing" => add("action", "add"),
        "/settings/ticket-form" => {
            add("order", "0");
            add("label_0", "Broken");
            add("kind_0", "no-such-kind");
        }
        "/settings/branding" => {
            add("action", "preview");
            add("name", "X");
            add("primary", "red;}");
            add("secondary", "#fff");
        }
        "/profile/password" => {
            add("current_password", "wrong");
            add("new_password", "one-new-password");
            add("confirm", "another-new-password");
        }
        "/switch-company" => add("company", &app.fx.company_a.to_string()),
        "/security/enrol/confirm" => add("code", "12"),
        "/security/disable" | "/security/recovery-codes" => add("password", "not-the-password"),
        _ => {}
    }
    pairs
}

#[tokio::test]
async fn every_route_answers_every_principal_and_object_as_the_matrix_says() {
    let app = TestApp::spawn().await;
    let routes = portico_web::registry::route_table();
    assert!(
        routes.len() >= 30,
        "the registry lists {} routes",
        routes.len()
    );
    let mut cells = 0;
    let mut failures = Vec::new();
    let owner_scope = owner_scope(&app).await;
    let mut explained = 0;
    for route in &routes {
        let host = match route.surface {
            SurfaceKind::Console => CONSOLE,
            SurfaceKind::Portal => PORTAL,
        };
        for who in Who::ALL {
            for &object in objects(route) {
                let want = expected(route, who, object);
                let token = app.session_for(who).await;
                let path = path_for(&app, route, who, object);
                let response = if route.method == "GET" {
                    app.get(host, &path).session(token.as_deref()).send().await
                } else {
                    let csrf = if (route.surface == SurfaceKind::Console) == who.is_staff()
                        && who.is_staff()
                        || who.is_portal()
                    {
                        app.csrf(who, token.as_deref()).await
                    } else {
                        "no-session".into()
                    };
                    let pairs = body_for(&app, route, &csrf);
                    let refs: Vec<(&str, &str)> = pairs
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    let request = app
                        .request(route.method, host, &path)
                        .session(token.as_deref());
                    if matches!(route.path, "/settings/branding/logo" | "/import") {
                        request.multipart(&refs, None).send().await
                    } else {
                        request.form(&refs).send().await
                    }
                };
                cells += 1;
                match explanation_agrees(&app, &owner_scope, route, who, &path, response.status)
                    .await
                {
                    Some(Ok(())) => explained += 1,
                    Some(Err(disagreement)) => failures.push(disagreement),
                    None => {}
                }
                if response.status != want {
                    failures.push(format!(
                        "{} {} as {who:?} on {object:?}: got {}, want {want}",
                        route.method, path, response.status
                    ));
                }
                if want == 303
                    && route.resource != Resource::Public
                    && !(who.is_staff() || who.is_portal())
                {
                    assert!(
                        response.location().starts_with("/login"),
                        "{} {path}: redirect to {}",
                        route.method,
                        response.location()
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(explained > 100, "only {explained} cells were explained");
    eprintln!(
        "authorization matrix: {explained} cells' answers agree with \"why can this person see this?\""
    );
    eprintln!(
        "authorization matrix: {} routes, {} principals, {} object kinds, {cells} cells",
        routes.len(),
        Who::ALL.len(),
        Object::ALL.len()
    );
}

#[tokio::test]
async fn every_state_change_refuses_a_missing_or_wrong_csrf_token() {
    let app = TestApp::spawn().await;
    for route in portico_web::registry::route_table() {
        if route.method != "POST" || route.resource == Resource::Public {
            continue;
        }
        let (host, who) = match route.surface {
            SurfaceKind::Console => (CONSOLE, Who::Owner),
            SurfaceKind::Portal => (PORTAL, Who::ClientAdmin),
        };
        let token = app.session_for(who).await;
        // The token is judged before the path's ids: a malformed id is no way around it.
        for object in [Object::Own, Object::Malformed] {
            let path = path_for(&app, &route, who, object);
            for csrf in ["", "0000"] {
                let request = app.post(host, &path).session(token.as_deref());
                let response = if matches!(route.path, "/settings/branding/logo" | "/import") {
                    request.multipart(&[("csrf", csrf)], None).send().await
                } else {
                    request.form(&[("csrf", csrf)]).send().await
                };
                assert_eq!(response.status, 403, "POST {path} with CSRF {csrf:?}");
            }
        }
        let path = path_for(&app, &route, who, Object::Own);
        // A cross-site request is refused before any handler runs, even with the right token.
        let csrf = app.csrf(who, token.as_deref()).await;
        let response = app
            .post(host, &path)
            .session(token.as_deref())
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf", &csrf)])
            .send()
            .await;
        assert_eq!(response.status, 403, "cross-site POST {path}");
    }
}

#[tokio::test]
async fn the_matrix_has_a_row_for_every_registered_route() {
    // Evaluating one cell per route panics for any route the matrix does not know.
    for route in portico_web::registry::route_table() {
        for who in Who::ALL {
            for &object in objects(&route) {
                let _ = expected(&route, who, object);
            }
        }
    }
}

/// Rows from the section descriptors: every route registered under a portal section answers
/// 404, for every portal principal and method, once the section is switched off for the
/// company, exactly like a page that does not exist; and answers again once it is back on.
#[tokio::test]
async fn every_route_of_a_switched_off_section_answers_404() {
    let app = TestApp::spawn().await;
    let routes = portico_web::registry::route_table();
    let sections: Vec<portico_core::Section> = {
        let mut s: Vec<_> = routes.iter().filter_map(|r| r.section).collect();
        s.dedup();
        s
    };
    assert!(sections.contains(&portico_core::Section::Tickets));
    for section in sections {
        let section_routes: Vec<&RouteSpec> = routes
            .iter()
            .filter(|r| r.section == Some(section))
            .collect();
        let switch = async |on: bool| {
            let mut tx = app.store().system_unscoped().await.unwrap();
            tx.set_company_section(app.fx.ws1, app.fx.company_a, section, Some(on), None)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        };
        switch(false).await;
        for who in [Who::ClientAdmin, Who::Member, Who::Viewer] {
            let token = app.session_for(who).await;
            for route in &section_routes {
                let path = path_for(&app, route, who, Object::Own);
                let response = if route.method == "GET" {
                    app.get(PORTAL, &path)
                        .session(token.as_deref())
                        .send()
                        .await
                } else {
                    let csrf = app.csrf(who, token.as_deref()).await;
                    let pairs = body_for(&app, route, &csrf);
                    let refs: Vec<(&str, &str)> = pairs
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    app.post(PORTAL, &path)
                        .session(token.as_deref())
                        .form(&refs)
                        .send()
                        .await
                };
                let want = if section.always_on() { None } else { Some(404) };
                if let Some(want) = want {
                    assert_eq!(
                        response.status, want,
                        "{} {path} as {who:?} with {section:?} off",
                        route.method
                    );
                } else {
                    assert_ne!(response.status, 404, "{path}: {section:?} is always on");
                }
            }
        }
        switch(true).await;
        // Someone the section is open to: a member, or a client admin (with billing access)
        // for the client admins' and billing sections.
        let open_to = if section.spec().audience == portico_core::SectionAudience::Everyone {
            Who::Member
        } else {
            Who::ClientAdmin
        };
        let token = app.session_for(open_to).await;
        for route in section_routes.iter().filter(|r| r.method == "GET") {
            let path = path_for(&app, route, open_to, Object::Own);
            let response = app
                .get(PORTAL, &path)
                .session(token.as_deref())
                .send()
                .await;
            assert_ne!(response.status, 404, "{path} with {section:?} on");
        }
    }
}

/// The person a principal of the matrix is, for "why can this person see this?": those whose
/// session is their account as it stands (not the anonymous, an expired session, a disabled
/// user, or a client-group user acting for a company they switched to).
fn person_of(who: Who) -> Option<Person> {
    let staff = |e: &str| Some(Person::Staff(e.to_owned()));
    let portal = |e: &str| Some(Person::Portal(e.to_owned()));
    match who {
        Who::Owner => staff("owner@msp.test"),
        Who::TechnicianAssigned => staff("tech-a@msp.test"),
        Who::TechnicianNotAssigned => staff("tech-b@msp.test"),
        Who::Sales => staff("sales@msp.test"),
        Who::Billing => staff("billing@msp.test"),
        Who::Viewer => portal("viewer@a.test"),
        Who::Member => portal("member@a.test"),
        Who::ClientAdmin => portal("admin@a.test"),
        Who::OwnTicketsOnly => portal("own@a.test"),
        Who::SiteRestricted => portal("site@a.test"),
        _ => None,
    }
}

async fn owner_scope(app: &TestApp) -> portico_core::Scope {
    let token = app.session_for(Who::Owner).await.unwrap();
    let mut tx = app.store().auth(app.fx.ws1).await.unwrap();
    let session = tx
        .resolve_session(&token, SurfaceKind::Console, 3600)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    portico_core::Scope::of(&session.principal)
}

/// Where a record's own page was asked for, the explanation of the person and the record must
/// agree with the answer the page gave: allowed where it was shown, "not visible" where it was
/// a 404, "forbidden" where it was a 403. `None` where the cell is not a record's own page
/// asked for by a person the explanation can name.
async fn explanation_agrees(
    app: &TestApp,
    owner: &portico_core::Scope,
    route: &RouteSpec,
    who: Who,
    path: &str,
    status: u16,
) -> Option<Result<(), String>> {
    let on_surface = match route.surface {
        SurfaceKind::Console => who.is_staff(),
        SurfaceKind::Portal => who.is_portal(),
    };
    // A record's own page: the path ends with the record. Not the console's contact and
    // maintenance pages, which are edit forms asking for the right to change the record.
    const RECORDS: [&str; 8] = [
        "{company}",
        "{ticket}",
        "{asset}",
        "{contact}",
        "{invoice}",
        "{user}",
        "{change}",
        "{maintenance}",
    ];
    let edit_form = route.surface == SurfaceKind::Console
        && matches!(
            route.path,
            "/companies/{company}/contacts/{contact}"
                | "/companies/{company}/maintenance/{maintenance}"
        );
    if route.method != "GET"
        || !RECORDS.iter().any(|r| route.path.ends_with(r))
        || edit_form
        || !on_surface
    {
        return None;
    }
    let person = person_of(who)?;
    let target = parse_target(path)?;
    if !matches!(target, Target::Record { .. }) {
        return None;
    }
    let answer = app
        .store()
        .explain_access(owner, &person, &target)
        .await
        .unwrap();
    let agrees = match answer.outcome {
        Outcome::Allowed => status != 403 && status != 404,
        Outcome::Forbidden => status == 403,
        Outcome::NotVisible => status == 404,
    };
    Some(if agrees {
        Ok(())
    } else {
        Err(format!(
            "GET {path} as {who:?}: the page answered {status}, the explanation says {:?}: {}",
            answer.outcome, answer.rule
        ))
    })
}
