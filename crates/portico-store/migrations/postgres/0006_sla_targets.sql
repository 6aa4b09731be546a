-- Service-level targets per priority: minutes from a ticket's creation to the first public
-- staff reply and to its resolution. No row for a priority means no target. Around the clock;
-- business hours are not modelled yet.
CREATE TABLE sla_targets (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    first_response_minutes BIGINT,
    resolution_minutes BIGINT,
    PRIMARY KEY (workspace_id, priority)
);

ALTER TABLE sla_targets ENABLE ROW LEVEL SECURITY;
ALTER TABLE sla_targets FORCE ROW LEVEL SECURITY;
CREATE POLICY sla_targets_scope ON sla_targets USING (portico_in_scope(workspace_id, NULL));
