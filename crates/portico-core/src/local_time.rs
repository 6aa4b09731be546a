//! Local time: the time zone a person reads times in, and the business hours a company is served
//! in. Times are stored as Unix seconds everywhere; they become local only here, when shown or
//! when a service-level clock counts working time.

use std::sync::{Arc, OnceLock};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// The name was not one of the IANA time zones (`Europe/London`, `America/New_York`, `UTC`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not a time zone. Choose one from the list (for example Europe/London).")]
pub struct UnknownZone(pub String);

/// An IANA time zone with its name. Cheap to clone: shared by every request of one user.
#[derive(Clone)]
pub struct Zone {
    name: Arc<str>,
    tz: TimeZone,
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}
impl Eq for Zone {}

/// A moment as read on a wall clock in one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock<'a> {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub hour: i8,
    pub minute: i8,
    /// `GMT`, `BST`, `EST`, or an offset such as `+03` where the zone has no abbreviation.
    pub abbreviation: &'a str,
}

impl Zone {
    pub fn utc() -> Zone {
        static UTC: OnceLock<Zone> = OnceLock::new();
        UTC.get_or_init(|| Zone {
            name: Arc::from("UTC"),
            tz: TimeZone::UTC,
        })
        .clone()
    }

    /// The zone of this IANA name (the names [`Zone::names`] lists).
    pub fn named(name: &str) -> Result<Zone, UnknownZone> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("utc") {
            return Ok(Zone::utc());
        }
        let canonical = Zone::names()
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownZone(name.to_owned()))?;
        let tz = TimeZone::get(canonical).map_err(|_| UnknownZone(name.to_owned()))?;
        Ok(Zone {
            name: Arc::from(canonical.as_str()),
            tz,
        })
    }

    /// A stored zone name; a name no longer known (the time zone database dropped it) reads as
    /// UTC rather than failing the page it is shown on.
    pub fn stored(name: &str) -> Zone {
        Zone::named(name).unwrap_or_else(|_| Zone::utc())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every zone a person may choose, sorted: the region/city names of the bundled time zone
    /// database, and UTC. (Legacy aliases such as `US/Eastern` are left out of the list.)
    pub fn names() -> &'static [String] {
        static NAMES: OnceLock<Vec<String>> = OnceLock::new();
        NAMES.get_or_init(|| {
            let mut names: Vec<String> = jiff::tz::db()
                .available()
                .map(|n| n.as_str().to_owned())
                .filter(|n| {
                    n.contains('/')
                        && !n.starts_with("Etc/")
                        && !n.starts_with("US/")
                        && !n.starts_with("SystemV/")
                        && n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                })
                .collect();
            names.push("UTC".to_owned());
            names.sort();
            names.dedup();
            names
        })
    }

    /// `secs` on this zone's wall clock, passed to `f`; `None` outside the years 1000–9999.
    pub fn wall_clock<R>(&self, secs: i64, f: impl FnOnce(Option<WallClock<'_>>) -> R) -> R {
        let Ok(ts) = Timestamp::from_second(secs) else {
            return f(None);
        };
        let info = self.tz.to_offset_info(ts);
        let local = info.offset().to_datetime(ts);
        if !(1000..=9999).contains(&local.year()) {
            return f(None);
        }
        f(Some(WallClock {
            year: local.year(),
            month: local.month(),
            day: local.day(),
            hour: local.hour(),
            minute: local.minute(),
            abbreviation: info.abbreviation(),
        }))
    }

    /// The calendar date `days` after the one `secs` falls on here, as `YYYY-MM-DD` ("today",
    /// "in 30 days" for a reader in this zone).
    pub fn date_after(&self, secs: i64, days: i64) -> Option<String> {
        let date = self.zoned(secs)?.date();
        let later = date.checked_add(jiff::Span::new().days(days)).ok()?;
        Some(later.to_string())
    }

    /// A wall-clock time typed here as `YYYY-MM-DDTHH:MM` (a `datetime-local` input) or
    /// `YYYY-MM-DD HH:MM`, as Unix seconds; in a gap (clocks going forward) the moment after.
    pub fn parse_local(&self, text: &str) -> Option<i64> {
        let text = text.trim();
        let (date, clock) = text.split_once(['T', ' '])?;
        let date: Date = parse_date(date)?.parse().ok()?;
        let minute = parse_clock(clock)?;
        if minute >= 24 * 60 {
            return None;
        }
        self.moment(date, minute)
    }

    /// `secs` as a `datetime-local` input's value here (`YYYY-MM-DDTHH:MM`).
    pub fn local_input(&self, secs: i64) -> String {
        self.wall_clock(secs, |clock| {
            clock
                .map(|c| {
                    format!(
                        "{:04}-{:02}-{:02}T{:02}:{:02}",
                        c.year, c.month, c.day, c.hour, c.minute
                    )
                })
                .unwrap_or_default()
        })
    }

    fn zoned(&self, secs: i64) -> Option<Zoned> {
        Timestamp::from_second(secs)
            .ok()
            .map(|ts| ts.to_zoned(self.tz.clone()))
    }

    /// The moment a wall-clock time of `date` happens here; in a gap (clocks going forward)
    /// the moment after it, as people mean it.
    fn moment(&self, date: Date, minute_of_day: u16) -> Option<i64> {
        let (date, minute) = if minute_of_day >= 24 * 60 {
            (date.tomorrow().ok()?, minute_of_day - 24 * 60)
        } else {
            (date, minute_of_day)
        };
        let at: DateTime = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        at.to_zoned(self.tz.clone())
            .ok()
            .map(|z| z.timestamp().as_second())
    }
}

/// A calendar date typed as `YYYY-MM-DD`, in that form; `None` for anything else (including
/// dates that do not exist, such as 2026-02-30).
pub fn parse_date(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() != 10 {
        return None;
    }
    text.parse::<Date>().ok().map(|d| d.to_string())
}

/// One working day's opening hours, in minutes after local midnight (`closes` up to 24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpeningHours {
    pub opens: u16,
    pub closes: u16,
}

/// A day the desk is closed although its weekday is a working day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    pub name: String,
}

/// When a company is served: opening hours per weekday and holidays. Service-level clocks
/// count only this time, in the company's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// Monday first; `None` is a day off.
    pub days: [Option<OpeningHours>; 7],
    pub holidays: Vec<Holiday>,
}

/// The days of the week, Monday first, as the calendar's forms and stored text name them.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Calendars are searched this many days ahead at most: a year of targets on a calendar of
/// one working day a week, with holidays, stays well inside.
const SEARCH_DAYS: i32 = 4 * 366;
/// A calendar lists at most this many holidays.
pub const MAX_HOLIDAYS: usize = 400;

/// What is wrong with a calendar as entered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{day}: the opening time must be before the closing time.")]
    ClosesBeforeOpening { day: &'static str },
    #[error("{day}: “{text}” is not a time; write it as 09:00.")]
    BadTime { day: &'static str, text: String },
    #[error("At least one day must have opening hours.")]
    NoWorkingDay,
    #[error(
        "Holiday line {line}: “{text}” is not a date and a name; write it as 2026-12-25 Christmas Day."
    )]
    BadHoliday { line: usize, text: String },
    #[error("A calendar lists at most {MAX_HOLIDAYS} holidays.")]
    TooManyHolidays,
}

/// `09:00` as minutes after midnight (`24:00` allowed, for closing).
pub fn parse_clock(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let minutes = h * 60 + m;
    (m < 60 && minutes <= 24 * 60).then_some(minutes)
}

/// Minutes after midnight as `09:00`.
pub fn clock_text(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl BusinessHours {
    /// Monday to Friday, 09:00 to 17:00, no holidays: where a new calendar starts.
    pub fn office_default() -> BusinessHours {
        let day = Some(OpeningHours {
            opens: 9 * 60,
            closes: 17 * 60,
        });
        BusinessHours {
            days: [day, day, day, day, day, None, None],
            holidays: Vec::new(),
        }
    }

    /// Checks a calendar as entered: every day opens before it closes, one day at least is
    /// open, holidays are few enough.
    pub fn validate(&self) -> Result<(), CalendarError> {
        for (day, hours) in WEEKDAYS.iter().zip(&self.days) {
            if let Some(h) = hours
                && (h.opens >= h.closes || h.closes > 24 * 60)
            {
                return Err(CalendarError::ClosesBeforeOpening { day });
            }
        }
        if self.days.iter().all(Option::is_none) {
            return Err(CalendarError::NoWorkingDay);
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            return Err(CalendarError::TooManyHolidays);
        }
        Ok(())
    }

    /// The stored form of the weekly hours: seven comma-separated entries, Monday first, each
    /// `09:00-17:30` or empty for a day off.
    pub fn hours_text(&self) -> String {
        self.days
            .iter()
            .map(|d| match d {
                Some(h) => format!("{}-{}", clock_text(h.opens), clock_text(h.closes)),
                None => String::new(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The stored form of the holidays: one `2026-12-25 Christmas Day` per line, by date.
    pub fn holidays_text(&self) -> String {
        let mut holidays = self.holidays.clone();
        holidays.sort_by_key(|h| h.date);
        holidays
            .iter()
            .map(|h| format!("{} {}", h.date, h.name).trim_end().to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads the stored (or entered) forms back; errors name the day or line at fault.
    pub fn parse(hours: &str, holidays: &str) -> Result<BusinessHours, CalendarError> {
        let mut days = [None; 7];
        let entries: Vec<&str> = hours.split(',').collect();
        for (i, day) in WEEKDAYS.iter().enumerate() {
            let entry = entries.get(i).map(|e| e.trim()).unwrap_or("");
            if entry.is_empty() {
                continue;
            }
            let (opens, closes) = entry.split_once('-').unwrap_or((entry, ""));
            let time = |t: &str| {
                parse_clock(t).ok_or_else(|| CalendarError::BadTime {
                    day,
                    text: t.trim().to_owned(),
                })
            };
            days[i] = Some(OpeningHours {
                opens: time(opens)?,
                closes: time(closes)?,
            });
        }
        let holidays = parse_holidays(holidays)?;
        let calendar = BusinessHours { days, holidays };
        calendar.validate()?;
        Ok(calendar)
    }

    fn is_holiday(&self, date: Date) -> bool {
        self.holidays.iter().any(|h| h.date == date)
    }

    /// The working window of one local date, as Unix seconds.
    fn window(&self, zone: &Zone, date: Date) -> Option<(i64, i64)> {
        let hours = self.days[date.weekday().to_monday_zero_offset() as usize]?;
        if self.is_holiday(date) {
            return None;
        }
        Some((
            zone.moment(date, hours.opens)?,
            zone.moment(date, hours.closes)?,
        ))
    }

    /// The moment `secs` seconds of working time after `start`.
    pub fn add(&self, zone: &Zone, start: i64, secs: i64) -> i64 {
        if secs <= 0 {
            return start;
        }
        let Some(mut date) = zone.zoned(start).map(|z| z.date()) else {
            return start + secs;
        };
        let mut remaining = secs;
        for _ in 0..SEARCH_DAYS {
            if let Some((opens, closes)) = self.window(zone, date) {
                let from = opens.max(start);
                if from < closes {
                    let available = closes - from;
                    if remaining <= available {
                        return from + remaining;
                    }
                    remaining -= available;
                }
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        // No working time for years ahead (a calendar of holidays): count around the clock.
        start + secs
    }

    /// The working time between `from` and `to`, in seconds.
    pub fn elapsed(&self, zone: &Zone, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let Some(mut date) = zone.zoned(from).map(|z| z.date()) else {
            return to - from;
        };
        let mut total = 0;
        for _ in 0..SEARCH_DAYS {
            if let Some((opens, closes)) = self.window(zone, date) {
                if opens >= to {
                    break;
                }
                total += (closes.min(to) - opens.max(from)).max(0);
            } else if zone.moment(date, 0).is_some_and(|midnight| midnight >= to) {
                break;
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        total
    }
}

/// Holidays as entered: one `2026-12-25 Christmas Day` per line (the name may be left out);
/// blank lines are skipped.
fn parse_holidays(text: &str) -> Result<Vec<Holiday>, CalendarError> {
    let mut holidays = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (date, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let bad = || CalendarError::BadHoliday {
            line: i + 1,
            text: line.chars().take(60).collect(),
        };
        let date: Date = date.parse().map_err(|_| bad())?;
        let name: String = name.trim().chars().take(80).collect();
        if !holidays.iter().any(|h: &Holiday| h.date == date) {
            holidays.push(Holiday { date, name });
        }
    }
    if holidays.len() > MAX_HOLIDAYS {
        return Err(CalendarError::TooManyHolidays);
    }
    holidays.sort_by_key(|h| h.date);
    Ok(holidays)
}

/// The time a company's service-level clocks run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Calendar {
    /// Every hour counts (no calendar set).
    AroundTheClock,
    Business(BusinessHours),
}

impl Calendar {
    /// The moment `secs` seconds of counted time after `start`.
    pub fn add(&self, zone: &Zone, start: i64, secs: i64) -> i64 {
        match self {
            Calendar::AroundTheClock => start + secs.max(0),
            Calendar::Business(hours) => hours.add(zone, start, secs),
        }
    }

    /// The counted time between `from` and `to`.
    pub fn elapsed(&self, zone: &Zone, from: i64, to: i64) -> i64 {
        match self {
            Calendar::AroundTheClock => (to - from).max(0),
            Calendar::Business(hours) => hours.elapsed(zone, from, to),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_and_counted_on_the_readers_calendar() {
        assert_eq!(parse_date("2026-02-28").as_deref(), Some("2026-02-28"));
        for bad in ["2026-02-30", "26-02-28", "2026-2-8", "", "2026-02-28T00:00"] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
        // 2026-12-03 23:30 UTC is already the 4th in Sydney.
        let at = 1_796_340_600;
        assert_eq!(Zone::utc().date_after(at, 0).as_deref(), Some("2026-12-03"));
        let sydney = Zone::named("Australia/Sydney").unwrap();
        assert_eq!(sydney.date_after(at, 0).as_deref(), Some("2026-12-04"));
        assert_eq!(sydney.date_after(at, 30).as_deref(), Some("2027-01-03"));
    }

    fn at(zone: &Zone, text: &str) -> i64 {
        let dt: DateTime = text.parse().unwrap();
        dt.to_zoned(zone.tz.clone())
            .unwrap()
            .timestamp()
            .as_second()
    }

    fn london() -> Zone {
        Zone::named("Europe/London").unwrap()
    }

    #[test]
    fn zones_are_found_by_name_and_unknown_ones_refused() {
        assert_eq!(
            Zone::named("europe/london").unwrap().name(),
            "Europe/London"
        );
        assert_eq!(Zone::named("UTC").unwrap().name(), "UTC");
        assert!(Zone::named("Mars/Olympus_Mons").is_err());
        assert!(Zone::names().iter().any(|n| n == "America/New_York"));
        assert!(Zone::names().len() > 300);
    }

    #[test]
    fn the_wall_clock_follows_summer_time() {
        let zone = london();
        // 1 July 2026 12:00 UTC is 13:00 BST; 1 December 12:00 UTC is 12:00 GMT.
        zone.wall_clock(1_782_907_200, |w| {
            let w = w.unwrap();
            assert_eq!((w.hour, w.abbreviation), (13, "BST"));
        });
        zone.wall_clock(1_796_126_400, |w| {
            let w = w.unwrap();
            assert_eq!((w.hour, w.abbreviation), (12, "GMT"));
        });
    }

    #[test]
    fn working_time_is_counted_inside_opening_hours_only() {
        let zone = london();
        let hours = BusinessHours::office_default();
        // Friday 16:00 plus two working hours: Monday 10:00.
        let friday = at(&zone, "2026-12-04T16:00");
        assert_eq!(
            hours.add(&zone, friday, 2 * 3600),
            at(&zone, "2026-12-07T10:00")
        );
        // Raised on Saturday: the clock starts on Monday morning.
        let saturday = at(&zone, "2026-12-05T11:00");
        assert_eq!(
            hours.add(&zone, saturday, 3600),
            at(&zone, "2026-12-07T10:00")
        );
        assert_eq!(
            hours.elapsed(&zone, friday, at(&zone, "2026-12-07T10:00")),
            2 * 3600
        );
        assert_eq!(
            hours.elapsed(&zone, saturday, at(&zone, "2026-12-06T23:00")),
            0
        );
    }

    #[test]
    fn holidays_stop_the_clock_and_summer_time_does_not_shift_the_hours() {
        let zone = london();
        let hours = BusinessHours::parse(
            "09:00-17:00,09:00-17:00,09:00-17:00,09:00-17:00,09:00-17:00,,",
            "2026-12-25 Christmas Day\n2026-12-28 Boxing Day (substitute)",
        )
        .unwrap();
        let christmas_eve = at(&zone, "2026-12-24T16:00");
        // One hour on the 24th, none on the 25th (holiday) or the weekend or the 28th.
        assert_eq!(
            hours.add(&zone, christmas_eve, 2 * 3600),
            at(&zone, "2026-12-29T10:00")
        );
        // The Friday before the clocks go back and the Monday after: 09:00 local both days.
        let friday = at(&zone, "2026-10-23T16:00");
        assert_eq!(
            hours.add(&zone, friday, 2 * 3600),
            at(&zone, "2026-10-26T10:00")
        );
    }

    #[test]
    fn calendars_as_entered_are_checked() {
        assert!(matches!(
            BusinessHours::parse("17:00-09:00,,,,,,", ""),
            Err(CalendarError::ClosesBeforeOpening { day: "Monday" })
        ));
        assert!(matches!(
            BusinessHours::parse(",,,,,,", ""),
            Err(CalendarError::NoWorkingDay)
        ));
        assert!(matches!(
            BusinessHours::parse("09:00-17:00,,,,,,", "Christmas"),
            Err(CalendarError::BadHoliday { line: 1, .. })
        ));
        let hours = BusinessHours::parse("08:30-24:00,,,,,,", "2026-01-01").unwrap();
        assert_eq!(hours.hours_text(), "08:30-24:00,,,,,,");
        assert_eq!(hours.holidays_text(), "2026-01-01");
    }

    #[test]
    fn around_the_clock_counts_every_second() {
        let zone = Zone::utc();
        assert_eq!(Calendar::AroundTheClock.add(&zone, 100, 50), 150);
        assert_eq!(Calendar::AroundTheClock.elapsed(&zone, 100, 50), 0);
    }
}
