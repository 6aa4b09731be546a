//! P7's backup jobs: each job of a company (on-premises and cloud, Microsoft 365 backup among
//! them) as its backup tool reported it — what it protects, its last run and last success, the
//! size protected, retention — flagged failing (its last run failed) or stale (no success within
//! its expected interval). A tool Portico has no connector for pushes a source's whole list
//! over the API: jobs it no longer names are retired (kept, marked), a repeat writes nothing.

use std::collections::{HashMap, HashSet};

use portico_core::{Action, AuditAction, AuditTarget, CompanyId};

use crate::scoped::pushed_records::{refuse_text, refused};
use crate::scoped::{ScopedTx, fence};
use crate::sql::Q;
use crate::{StoreError, now};

/// Jobs one push may name.
pub const MAX_JOBS: usize = 5_000;

/// Kinds of job.
pub const JOB_KINDS: [&str; 6] = [
    "server",
    "workstation",
    "microsoft365",
    "cloud",
    "nas",
    "other",
];

/// Results a run may have.
pub const JOB_RESULTS: [&str; 5] = ["success", "warning", "failed", "running", "unknown"];

/// A job as a tool pushes it.
#[derive(Debug, Clone, Default)]
pub struct PushedBackupJob {
    pub external_id: String,
    pub name: String,
    pub kind: String,
    pub protected_item: String,
    pub last_result: String,
    pub last_run_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub protected_bytes: Option<i64>,
    pub retention: String,
    pub expected_every_hours: i64,
}

/// A company's backup job.
#[derive(Debug, Clone)]
pub struct BackupJob {
    pub source: String,
    pub external_id: String,
    pub name: String,
    pub kind: String,
    pub protected_item: String,
    pub last_result: String,
    pub last_run_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub protected_bytes: Option<i64>,
    pub retention: String,
    pub expected_every_hours: i64,
    pub synced_at: i64,
    pub retired_at: Option<i64>,
}
crate::sql::db_row!(BackupJob {
    source,
    external_id,
    name,
    kind,
    protected_item,
    last_result,
    last_run_at,
    last_success_at,
    protected_bytes,
    retention,
    expected_every_hours,
    synced_at,
    retired_at
});

/// How a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JobHealth {
    Failing,
    Stale,
    Warning,
    Healthy,
}

/// Whether a job is failing, or has had no success within its expected interval at `now`
/// ([`BackupJob::health`]'s failing and stale, for counts that read no whole rows).
pub(crate) fn needs_attention(
    last_result: &str,
    last_success_at: Option<i64>,
    expected_every_hours: i64,
    now: i64,
) -> bool {
    last_result == "failed" || now - last_success_at.unwrap_or(0) > expected_every_hours * 3600
}

impl BackupJob {
    /// Failing when its last run failed; stale when its last success (or its first report, if
    /// it never had one) is older than its expected interval; warning when it succeeded with
    /// warnings.
    pub fn health(&self, now: i64) -> JobHealth {
        if self.last_result == "failed" {
            return JobHealth::Failing;
        }
        if needs_attention(
            &self.last_result,
            self.last_success_at,
            self.expected_every_hours,
            now,
        ) {
            return JobHealth::Stale;
        }
        if self.last_result == "warning" {
            JobHealth::Warning
        } else {
            JobHealth::Healthy
        }
    }

    pub fn kind_label(&self) -> &'static str {
        match self.kind.as_str() {
            "server" => "Server",
            "workstation" => "Workstation",
            "microsoft365" => "Microsoft 365",
            "cloud" => "Cloud",
            "nas" => "NAS / file share",
            _ => "Other",
        }
    }
}

impl JobHealth {
    pub fn label(self) -> &'static str {
        match self {
            JobHealth::Failing => "Failing",
            JobHealth::Stale => "Stale",
            JobHealth::Warning => "Warnings",
            JobHealth::Healthy => "Healthy",
        }
    }

    pub fn tone(self) -> &'static str {
        match self {
            JobHealth::Failing => "bad",
            JobHealth::Stale | JobHealth::Warning => "warn",
            JobHealth::Healthy => "on",
        }
    }
}

/// A job as stored, to compare with what a push or a connector run names.
pub(crate) struct StoredJob {
    pub(crate) external_id: String,
    name: String,
    kind: String,
    protected_item: String,
    last_result: String,
    last_run_at: Option<i64>,
    last_success_at: Option<i64>,
    protected_bytes: Option<i64>,
    retention: String,
    expected_every_hours: i64,
    pub(crate) retired_at: Option<i64>,
}
crate::sql::db_row!(StoredJob {
    external_id,
    name,
    kind,
    protected_item,
    last_result,
    last_run_at,
    last_success_at,
    protected_bytes,
    retention,
    expected_every_hours,
    retired_at
});

impl StoredJob {
    /// Whether `j` would change nothing: the same values, and the job not retired.
    pub(crate) fn same_as(&self, j: &PushedBackupJob) -> bool {
        self.name == j.name.trim()
            && self.kind == j.kind
            && self.protected_item == j.protected_item.trim()
            && self.last_result == j.last_result
            && self.last_run_at == j.last_run_at
            && self.last_success_at == j.last_success_at
            && self.protected_bytes == j.protected_bytes
            && self.retention == j.retention.trim()
            && self.expected_every_hours == j.expected_every_hours
            && self.retired_at.is_none()
    }
}

/// Refuses what a push may not name, each field with its reason.
pub fn check_jobs(source: &str, jobs: &[PushedBackupJob]) -> Result<(), StoreError> {
    let mut refusals = Vec::new();
    refuse_text(&mut refusals, "source".into(), source, 60, true);
    if jobs.len() > MAX_JOBS {
        refusals.push((
            "jobs".into(),
            format!("Push at most {MAX_JOBS} jobs at once."),
        ));
    }
    let mut ids = HashSet::new();
    for (i, j) in jobs.iter().enumerate().take(MAX_JOBS) {
        let at = |field: &str| format!("jobs[{i}].{field}");
        refuse_text(&mut refusals, at("id"), &j.external_id, 200, true);
        if !ids.insert(j.external_id.trim()) {
            refusals.push((at("id"), "Each job once.".into()));
        }
        refuse_text(&mut refusals, at("name"), &j.name, 200, true);
        refuse_text(
            &mut refusals,
            at("protected_item"),
            &j.protected_item,
            300,
            false,
        );
        refuse_text(&mut refusals, at("retention"), &j.retention, 100, false);
        if !JOB_KINDS.contains(&j.kind.as_str()) {
            refusals.push((at("kind"), format!("One of {}.", JOB_KINDS.join(", "))));
        }
        if !JOB_RESULTS.contains(&j.last_result.as_str()) {
            refusals.push((
                at("last_result"),
                format!("One of {}.", JOB_RESULTS.join(", ")),
            ));
        }
        if !(1..=24 * 366).contains(&j.expected_every_hours) {
            refusals.push((
                at("expected_every_hours"),
                "Hours from 1 to 8,784 (a year).".into(),
            ));
        }
        if j.protected_bytes.is_some_and(|b| b < 0) {
            refusals.push((at("protected_bytes"), "A size from 0 bytes.".into()));
        }
    }
    refused(refusals)
}

/// What a push changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobsPushOutcome {
    pub seen: i64,
    pub added: i64,
    pub changed: i64,
    pub retired: i64,
}

impl ScopedTx<'_> {
    /// `company`'s backup jobs: current ones first, then by name.
    pub async fn backup_jobs(&mut self, company: CompanyId) -> Result<Vec<BackupJob>, StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ViewBackups)?;
        let mut query = self.select(
            "b.source, b.external_id, b.name, b.kind, b.protected_item, b.last_result, b.last_run_at, \
             b.last_success_at, b.protected_bytes, b.retention, b.expected_every_hours, b.synced_at, \
             b.retired_at",
            &fence::BACKUP_JOBS,
            "b",
        );
        query.sql(" AND b.company_id = ").arg(company).sql(
            " ORDER BY (b.retired_at IS NOT NULL), b.name, b.source, b.external_id LIMIT 2000",
        );
        self.tx.all(query).await
    }

    /// Replaces `company`'s jobs from `source` with `jobs`: new ones added, changed ones
    /// changed, jobs no longer named retired; a repeat writes nothing.
    pub async fn push_backup_jobs(
        &mut self,
        company: CompanyId,
        source: &str,
        jobs: &[PushedBackupJob],
    ) -> Result<JobsPushOutcome, StoreError> {
        self.scope.may(Action::ManageCompanyRecords)?;
        self.company_taking_work(company).await?;
        check_jobs(source, jobs)?;
        let source = source.trim();
        let mut query = self.select(
            "b.external_id, b.name, b.kind, b.protected_item, b.last_result, b.last_run_at, \
             b.last_success_at, b.protected_bytes, b.retention, b.expected_every_hours, b.retired_at",
            &fence::BACKUP_JOBS,
            "b",
        );
        query
            .sql(" AND b.company_id = ")
            .arg(company)
            .sql(" AND b.source = ")
            .arg(source);
        let stored: Vec<StoredJob> = self.tx.all(query).await?;
        let stored: HashMap<String, StoredJob> = stored
            .into_iter()
            .map(|s| (s.external_id.clone(), s))
            .collect();
        let at = now();
        let mut outcome = JobsPushOutcome {
            seen: jobs.len() as i64,
            ..JobsPushOutcome::default()
        };
        let mut named = HashSet::new();
        for j in jobs {
            let id = j.external_id.trim();
            named.insert(id);
            match stored.get(id) {
                Some(s) if s.same_as(j) => {}
                Some(_) => {
                    outcome.changed += 1;
                    let mut update = self.update(&fence::BACKUP_JOBS, |set| {
                        set.sql("name = ")
                            .arg(j.name.trim())
                            .sql(", kind = ")
                            .arg(j.kind.as_str())
                            .sql(", protected_item = ")
                            .arg(j.protected_item.trim())
                            .sql(", last_result = ")
                            .arg(j.last_result.as_str())
                            .sql(", last_run_at = ")
                            .arg(j.last_run_at)
                            .sql(", last_success_at = ")
                            .arg(j.last_success_at)
                            .sql(", protected_bytes = ")
                            .arg(j.protected_bytes)
                            .sql(", retention = ")
                            .arg(j.retention.trim())
                            .sql(", expected_every_hours = ")
                            .arg(j.expected_every_hours)
                            .sql(", synced_at = ")
                            .arg(at)
                            .sql(", retired_at = NULL");
                    });
                    update
                        .sql(" AND company_id = ")
                        .arg(company)
                        .sql(" AND source = ")
                        .arg(source)
                        .sql(" AND external_id = ")
                        .arg(id);
                    self.tx.exec(update).await?;
                }
                None => {
                    outcome.added += 1;
                    let mut insert = Q::new(
                        "INSERT INTO backup_jobs (workspace_id, company_id, source, external_id, name, kind, \
                         protected_item, last_result, last_run_at, last_success_at, protected_bytes, \
                         retention, expected_every_hours, synced_at) VALUES (",
                    );
                    insert
                        .arg(self.scope.workspace())
                        .sql(", ")
                        .arg(company)
                        .sql(", ")
                        .arg(source)
                        .sql(", ")
                        .arg(id)
                        .sql(", ")
                        .arg(j.name.trim())
                        .sql(", ")
                        .arg(j.kind.as_str())
                        .sql(", ")
                        .arg(j.protected_item.trim())
                        .sql(", ")
                        .arg(j.last_result.as_str())
                        .sql(", ")
                        .arg(j.last_run_at)
                        .sql(", ")
                        .arg(j.last_success_at)
                        .sql(", ")
                        .arg(j.protected_bytes)
                        .sql(", ")
                        .arg(j.retention.trim())
                        .sql(", ")
                        .arg(j.expected_every_hours)
                        .sql(", ")
                        .arg(at)
                        .sql(")");
                    self.tx.exec(insert).await?;
                }
            }
        }
        let mut gone: Vec<&str> = stored
            .iter()
            .filter(|(id, s)| s.retired_at.is_none() && !named.contains(id.as_str()))
            .map(|(id, _)| id.as_str())
            .collect();
        gone.sort_unstable();
        for id in &gone {
            let mut retire = self.update(&fence::BACKUP_JOBS, |set| {
                set.sql("retired_at = ").arg(at);
            });
            retire
                .sql(" AND company_id = ")
                .arg(company)
                .sql(" AND source = ")
                .arg(source)
                .sql(" AND external_id = ")
                .arg(*id);
            self.tx.exec(retire).await?;
        }
        outcome.retired = gone.len() as i64;
        if outcome.added + outcome.changed + outcome.retired > 0 {
            self.audit(
                AuditAction::ConnectorSynced,
                Some(company),
                AuditTarget::new("backup_source", source, source),
                &format!(
                    "Backup jobs pushed over the REST API: {} named; {} added, {} changed, {} retired",
                    outcome.seen, outcome.added, outcome.changed, outcome.retired
                ),
            )
            .await?;
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(result: &str, success_hours_ago: Option<i64>, every: i64) -> BackupJob {
        let now = 1_000_000;
        BackupJob {
            source: "Veeam".into(),
            external_id: "1".into(),
            name: "File server".into(),
            kind: "server".into(),
            protected_item: String::new(),
            last_result: result.into(),
            last_run_at: Some(now),
            last_success_at: success_hours_ago.map(|h| now - h * 3600),
            protected_bytes: None,
            retention: String::new(),
            expected_every_hours: every,
            synced_at: now,
            retired_at: None,
        }
    }

    #[test]
    fn a_job_is_failing_stale_warned_or_healthy() {
        let now = 1_000_000;
        assert_eq!(job("failed", Some(1), 24).health(now), JobHealth::Failing);
        assert_eq!(job("success", Some(30), 24).health(now), JobHealth::Stale);
        assert_eq!(job("running", None, 24).health(now), JobHealth::Stale);
        assert_eq!(job("warning", Some(2), 24).health(now), JobHealth::Warning);
        assert_eq!(job("success", Some(23), 24).health(now), JobHealth::Healthy);
    }

    #[test]
    fn a_push_is_refused_field_by_field() {
        let bad = PushedBackupJob {
            external_id: "x".into(),
            name: String::new(),
            kind: "tape".into(),
            last_result: "ok".into(),
            expected_every_hours: 0,
            ..PushedBackupJob::default()
        };
        let Err(StoreError::InvalidFields(fields)) = check_jobs("Veeam", &[bad.clone(), bad])
        else {
            panic!("refused");
        };
        let names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
        for f in [
            "jobs[0].name",
            "jobs[0].kind",
            "jobs[0].last_result",
            "jobs[0].expected_every_hours",
            "jobs[1].id",
        ] {
            assert!(names.contains(&f), "{f}: {names:?}");
        }
    }
}
