-- A PSA's ticket statuses, as its runs read them, and what each means in Portico: an owner's
-- choice (`meaning`), or, while none is made, what its name suggests. An instance's statuses
-- are its own ("Waiting for Parts", "Pending Closure"): a name alone can mislead, and the
-- status decides what the client is shown. A run writes only what changed (a new status, a
-- new name); a status gone from the PSA is forgotten unless an owner chose its meaning.
CREATE TABLE psa_statuses (
    workspace_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    -- The PSA's id of the status.
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- A Portico ticket status, or NULL to follow the name.
    meaning TEXT,
    PRIMARY KEY (workspace_id, connector_id, external_id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE
);
