//! Backup jobs (P7) as both surfaces show them: failing and stale jobs first, each with its
//! last result, last success and size.

use portico_store::scoped::backups::{BackupJob, JobHealth};

/// A job as a page shows it.
pub(crate) struct JobView {
    pub(crate) job: BackupJob,
    pub(crate) health: JobHealth,
}

/// The jobs, current ones worst first; retired ones last.
pub(crate) fn views(jobs: Vec<BackupJob>) -> Vec<JobView> {
    let now = portico_store::now();
    let mut views: Vec<JobView> = jobs
        .into_iter()
        .map(|job| JobView {
            health: job.health(now),
            job,
        })
        .collect();
    views.sort_by(|a, b| {
        (a.job.retired_at.is_some(), a.health, &a.job.name).cmp(&(
            b.job.retired_at.is_some(),
            b.health,
            &b.job.name,
        ))
    });
    views
}

/// How many current jobs are failing or stale.
pub(crate) fn needing_attention(views: &[JobView]) -> usize {
    views
        .iter()
        .filter(|v| {
            v.job.retired_at.is_none() && matches!(v.health, JobHealth::Failing | JobHealth::Stale)
        })
        .count()
}
