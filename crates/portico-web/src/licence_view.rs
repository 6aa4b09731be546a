//! What the Licences and directory pages of both surfaces share: the freshness line ("updated
//! 3 min ago · Refresh") above a section a connector feeds, and the refusal of a refresh asked
//! for too soon.

use axum::response::Response;
use portico_core::{Action, CompanyId, Section, Zone};
use portico_store::scoped::connectors::{Freshness, RefreshOutcome};

use crate::auth::Auth;
use crate::error::WebError;
use crate::render::Chrome;
use crate::{AppState, see_other};

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
    /// The line for `section` on a page of either surface: Refresh offered to whoever may ask
    /// for it, unless they are viewing the portal as someone (which changes nothing).
    pub(crate) fn new(
        freshness: Freshness,
        refresh_action: impl Into<String>,
        chrome: &Chrome,
        auth: &Auth,
        section: Section,
    ) -> FreshnessLine {
        FreshnessLine {
            freshness,
            refresh_action: refresh_action.into(),
            csrf: chrome.csrf.clone(),
            zone: chrome.zone.clone(),
            can_refresh: auth.scope.view_as().is_none()
                && auth
                    .scope
                    .may(Action::RefreshConnectorData(section))
                    .is_ok(),
        }
    }

    pub(crate) fn may_refresh_now(&self) -> bool {
        self.can_refresh
            && self.freshness.refreshable
            && !self.freshness.refreshing
            && self.freshness.refresh_allowed_at <= portico_store::now()
    }
}

/// A product row's inline form that was refused: the page shows it open again, with what was
/// typed and why it was refused.
pub(crate) struct RowRefusal {
    /// `renewal` or `price`.
    pub form: &'static str,
    /// The row the form belongs to: `tenant sku-id` for a renewal, the product code for a price.
    pub row: String,
    pub message: String,
    pub value: String,
    pub currency: String,
}

/// `refused` if it belongs to `form` on `row`.
pub(crate) fn refused_at<'a>(
    refused: &'a Option<RowRefusal>,
    form: &str,
    row: &str,
) -> Option<&'a RowRefusal> {
    refused.as_ref().filter(|r| r.form == form && r.row == row)
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

/// Asks for `company`'s records of `section` to be read again, then back to `page`.
pub(crate) async fn refresh_and_return(
    state: &AppState,
    auth: &Auth,
    company: CompanyId,
    section: Section,
    page: &str,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped_write(&auth.scope).await?;
    let outcome = tx.refresh_connector_data(company, section).await?;
    tx.commit().await?;
    Ok(see_other(&format!(
        "{page}?done={}",
        refresh_notice(outcome)
    )))
}
