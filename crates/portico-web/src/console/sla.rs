//! C2 service-level targets per priority: first response and resolution, in hours and minutes.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, TicketPriority};
use portico_store::StoreError;
use portico_store::scoped::sla::SlaTarget;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::WebError;
use crate::forms::FormData;
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// One row of the form, as typed (minutes as text, so a refusal shows what was entered).
pub(crate) struct TargetRow {
    pub priority: TicketPriority,
    pub first_response: String,
    pub resolution: String,
}

#[derive(Template)]
#[template(path = "console/sla.html")]
struct SlaPage {
    chrome: Chrome,
    rows: Vec<TargetRow>,
    error: String,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    saved: Option<String>,
}

fn text(minutes: Option<i64>) -> String {
    minutes.map(|m| m.to_string()).unwrap_or_default()
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    auth.scope.may(Action::ManageTicketForm)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let targets = tx.sla_targets().await?;
    tx.commit().await?;
    Ok(render::ok(&SlaPage {
        chrome: Chrome::signed_in(&auth, "Service levels", "/settings/sla"),
        rows: targets
            .iter()
            .map(|t| TargetRow {
                priority: t.priority,
                first_response: text(t.first_response_minutes),
                resolution: text(t.resolution_minutes),
            })
            .collect(),
        error: String::new(),
        notice: if query.saved.is_some() {
            "Service levels saved."
        } else {
            ""
        },
    }))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    auth: Auth,
    form: FormData,
) -> Result<Response, WebError> {
    auth.check_csrf(&form)?;
    auth.scope.may(Action::ManageTicketForm)?;
    let rows: Vec<TargetRow> = TicketPriority::ALL
        .iter()
        .map(|&priority| TargetRow {
            priority,
            first_response: form
                .get(&format!("first_{}", priority.as_str()))
                .trim()
                .to_owned(),
            resolution: form
                .get(&format!("resolve_{}", priority.as_str()))
                .trim()
                .to_owned(),
        })
        .collect();
    let minutes = |text: &str| -> Result<Option<i64>, String> {
        if text.is_empty() {
            Ok(None)
        } else {
            text.parse::<i64>()
                .map(Some)
                .map_err(|_| format!("“{text}” is not a number of minutes."))
        }
    };
    let parsed: Result<Vec<SlaTarget>, String> = rows
        .iter()
        .map(|r| {
            Ok(SlaTarget {
                priority: r.priority,
                first_response_minutes: minutes(&r.first_response)?,
                resolution_minutes: minutes(&r.resolution)?,
            })
        })
        .collect();
    let result = match parsed {
        Ok(targets) => {
            let mut tx = state.store.scoped_write(&auth.scope).await?;
            match tx.set_sla_targets(&targets).await {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(see_other("/settings/sla?saved"));
                }
                Err(StoreError::Invalid(m)) => m,
                Err(e) => return Err(e.into()),
            }
        }
        Err(m) => m,
    };
    Ok(render::refused(&SlaPage {
        chrome: Chrome::signed_in(&auth, "Service levels", "/settings/sla"),
        rows,
        error: result,
        notice: "",
    }))
}
