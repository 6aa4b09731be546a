-- A version per workspace of everything a signed-in principal is built from (users, their
-- companies, grants, sites and sections). Each instance keeps the principals it resolved and
-- reuses one only while its workspace's version is unchanged; these triggers bump the version in
-- the same transaction as any change to those tables, so no write path can forget to.
CREATE TABLE principal_versions (
    workspace_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE FUNCTION portico_bump_principal_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO principal_versions (workspace_id, version) VALUES (NEW.workspace_id, 1)
            ON CONFLICT (workspace_id) DO UPDATE SET version = principal_versions.version + 1;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO principal_versions (workspace_id, version) VALUES (OLD.workspace_id, 1)
            ON CONFLICT (workspace_id) DO UPDATE SET version = principal_versions.version + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER companies_principal_version AFTER INSERT OR UPDATE OR DELETE ON companies
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
CREATE TRIGGER portal_users_principal_version AFTER INSERT OR UPDATE OR DELETE ON portal_users
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
CREATE TRIGGER portal_user_companies_principal_version AFTER INSERT OR UPDATE OR DELETE ON portal_user_companies
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
CREATE TRIGGER portal_user_sites_principal_version AFTER INSERT OR UPDATE OR DELETE ON portal_user_sites
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
CREATE TRIGGER staff_users_principal_version AFTER INSERT OR UPDATE OR DELETE ON staff_users
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
CREATE TRIGGER staff_assignments_principal_version AFTER INSERT OR UPDATE OR DELETE ON staff_assignments
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
CREATE TRIGGER workspace_section_defaults_principal_version AFTER INSERT OR UPDATE OR DELETE ON workspace_section_defaults
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
CREATE TRIGGER company_section_settings_principal_version AFTER INSERT OR UPDATE OR DELETE ON company_section_settings
    FOR EACH ROW EXECUTE FUNCTION portico_bump_principal_version();
