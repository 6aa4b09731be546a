-- Breach monitoring (P5) through Have I Been Pwned: the MSP's API key per workspace (sealed
-- like every stored secret, shown again only as its last characters) and the address it is
-- used at (a proxy, or HIBP's own).
CREATE TABLE breach_monitoring (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
    key_sealed TEXT NOT NULL,
    key_hint TEXT NOT NULL,
    api_url TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The accounts of a company's domains HIBP lists in breaches: the alias (before the @) and
-- its breaches' names (sorted, space-separated). An account HIBP no longer lists is kept with
-- `gone_at`.
CREATE TABLE breached_accounts (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    alias TEXT NOT NULL,
    breaches TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    gone_at BIGINT,
    PRIMARY KEY (workspace_id, company_id, domain, alias),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);

-- HIBP's breaches as its API describes them, kept per workspace: each is read from the address
-- the workspace's owners set, so one workspace's answers never reach another's pages or mail.
CREATE TABLE known_breaches (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    breach_date TEXT NOT NULL,
    -- What leaked, separated by ", ".
    data_classes TEXT NOT NULL,
    pwn_count BIGINT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- When a domain's breaches were last searched, and why the last search failed.
ALTER TABLE domain_health ADD COLUMN breaches_checked_at BIGINT;
ALTER TABLE domain_health ADD COLUMN breach_error TEXT NOT NULL DEFAULT '';

-- Whether the company's client admins are mailed new findings too (the MSP's owners always are).
ALTER TABLE companies ADD COLUMN breach_alerts_to_admins BOOLEAN NOT NULL DEFAULT false;

-- The key is the MSP's: staff only, and its owners by the store's check.
ALTER TABLE breach_monitoring ENABLE ROW LEVEL SECURITY;
ALTER TABLE breach_monitoring FORCE ROW LEVEL SECURITY;
CREATE POLICY breach_monitoring_scope ON breach_monitoring
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
ALTER TABLE known_breaches ENABLE ROW LEVEL SECURITY;
ALTER TABLE known_breaches FORCE ROW LEVEL SECURITY;
CREATE POLICY known_breaches_scope ON known_breaches
    USING (portico_in_scope(workspace_id, NULL));
ALTER TABLE breached_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE breached_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY breached_accounts_scope ON breached_accounts
    USING (portico_in_scope(workspace_id, company_id));
