//! The owners' settings: one page that leads to each of the workspace's settings, grouped by
//! what they are for, instead of a navigation bar with a link to each.

use askama::Template;
use axum::response::Response;
use portico_core::Action;

use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

/// A settings page as the hub lists it.
struct Entry {
    href: &'static str,
    title: &'static str,
    about: &'static str,
}

const fn entry(href: &'static str, title: &'static str, about: &'static str) -> Entry {
    Entry { href, title, about }
}

const GROUPS: &[(&str, &[Entry])] = &[
    (
        "Your brand and the portal",
        &[
            entry(
                "/settings/branding",
                "Branding",
                "Name, logo, colours and the portal's addresses.",
            ),
            entry(
                "/settings/portal",
                "Portal defaults",
                "Which sections clients see, and what they are called.",
            ),
            entry(
                "/settings/ticket-form",
                "Ticket form",
                "The fields a client fills in to raise a ticket, and what each role sees of a ticket.",
            ),
        ],
    ),
    (
        "The service desk",
        &[
            entry(
                "/settings/sla",
                "Service levels",
                "Response and resolution targets, business hours and holidays.",
            ),
            entry(
                "/settings/canned-responses",
                "Canned responses",
                "Replies technicians insert with the client's name and the ticket's number filled in.",
            ),
            entry(
                "/settings/routing",
                "Routing",
                "Rules that assign new tickets to a technician.",
            ),
            entry(
                "/settings/assets",
                "Asset fields",
                "Your own fields on assets, and which clients see.",
            ),
        ],
    ),
    (
        "Sign-in and access",
        &[
            entry(
                "/settings/sso",
                "Single sign-on",
                "Staff and clients sign in with your OpenID Connect provider.",
            ),
            entry(
                "/access",
                "Access check",
                "Why a person can or cannot see a record or page.",
            ),
            entry(
                "/settings/api-tokens",
                "API tokens",
                "Tokens your tools use to read and write through the API.",
            ),
            entry(
                "/api",
                "API reference",
                "Every operation of the REST API, its parameters and answers.",
            ),
        ],
    ),
    (
        "Integrations and mail",
        &[
            entry(
                "/settings/connectors",
                "Connectors",
                "Microsoft 365 feeds your clients' Licences and Users sections.",
            ),
            entry(
                "/settings/breach-monitoring",
                "Breach monitoring",
                "Your Have I Been Pwned key: your clients' accounts found in data breaches.",
            ),
            entry(
                "/settings/webhooks",
                "Webhooks",
                "Tell your other tools the moment a ticket or change request changes.",
            ),
            entry(
                "/outbox",
                "Outbox",
                "Every mail sent, and how its delivery went.",
            ),
        ],
    ),
];

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    groups: &'static [(&'static str, &'static [Entry])],
}

pub(crate) async fn page(auth: Auth) -> Result<Response, WebError> {
    if auth.scope.may(Action::ManageBranding).is_err() {
        return Err(WebError::Forbidden(
            "The workspace's settings are its owners'.".into(),
        ));
    }
    Ok(render::ok(&SettingsPage {
        chrome: Chrome::signed_in(&auth, "Settings", "/settings"),
        groups: GROUPS,
    }))
}
