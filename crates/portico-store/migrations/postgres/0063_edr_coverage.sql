-- P5 Security: a company's endpoint coverage (its computers with an agent that reports), as the
-- last EDR run computed it, so that the Security page reads one row instead of matching every
-- computer with every agent on each request (most of the page's cost at 2,000 computers).
-- The trigger below marks the row stale, in the same transaction, whenever a computer or an
-- agent of the company changes; a stale, old (a day), outlived (an agent it counted has since
-- gone silent) or missing row is never shown: the page
-- then computes the figures live, as it does for readers restricted to some sites.
CREATE TABLE edr_coverage (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    -- The vendors of the company's agents, one a line.
    vendors TEXT NOT NULL,
    computers BIGINT NOT NULL,
    covered BIGINT NOT NULL,
    agents BIGINT NOT NULL,
    silent BIGINT NOT NULL,
    -- The first uncovered computers' names, one a line.
    uncovered TEXT NOT NULL DEFAULT '',
    uncovered_count BIGINT NOT NULL,
    last_check_in BIGINT,
    computed_at BIGINT NOT NULL,
    -- When the first agent counted as live turns silent: the figures hold until then.
    valid_until BIGINT,
    stale BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, company_id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

-- Runs as the writer: whoever may change a computer or an agent may mark its company's coverage
-- stale (the same policy as the assets and agents themselves). Keep edr_coverage's policy as
-- wide as theirs: a writer who could not see the row would leave it fresh.
CREATE FUNCTION portico_stale_edr_coverage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE edr_coverage SET stale = 1
            WHERE workspace_id = OLD.workspace_id AND company_id = OLD.company_id AND stale = 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE edr_coverage SET stale = 1
            WHERE workspace_id = NEW.workspace_id AND company_id = NEW.company_id AND stale = 0;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER assets_insert_delete_edr_coverage AFTER INSERT OR DELETE ON assets
    FOR EACH ROW EXECUTE FUNCTION portico_stale_edr_coverage();
CREATE TRIGGER assets_update_edr_coverage
    AFTER UPDATE OF workspace_id, company_id, kind, archived_at, name, serial ON assets
    FOR EACH ROW EXECUTE FUNCTION portico_stale_edr_coverage();
CREATE TRIGGER edr_agents_insert_delete_edr_coverage AFTER INSERT OR DELETE ON edr_agents
    FOR EACH ROW EXECUTE FUNCTION portico_stale_edr_coverage();
CREATE TRIGGER edr_agents_update_edr_coverage
    AFTER UPDATE OF workspace_id, company_id, vendor, hostname, serial, last_seen_at, retired_at
    ON edr_agents FOR EACH ROW EXECUTE FUNCTION portico_stale_edr_coverage();

ALTER TABLE edr_coverage ENABLE ROW LEVEL SECURITY;
ALTER TABLE edr_coverage FORCE ROW LEVEL SECURITY;
CREATE POLICY edr_coverage_scope ON edr_coverage USING (portico_in_scope(workspace_id, company_id));
