-- Principal versions become random rather than counted, like the ticket list versions: a
-- database restored or failed over to an earlier state, under running instances, could otherwise
-- count back up to a version an instance keeps a principal (or a ticket list page's names) for.
CREATE OR REPLACE FUNCTION portico_bump_principal_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO principal_versions (workspace_id, version)
            VALUES (NEW.workspace_id, portico_random_version())
            ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO principal_versions (workspace_id, version)
            VALUES (OLD.workspace_id, portico_random_version())
            ON CONFLICT (workspace_id) DO UPDATE SET version = excluded.version;
    END IF;
    RETURN NULL;
END
$$;
