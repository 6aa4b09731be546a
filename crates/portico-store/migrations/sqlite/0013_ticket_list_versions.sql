-- A version per company of what a client's ticket list is read from: the company's tickets, who
-- is copied on them, and the names of its sites (people's names are covered by the workspace's
-- principal version). Each instance keeps the list pages it read and reuses one only while the
-- versions, read in the same transaction as the page would be, are unchanged. These triggers
-- draw a new version in the same transaction as any write to those tables, so no write path can
-- forget to. A version is a random 64-bit number rather than a count: a database restored or failed
-- over to an earlier state, under running instances, never arrives at a version they kept a
-- page for.
CREATE TABLE ticket_list_versions (
    company_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TRIGGER tickets_insert_list_version AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (NEW.company_id, NEW.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER tickets_update_list_version AFTER UPDATE ON tickets BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (NEW.company_id, NEW.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (OLD.company_id, OLD.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER tickets_delete_list_version AFTER DELETE ON tickets BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (OLD.company_id, OLD.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER ticket_cc_insert_list_version AFTER INSERT ON ticket_cc BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (NEW.company_id, NEW.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER ticket_cc_update_list_version AFTER UPDATE ON ticket_cc BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (NEW.company_id, NEW.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (OLD.company_id, OLD.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER ticket_cc_delete_list_version AFTER DELETE ON ticket_cc BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (OLD.company_id, OLD.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER sites_insert_list_version AFTER INSERT ON sites BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (NEW.company_id, NEW.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER sites_update_list_version AFTER UPDATE ON sites BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (NEW.company_id, NEW.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (OLD.company_id, OLD.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER sites_delete_list_version AFTER DELETE ON sites BEGIN
    INSERT INTO ticket_list_versions (company_id, workspace_id, version) VALUES (OLD.company_id, OLD.workspace_id, random())
        ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
END;
