//! P2: which parts of a ticket, and which custom fields, each portal role is shown. What a
//! role is not shown never leaves the server for its users (the store leaves it out).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, PortalRole, TicketItem};
use portico_store::scoped::ticket_visibility::VisibilityRule;
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// One row of the table: a part of a ticket or a custom field, and the roles shown it.
struct ItemRow {
    key: String,
    label: String,
    /// The company whose own form the field is on.
    company: Option<String>,
    shown_to: Vec<(PortalRole, bool)>,
}

#[derive(Template)]
#[template(path = "console/ticket_visibility.html")]
struct VisibilityPage {
    chrome: Chrome,
    roles: &'static [PortalRole],
    items: Vec<ItemRow>,
    fields: Vec<ItemRow>,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let rules = tx.ticket_visibility().await?;
    let fields = tx.form_field_names().await?;
    tx.commit().await?;
    let row = |key: &str, label: &str, company: Option<String>| {
        let hidden = rules
            .iter()
            .find(|r| r.item == key)
            .map(|r| r.hidden_from.as_slice())
            .unwrap_or_default();
        ItemRow {
            key: key.to_owned(),
            label: label.to_owned(),
            company,
            shown_to: PortalRole::ALL
                .iter()
                .map(|role| (*role, !hidden.contains(role)))
                .collect(),
        }
    };
    Ok(render::ok(&VisibilityPage {
        chrome: Chrome::signed_in(&auth, "What clients see", "/settings/ticket-form"),
        roles: PortalRole::ALL,
        items: TicketItem::ALL
            .iter()
            .map(|i| row(i.as_str(), i.label(), None))
            .collect(),
        fields: fields
            .iter()
            .map(|f| row(&f.id, &f.label, f.company_name.clone()))
            .collect(),
        notice: if query.saved.is_some() {
            "Saved. Clients see the change on their next page."
        } else {
            ""
        },
    }))
}

/// Saves the table. Only rows the submitted page listed (`item`) change: a field added to a
/// form meanwhile keeps its visibility rather than being hidden from everyone.
pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let listed = form.all("item");
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let mut rules: Vec<VisibilityRule> = tx
        .ticket_visibility()
        .await?
        .into_iter()
        .filter(|r| !listed.contains(&r.item.as_str()))
        .collect();
    for item in listed {
        let shown = form.all(&format!("show_{item}"));
        rules.push(VisibilityRule {
            item: item.to_owned(),
            hidden_from: PortalRole::ALL
                .iter()
                .filter(|role| !shown.contains(&role.as_str()))
                .copied()
                .collect(),
        });
    }
    tx.set_ticket_visibility(&rules).await?;
    tx.commit().await?;
    Ok(see_other("/settings/ticket-visibility?saved"))
}
