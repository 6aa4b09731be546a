//! C2 the ticket-form designer: the workspace's categories and custom fields, and per-company
//! override forms. Works without JavaScript: fields are rows, in order; blank rows add fields,
//! a ticked "remove" drops one.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, CompanyId, FieldKind};
use portico_store::StoreError;
use portico_store::scoped::ticket_form::FieldDraft;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::WebError;
use crate::forms::FormData;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// Blank rows offered for new fields.
const NEW_ROWS: usize = 2;

#[derive(Deserialize, Default)]
pub(crate) struct DesignerQuery {
    #[serde(default)]
    company: String,
    #[serde(default)]
    saved: Option<String>,
}

#[derive(Template)]
#[template(path = "console/ticket_form.html")]
struct DesignerPage {
    chrome: Chrome,
    /// `None`: the workspace form.
    company: Option<(String, String)>,
    companies: Vec<(String, String)>,
    categories: String,
    rows: Vec<FieldDraft>,
    kinds: &'static [FieldKind],
    error: String,
    notice: &'static str,
}

fn company_of(text: &str) -> Result<Option<CompanyId>, WebError> {
    match text {
        "" => Ok(None),
        c => CompanyId::parse(c).map(Some).ok_or(WebError::NotFound),
    }
}

async fn designer(
    state: &AppState,
    auth: &Auth,
    company: Option<CompanyId>,
    edited: Option<(String, Vec<FieldDraft>)>,
    error: String,
    notice: &'static str,
) -> Result<DesignerPage, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let company_name = match company {
        Some(c) => Some((c.to_string(), tx.company(c).await?.name)),
        None => None,
    };
    let (categories, mut rows) = match edited {
        Some(kept) => kept,
        None => {
            let fields = tx.form_fields_of(company).await?;
            let categories = tx.ticket_categories().await?.join("\n");
            let rows = fields
                .into_iter()
                .map(|f| FieldDraft {
                    label: f.label,
                    kind: f.kind.as_str().to_owned(),
                    required: f.required,
                    help: f.help,
                    options: f.options.join("\n"),
                })
                .collect();
            (categories, rows)
        }
    };
    let companies = tx
        .company_names(301)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    tx.commit().await?;
    rows.extend((0..NEW_ROWS).map(|_| FieldDraft::default()));
    Ok(DesignerPage {
        chrome: Chrome::signed_in(auth, "Ticket form", "/settings/ticket-form"),
        company: company_name,
        companies,
        categories,
        rows,
        kinds: FieldKind::ALL,
        error,
        notice,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<DesignerQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let company = company_of(&query.company)?;
    let notice = if query.saved.is_some() {
        "The form was saved. New tickets use it from now on."
    } else {
        ""
    };
    let page = designer(&state, &auth, company, None, String::new(), notice).await?;
    Ok(render::ok(&page))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    auth: Auth,
    form: FormData,
) -> Result<Response, WebError> {
    auth.check_csrf(&form)?;
    auth.scope.may(Action::ManageTicketForm)?;
    let company = company_of(form.get("company"))?;
    let count: usize = form.get("rows").parse().unwrap_or(0).min(64);
    let rows: Vec<FieldDraft> = (0..count)
        .map(|i| FieldDraft {
            label: form.get(&format!("label_{i}")).to_owned(),
            kind: form.get(&format!("kind_{i}")).to_owned(),
            required: form.checked(&format!("required_{i}")),
            help: form.get(&format!("help_{i}")).to_owned(),
            options: form.get(&format!("options_{i}")).to_owned(),
        })
        .zip(0..count)
        // Blank new rows and rows marked for removal are not fields.
        .filter(|(f, i)| !form.checked(&format!("remove_{i}")) && !f.label.trim().is_empty())
        .map(|(f, _)| f)
        .collect();
    let categories = form.get("categories").to_owned();
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    match tx.save_ticket_form(company, &categories, &rows).await {
        Ok(()) => {
            tx.commit().await?;
            let target = match company {
                Some(c) => format!("/settings/ticket-form?company={c}&saved"),
                None => "/settings/ticket-form?saved".to_owned(),
            };
            Ok(see_other(&target))
        }
        Err(StoreError::Invalid(message)) => {
            drop(tx);
            let page = designer(
                &state,
                &auth,
                company,
                Some((categories, rows)),
                message,
                "",
            )
            .await?;
            Ok(render::refused(&page))
        }
        Err(e) => Err(e.into()),
    }
}
