//! "Why can this person see this?" (C9): an owner names a person and pastes a link to a record
//! or a portal page; the answer is the decision and the rule, from the code that enforces it
//! ([`portico_store::explain`]).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId, Section};
use portico_store::StoreError;
use portico_store::explain::{Explanation, Outcome, Person, RecordKind, Target};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};

/// Reads a console or portal link (or just its path) as a record or a portal section.
pub fn parse_target(text: &str) -> Option<Target> {
    let text = text.trim();
    // A whole link: keep its path.
    let path = match text.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => text,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return None;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let id = |s: &str| CompanyId::parse(s).map(|_| s.to_owned());
    let record = |kind, record: &str, company: Option<CompanyId>| {
        id(record).map(|id| Target::Record { kind, id, company })
    };
    match segments.as_slice() {
        ["companies", company, rest @ ..] => {
            let company_id = CompanyId::parse(company)?;
            let company_record = Some(Target::Record {
                kind: RecordKind::Company,
                id: company_id.to_string(),
                company: None,
            });
            let (Some(kind), Some(record_id)) = (rest.first(), rest.get(1).and_then(|r| id(r)))
            else {
                // The company's own pages (its assets list, its portal settings, …).
                return company_record;
            };
            let kind = match *kind {
                "assets" => RecordKind::Asset,
                "contacts" => RecordKind::Contact,
                "invoices" => RecordKind::Invoice,
                "users" => RecordKind::PortalUser,
                "maintenance" => RecordKind::Maintenance,
                // Records that cannot be asked about (sites, imports).
                _ => return None,
            };
            record(kind, &record_id, Some(company_id))
        }
        [first, second, ..] if id(second).is_some() => {
            let kind = match *first {
                "tickets" => RecordKind::Ticket,
                "assets" => RecordKind::Asset,
                "contacts" => RecordKind::Contact,
                "invoices" => RecordKind::Invoice,
                "users" => RecordKind::PortalUser,
                "changes" => RecordKind::ChangeRequest,
                "maintenance" => RecordKind::Maintenance,
                _ => return section_of(first),
            };
            record(kind, second, None)
        }
        [first, ..] => section_of(first),
        [] => None,
    }
}

/// The portal section whose pages live under `/first`.
fn section_of(first: &str) -> Option<Target> {
    let wanted = format!("/{first}");
    Section::ALL
        .iter()
        .find(|s| {
            s.portal_path()
                .is_some_and(|p| p == wanted || (first.is_empty() && p == "/"))
        })
        .map(|s| Target::Section(*s))
}

#[derive(Deserialize, Default)]
pub(crate) struct AccessQuery {
    #[serde(default)]
    who: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    target: String,
}

#[derive(Template)]
#[template(path = "console/access.html")]
struct AccessPage {
    chrome: Chrome,
    who: String,
    email: String,
    target: String,
    error: String,
    answer: Option<Explanation>,
}

impl AccessPage {
    fn allowed(&self) -> bool {
        self.answer
            .as_ref()
            .is_some_and(|a| a.outcome == Outcome::Allowed)
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<AccessQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ExplainAccess)?;
    let mut page = AccessPage {
        chrome: Chrome::signed_in(&auth, "Why can this person see this?", "/settings"),
        who: if query.who == "staff" {
            "staff"
        } else {
            "portal"
        }
        .to_owned(),
        email: query.email.trim().to_owned(),
        target: query.target.trim().to_owned(),
        error: String::new(),
        answer: None,
    };
    if page.email.is_empty() && page.target.is_empty() {
        return Ok(render::ok(&page));
    }
    let person = if page.who == "staff" {
        Person::Staff(page.email.clone())
    } else {
        Person::Portal(page.email.clone())
    };
    let Some(target) = parse_target(&page.target) else {
        page.error = "Paste a link to a record (a ticket, asset, contact, invoice, portal user, change request, maintenance record or company) or to a portal page, from either surface.".into();
        return Ok(render::refused(&page));
    };
    match state
        .store
        .explain_access(&auth.scope, &person, &target)
        .await
    {
        Ok(answer) => page.answer = Some(answer),
        Err(StoreError::NotFound) => {
            page.error = format!(
                "No {} has the address {}.",
                if page.who == "staff" {
                    "staff member"
                } else {
                    "portal user"
                },
                page.email
            );
            return Ok(render::refused(&page));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(render::ok(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_of_both_surfaces_read_as_records_or_sections() {
        let company = CompanyId::new().to_string();
        let asset = CompanyId::new().to_string();
        let console = format!("https://console.example.com/companies/{company}/assets/{asset}?x=1");
        match parse_target(&console) {
            Some(Target::Record {
                kind: RecordKind::Asset,
                id,
                company: Some(c),
            }) => {
                assert_eq!(id, asset);
                assert_eq!(c.to_string(), company);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_target(&format!("/tickets/{asset}")),
            Some(Target::Record {
                kind: RecordKind::Ticket,
                company: None,
                ..
            })
        ));
        assert!(matches!(
            parse_target(&format!("/companies/{company}")),
            Some(Target::Record {
                kind: RecordKind::Company,
                ..
            })
        ));
        assert!(matches!(
            parse_target("https://portal.example.com/assets"),
            Some(Target::Section(Section::Assets))
        ));
        assert!(matches!(
            parse_target("/tickets/new"),
            Some(Target::Section(Section::Tickets))
        ));
        assert!(parse_target("not a link").is_none());
        assert!(parse_target("/no-such-page").is_none());
    }
}
