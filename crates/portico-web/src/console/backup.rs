//! A company's backup jobs (P7) in the console, failing and stale ones first.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use portico_core::CompanyId;

use crate::AppState;
use crate::auth::Auth;
use crate::backup_view::{JobView, needing_attention, views};
use crate::error::WebError;
use crate::id_path::IdPath;
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "console/backup.html")]
struct BackupPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    jobs: Vec<JobView>,
    attention: usize,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let jobs = views(tx.backup_jobs(company).await?);
    tx.commit().await?;
    let chrome = Chrome::signed_in(&auth, &format!("Backup — {}", summary.name), "/companies");
    Ok(render::ok(&BackupPage {
        attention: needing_attention(&jobs),
        chrome,
        company_id: company,
        company_name: summary.name,
        jobs,
    }))
}
