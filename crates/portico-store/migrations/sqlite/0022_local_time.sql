-- Local time. Each workspace has a time zone; a company, a staff user and a portal user may
-- choose their own (NULL: the next one out — user, company, workspace). Business calendars
-- give the hours service-level clocks count: the workspace's (company_id NULL), and a
-- company's own where it is served differently. Hours are seven comma-separated entries,
-- Monday first, `09:00-17:30` or empty for a day off; holidays one `2026-12-25 Name` per line.
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

-- A workspace's zone is every principal's default: a change rebuilds them.
CREATE TRIGGER workspaces_time_zone_principal_version AFTER UPDATE OF time_zone ON workspaces BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

-- Service levels are kept on the ticket: due times worked out on the company's calendar when
-- it is raised (and again when its priority, the targets or the calendar change), a clock that
-- stops while the ticket awaits the client (`sla_paused_at`), and the counted time it has
-- stood still (`sla_paused_secs`), by which the due times move on when it restarts.
ALTER TABLE tickets ADD COLUMN first_response_due_at BIGINT;
ALTER TABLE tickets ADD COLUMN resolution_due_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_paused_at BIGINT;
ALTER TABLE tickets ADD COLUMN sla_paused_secs BIGINT NOT NULL DEFAULT 0;

-- Until now targets ran around the clock from creation: the same due times, kept.
UPDATE tickets SET
    first_response_due_at = created_at + 60 * (SELECT st.first_response_minutes FROM sla_targets st
        WHERE st.workspace_id = tickets.workspace_id AND st.priority = tickets.priority),
    resolution_due_at = created_at + 60 * (SELECT st.resolution_minutes FROM sla_targets st
        WHERE st.workspace_id = tickets.workspace_id AND st.priority = tickets.priority);
UPDATE tickets SET sla_paused_at = updated_at WHERE status = 'awaiting_client';

-- The desk's "due soon" and "breached" views walk tickets by due time.
CREATE INDEX tickets_resolution_due ON tickets (workspace_id, resolution_due_at) WHERE resolution_due_at IS NOT NULL;
