-- The principal versions were readable by every transaction of the application role. Client
-- transactions now read their workspace's (a kept ticket list page is checked against it), so
-- the table is fenced like workspace-level records: to its own workspace, and to the system.
ALTER TABLE principal_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE principal_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY principal_versions_scope ON principal_versions
    USING (portico_in_scope(workspace_id, NULL));
