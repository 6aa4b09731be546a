-- The vendor a connector speaks to is checked by the application's list of kinds (an unknown
-- kind fails to load); the database no longer lists them, so a new vendor needs no migration.
ALTER TABLE connectors DROP CONSTRAINT connectors_kind_check;
ALTER TABLE connectors ADD CONSTRAINT connectors_kind_check CHECK (kind <> '');

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

ALTER TABLE edr_agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE edr_agents FORCE ROW LEVEL SECURITY;
CREATE POLICY edr_agents_scope ON edr_agents USING (portico_in_scope(workspace_id, company_id));
ALTER TABLE identity_protection ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity_protection FORCE ROW LEVEL SECURITY;
CREATE POLICY identity_protection_scope ON identity_protection
    USING (portico_in_scope(workspace_id, company_id));
