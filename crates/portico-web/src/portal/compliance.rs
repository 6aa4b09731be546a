//! P6 Compliance: the company's scorecards as the MSP last assessed them — the Essential Eight's
//! maturity per strategy, CIS IG1's safeguards — each requirement's standing and why, and the
//! history of assessments. Read-only: remediation is the MSP's.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::Section;

use super::licences::heading;
use super::tickets::acting_company;
use crate::AppState;
use crate::auth::Auth;
use crate::compliance_view::{ScorecardView, view};
use crate::error::WebError;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "portal/compliance.html")]
struct CompliancePage {
    chrome: Chrome,
    heading: String,
    cards: Vec<ScorecardView>,
    /// The console links requirements and records assessments; the portal neither.
    requirement_base: &'static str,
    assess: bool,
}

pub(crate) async fn page(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth, Section::Compliance)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let cards = tx.compliance_assessed(company).await?;
    tx.commit().await?;
    let chrome = Chrome::signed_in(&auth, &heading, "/compliance");
    let brand = chrome.brand_name.clone();
    Ok(render::ok(&CompliancePage {
        cards: cards.into_iter().map(|c| view(c, &brand)).collect(),
        chrome,
        heading,
        requirement_base: "",
        assess: false,
    }))
}
