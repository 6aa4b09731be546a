//! What both surfaces' Work pages share: which month is asked for, and the month itself (one
//! template, included by the portal's page and the console's).

use askama::Template;
use portico_core::Zone;
use portico_store::scoped::time::WorkMonth;

use crate::error::WebError;

#[derive(serde::Deserialize, Default)]
pub(crate) struct MonthQuery {
    #[serde(default)]
    pub month: String,
}

impl MonthQuery {
    /// The month asked for (`YYYY-MM`), else the reader's current one.
    pub(crate) fn month(&self, zone: &Zone) -> Result<String, WebError> {
        if self.month.is_empty() {
            let today = zone
                .date_after(portico_store::now(), 0)
                .ok_or_else(|| WebError::BadRequest("No current month.".into()))?;
            return Ok(today[..7].to_owned());
        }
        if portico_core::parse_date(&format!("{}-01", self.month)).is_none() {
            return Err(WebError::BadRequest(
                "That month is not valid: use the form 2026-12.".into(),
            ));
        }
        Ok(self.month.clone())
    }
}

/// `2026-11` → `November 2026`.
pub(crate) fn month_label(month: &str) -> String {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let name = month
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| NAMES.get(m.wrapping_sub(1)));
    match (name, month.get(..4)) {
        (Some(name), Some(year)) => format!("{name} {year}"),
        _ => month.to_owned(),
    }
}

/// The months before and after `month` (`YYYY-MM`).
pub(crate) fn neighbours(month: &str) -> (String, String) {
    let year: i32 = month[..4].parse().unwrap_or(2000);
    let mon: u32 = month[5..7].parse().unwrap_or(1);
    let prev = if mon == 1 {
        format!("{:04}-12", year - 1)
    } else {
        format!("{year:04}-{:02}", mon - 1)
    };
    let next = if mon == 12 {
        format!("{:04}-01", year + 1)
    } else {
        format!("{year:04}-{:02}", mon + 1)
    };
    (prev, next)
}

/// A month of work against the plan, for both surfaces.
#[derive(Template)]
#[template(path = "partials/work_month.html")]
pub(crate) struct WorkView {
    /// The page's address without its query (`/work`, `/companies/<id>/work`).
    pub base: String,
    /// Where a ticket's number links: `/tickets/<id>` on both surfaces.
    pub month: WorkMonth,
    pub prev: String,
    pub next: String,
}

impl WorkView {
    pub(crate) fn new(base: String, month: WorkMonth) -> WorkView {
        let (prev, next) = neighbours(&month.month);
        WorkView {
            base,
            month,
            prev,
            next,
        }
    }

    fn hours(minutes: impl Minutes) -> String {
        portico_store::scoped::companies::hours_text(minutes.minutes())
    }

    fn spent(minutes: impl Minutes) -> String {
        let minutes = minutes.minutes();
        let (h, m) = (minutes / 60, minutes % 60);
        match (h, m) {
            (0, m) => format!("{m} min"),
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m:02} min"),
        }
    }

    fn label(&self) -> String {
        month_label(&self.month.month)
    }

    /// Share of the allowance used, 0–100, for the meter.
    fn used_percent(&self) -> i64 {
        match self.month.allowance_minutes {
            Some(a) if a > 0 => (self.month.included_minutes * 100 / a).min(100),
            _ => 0,
        }
    }
}

/// A count of minutes however the template holds it (by value or by reference).
pub(crate) trait Minutes {
    fn minutes(&self) -> i64;
}

impl Minutes for i64 {
    fn minutes(&self) -> i64 {
        *self
    }
}

impl<T: Minutes + ?Sized> Minutes for &T {
    fn minutes(&self) -> i64 {
        (**self).minutes()
    }
}
