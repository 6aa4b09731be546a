-- Local time (the SQLite migration 0022 says what each part is for).
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE companies ADD COLUMN time_zone TEXT;
ALTER TABLE staff_users ADD COLUMN time_zone TEXT;
ALTER TABLE portal_users ADD COLUMN time_zone TEXT;

CREATE TABLE business_calendars (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    company_id TEXT REFERENCES companies (id),
    hours TEXT NOT NULL,
    holidays TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX business_calendars_owner ON business_calendars (workspace_id, COALESCE(company_id, ''));
ALTER TABLE business_calendars ENABLE ROW LEVEL SECURITY;
ALTER TABLE business_calendars FORCE ROW LEVEL SECURITY;
-- The workspace's calendar (no company) to everyone in it; a company's to its scopes.
CREATE POLICY business_calendars_scope ON business_calendars USING (portico_in_scope(workspace_id, company_id));

CREATE FUNCTION portico_bump_workspace_principal_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO principal_versions (workspace_id, version)
        VALUES (NEW.id, portico_random_version())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END
$$;
CREATE TRIGGER workspaces_time_zone_principal_version AFTER UPDATE OF time_zone ON workspaces
    FOR EACH ROW EXECUTE FUNCTION portico_bump_workspace_principal_version();

ALTER TABLE tickets ADD COLUMN first_response_due_at BIGINT;
ALTER TABLE tickets ADD COLUMN resolution_due_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_paused_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_paused_secs BIGINT NOT NULL DEFAULT 0;

UPDATE tickets t SET
    first_response_due_at = t.created_at + 60 * st.first_response_minutes,
    resolution_due_at = t.created_at + 60 * st.resolution_minutes
FROM sla_targets st WHERE st.workspace_id = t.workspace_id AND st.priority = t.priority;
UPDATE tickets SET sla_paused_at = updated_at WHERE status = 'awaiting_client';

CREATE INDEX tickets_resolution_due ON tickets (workspace_id, resolution_due_at) WHERE resolution_due_at IS NOT NULL;
