//! C2 service levels: the workspace's time zone, the business hours its clocks count, and the
//! targets per priority (first response and resolution, entered in hours).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, TicketPriority};
use portico_store::StoreError;
use portico_store::scoped::sla::SlaTarget;
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FormData;
use crate::local_time::{
    CalendarForm, ZoneOption, chosen_zone, hours_text, parse_hours, zone_options,
};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

/// One row of the targets, as typed (hours as text, so a refusal shows what was entered).
pub(crate) struct TargetRow {
    pub priority: TicketPriority,
    pub first_response: String,
    pub resolution: String,
}

#[derive(Template)]
#[template(path = "console/sla.html")]
struct SlaPage {
    chrome: Chrome,
    zones: Vec<ZoneOption>,
    business_hours: bool,
    calendar: CalendarForm,
    rows: Vec<TargetRow>,
    error: String,
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
    let targets = tx.sla_targets().await?;
    let zone = tx.workspace_time_zone().await?;
    let calendar = tx.business_calendar(None).await?;
    tx.commit().await?;
    Ok(render::ok(&SlaPage {
        chrome: Chrome::signed_in(&auth, "Service levels", "/settings/sla"),
        zones: zone_options(Some(zone.name())),
        business_hours: calendar.is_some(),
        calendar: CalendarForm::of(calendar.as_ref()),
        rows: targets
            .iter()
            .map(|t| TargetRow {
                priority: t.priority,
                first_response: hours_text(t.first_response_minutes),
                resolution: hours_text(t.resolution_minutes),
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
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
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
    let business_hours = form.get("counting") == "business";
    let calendar_form = CalendarForm::from_form(&form);
    let zone_name = form.get("time_zone").to_owned();
    let error = match parse(&form, &rows, business_hours, &calendar_form) {
        Ok((zone, calendar, targets)) => {
            let mut tx = state.store.scoped_write(&auth.scope).await?;
            let saved = async {
                tx.set_workspace_time_zone(&zone).await?;
                tx.set_business_calendar(None, calendar.as_ref()).await?;
                tx.set_sla_targets(&targets).await
            }
            .await;
            match saved {
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
        zones: zone_options(Some(&zone_name)),
        business_hours,
        calendar: calendar_form,
        rows,
        error,
        notice: "",
    }))
}

type Parsed = (
    portico_core::Zone,
    Option<portico_core::BusinessHours>,
    Vec<SlaTarget>,
);

/// Everything the form says, or the first thing wrong with it.
fn parse(
    form: &FormData,
    rows: &[TargetRow],
    business_hours: bool,
    calendar: &CalendarForm,
) -> Result<Parsed, String> {
    let zone = chosen_zone(form, "time_zone")?
        .ok_or_else(|| "Choose the workspace's time zone.".to_owned())?;
    let calendar = if business_hours {
        Some(calendar.calendar()?)
    } else {
        None
    };
    let targets = rows
        .iter()
        .map(|r| {
            Ok(SlaTarget {
                priority: r.priority,
                first_response_minutes: parse_hours(&r.first_response)?,
                resolution_minutes: parse_hours(&r.resolution)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((zone, calendar, targets))
}
