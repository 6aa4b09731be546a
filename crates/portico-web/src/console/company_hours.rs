//! A company's own time zone and business hours, where it is served differently from the
//! workspace (another city, extended hours, its own holidays).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Action, BusinessHours, CompanyId, Zone};
use portico_store::StoreError;
use serde::Deserialize;

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::local_time::{CalendarForm, ZoneOption, chosen_zone, zone_options};
use crate::render::{self, Chrome};
use crate::{AppState, see_other};

#[derive(Template)]
#[template(path = "console/company_hours.html")]
struct HoursPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    workspace_zone: String,
    zones: Vec<ZoneOption>,
    own_hours: bool,
    calendar: CalendarForm,
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
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    // A company out of scope is not found, whoever asks; then only owners may go on.
    let summary = tx.company(company).await?;
    auth.scope.may(Action::ManageTicketForm)?;
    let zone = tx.company_time_zone(company).await?;
    let workspace_zone = tx.workspace_time_zone().await?;
    let own = tx.business_calendar(Some(company)).await?;
    let workspace_calendar = tx.business_calendar(None).await?;
    tx.commit().await?;
    let title = format!("Hours and time zone — {}", summary.name);
    Ok(render::ok(&HoursPage {
        chrome: Chrome::signed_in(&auth, &title, "/companies"),
        company_id: company,
        company_name: summary.name,
        workspace_zone: workspace_zone.name().to_owned(),
        zones: zone_options(zone.as_ref().map(Zone::name)),
        own_hours: own.is_some(),
        // A company's own hours start from the workspace's.
        calendar: CalendarForm::of(own.as_ref().or(workspace_calendar.as_ref())),
        error: String::new(),
        notice: if query.saved.is_some() {
            "Hours and time zone saved."
        } else {
            ""
        },
    }))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    SignedForm {
        auth,
        form,
        path: company,
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let summary = tx.company(company).await?;
    auth.scope.may(Action::ManageTicketForm)?;
    let own_hours = form.get("hours") == "own";
    let calendar_form = CalendarForm::from_form(&form);
    let zone_name = form.get("time_zone").trim().to_owned();
    let parsed: Result<(Option<Zone>, Option<BusinessHours>), String> =
        chosen_zone(&form, "time_zone").and_then(|zone| {
            let calendar = if own_hours {
                Some(calendar_form.calendar()?)
            } else {
                None
            };
            Ok((zone, calendar))
        });
    let error = match parsed {
        Ok((zone, calendar)) => {
            let saved = async {
                tx.set_company_time_zone(company, zone.as_ref()).await?;
                tx.set_business_calendar(Some(company), calendar.as_ref())
                    .await
            }
            .await;
            match saved {
                Ok(()) => {
                    tx.commit().await?;
                    return Ok(see_other(&format!("/companies/{company}/hours?saved")));
                }
                Err(StoreError::Invalid(m)) => m,
                Err(e) => return Err(e.into()),
            }
        }
        Err(m) => m,
    };
    let workspace_zone = tx.workspace_time_zone().await?;
    drop(tx);
    let title = format!("Hours and time zone — {}", summary.name);
    Ok(render::refused(&HoursPage {
        chrome: Chrome::signed_in(&auth, &title, "/companies"),
        company_id: company,
        company_name: summary.name,
        workspace_zone: workspace_zone.name().to_owned(),
        zones: zone_options(Some(&zone_name)),
        own_hours,
        calendar: calendar_form,
        error,
        notice: "",
    }))
}
