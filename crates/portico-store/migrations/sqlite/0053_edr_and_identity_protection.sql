-- no-transaction: SQLite cannot alter a CHECK constraint, so the connectors table is rebuilt
-- (SQLite's own procedure: foreign keys off, so that dropping the old table cascades to no
-- tenant, run or record; the new one renamed into its place, where the children's references
-- already point).
PRAGMA foreign_keys = OFF;
BEGIN;
-- The vendor a connector speaks to is checked by the application's list of kinds (an unknown
-- kind fails to load); the database no longer lists them, so a new vendor needs no rebuild.
CREATE TABLE connectors_rebuilt (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL CHECK (kind <> ''),
    name TEXT NOT NULL,
    auth_url TEXT NOT NULL,
    api_url TEXT NOT NULL,
    home_tenant TEXT NOT NULL,
    client_id TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    secret_hint TEXT NOT NULL,
    sync_every_minutes BIGINT NOT NULL DEFAULT 60,
    inactive_after_days BIGINT NOT NULL DEFAULT 30,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    discover_requested_at BIGINT,
    discovered_at BIGINT,
    discovery_error TEXT NOT NULL DEFAULT '',
    discovery_claimed_until BIGINT,
    created_at BIGINT NOT NULL,
    pushed BOOLEAN NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, id)
);
INSERT INTO connectors_rebuilt (id, workspace_id, kind, name, auth_url, api_url, home_tenant,
    client_id, secret_sealed, secret_hint, sync_every_minutes, inactive_after_days, enabled,
    discover_requested_at, discovered_at, discovery_error, discovery_claimed_until, created_at,
    pushed)
SELECT id, workspace_id, kind, name, auth_url, api_url, home_tenant, client_id, secret_sealed,
    secret_hint, sync_every_minutes, inactive_after_days, enabled, discover_requested_at,
    discovered_at, discovery_error, discovery_claimed_until, created_at, pushed
FROM connectors;
DROP TABLE connectors;
ALTER TABLE connectors_rebuilt RENAME TO connectors;
CREATE UNIQUE INDEX connectors_pushed ON connectors (workspace_id) WHERE pushed;

-- P5 Security, EDR/MDR: the agents an endpoint-protection vendor (Huntress) reports for a
-- company, as the connector last read them: the card's coverage (the company's computers with
-- an agent, matched by serial, then host name) and the list of those without. An agent gone
-- upstream is retired, kept.
CREATE TABLE edr_agents (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    external_tenant TEXT NOT NULL,
    external_id TEXT NOT NULL,
    -- The product, as people name it ("Huntress").
    vendor TEXT NOT NULL,
    hostname TEXT NOT NULL,
    serial TEXT NOT NULL DEFAULT '',
    -- windows, darwin or linux.
    platform TEXT NOT NULL DEFAULT '',
    os TEXT NOT NULL DEFAULT '',
    last_seen_at BIGINT,
    retired_at BIGINT,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (company_id, external_tenant, external_id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX edr_agents_company ON edr_agents (workspace_id, company_id);

-- P5 Security, identity threat detection (ITDR): how many of a company's identities the vendor
-- watches, as its last read counted them (one row per vendor tenant).
CREATE TABLE identity_protection (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    external_tenant TEXT NOT NULL,
    vendor TEXT NOT NULL,
    -- Enabled, internal identities of the company's directory.
    identities BIGINT NOT NULL,
    -- Of them, those the vendor's identity protection covers.
    protected BIGINT NOT NULL,
    without_mfa BIGINT NOT NULL,
    -- Rated at medium or high risk by the identity provider.
    at_risk BIGINT NOT NULL,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (company_id, external_tenant),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE
);
COMMIT;
PRAGMA foreign_keys = ON;
