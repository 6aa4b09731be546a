-- Principal versions become random rather than counted, like the ticket list versions: a
-- database restored or failed over to an earlier state, under running instances, could otherwise
-- count back up to a version an instance keeps a principal (or a ticket list page's names) for.
-- The triggers are the same, drawing a new version instead of adding one.
DROP TRIGGER companies_insert_principal_version;
DROP TRIGGER companies_update_principal_version;
DROP TRIGGER companies_delete_principal_version;
DROP TRIGGER portal_users_insert_principal_version;
DROP TRIGGER portal_users_update_principal_version;
DROP TRIGGER portal_users_delete_principal_version;
DROP TRIGGER portal_user_companies_insert_principal_version;
DROP TRIGGER portal_user_companies_update_principal_version;
DROP TRIGGER portal_user_companies_delete_principal_version;
DROP TRIGGER portal_user_sites_insert_principal_version;
DROP TRIGGER portal_user_sites_update_principal_version;
DROP TRIGGER portal_user_sites_delete_principal_version;
DROP TRIGGER staff_users_insert_principal_version;
DROP TRIGGER staff_users_update_principal_version;
DROP TRIGGER staff_users_delete_principal_version;
DROP TRIGGER staff_assignments_insert_principal_version;
DROP TRIGGER staff_assignments_update_principal_version;
DROP TRIGGER staff_assignments_delete_principal_version;
DROP TRIGGER workspace_section_defaults_insert_principal_version;
DROP TRIGGER workspace_section_defaults_update_principal_version;
DROP TRIGGER workspace_section_defaults_delete_principal_version;
DROP TRIGGER company_section_settings_insert_principal_version;
DROP TRIGGER company_section_settings_update_principal_version;
DROP TRIGGER company_section_settings_delete_principal_version;

CREATE TRIGGER companies_insert_principal_version AFTER INSERT ON companies BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER companies_update_principal_version AFTER UPDATE ON companies BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER companies_delete_principal_version AFTER DELETE ON companies BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER portal_users_insert_principal_version AFTER INSERT ON portal_users BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER portal_users_update_principal_version AFTER UPDATE ON portal_users BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER portal_users_delete_principal_version AFTER DELETE ON portal_users BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER portal_user_companies_insert_principal_version AFTER INSERT ON portal_user_companies BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER portal_user_companies_update_principal_version AFTER UPDATE ON portal_user_companies BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER portal_user_companies_delete_principal_version AFTER DELETE ON portal_user_companies BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER portal_user_sites_insert_principal_version AFTER INSERT ON portal_user_sites BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER portal_user_sites_update_principal_version AFTER UPDATE ON portal_user_sites BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER portal_user_sites_delete_principal_version AFTER DELETE ON portal_user_sites BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER staff_users_insert_principal_version AFTER INSERT ON staff_users BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER staff_users_update_principal_version AFTER UPDATE ON staff_users BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER staff_users_delete_principal_version AFTER DELETE ON staff_users BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER staff_assignments_insert_principal_version AFTER INSERT ON staff_assignments BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER staff_assignments_update_principal_version AFTER UPDATE ON staff_assignments BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER staff_assignments_delete_principal_version AFTER DELETE ON staff_assignments BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER workspace_section_defaults_insert_principal_version AFTER INSERT ON workspace_section_defaults BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER workspace_section_defaults_update_principal_version AFTER UPDATE ON workspace_section_defaults BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER workspace_section_defaults_delete_principal_version AFTER DELETE ON workspace_section_defaults BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;

CREATE TRIGGER company_section_settings_insert_principal_version AFTER INSERT ON company_section_settings BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER company_section_settings_update_principal_version AFTER UPDATE ON company_section_settings BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
CREATE TRIGGER company_section_settings_delete_principal_version AFTER DELETE ON company_section_settings BEGIN
    INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, random())
        ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
END;
