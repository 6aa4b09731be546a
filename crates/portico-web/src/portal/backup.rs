//! P7 Backup: the company's backup jobs with their last result and success, failing and stale
//! ones first. Read-only: the MSP fixes backups in its tools.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::Section;

use super::licences::heading;
use super::tickets::acting_company;
use crate::AppState;
use crate::auth::Auth;
use crate::backup_view::{JobView, needing_attention, views};
use crate::error::WebError;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "portal/backup.html")]
struct BackupPage {
    chrome: Chrome,
    heading: String,
    jobs: Vec<JobView>,
    attention: usize,
}

pub(crate) async fn page(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    let company = acting_company(&auth)?;
    let heading = heading(&auth, Section::Backup)?;
    let mut tx = state.store.scoped(&auth.scope).await?;
    let jobs = views(tx.backup_jobs(company).await?);
    tx.commit().await?;
    let chrome = Chrome::signed_in(&auth, &heading, "/backup");
    Ok(render::ok(&BackupPage {
        attention: needing_attention(&jobs),
        chrome,
        heading,
        jobs,
    }))
}
