//! What the Licences and directory pages of both surfaces share: the freshness line ("updated
//! 3 min ago · Refresh") above a section a connector feeds, and the refusal of a refresh asked
//! for too soon.

use portico_core::Zone;
use portico_store::scoped::connectors::{Freshness, RefreshOutcome};

/// The line above a connector-fed section, rendered by `partials/freshness.html`.
pub(crate) struct FreshnessLine {
    pub freshness: Freshness,
    /// Where the Refresh button posts.
    pub refresh_action: String,
    pub csrf: String,
    pub zone: Zone,
    pub can_refresh: bool,
}

impl FreshnessLine {
    pub(crate) fn may_refresh_now(&self) -> bool {
        self.can_refresh
            && self.freshness.refreshable
            && !self.freshness.refreshing
            && self.freshness.refresh_allowed_at <= portico_store::now()
    }
}

/// The notice after a refresh was asked for.
pub(crate) fn refresh_notice(outcome: RefreshOutcome) -> &'static str {
    match outcome {
        RefreshOutcome::Queued => "refreshing",
        RefreshOutcome::TooSoon(_) => "too-soon",
        RefreshOutcome::NotConnected => "not-connected",
    }
}

/// The words of a `?done=` a refresh left.
pub(crate) fn refresh_done(done: &str) -> &'static str {
    match done {
        "refreshing" => "Refreshing: the figures update within a minute.",
        "too-soon" => "A refresh was asked for a moment ago: try again in a few minutes.",
        "not-connected" => "Nothing feeds this section yet.",
        _ => "",
    }
}

/// The address of the directory page after `page`, with the same filters.
pub(crate) fn next_directory_page(
    base: &str,
    show: portico_store::scoped::licences::DirectoryShow,
    q: &str,
    page: &portico_store::scoped::licences::DirectoryPage,
) -> Option<String> {
    let next = page.next.as_deref()?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("show", show.as_str())
        .append_pair("q", q)
        .append_pair("after", next)
        .finish();
    Some(format!("{base}?{query}"))
}
