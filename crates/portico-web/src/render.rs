//! Page chrome shared by every template, and turning templates into responses.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use portico_core::{Principal, StaffRole, TextEnum, Zone};
use portico_store::SurfaceKind;

use crate::Site;
use crate::auth::Auth;
use crate::error::WebError;

pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

pub(crate) struct SwitchOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

/// What the layout needs: brand, who is signed in, navigation.
pub(crate) struct Chrome {
    pub brand_name: String,
    pub has_logo: bool,
    /// Changes whenever the colours do, so browsers refetch the brand stylesheet.
    pub brand_version: std::sync::Arc<str>,
    pub portal: bool,
    pub user_name: String,
    /// The signed-in user's own settings (their notifications, their profile).
    pub user_href: &'static str,
    pub company_name: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub switcher: Vec<SwitchOption>,
    pub title: String,
    /// The zone the reader sees times in: their own, their company's or the workspace's.
    pub zone: Zone,
    /// A staff member viewing the portal as its user: the banner every page shows.
    pub view_as: Option<portico_core::ViewAs>,
}

impl Chrome {
    /// Chrome for pages shown before sign-in.
    pub(crate) fn anonymous(site: &Site, title: &str) -> Chrome {
        Chrome {
            brand_name: site.branding.name.clone(),
            has_logo: site.branding.has_logo,
            brand_version: site.brand_version.clone(),
            portal: site.surface == SurfaceKind::Portal,
            user_name: String::new(),
            user_href: "",
            company_name: String::new(),
            csrf: String::new(),
            nav: Vec::new(),
            switcher: Vec::new(),
            title: title.to_owned(),
            zone: Zone::utc(),
            view_as: None,
        }
    }

    /// Chrome for a signed-in page; `current` is the path prefix of the active navigation item.
    pub(crate) fn signed_in(auth: &Auth, title: &str, current: &str) -> Chrome {
        let mut chrome = Chrome::anonymous(&auth.site, title);
        chrome.user_name = auth.principal.display_name().to_owned();
        chrome.zone = auth.principal.zone().clone();
        chrome.user_href = match &*auth.principal {
            Principal::Staff(_) => "/settings/notifications",
            Principal::Portal(_) => "/profile",
        };
        chrome.csrf = auth.csrf.clone();
        chrome.view_as = auth.scope.view_as().cloned();
        let item = |href: &'static str, label: &str| NavItem {
            href,
            label: label.to_owned(),
            active: if href == "/" {
                current == "/"
            } else {
                current.starts_with(href)
            },
        };
        match &*auth.principal {
            Principal::Staff(staff) => {
                let works_tickets =
                    matches!(staff.role(), StaffRole::Owner | StaffRole::Technician);
                if works_tickets {
                    chrome.nav.push(item("/", "My work"));
                }
                chrome.nav.push(item("/companies", "Companies"));
                if works_tickets {
                    chrome.nav.push(item("/tickets", "Tickets"));
                    chrome.nav.push(item("/changes", "Change requests"));
                    chrome.nav.push(item("/my-time", "My time"));
                }
                if staff.role() == StaffRole::Owner {
                    chrome.nav.push(item("/staff", "Staff"));
                    chrome.nav.push(item("/audit", "Audit log"));
                    // The workspace's settings are one item: their own page lists them.
                    chrome.nav.push(item("/settings", "Settings"));
                }
            }
            Principal::Portal(portal) => {
                chrome.company_name = portal.company_name().to_owned();
                for (section, label) in portal.navigation() {
                    // Viewing as someone shows no section the viewer may not see themselves.
                    if auth.scope.view_as().is_some()
                        && auth
                            .scope
                            .may(portico_core::Action::ViewSection(*section))
                            .is_err()
                    {
                        continue;
                    }
                    if let Some(href) = section.portal_path() {
                        chrome.nav.push(item(href, label));
                    }
                }
                if portal.switchable().len() > 1 {
                    chrome.switcher = portal
                        .switchable()
                        .iter()
                        .map(|(id, name)| SwitchOption {
                            id: id.to_string(),
                            name: name.clone(),
                            selected: *id == portal.company_id(),
                        })
                        .collect();
                }
            }
        }
        chrome
    }
}

/// Room for a typical page, the desk's queue of 50 tickets (about 45 KiB) among them. Askama
/// sizes its buffer from the template's fixed text, which a list page outgrows several times
/// over: each doubling copied the page so far again. The room is only addressed, not touched,
/// until written, and goes with the response.
const PAGE_CAPACITY: usize = 64 * 1024;

/// Renders a template with a status.
pub(crate) fn page<T: Template>(status: StatusCode, template: &T) -> Response {
    let mut body = String::with_capacity(PAGE_CAPACITY.max(T::SIZE_HINT));
    match template.render_into(&mut body) {
        Ok(()) => (status, Html(body)).into_response(),
        Err(e) => WebError::Internal(e.to_string()).into_response(),
    }
}

pub(crate) fn ok<T: Template>(template: &T) -> Response {
    page(StatusCode::OK, template)
}

/// A page showing a secret this once (a new API token, a webhook's signing secret): no cache
/// may keep it.
pub(crate) fn secret_once<T: Template>(template: &T) -> Response {
    let mut response = page(StatusCode::OK, template);
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// A form shown again after a refusal: what the user typed stays, the message says why.
pub(crate) fn refused<T: Template>(template: &T) -> Response {
    page(StatusCode::UNPROCESSABLE_ENTITY, template)
}

/// A value whose text needs no escaping (each impl says why), written into a page as it is
/// through [`Plain`]: askama otherwise escapes it byte by byte, or goes through
/// `core::fmt::write` for each value, and list pages write hundreds.
pub(crate) trait PlainText {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R;
}

/// Writes a [`PlainText`] without escaping and without the formatter.
pub(crate) struct Plain<T>(T);

impl<T: PlainText> std::fmt::Display for Plain<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.with_text(|text| f.write_str(text))
    }
}

impl<T: PlainText> askama::filters::HtmlSafe for Plain<T> {}

impl<T: PlainText> askama::FastWritable for Plain<T> {
    fn write_into(
        &self,
        dest: &mut dyn std::fmt::Write,
        _: &dyn askama::Values,
    ) -> askama::Result<()> {
        Ok(self.0.with_text(|text| dest.write_str(text))?)
    }
}

/// Text from people or the database (titles, names), escaped for HTML. Most such text has
/// nothing to escape: one pass over its bytes, which the compiler vectorises, lets it be
/// written whole; askama's own HTML escaper runs otherwise. Askama's escaper alone inspects
/// and branches on every byte, and list pages write a title and two names per row. Its output
/// is final: a filter applied after it would work on escaped text.
pub(crate) fn text<S: AsRef<str> + ?Sized>(text: &S) -> Text<'_> {
    Text(text.as_ref())
}

pub(crate) struct Text<'a>(&'a str);

impl Text<'_> {
    fn write(&self, dest: &mut dyn std::fmt::Write) -> std::fmt::Result {
        use askama::filters::Escaper;
        // No early exit, so that the loop is vectorised.
        let special = self.0.bytes().fold(false, |found, b| {
            found | matches!(b, b'"' | b'&' | b'\'' | b'<' | b'>')
        });
        if special {
            askama::filters::Html.write_escaped_str(dest, self.0)
        } else {
            dest.write_str(self.0)
        }
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write(f)
    }
}

// Escaped by `write` itself.
impl askama::filters::HtmlSafe for Text<'_> {}

impl askama::FastWritable for Text<'_> {
    fn write_into(
        &self,
        dest: &mut dyn std::fmt::Write,
        _: &dyn askama::Values,
    ) -> askama::Result<()> {
        Ok(self.write(dest)?)
    }
}

/// Unix seconds as a date and time on the reader's wall clock (`23 Nov 2026, 16:13 GMT`).
pub(crate) fn datetime<'z>(secs: &i64, zone: &'z Zone) -> Plain<DateTime<'z>> {
    Plain(DateTime(*secs, zone))
}

/// How long ago `secs` was, as a person says it ("just now", "5 minutes ago", "3 hours ago",
/// "yesterday", "4 days ago"); older than a fortnight, the date itself. For pages read fresh on
/// every request only: a kept rendering would go stale.
pub(crate) fn ago<'z>(secs: &i64, zone: &'z Zone) -> Plain<Ago<'z>> {
    Plain(Ago {
        at: *secs,
        now: portico_store::now(),
        zone,
    })
}

/// See [`ago`]: written into a stack buffer, since the desk's lists show one per row.
pub(crate) struct Ago<'z> {
    at: i64,
    now: i64,
    zone: &'z Zone,
}

// Words, digits and, past a fortnight, a [`DateTime`].
impl PlainText for Ago<'_> {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let plural = |n: i64, unit: &str, out: &mut [u8; 40]| -> usize {
            let mut digits = [0u8; 20];
            let mut len = 0;
            let mut n = n.max(0);
            loop {
                digits[len] = b'0' + (n % 10) as u8;
                len += 1;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let mut end = 0;
            for d in digits[..len].iter().rev() {
                out[end] = *d;
                end += 1;
            }
            for part in [
                " ",
                unit,
                if len == 1 && digits[0] == b'1' {
                    ""
                } else {
                    "s"
                },
                " ago",
            ] {
                out[end..end + part.len()].copy_from_slice(part.as_bytes());
                end += part.len();
            }
            end
        };
        let mut out = [0u8; 40];
        let end = match self.now - self.at {
            d if d < 60 => return f("just now"),
            d if d < 3600 => plural(d / 60, "minute", &mut out),
            d if d < 24 * 3600 => plural(d / 3600, "hour", &mut out),
            d if d < 2 * 24 * 3600 => return f("yesterday"),
            d if d < 14 * 24 * 3600 => plural(d / (24 * 3600), "day", &mut out),
            _ => return DateTime(self.at, self.zone).with_text(f),
        };
        f(std::str::from_utf8(&out[..end]).unwrap_or_default())
    }
}

#[cfg(test)]
fn relative(at: i64, now: i64, zone: &Zone) -> String {
    Ago { at, now, zone }.with_text(str::to_owned)
}

/// A date and time for `<time datetime>`: `2026-11-23T16:13:00Z`.
pub(crate) fn iso(secs: &i64) -> Plain<Iso> {
    Plain(Iso(*secs))
}

/// See [`iso`]: digits written into a stack buffer, one per list row.
pub(crate) struct Iso(pub(crate) i64);

// Digits, hyphens, colons, `T` and `Z`; nothing outside years 0–9999.
impl PlainText for Iso {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(self.0) else {
            return f("");
        };
        let year = t.year();
        if !(0..=9999).contains(&year) {
            return f("");
        }
        let mut out = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, n: u32, width: usize| {
            let mut n = n;
            for i in (at..at + width).rev() {
                out[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, year as u32, 4);
        put(5, u8::from(t.month()) as u32, 2);
        put(8, t.day() as u32, 2);
        put(11, t.hour() as u32, 2);
        put(14, t.minute() as u32, 2);
        put(17, t.second() as u32, 2);
        f(std::str::from_utf8(&out).unwrap_or_default())
    }
}

/// A date and time on one zone's wall clock, written straight into the page: lists show one
/// per row.
pub(crate) struct DateTime<'z>(i64, &'z Zone);

impl DateTime<'_> {
    /// `23 Nov 2026, 16:13 AEDT`, or `None` outside years 1000–9999.
    fn encode<'b>(&self, out: &'b mut [u8; 40]) -> Option<&'b str> {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        // Written digit by digit into one buffer: `format!` machinery per field cost more than
        // the rest of a list row.
        fn two(n: u8) -> [u8; 2] {
            [b'0' + n / 10, b'0' + n % 10]
        }
        self.1.wall_clock(self.0, |t| {
            let t = t?;
            let year = t.year as u16;
            out[..2].copy_from_slice(&two(t.day as u8));
            out[2] = b' ';
            out[3..6].copy_from_slice(MONTHS[(t.month as usize).clamp(1, 12) - 1].as_bytes());
            out[6] = b' ';
            out[7..9].copy_from_slice(&two((year / 100) as u8));
            out[9..11].copy_from_slice(&two((year % 100) as u8));
            out[11..13].copy_from_slice(b", ");
            out[13..15].copy_from_slice(&two(t.hour as u8));
            out[15] = b':';
            out[16..18].copy_from_slice(&two(t.minute as u8));
            out[18] = b' ';
            // Abbreviations are letters, digits and signs (`AEDT`, `+03`); anything else is
            // left out rather than written unescaped.
            let mut end = 19;
            for b in t.abbreviation.bytes().take(out.len() - 19) {
                if b.is_ascii_alphanumeric() || b == b'+' || b == b'-' {
                    out[end] = b;
                    end += 1;
                }
            }
            std::str::from_utf8(&out[..end]).ok().map(str::trim_end)
        })
    }
}

// Digits, month names, commas, colons, spaces and the zone's letters and signs only.
impl PlainText for DateTime<'_> {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self.encode(&mut [0; 40]).unwrap_or_default())
    }
}

/// An id written into a page without escaping: its text is hyphenated hex by construction
/// ([`portico_core::Id`]), and a list page writes dozens, each scanned byte by byte otherwise.
pub(crate) struct IdText<T>(T);

pub(crate) fn id<T: portico_core::Id>(id: &T) -> Plain<IdText<T>> {
    Plain(IdText(*id))
}

impl<T: portico_core::Id> PlainText for IdText<T> {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self.0.encode(&mut [0; portico_core::ID_TEXT_LEN]))
    }
}

/// A label or stored name of one of the program's own enums, written into a page without
/// escaping: a list row carries several, each scanned byte by byte otherwise. Only
/// [`TextEnum`]s reach it, whose texts are checked for HTML's special characters when compiled.
pub(crate) struct Fixed(&'static str);

/// What a person reads for `value` (`Awaiting your reply`).
pub(crate) fn label<T: TextEnum>(value: &T) -> Plain<Fixed> {
    Plain(Fixed(value.label_text()))
}

/// What the service desk reads for a status (`Waiting on client`).
pub(crate) fn desk_status(value: &portico_core::TicketStatus) -> Plain<Fixed> {
    Plain(Fixed(value.desk_label()))
}

/// The stored name of `value` (`awaiting_client`), for class names and form values.
pub(crate) fn name<T: TextEnum>(value: &T) -> Plain<Fixed> {
    Plain(Fixed(value.stored_name()))
}

impl PlainText for Fixed {
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self.0)
    }
}

/// Formats a byte count for people: `512 bytes`, `34 KB`, `2.5 MB`.
pub(crate) fn file_size(bytes: &i64) -> String {
    let bytes = *bytes;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if bytes < 1024 * 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Formats a protected size for people: `850 MB`, `1.2 TB`.
pub(crate) fn storage_size(bytes: &i64) -> String {
    let b = *bytes as f64;
    let gb = 1024.0 * 1024.0 * 1024.0;
    if b >= gb * 1024.0 {
        format!("{:.1} TB", b / (gb * 1024.0))
    } else if b >= gb {
        format!("{:.1} GB", b / gb)
    } else {
        file_size(bytes)
    }
}

/// Formats cents as money, e.g. `AUD 4,500.00`.
/// Minutes of work as hours: `7.5`, `8`.
pub(crate) fn hours(minutes: &i64) -> String {
    portico_store::scoped::companies::hours_text(*minutes)
}

pub(crate) fn money(cents: &i64, currency: &str) -> String {
    // A credit or discount (an accounting tool's negative line) keeps its sign in front.
    let sign = if *cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{currency} {sign}{grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_written_in_their_canonical_form() {
        let text = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        let id = portico_core::TicketId::parse(text).unwrap();
        assert_eq!(super::id(&id).to_string(), text);
        assert_eq!(id.to_string(), text);
    }

    #[test]
    fn datetimes_read_as_day_month_year_and_local_time() {
        let utc = portico_core::Zone::utc();
        assert_eq!(
            super::datetime(&0, &utc).to_string(),
            "01 Jan 1970, 00:00 UTC"
        );
        assert_eq!(
            super::datetime(&1_795_447_978, &utc).to_string(),
            "23 Nov 2026, 15:32 UTC"
        );
        assert_eq!(super::datetime(&i64::MAX, &utc).to_string(), "");
        let sydney = portico_core::Zone::named("Australia/Sydney").unwrap();
        assert_eq!(
            super::datetime(&1_795_447_978, &sydney).to_string(),
            "24 Nov 2026, 02:32 AEDT"
        );
    }

    /// What askama writes through [`askama::FastWritable`] reads as the `Display` form does,
    /// and text from elsewhere is still escaped beside it.
    #[test]
    fn unescaped_values_render_as_their_text() {
        use askama::Template;
        #[derive(Template)]
        #[template(
            source = "{{ crate::render::id(id) }}|{{ crate::render::datetime(at, zone) }}|{{ crate::render::label(status) }}|{{ crate::render::name(status) }}|{{ title }}",
            ext = "html"
        )]
        struct Row<'a> {
            id: portico_core::TicketId,
            at: i64,
            zone: portico_core::Zone,
            status: portico_core::TicketStatus,
            title: &'a str,
        }
        let id = portico_core::TicketId::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap();
        let row = Row {
            id,
            at: 1_795_447_978,
            zone: portico_core::Zone::utc(),
            status: portico_core::TicketStatus::AwaitingClient,
            title: "<b>&\"",
        };
        assert_eq!(
            row.render().unwrap(),
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b|23 Nov 2026, 15:32 UTC|Awaiting your reply|awaiting_client|&#60;b&#62;&#38;&#34;"
        );
    }

    /// Text is written as askama's own escaper writes it, whether or not it needs escaping.
    #[test]
    fn text_is_escaped_like_askama_escapes_it() {
        for sample in [
            "",
            "Printer offline",
            "<script>alert('x')</script>",
            "Tom & \"Jerry\" > café ünïcödé",
            "a long title without anything special in it, longer than one vector",
            "&",
        ] {
            let expected = askama::filters::escape(sample, askama::filters::Html)
                .unwrap()
                .to_string();
            assert_eq!(super::text(sample).to_string(), expected);
            let mut written = String::new();
            askama::FastWritable::write_into(&super::text(sample), &mut written, askama::NO_VALUES)
                .unwrap();
            assert_eq!(written, expected);
        }
    }

    #[test]
    fn money_keeps_the_sign_of_a_credit() {
        assert_eq!(super::money(&-50, "AUD"), "AUD -0.50");
        assert_eq!(super::money(&-12_300, "AUD"), "AUD -123.00");
        assert_eq!(super::money(&-123_456_700, "AUD"), "AUD -1,234,567.00");
    }

    #[test]
    fn money_groups_thousands() {
        assert_eq!(super::money(&450_000, "AUD"), "AUD 4,500.00");
        assert_eq!(super::money(&16_550, "AUD"), "AUD 165.50");
        assert_eq!(super::money(&123_456_789, "EUR"), "EUR 1,234,567.89");
    }
}

#[cfg(test)]
mod relative_tests {
    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = 1_800_000_000;
        let utc = portico_core::Zone::utc();
        assert_eq!(super::relative(now - 5, now, &utc), "just now");
        assert_eq!(super::relative(now - 60, now, &utc), "1 minute ago");
        assert_eq!(super::relative(now - 7200, now, &utc), "2 hours ago");
        assert_eq!(super::relative(now - 30 * 3600, now, &utc), "yesterday");
        assert_eq!(super::relative(now - 4 * 86400, now, &utc), "4 days ago");
        assert!(super::relative(now - 30 * 86400, now, &utc).ends_with("UTC"));
        assert_eq!(super::relative(now - 25 * 60, now, &utc), "25 minutes ago");
        assert_eq!(super::relative(now - 3600, now, &utc), "1 hour ago");
        assert_eq!(super::relative(now - 11 * 86400, now, &utc), "11 days ago");
    }

    #[test]
    fn iso_times_are_rfc_3339_in_utc() {
        assert_eq!(super::iso(&0).to_string(), "1970-01-01T00:00:00Z");
        for secs in [1_795_577_464_i64, 951_782_400, 4_102_444_799] {
            let expected = time::OffsetDateTime::from_unix_timestamp(secs)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            assert_eq!(super::iso(&secs).to_string(), expected);
        }
    }
}
