//! C2 staff log a ticket for a client, as when the client phones: the client chosen as its
//! requester, who then follows it in the portal like any ticket they raised.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::{Action, CompanyId, PortalUserId, SiteId, StaffUserId, TicketPriority};
use portico_store::StoreError;
use portico_store::scoped::ticket_workflow::LoggedTicket;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FormData;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};
use crate::{AppState, mail_links, see_other};

/// The form as typed, so that a refusal shows it again unchanged.
#[derive(Debug, Default)]
pub(crate) struct IntakeForm {
    requester: String,
    title: String,
    description: String,
    priority: String,
    category: String,
    site: String,
    assignee: String,
}

/// A select's value: `None` when left on its empty choice.
fn optional(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

impl IntakeForm {
    fn from_form(form: &FormData) -> Self {
        IntakeForm {
            requester: form.get("requester").to_owned(),
            title: form.get("title").to_owned(),
            description: form.get("description").to_owned(),
            priority: form.get("priority").to_owned(),
            category: form.get("category").to_owned(),
            site: form.get("site").to_owned(),
            assignee: form.get("assignee").to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/log_ticket.html")]
struct LogTicketPage {
    chrome: Chrome,
    company: CompanyId,
    company_name: String,
    /// (id, "Name <address>") of the company's active portal users.
    people: Vec<(String, String)>,
    categories: Vec<String>,
    sites: Vec<(String, String)>,
    assignees: Vec<(String, String)>,
    priorities: &'static [TicketPriority],
    form: IntakeForm,
    errors: Vec<(String, String)>,
}

impl LogTicketPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn first_refused(&self, field: &str) -> bool {
        self.errors.first().is_some_and(|(f, _)| f == field)
    }
}

async fn log_page(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    form: IntakeForm,
    errors: Vec<(String, String)>,
) -> Result<LogTicketPage, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    // A company out of sight is missing (404) before anything else is said about it.
    let summary = tx.company(company).await?;
    auth.scope.may(Action::WorkTickets)?;
    let people = tx
        .portal_users(company)
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| (u.id.to_string(), format!("{} <{}>", u.name, u.email)))
        .collect();
    let categories = tx.ticket_categories().await?;
    let sites = tx
        .sites(company)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let assignees = tx
        .assignable_staff(company)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    tx.commit().await?;
    Ok(LogTicketPage {
        chrome: Chrome::signed_in(auth, "Log a ticket", "/tickets"),
        company,
        company_name: summary.name,
        people,
        categories,
        sites,
        assignees,
        priorities: TicketPriority::ALL,
        form,
        errors,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let me = match auth.scope.actor() {
        portico_core::Actor::Staff(id) => id.to_string(),
        portico_core::Actor::Portal(_) => String::new(),
    };
    let form = IntakeForm {
        priority: TicketPriority::Normal.as_str().to_owned(),
        assignee: me,
        ..IntakeForm::default()
    };
    let mut page = log_page(&state, &auth, company, form, Vec::new()).await?;
    // Assigned to whoever logs it, when they may take the company's tickets.
    if !page
        .assignees
        .iter()
        .any(|(id, _)| *id == page.form.assignee)
    {
        page.form.assignee.clear();
    }
    Ok(render::ok(&page))
}

pub(crate) async fn log(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let typed = IntakeForm::from_form(&form);
    let mut early = Vec::new();
    let requester = optional(&typed.requester).and_then(PortalUserId::parse);
    let site = optional(&typed.site).map(SiteId::parse);
    let assignee = optional(&typed.assignee).map(StaffUserId::parse);
    if matches!(site, Some(None)) {
        early.push((
            "site".to_owned(),
            "Choose one of the company's sites.".to_owned(),
        ));
    }
    if matches!(assignee, Some(None)) {
        early.push((
            "assignee".to_owned(),
            "Choose someone who works this company's tickets.".to_owned(),
        ));
    }
    let new = LoggedTicket {
        requester,
        title: typed.title.clone(),
        description: typed.description.clone(),
        priority: TicketPriority::parse(&typed.priority),
        category: typed.category.clone(),
        site: site.flatten(),
        assignee: assignee.flatten(),
    };
    let links = mail_links(&state, auth.scope.workspace()).await?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let refused = match tx.log_ticket(company, &new, &links).await {
        Ok(id) if early.is_empty() => {
            tx.commit().await?;
            return Ok(see_other(&format!("/tickets/{id}")));
        }
        Ok(_) => early,
        Err(StoreError::InvalidFields(more)) => {
            let seen: Vec<String> = early.iter().map(|(f, _)| f.clone()).collect();
            early.extend(more.into_iter().filter(|(f, _)| !seen.contains(f)));
            early
        }
        Err(e) => return Err(e.into()),
    };
    // Nothing is kept of a refused form (the transaction is dropped); it comes back as typed.
    drop(tx);
    let mut refused = refused;
    let order = [
        "requester",
        "title",
        "category",
        "priority",
        "site",
        "assignee",
        "description",
    ];
    refused.sort_by_key(|(f, _)| order.iter().position(|o| o == f).unwrap_or(order.len()));
    let page = log_page(&state, &auth, company, typed, refused).await?;
    Ok(render::refused(&page))
}
