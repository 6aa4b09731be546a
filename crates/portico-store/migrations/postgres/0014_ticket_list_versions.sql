-- A version per company of what a client's ticket list is read from: the company's tickets, who
-- is copied on them, and the names of its sites (people's names are covered by the workspace's
-- principal version). Each instance keeps the list pages it read and reuses one only while the
-- versions, read in the same transaction as the page would be, are unchanged. These triggers
-- draw a new version in the same transaction as any write to those tables, so no write path can
-- forget to. A version is a random number rather than a count: a database restored or failed
-- over to an earlier state, under running instances, never arrives at a version they kept a
-- page for.
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

-- 59 random bits, from the core's UUID generator (random() alone gives 52): its first 16 hex
-- digits, less the version digit, with the sign bit cleared.
CREATE FUNCTION portico_random_version() RETURNS BIGINT
LANGUAGE sql VOLATILE AS $$
    SELECT ('x' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16))::bit(64)::bigint
        & 9223372036854775807
$$;

CREATE FUNCTION portico_bump_ticket_list_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO ticket_list_versions (company_id, workspace_id, version)
            VALUES (NEW.company_id, NEW.workspace_id, portico_random_version())
            ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.company_id IS DISTINCT FROM NEW.company_id) THEN
        INSERT INTO ticket_list_versions (company_id, workspace_id, version)
            VALUES (OLD.company_id, OLD.workspace_id, portico_random_version())
            ON CONFLICT (company_id) DO UPDATE SET version = excluded.version;
    END IF;
    RETURN NULL;
END
$$;
-- Deferred to commit: the upsert locks the company's version row until then, and taken at the
-- end, after every ticket row the transaction writes, it cannot join two writers of the same
-- company's tickets in a deadlock (a merge writes two tickets; a reply on the second, locking it
-- before the version row, would otherwise wait for the merge while the merge waited for it).
CREATE CONSTRAINT TRIGGER tickets_list_version AFTER INSERT OR UPDATE OR DELETE ON tickets
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION portico_bump_ticket_list_version();
CREATE CONSTRAINT TRIGGER ticket_cc_list_version AFTER INSERT OR UPDATE OR DELETE ON ticket_cc
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION portico_bump_ticket_list_version();
CREATE CONSTRAINT TRIGGER sites_list_version AFTER INSERT OR UPDATE OR DELETE ON sites
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION portico_bump_ticket_list_version();
