//! C2 routing rules for portal-submitted tickets: conditions on company, category, keywords and
//! a custom-field answer set the assignee, priority and category. Evaluated in order; the first
//! match applies.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId, StaffUserId, TicketPriority};
use portico_store::StoreError;
use portico_store::scoped::routing::{NewRoutingRule, RoutingRule};
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// The add form as typed, kept across a refusal.
#[derive(Default)]
pub(crate) struct RuleForm {
    pub position: String,
    pub name: String,
    pub company: String,
    pub category: String,
    pub keywords: String,
    pub field_label: String,
    pub field_value: String,
    pub assignee: String,
    pub priority: String,
    pub set_category: String,
    /// The rule being edited; empty when adding one.
    pub editing: String,
}

impl RuleForm {
    fn of(rule: &RoutingRule) -> RuleForm {
        RuleForm {
            position: rule.position.to_string(),
            name: rule.name.clone(),
            company: rule.company.map(|c| c.to_string()).unwrap_or_default(),
            category: rule.category.clone(),
            keywords: rule.keywords.clone(),
            field_label: rule.field_label.clone(),
            field_value: rule.field_value.clone(),
            assignee: rule.set_assignee.map(|a| a.to_string()).unwrap_or_default(),
            priority: rule
                .set_priority
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            set_category: rule.set_category.clone(),
            editing: rule.id.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/routing.html")]
struct RoutingPage {
    chrome: Chrome,
    rules: Vec<RoutingRule>,
    companies: Vec<(String, String)>,
    staff: Vec<(String, String)>,
    categories: Vec<String>,
    priorities: &'static [TicketPriority],
    form: RuleForm,
    error: String,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    done: String,
    /// A rule to load into the form for editing.
    #[serde(default)]
    edit: String,
}

async fn routing_page(
    state: &AppState,
    auth: &Auth,
    form: RuleForm,
    error: String,
    notice: &'static str,
) -> Result<RoutingPage, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let rules = tx.routing_rules().await?;
    let categories = tx.ticket_categories().await?;
    let companies = tx
        .company_names(1000)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    let staff = tx
        .staff_users()
        .await?
        .into_iter()
        .filter(|s| {
            !s.disabled
                && matches!(
                    s.role,
                    portico_core::StaffRole::Owner | portico_core::StaffRole::Technician
                )
        })
        .map(|s| (s.id.to_string(), s.name))
        .collect();
    tx.commit().await?;
    Ok(RoutingPage {
        chrome: Chrome::signed_in(auth, "Ticket routing", "/settings/routing"),
        rules,
        companies,
        staff,
        categories,
        priorities: TicketPriority::ALL,
        form,
        error,
        notice,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let notice = match query.done.as_str() {
        "added" => "Rule added.",
        "updated" => "Rule saved.",
        "moved" => "Rule moved.",
        "deleted" => "Rule deleted.",
        _ => "",
    };
    let mut page = routing_page(&state, &auth, RuleForm::default(), String::new(), notice).await?;
    if !query.edit.is_empty() {
        let rule = page
            .rules
            .iter()
            .find(|r| r.id == query.edit)
            .ok_or(WebError::NotFound)?;
        page.form = RuleForm::of(rule);
    }
    Ok(render::ok(&page))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let typed = RuleForm {
        position: form.get("position").to_owned(),
        name: form.get("name").to_owned(),
        company: form.get("company").to_owned(),
        category: form.get("category").to_owned(),
        keywords: form.get("keywords").to_owned(),
        field_label: form.get("field_label").to_owned(),
        field_value: form.get("field_value").to_owned(),
        assignee: form.get("assignee").to_owned(),
        priority: form.get("priority").to_owned(),
        set_category: form.get("set_category").to_owned(),
        editing: if form.get("action") == "update" {
            form.get("rule").to_owned()
        } else {
            String::new()
        },
    };
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let (result, done) = match form.get("action") {
        "delete" => (tx.delete_routing_rule(form.get("rule")).await, "deleted"),
        "up" | "down" => (
            tx.move_routing_rule(form.get("rule"), form.get("action") == "up")
                .await,
            "moved",
        ),
        action @ ("add" | "update") => {
            let parsed = (|| {
                let bad = |m: &str| StoreError::Invalid(m.to_owned());
                Ok::<_, StoreError>(NewRoutingRule {
                    position: match typed.position.trim() {
                        "" => 100,
                        p => p.parse().map_err(|_| bad("The order must be a number."))?,
                    },
                    name: typed.name.clone(),
                    company: match typed.company.as_str() {
                        "" => None,
                        c => Some(
                            CompanyId::parse(c).ok_or_else(|| bad("Choose a listed company."))?,
                        ),
                    },
                    category: typed.category.clone(),
                    keywords: typed.keywords.clone(),
                    field_label: typed.field_label.clone(),
                    field_value: typed.field_value.clone(),
                    set_assignee: match typed.assignee.as_str() {
                        "" => None,
                        a => {
                            Some(StaffUserId::parse(a).ok_or_else(|| bad("Choose listed staff."))?)
                        }
                    },
                    set_priority: match typed.priority.as_str() {
                        "" => None,
                        p => Some(
                            TicketPriority::parse(p).ok_or_else(|| bad("Choose a priority."))?,
                        ),
                    },
                    set_category: typed.set_category.clone(),
                })
            })();
            match (parsed, action) {
                (Ok(rule), "add") => (tx.add_routing_rule(&rule).await, "added"),
                (Ok(rule), _) => (
                    tx.update_routing_rule(&typed.editing, &rule).await,
                    "updated",
                ),
                (Err(e), _) => (Err(e), ""),
            }
        }
        _ => (
            Err(StoreError::Invalid(
                "Choose to add, change, move or delete a rule.".into(),
            )),
            "",
        ),
    };
    match result {
        Ok(()) => {
            tx.commit().await?;
            Ok(see_other(&format!("/settings/routing?done={done}")))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = routing_page(&state, &auth, typed, message, "").await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}
