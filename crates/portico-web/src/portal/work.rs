//! P3 Work: the company's month against its plan — included hours used, billable hours beyond
//! them, and the work behind them; amounts only for those with billing access. Client admins.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{Principal, Section};

use super::tickets::acting_company;
use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::{self, Chrome};
use crate::work_view::{MonthQuery, WorkView};

#[derive(Template)]
#[template(path = "portal/work.html")]
struct WorkPage {
    chrome: Chrome,
    heading: String,
    work: WorkView,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = match &*auth.principal {
        Principal::Portal(p) => p
            .section_label(Section::Work)
            .unwrap_or(Section::Work.label())
            .to_owned(),
        Principal::Staff(_) => return Err(WebError::NotFound),
    };
    let month = query.month(auth.principal.zone())?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let work = tx.work_month(company, &month).await?;
    tx.commit().await?;
    Ok(render::ok(&WorkPage {
        chrome: Chrome::signed_in(&auth, &heading, "/work"),
        heading,
        work: WorkView::new("/work".into(), work),
    }))
}

/// The month's work as CSV.
pub(crate) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Query(query): Query<MonthQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let month = query.month(auth.principal.zone())?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let work = tx.work_month(company, &month).await?;
    tx.commit().await?;
    crate::audited::exported(&state, &auth, None, "Work (CSV)", "")?;
    Ok(crate::csv_export::work_month(&work))
}
