//! A company's backup jobs over the API (P7): read as the Backup section shows them, and pushed
//! by a backup tool Portico has no connector for, each push one source's whole list.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use portico_core::CompanyId;
use portico_store::StoreError;
use portico_store::scoped::backups::{BackupJob, JobHealth, PushedBackupJob, check_jobs};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::companies::time;
use super::{ApiAuth, ApiPath, Problem, json_answer, json_body};
use crate::AppState;

/// A backup job, as its tool last reported it.
#[derive(Serialize, ToSchema)]
pub(crate) struct BackupJobBody {
    /// The tool that reports it (`Veeam`, `Datto`, `Acronis`).
    source: String,
    /// The tool's id of the job.
    id: String,
    name: String,
    /// `server`, `workstation`, `microsoft365`, `cloud`, `nas` or `other`.
    kind: String,
    protected_item: String,
    /// `success`, `warning`, `failed`, `running` or `unknown`.
    last_result: String,
    #[schema(format = DateTime)]
    last_run_at: Option<String>,
    #[schema(format = DateTime)]
    last_success_at: Option<String>,
    protected_bytes: Option<i64>,
    retention: String,
    expected_every_hours: i64,
    /// `failing` (the last run failed), `stale` (no success within the expected interval),
    /// `warning` or `healthy`.
    health: &'static str,
    /// When the tool stopped reporting it (kept, never deleted).
    #[schema(format = DateTime)]
    retired_at: Option<String>,
}

impl BackupJobBody {
    fn of(j: BackupJob, now: i64) -> BackupJobBody {
        BackupJobBody {
            health: match j.health(now) {
                JobHealth::Failing => "failing",
                JobHealth::Stale => "stale",
                JobHealth::Warning => "warning",
                JobHealth::Healthy => "healthy",
            },
            source: j.source,
            id: j.external_id,
            name: j.name,
            kind: j.kind,
            protected_item: j.protected_item,
            last_result: j.last_result,
            last_run_at: j.last_run_at.map(time),
            last_success_at: j.last_success_at.map(time),
            protected_bytes: j.protected_bytes,
            retention: j.retention,
            expected_every_hours: j.expected_every_hours,
            retired_at: j.retired_at.map(time),
        }
    }
}

/// A company's backup jobs.
#[derive(Serialize, ToSchema)]
pub(crate) struct BackupJobList {
    data: Vec<BackupJobBody>,
}

/// A company's backup jobs, current ones first, by name.
#[utoipa::path(
    get,
    path = "/api/v1/companies/{company}/backup-jobs",
    tag = "Records",
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "The company's backup jobs", body = BackupJobList),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
) -> Result<Response, Problem> {
    let mut tx = state.store.scoped(&caller.scope).await?;
    let jobs = tx.backup_jobs(company).await?;
    tx.commit().await?;
    let now = portico_store::now();
    json_answer(
        &headers,
        &BackupJobList {
            data: jobs
                .into_iter()
                .map(|j| BackupJobBody::of(j, now))
                .collect(),
        },
    )
}

/// A job as a tool pushes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackupJobInput {
    #[schema(min_length = 1, max_length = 200)]
    id: String,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(pattern = "^(server|workstation|microsoft365|cloud|nas|other)$")]
    kind: String,
    #[schema(max_length = 300)]
    protected_item: Option<String>,
    #[schema(pattern = "^(success|warning|failed|running|unknown)$")]
    last_result: String,
    #[schema(format = DateTime)]
    last_run_at: Option<String>,
    #[schema(format = DateTime)]
    last_success_at: Option<String>,
    #[schema(minimum = 0)]
    protected_bytes: Option<i64>,
    #[schema(max_length = 100)]
    retention: Option<String>,
    /// Hours between successes past which the job is stale (default 24).
    #[schema(minimum = 1, maximum = 8784)]
    expected_every_hours: Option<i64>,
}

/// A source's whole list of jobs for the company.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BackupJobsPush {
    /// The tool the jobs come from (`Veeam`, `Datto`, `Acronis`).
    #[schema(min_length = 1, max_length = 60)]
    source: String,
    #[schema(max_items = 5000)]
    jobs: Vec<BackupJobInput>,
}

/// What a push changed.
#[derive(Serialize, ToSchema)]
pub(crate) struct BackupPushAnswer {
    seen: i64,
    added: i64,
    changed: i64,
    /// Jobs of the source the push no longer named: marked retired, kept.
    retired: i64,
}

/// Replaces a company's backup jobs from a source with the body's list: new jobs added,
/// changed ones changed, jobs no longer named retired. A repeat changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/companies/{company}/backup-jobs",
    tag = "Records",
    request_body = BackupJobsPush,
    params(("company" = String, Path, format = Uuid, description = "The company's id")),
    responses(
        (status = 200, description = "What the push changed", body = BackupPushAnswer),
        (status = 400, description = "The body is not JSON", body = super::ProblemBody),
        (status = 403, description = "The token may only read", body = super::ProblemBody),
        (status = 404, description = "No such company within the token's reach", body = super::ProblemBody),
        (status = 415, description = "The body is not `application/json`", body = super::ProblemBody),
        (status = 422, description = "A field is refused, each with its reason", body = super::ProblemBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn push(
    State(state): State<AppState>,
    ApiAuth(caller): ApiAuth,
    headers: HeaderMap,
    ApiPath(company): ApiPath<CompanyId>,
    body: Bytes,
) -> Result<Response, Problem> {
    let input: BackupJobsPush = json_body(&headers, &body)?;
    // A read-only token, or a company out of reach, is told so before any field is judged.
    let mut tx = state.store.scoped_write(&caller.scope).await?;
    tx.visible_company(company).await?;
    let mut refusals = Vec::new();
    let mut jobs = Vec::with_capacity(input.jobs.len());
    for (i, j) in input.jobs.into_iter().enumerate() {
        let mut moment = |field: &str, text: Option<&str>| {
            super::pushed_time(&mut refusals, format!("jobs[{i}].{field}"), text)
        };
        let last_run_at = moment("last_run_at", j.last_run_at.as_deref());
        let last_success_at = moment("last_success_at", j.last_success_at.as_deref());
        jobs.push(PushedBackupJob {
            external_id: j.id,
            name: j.name,
            kind: j.kind,
            protected_item: j.protected_item.unwrap_or_default(),
            last_result: j.last_result,
            last_run_at,
            last_success_at,
            protected_bytes: j.protected_bytes,
            retention: j.retention.unwrap_or_default(),
            expected_every_hours: j.expected_every_hours.unwrap_or(24),
        });
    }
    if !refusals.is_empty() {
        if let Err(StoreError::InvalidFields(more)) = check_jobs(&input.source, &jobs) {
            refusals.extend(more);
        }
        refusals.truncate(100);
        return Err(StoreError::InvalidFields(refusals).into());
    }
    let outcome = tx.push_backup_jobs(company, &input.source, &jobs).await?;
    tx.commit().await?;
    json_answer(
        &headers,
        &BackupPushAnswer {
            seen: outcome.seen,
            added: outcome.added,
            changed: outcome.changed,
            retired: outcome.retired,
        },
    )
}
