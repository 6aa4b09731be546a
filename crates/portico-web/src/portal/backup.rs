//! P7 Backup: the company's backup jobs with their last result and success, failing and stale
//! ones first. Read-only: the MSP fixes backups in its tools.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::Section;

use super::licences::heading;
use super::tickets::acting_company;
use crate::AppState;
use crate::auth::{Auth, SignedForm};
use crate::backup_view::{JobView, needing_attention, views};
use crate::error::WebError;
use crate::forms::DoneQuery;
use crate::licence_view::FreshnessLine;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "portal/backup.html")]
struct BackupPage {
    chrome: Chrome,
    heading: String,
    jobs: Vec<JobView>,
    attention: usize,
    fresh: FreshnessLine,
    notice: &'static str,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth, Section::Backup)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let jobs = views(tx.backup_jobs(company).await?);
    let freshness = tx.connector_freshness(company, Section::Backup).await?;
    tx.commit().await?;
    let chrome = Chrome::signed_in(&auth, &heading, "/backup");
    Ok(render::ok(&BackupPage {
        attention: needing_attention(&jobs),
        fresh: FreshnessLine::new(
            freshness,
            "/backup/refresh",
            &chrome,
            &auth,
            Section::Backup,
        ),
        notice: crate::licence_view::refresh_done(&done.done),
        chrome,
        heading,
        jobs,
    }))
}

/// Asks for the company's backup jobs to be read again now (throttled per company).
pub(crate) async fn refresh(
    State(state): State<AppState>,
    SignedForm { auth, .. }: SignedForm,
) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    crate::licence_view::refresh_and_return(&state, &auth, company, Section::Backup, "/backup")
        .await
}
