-- What of a ticket the portal shows each role (the SQLite migration 0023 says more).
CREATE TABLE ticket_visibility (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    item TEXT NOT NULL,
    hidden_from TEXT NOT NULL,
    PRIMARY KEY (workspace_id, item)
);
ALTER TABLE ticket_visibility ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_visibility FORCE ROW LEVEL SECURITY;
CREATE POLICY ticket_visibility_scope ON ticket_visibility USING (portico_in_scope(workspace_id, NULL));
CREATE TRIGGER ticket_visibility_principal_version AFTER INSERT OR UPDATE OR DELETE ON ticket_visibility
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
