//! What both surfaces' change-request pages share: a request's facts and history.

use askama::Template;
use portico_core::{ChangeStatus, Zone};
use portico_store::scoped::change_requests::{ChangeFilter, ChangeRequest};

use crate::error::WebError;

#[derive(serde::Deserialize, Default)]
pub(crate) struct ChangeQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    page: Option<i64>,
}

impl ChangeQuery {
    pub(crate) fn filter(&self) -> Result<ChangeFilter, WebError> {
        let bad = || WebError::BadRequest("That filter is not valid.".into());
        let (status, all) = match self.status.as_str() {
            "" => (None, false),
            "all" => (None, true),
            text => (Some(ChangeStatus::parse(text).ok_or_else(bad)?), false),
        };
        let company = match self.company.as_str() {
            "" => None,
            text => Some(portico_core::CompanyId::parse(text).ok_or_else(bad)?),
        };
        let (mine, unassigned) = match self.assignee.as_str() {
            "" => (false, false),
            "mine" => (true, false),
            "none" => (false, true),
            _ => return Err(bad()),
        };
        Ok(ChangeFilter {
            status,
            all,
            company,
            mine,
            unassigned,
            page: self.page.unwrap_or(0).max(0),
            ..Default::default()
        })
    }

    pub(crate) fn status(&self) -> &str {
        &self.status
    }

    pub(crate) fn company(&self) -> &str {
        &self.company
    }

    pub(crate) fn assignee(&self) -> &str {
        &self.assignee
    }
}

/// A request's facts and history, for both surfaces.
#[derive(Template)]
#[template(path = "partials/change_request.html")]
pub(crate) struct ChangeView {
    pub request: ChangeRequest,
    pub zone: Zone,
    /// Where the target links, if the reader can open it there.
    pub target_href: Option<String>,
}
