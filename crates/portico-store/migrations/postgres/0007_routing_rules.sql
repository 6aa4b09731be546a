-- Routing rules for tickets raised on the portal, evaluated in position order; the first rule
-- whose conditions all hold sets the assignee, priority and/or category. Empty conditions match
-- anything.
CREATE TABLE routing_rules (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    company_id TEXT,
    category TEXT NOT NULL,
    keywords TEXT NOT NULL,
    field_label TEXT NOT NULL,
    field_value TEXT NOT NULL,
    set_assignee_id TEXT,
    set_priority TEXT CHECK (set_priority IN ('low', 'normal', 'high', 'urgent')),
    set_category TEXT,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, set_assignee_id) REFERENCES staff_users (workspace_id, id)
);
CREATE INDEX routing_rules_order ON routing_rules (workspace_id, position);

ALTER TABLE routing_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY routing_rules_scope ON routing_rules USING (portico_in_scope(workspace_id, NULL));
