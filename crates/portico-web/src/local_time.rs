//! The forms of local time shared by several pages: choosing a time zone, and a business
//! calendar's weekly hours and holidays.

use axum::extract::State;
use axum::response::Response;
use portico_core::local_time::{OpeningHours, WEEKDAYS, clock_text, parse_clock};
use portico_core::{BusinessHours, Principal, Zone};

use crate::auth::{Auth, SignedForm};
use crate::error::WebError;
use crate::forms::FormData;
use crate::{AppState, see_other};

/// The signed-in person's own time zone choice, for their settings page.
pub(crate) struct MyZone {
    /// Where the choice is posted.
    pub action: &'static str,
    /// The zone they read times in without a choice of their own.
    pub default: String,
    pub zones: Vec<ZoneOption>,
}

impl MyZone {
    pub(crate) async fn read(
        auth: &Auth,
        tx: &mut portico_store::scoped::ScopedTx<'_>,
    ) -> Result<MyZone, WebError> {
        let own = tx.my_time_zone().await?;
        let default = tx.my_default_time_zone().await?;
        Ok(MyZone {
            action: match &*auth.principal {
                Principal::Staff(_) => "/settings/time-zone",
                Principal::Portal(_) => "/profile/time-zone",
            },
            default: default.name().to_owned(),
            zones: zone_options(own.as_ref().map(Zone::name)),
        })
    }
}

/// Where a person's own settings live on their surface.
fn settings_page(auth: &Auth) -> &'static str {
    match &*auth.principal {
        Principal::Staff(_) => "/settings/notifications",
        Principal::Portal(_) => "/profile",
    }
}

/// Saves the signed-in person's own time zone (empty: their company's or workspace's).
pub(crate) async fn save_my_time_zone(
    State(state): State<AppState>,
    SignedForm { auth, form, .. }: SignedForm,
) -> Result<Response, WebError> {
    let zone = chosen_zone(&form, "time_zone").map_err(WebError::BadRequest)?;
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    tx.set_my_time_zone(zone.as_ref()).await?;
    tx.commit().await?;
    Ok(see_other(&format!("{}?zone", settings_page(&auth))))
}

/// One option of a time zone list.
pub(crate) struct ZoneOption {
    pub name: &'static str,
    pub selected: bool,
}

/// Every zone, `selected` marked (none when the person keeps the default).
pub(crate) fn zone_options(selected: Option<&str>) -> Vec<ZoneOption> {
    Zone::names()
        .iter()
        .map(|n| ZoneOption {
            name: n.as_str(),
            selected: Some(n.as_str()) == selected,
        })
        .collect()
}

/// The zone chosen in field `name`: `Ok(None)` for the empty choice (the default), an error
/// message for a name that is not a zone.
pub(crate) fn chosen_zone(form: &FormData, name: &str) -> Result<Option<Zone>, String> {
    let value = form.get(name).trim();
    if value.is_empty() {
        return Ok(None);
    }
    Zone::named(value).map(Some).map_err(|e| e.to_string())
}

/// One weekday of a calendar form, as typed.
pub(crate) struct DayRow {
    pub index: usize,
    pub name: &'static str,
    pub open: bool,
    pub opens: String,
    pub closes: String,
}

/// A calendar form as typed, so that a refusal shows what was entered.
pub(crate) struct CalendarForm {
    pub days: Vec<DayRow>,
    pub holidays: String,
}

impl CalendarForm {
    /// The form for a kept calendar, or for office hours (Monday to Friday, 9 to 5) when there
    /// is none yet.
    pub(crate) fn of(hours: Option<&BusinessHours>) -> CalendarForm {
        let start = BusinessHours::office_default();
        let hours = hours.unwrap_or(&start);
        CalendarForm {
            days: WEEKDAYS
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let day = hours.days[index];
                    let shown = day.unwrap_or(OpeningHours {
                        opens: 9 * 60,
                        closes: 17 * 60,
                    });
                    DayRow {
                        index,
                        name,
                        open: day.is_some(),
                        opens: clock_text(shown.opens),
                        closes: clock_text(shown.closes),
                    }
                })
                .collect(),
            holidays: hours.holidays_text(),
        }
    }

    /// The form as submitted (fields `open_<n>`, `opens_<n>`, `closes_<n>`, `holidays`).
    pub(crate) fn from_form(form: &FormData) -> CalendarForm {
        CalendarForm {
            days: WEEKDAYS
                .iter()
                .enumerate()
                .map(|(index, name)| DayRow {
                    index,
                    name,
                    open: form.checked(&format!("open_{index}")),
                    opens: form.get(&format!("opens_{index}")).trim().to_owned(),
                    closes: form.get(&format!("closes_{index}")).trim().to_owned(),
                })
                .collect(),
            holidays: form.get("holidays").to_owned(),
        }
    }

    /// The calendar entered, or what is wrong with it.
    pub(crate) fn calendar(&self) -> Result<BusinessHours, String> {
        let mut days = [None; 7];
        for day in &self.days {
            if !day.open {
                continue;
            }
            let time = |text: &str| {
                parse_clock(text).ok_or_else(|| {
                    format!("{}: “{text}” is not a time; write it as 09:00.", day.name)
                })
            };
            days[day.index] = Some(OpeningHours {
                opens: time(&day.opens)?,
                closes: time(&day.closes)?,
            });
        }
        let hours = days
            .iter()
            .map(|d| match d {
                Some(h) => format!("{}-{}", clock_text(h.opens), clock_text(h.closes)),
                None => String::new(),
            })
            .collect::<Vec<_>>()
            .join(",");
        BusinessHours::parse(&hours, &self.holidays).map_err(|e| e.to_string())
    }
}

/// Minutes as the hours a target is entered in: `4`, `0.5`, `1.25`, or `1:20` where a
/// decimal would not be exact.
pub(crate) fn hours_text(minutes: Option<i64>) -> String {
    match minutes {
        None => String::new(),
        Some(m) if m % 60 == 0 => (m / 60).to_string(),
        Some(m) if m % 15 == 0 => {
            let text = format!("{:.2}", m as f64 / 60.0);
            text.trim_end_matches('0').to_owned()
        }
        Some(m) => format!("{}:{:02}", m / 60, m % 60),
    }
}

/// Hours as entered (`4`, `0.5`, `1:30`) in whole minutes; empty is no target.
pub(crate) fn parse_hours(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let refused = || format!("“{text}” is not a number of hours (write 4, 0.5 or 1:30).");
    if let Some((h, m)) = text.split_once(':') {
        let (h, m): (i64, i64) = (
            h.trim().parse().map_err(|_| refused())?,
            m.trim().parse().map_err(|_| refused())?,
        );
        if h < 0 || !(0..60).contains(&m) {
            return Err(refused());
        }
        return Ok(Some(h * 60 + m));
    }
    let hours: f64 = text.replace(',', ".").parse().map_err(|_| refused())?;
    if !hours.is_finite() || !(0.0..=1e6).contains(&hours) {
        return Err(refused());
    }
    Ok(Some((hours * 60.0).round() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_and_write_as_hours() {
        assert_eq!(parse_hours("4"), Ok(Some(240)));
        assert_eq!(parse_hours("0.5"), Ok(Some(30)));
        assert_eq!(parse_hours("1:20"), Ok(Some(80)));
        assert_eq!(parse_hours(""), Ok(None));
        assert!(parse_hours("soon").is_err());
        assert!(parse_hours("-2").is_err());
        assert_eq!(hours_text(Some(240)), "4");
        assert_eq!(hours_text(Some(30)), "0.5");
        assert_eq!(hours_text(Some(75)), "1.25");
        assert_eq!(hours_text(Some(80)), "1:20");
    }

    #[test]
    fn a_calendar_form_reads_back_what_it_shows() {
        let form = CalendarForm::of(None);
        assert_eq!(form.days.iter().filter(|d| d.open).count(), 5);
        let pairs: Vec<(String, String)> = vec![
            ("open_0".into(), "on".into()),
            ("opens_0".into(), "08:30".into()),
            ("closes_0".into(), "17:00".into()),
            ("holidays".into(), "2026-12-25 Christmas Day".into()),
        ];
        let hours = CalendarForm::from_form(&FormData::from_pairs_owned(pairs))
            .calendar()
            .unwrap();
        assert_eq!(hours.hours_text(), "08:30-17:00,,,,,,");
        assert_eq!(hours.holidays.len(), 1);
        let bad = vec![
            ("open_1".into(), "on".into()),
            ("opens_1".into(), "nine".into()),
            ("closes_1".into(), "17:00".into()),
        ];
        let error = CalendarForm::from_form(&FormData::from_pairs_owned(bad))
            .calendar()
            .unwrap_err();
        assert!(error.starts_with("Tuesday"), "{error}");
    }
}
