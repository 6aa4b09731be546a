-- E-mail domain health (P5) of each of a company's e-mail domains (company_email_domains): the
-- DKIM selectors staff set for it, and its last check (the findings as JSON, the worst level),
-- rechecked daily by the worker and at once on request. A row is made at the first check or
-- the first selectors set; a domain removed from the company leaves its row unread.
CREATE TABLE domain_health (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    -- Space-separated.
    dkim_selectors TEXT NOT NULL DEFAULT '',
    report TEXT,
    -- good, unknown, warn or bad.
    worst TEXT,
    checked_at BIGINT,
    -- When it is checked next: 0 as soon as the worker can.
    next_check_at BIGINT NOT NULL DEFAULT 0,
    -- A worker's claim on it, until then.
    lease_until BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, company_id, domain),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX domain_health_due ON domain_health (next_check_at);

ALTER TABLE domain_health ENABLE ROW LEVEL SECURITY;
ALTER TABLE domain_health FORCE ROW LEVEL SECURITY;
CREATE POLICY domain_health_scope ON domain_health
    USING (portico_in_scope(workspace_id, company_id));
