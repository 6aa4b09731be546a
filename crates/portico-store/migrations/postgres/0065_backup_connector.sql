-- P7 Backup jobs a connector reads (Acronis): the connector and the vendor's tenant each came
-- from, so that a run retires only its own jobs and unmapping the tenant takes them out of the
-- company. Jobs pushed over the REST API have neither.
ALTER TABLE backup_jobs ADD COLUMN connector_id TEXT;
ALTER TABLE backup_jobs ADD COLUMN external_tenant TEXT;
CREATE INDEX backup_jobs_connector ON backup_jobs (workspace_id, company_id, connector_id, external_tenant);
