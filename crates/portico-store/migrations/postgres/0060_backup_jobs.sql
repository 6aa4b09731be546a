-- Backup jobs (P7) of a company, as the MSP's backup tools report them: pushed over the REST
-- API per source (each push the source's whole list; a job no longer named is retired, kept),
-- or read by a connector. A job is failing when its last run failed, stale when it has had no
-- success within its expected interval.
CREATE TABLE backup_jobs (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    -- The tool that reported it, as the push names it (`Veeam`, `Datto`, `Acronis`).
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- server, workstation, microsoft365, cloud, nas or other.
    kind TEXT NOT NULL,
    -- What it protects (a machine, a tenant's mailboxes, a share).
    protected_item TEXT NOT NULL DEFAULT '',
    -- success, warning, failed, running or unknown.
    last_result TEXT NOT NULL,
    last_run_at BIGINT,
    last_success_at BIGINT,
    protected_bytes BIGINT,
    -- As the tool words it (`30 days`, `7 daily, 4 weekly`).
    retention TEXT NOT NULL DEFAULT '',
    -- Hours between successes past which the job is stale.
    expected_every_hours BIGINT NOT NULL,
    synced_at BIGINT NOT NULL,
    retired_at BIGINT,
    PRIMARY KEY (workspace_id, company_id, source, external_id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

ALTER TABLE backup_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE backup_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY backup_jobs_scope ON backup_jobs
    USING (portico_in_scope(workspace_id, company_id));
