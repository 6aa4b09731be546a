-- A version per company of what a client's ticket list is read from: the company's tickets and
-- who is copied on them. Each instance keeps the list pages it read and reuses one only while its
-- company's version, read in the same transaction as the page would be, is unchanged. These
-- triggers bump the version in the same transaction as any write to those tables, so no write
-- path can forget to. Rows are never deleted: a version only ever rises.
CREATE TABLE ticket_list_versions (
    company_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    version BIGINT NOT NULL
);

-- Scoped like the tickets themselves: whoever may write a company's tickets may bump its version.
ALTER TABLE ticket_list_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_list_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY ticket_list_versions_scope ON ticket_list_versions
    USING (portico_in_scope(workspace_id, company_id));

CREATE FUNCTION portico_bump_ticket_list_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO ticket_list_versions (company_id, workspace_id, version)
            VALUES (NEW.company_id, NEW.workspace_id, 1)
            ON CONFLICT (company_id) DO UPDATE SET version = ticket_list_versions.version + 1;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.company_id IS DISTINCT FROM NEW.company_id) THEN
        INSERT INTO ticket_list_versions (company_id, workspace_id, version)
            VALUES (OLD.company_id, OLD.workspace_id, 1)
            ON CONFLICT (company_id) DO UPDATE SET version = ticket_list_versions.version + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tickets_list_version AFTER INSERT OR UPDATE OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION portico_bump_ticket_list_version();
CREATE TRIGGER ticket_cc_list_version AFTER INSERT OR UPDATE OR DELETE ON ticket_cc
    FOR EACH ROW EXECUTE FUNCTION portico_bump_ticket_list_version();
