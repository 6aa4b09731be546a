//! What both surfaces' Maintenance pages share: the planned windows ahead and the history
//! behind, one template included by the portal's page and the console's.

use askama::Template;
use portico_core::{MaintenanceKind, Zone};
use portico_store::scoped::maintenance::{MaintenanceFilter, MaintenanceList, MaintenanceRecord};

use crate::error::WebError;

#[derive(serde::Deserialize, Default)]
pub(crate) struct MaintenanceQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    page: Option<i64>,
}

impl MaintenanceQuery {
    pub(crate) fn filter(&self) -> Result<MaintenanceFilter, WebError> {
        let kind = match self.kind.as_str() {
            "" => None,
            text => Some(MaintenanceKind::parse(text).ok_or_else(|| {
                WebError::BadRequest("That kind of maintenance does not exist.".into())
            })?),
        };
        Ok(MaintenanceFilter {
            kind,
            page: self.page.unwrap_or(0).max(0),
        })
    }
}

/// A company's maintenance, for both surfaces.
#[derive(Template)]
#[template(path = "partials/maintenance_list.html")]
pub(crate) struct MaintenanceView {
    /// The page's address without its query (`/maintenance`, `/companies/<id>/maintenance`).
    pub base: String,
    /// Where a record's title links (the console's edit form); `None` on the portal.
    pub edit_base: Option<String>,
    /// Where an asset's name links (`/assets`, `/companies/<id>/assets`).
    pub asset_base: String,
    pub list: MaintenanceList,
    pub filter: MaintenanceFilter,
    pub zone: Zone,
}

impl MaintenanceView {
    fn kinds(&self) -> &'static [MaintenanceKind] {
        MaintenanceKind::ALL
    }

    fn chosen(&self, kind: &MaintenanceKind) -> bool {
        self.filter.kind == Some(*kind)
    }

    /// The query of the page `delta` pages from this one.
    fn page_query(&self, delta: i64) -> String {
        let mut query = format!("?page={}", (self.filter.page + delta).max(0));
        if let Some(kind) = self.filter.kind {
            query.push_str("&kind=");
            query.push_str(kind.as_str());
        }
        query
    }

    fn targets(record: &MaintenanceRecord) -> bool {
        !record.sites.is_empty() || !record.assets.is_empty()
    }
}
