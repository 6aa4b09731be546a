//! The audit log as both surfaces show it: filters, the entries newest first, the next page by
//! cursor, a CSV of what the filters match, and (for a company's chain) the proof bundle.

use std::borrow::Cow;

use askama::Template;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portico_core::{AuditAction, CompanyId, Zone, parse_date};
use portico_store::scoped::audit_log::{AuditEntry, AuditFilter, AuditPage, ProofBundle};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::csv_export::{cell, record};
use crate::error::WebError;

/// Most entries one CSV carries: a year of a busy company; narrower filters for more.
const MAX_EXPORTED: usize = 100_000;

/// The list's query string.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    pub action: String,
    /// `staff`, `portal` or `anonymous`.
    #[serde(default)]
    pub who: String,
    /// Local dates, `YYYY-MM-DD`, both included.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    /// The console's company filter.
    #[serde(default)]
    pub company: String,
    /// `<at_ms>.<id>` of the last entry of the previous page.
    #[serde(default)]
    pub after: String,
}

/// Who acted, as the filter offers it.
pub(crate) const WHO: &[(&str, &str)] = &[
    ("staff", "The MSP's staff"),
    ("portal", "The company's people"),
    ("anonymous", "Someone not signed in"),
];

impl AuditQuery {
    /// The store's filter; a date that is not one is refused with a message.
    pub(crate) fn filter(&self, zone: &Zone) -> Result<AuditFilter, WebError> {
        let day = |text: &str, name: &str, next: bool| -> Result<Option<i64>, WebError> {
            if text.trim().is_empty() {
                return Ok(None);
            }
            let bad = || WebError::BadRequest(format!("The {name} date is not a date."));
            let date = parse_date(text).ok_or_else(bad)?;
            let start = zone.parse_local(&format!("{date}T00:00")).ok_or_else(bad)?;
            let at = if next {
                let after = zone.date_after(start, 1).ok_or_else(bad)?;
                zone.parse_local(&format!("{after}T00:00"))
                    .ok_or_else(bad)?
            } else {
                start
            };
            Ok(Some(at * 1000))
        };
        Ok(AuditFilter {
            company: CompanyId::parse(&self.company),
            action: AuditAction::parse(&self.action),
            actor_kind: WHO
                .iter()
                .find(|(k, _)| *k == self.who)
                .map(|(k, _)| (*k).to_owned()),
            from_ms: day(&self.from, "first", false)?,
            until_ms: day(&self.until, "last", true)?,
            after: self
                .after
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse().ok()?, id.chars().take(40).collect()))),
        })
    }

    /// The query string without the cursor, for the next page's link and the export's.
    pub(crate) fn without_cursor(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("action", &self.action),
            ("who", &self.who),
            ("from", &self.from),
            ("until", &self.until),
            ("company", &self.company),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        query.finish()
    }
}

/// One page of the log, with its filters.
#[derive(Template)]
#[template(path = "partials/audit_list.html")]
pub(crate) struct AuditList {
    /// The list's address (`/audit`).
    pub base: &'static str,
    pub query: AuditQuery,
    pub entries: Vec<AuditEntry>,
    /// The next page's query string.
    pub next: Option<String>,
    pub zone: Zone,
    /// The console's company filter: the companies to choose from.
    pub companies: Vec<(CompanyId, String)>,
    /// On the portal: the MSP's staff are named as such.
    pub portal: bool,
    pub actions: Vec<AuditAction>,
    pub who: &'static [(&'static str, &'static str)],
}

impl AuditList {
    pub(crate) fn new(
        base: &'static str,
        query: AuditQuery,
        page: AuditPage,
        zone: Zone,
        portal: bool,
        companies: Vec<(CompanyId, String)>,
    ) -> AuditList {
        let next = page.next.as_ref().map(|(at, id)| {
            let rest = query.without_cursor();
            let cursor = format!("after={at}.{id}");
            if rest.is_empty() {
                cursor
            } else {
                format!("{rest}&{cursor}")
            }
        });
        AuditList {
            base,
            query,
            entries: page.entries,
            next,
            zone,
            companies,
            portal,
            // The portal's chain holds no internal work: no such filter to offer.
            actions: AuditAction::ALL
                .iter()
                .copied()
                .filter(|a| !portal || a.shown_to_client())
                .collect(),
            who: WHO,
        }
    }

    fn when(&self, entry: &AuditEntry) -> String {
        crate::render::datetime(&(entry.at_ms / 1000), &self.zone).to_string()
    }

    fn who_label(&self, entry: &AuditEntry) -> Cow<'static, str> {
        match entry.actor_kind.as_str() {
            "staff" if self.portal => "MSP staff".into(),
            "staff" => "Staff".into(),
            "portal" => "Client".into(),
            "anonymous" => "Not signed in".into(),
            _ => "System".into(),
        }
    }

    fn company_name(&self, entry: &AuditEntry) -> &str {
        entry
            .company_id
            .and_then(|c| self.companies.iter().find(|(id, _)| *id == c))
            .map(|(_, name)| name.as_str())
            .unwrap_or("")
    }

    fn is_filtered(&self) -> bool {
        !self.query.without_cursor().is_empty()
    }
}

/// The browser's short name for a user agent, for the list (the CSV has it whole).
pub(crate) fn device(agent: &str) -> &'static str {
    let agent = agent.to_ascii_lowercase();
    let browser = [
        ("edg/", "Edge"),
        ("firefox/", "Firefox"),
        ("chrome/", "Chrome"),
        ("safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| *name);
    browser.unwrap_or(if agent.is_empty() { "" } else { "Other" })
}

/// Every entry the filters match, as CSV (newest first).
pub(crate) async fn export(
    state: &AppState,
    auth: &Auth,
    query: &AuditQuery,
) -> Result<Response, WebError> {
    let zone = auth.principal.zone().clone();
    let mut filter = query.filter(&zone)?;
    filter.after = None;
    let mut out = record(
        [
            "Time (UTC)",
            "Who",
            "Name",
            "Action",
            "Record kind",
            "Record",
            "Record id",
            "Detail",
            "Company id",
            "Chain",
            "Entry",
            "IP address",
            "User agent",
        ]
        .map(Cow::Borrowed),
    );
    let mut tx = state.store.scoped(&auth.scope).await?;
    let mut written = 0usize;
    loop {
        let page = tx.audit_entries(&filter).await?;
        for e in &page.entries {
            let time = jiff::Timestamp::from_millisecond(e.at_ms)
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            let company = e.company_id.map(|c| c.to_string()).unwrap_or_default();
            let chain = if e.internal { "workspace" } else { "company" };
            let seq = e.seq.to_string();
            out.extend(record([
                Cow::Owned(time),
                cell(&e.actor_kind),
                cell(&e.actor_name),
                cell(e.action.label()),
                cell(&e.target_kind),
                cell(&e.target_label),
                cell(&e.target_id),
                cell(&e.detail),
                Cow::Owned(company),
                Cow::Borrowed(chain),
                Cow::Owned(seq),
                cell(&e.ip),
                cell(&e.user_agent),
            ]));
        }
        written += page.entries.len();
        match page.next {
            Some(next) if written < MAX_EXPORTED => filter.after = Some(next),
            _ => break,
        }
    }
    tx.commit().await?;
    crate::audited::exported(
        state,
        auth,
        None,
        "Audit log (CSV)",
        &query.without_cursor(),
    )?;
    Ok(crate::csv_export::download(
        "audit-log.csv",
        Body::from(out),
    ))
}

/// A company's chain as a proof bundle (JSON), to check with `portico audit verify-bundle`;
/// the download itself is recorded on the company's chain.
pub(crate) fn bundle_download(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    bundle: &ProofBundle,
) -> Result<Response, WebError> {
    state.store.audit_view(
        &auth.scope,
        AuditAction::Downloaded,
        Some(company),
        portico_core::AuditTarget::new("audit_chain", company, "Audit proof bundle"),
        &format!("entries up to {}", bundle.head_seq),
    )?;
    let json = serde_json::to_vec_pretty(bundle)
        .map_err(|e| WebError::Internal(format!("writing the proof bundle: {e}")))?;
    let mut response = json.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-proof-bundle.json\""),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// The reader's workspace's audit public key in hex, in groups of eight digits for reading
/// aloud.
pub(crate) fn public_key(state: &AppState, auth: &Auth) -> String {
    let key = state
        .store
        .audit_log()
        .key()
        .verifying_key(&auth.scope.workspace().as_text());
    hex::encode(key.as_bytes())
        .as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
}
