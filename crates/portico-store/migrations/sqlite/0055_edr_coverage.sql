-- P5 Security: a company's endpoint coverage (its computers with an agent that reports), as the
-- last EDR run computed it, so that the Security page reads one row instead of matching every
-- computer with every agent on each request (most of the page's cost at 2,000 computers).
-- The triggers below mark the row stale, in the same transaction, whenever a computer or an
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
) WITHOUT ROWID;

CREATE TRIGGER assets_insert_edr_coverage AFTER INSERT ON assets BEGIN
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = NEW.workspace_id AND company_id = NEW.company_id AND stale = 0;
END;
CREATE TRIGGER assets_update_edr_coverage
AFTER UPDATE OF workspace_id, company_id, kind, archived_at, name, serial ON assets BEGIN
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = OLD.workspace_id AND company_id = OLD.company_id AND stale = 0;
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = NEW.workspace_id AND company_id = NEW.company_id AND stale = 0;
END;
CREATE TRIGGER assets_delete_edr_coverage AFTER DELETE ON assets BEGIN
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = OLD.workspace_id AND company_id = OLD.company_id AND stale = 0;
END;
CREATE TRIGGER edr_agents_insert_edr_coverage AFTER INSERT ON edr_agents BEGIN
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = NEW.workspace_id AND company_id = NEW.company_id AND stale = 0;
END;
CREATE TRIGGER edr_agents_update_edr_coverage
AFTER UPDATE OF workspace_id, company_id, vendor, hostname, serial, last_seen_at, retired_at
ON edr_agents BEGIN
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = OLD.workspace_id AND company_id = OLD.company_id AND stale = 0;
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = NEW.workspace_id AND company_id = NEW.company_id AND stale = 0;
END;
CREATE TRIGGER edr_agents_delete_edr_coverage AFTER DELETE ON edr_agents BEGIN
    UPDATE edr_coverage SET stale = 1
        WHERE workspace_id = OLD.workspace_id AND company_id = OLD.company_id AND stale = 0;
END;
