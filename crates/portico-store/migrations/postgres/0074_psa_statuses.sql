-- A PSA's ticket statuses, as its runs read them, and what each means in Portico (as SQLite's
-- 0065): an owner's choice (`meaning`), or, while none is made, what its name suggests.
CREATE TABLE psa_statuses (
    workspace_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    meaning TEXT,
    PRIMARY KEY (workspace_id, connector_id, external_id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE
);
-- The workspace's administration, as its connectors are: never the portal's.
ALTER TABLE psa_statuses ENABLE ROW LEVEL SECURITY;
ALTER TABLE psa_statuses FORCE ROW LEVEL SECURITY;
CREATE POLICY psa_statuses_scope ON psa_statuses
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
