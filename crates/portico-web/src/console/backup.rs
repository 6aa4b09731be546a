//! A company's backup jobs (P7) in the console, failing and stale ones first.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use portico_core::{CompanyId, Section};

use crate::AppState;
use crate::auth::{Auth, SignedForm};
use crate::backup_view::{JobView, needing_attention, views};
use crate::error::WebError;
use crate::forms::DoneQuery;
use crate::id_path::IdPath;
use crate::licence_view::{FreshnessLine, refresh_done};
use crate::render::{self, Chrome};

#[derive(Template)]
#[template(path = "console/backup.html")]
struct BackupPage {
    chrome: Chrome,
    company_id: CompanyId,
    company_name: String,
    jobs: Vec<JobView>,
    attention: usize,
    fresh: FreshnessLine,
    notice: &'static str,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Query(done): Query<DoneQuery>,
    IdPath(company): IdPath<CompanyId>,
) -> Result<Response, WebError> {
    let mut tx = state.store.scoped(&auth.scope).await?;
    let summary = tx.company(company).await?;
    let jobs = views(tx.backup_jobs(company).await?);
    let freshness = tx.connector_freshness(company, Section::Backup).await?;
    tx.commit().await?;
    let chrome = Chrome::signed_in(&auth, &format!("Backup — {}", summary.name), "/companies");
    Ok(render::ok(&BackupPage {
        attention: needing_attention(&jobs),
        fresh: FreshnessLine::new(
            freshness,
            format!("/companies/{company}/backup/refresh"),
            &chrome,
            &auth,
            Section::Backup,
        ),
        notice: refresh_done(&done.done),
        chrome,
        company_id: company,
        company_name: summary.name,
        jobs,
    }))
}

/// Asks for a company's backup jobs to be read again now (the console's Refresh).
pub(crate) async fn refresh(
    State(state): State<AppState>,
    SignedForm {
        auth,
        path: company,
        ..
    }: SignedForm<CompanyId>,
) -> Result<Response, WebError> {
    crate::console::licences::refresh_company(&state, &auth, company, Section::Backup, "backup")
        .await
}
