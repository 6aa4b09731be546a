-- Sites' names join the names the desk keeps (desk_names.rs): every change to a site also draws
-- a new principal version for its workspace, in the same transaction, like a change to a
-- company or a person. The console queue then reads no site name twice while none changes.
CREATE TRIGGER sites_insert_principal_version AFTER INSERT ON sites BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER sites_update_principal_version AFTER UPDATE ON sites BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER sites_delete_principal_version AFTER DELETE ON sites BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
