-- What of a ticket the portal shows each role: the MSP hides parts of a ticket (priority,
-- category, site, who raised it, the timeline's changes; `item`) or a custom field (`item` is
-- the field's id) from portal roles (`hidden_from`: comma-separated role names). No row: shown
-- to every role. Principals carry their role's view, so a change rebuilds them.
CREATE TABLE ticket_visibility (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    item TEXT NOT NULL,
    hidden_from TEXT NOT NULL,
    PRIMARY KEY (workspace_id, item)
);

CREATE TRIGGER ticket_visibility_insert_principal_version AFTER INSERT ON ticket_visibility BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER ticket_visibility_update_principal_version AFTER UPDATE ON ticket_visibility BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER ticket_visibility_delete_principal_version AFTER DELETE ON ticket_visibility BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
