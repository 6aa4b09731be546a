-- Connectors (I2): the MSP's tools feeding the portal. A connector is one vendor account of the
-- workspace (today Microsoft 365 through Microsoft Graph, as MSPs connect with GDAP): where its
-- API lives (configuration, so that an MSP can point it at a proxy), its credentials sealed with
-- the server's key (never shown again), and how often it syncs. Each vendor tenant it reaches is
-- mapped to one company; only mapped tenants sync, each on its own schedule, claimed by one
-- instance at a time, so that one failing tenant never holds up another.
CREATE TABLE connectors (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    kind TEXT NOT NULL CHECK (kind IN ('microsoft365', 'ninjaone')),
    name TEXT NOT NULL,
    -- The vendor's sign-in and API base addresses.
    auth_url TEXT NOT NULL,
    api_url TEXT NOT NULL,
    -- The MSP's own (partner) tenant: where its customers are discovered.
    home_tenant TEXT NOT NULL,
    client_id TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    -- The secret's last four characters, to tell which one is stored.
    secret_hint TEXT NOT NULL,
    sync_every_minutes BIGINT NOT NULL DEFAULT 60,
    -- A licence assigned to a user not signed in for this many days counts as unused.
    inactive_after_days BIGINT NOT NULL DEFAULT 30,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- Discovery of the partner's customers: asked for, last done, and its error.
    discover_requested_at BIGINT,
    discovered_at BIGINT,
    discovery_error TEXT NOT NULL DEFAULT '',
    discovery_claimed_until BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, id)
);

CREATE TABLE connector_tenants (
    workspace_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    -- Denormalised from the connector, so that a portal freshness line needs no staff table.
    kind TEXT NOT NULL,
    -- Whether its connector is switched on (kept with the connector's own switch), so that a
    -- portal offers Refresh only where a sync will run.
    connector_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- The vendor's id of the tenant (a Microsoft Entra tenant id).
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Space-separated domains the vendor reports for it, for suggestions.
    domains TEXT NOT NULL DEFAULT '',
    -- NULL until an owner maps it; unmapped tenants never sync.
    company_id TEXT,
    next_sync_at BIGINT NOT NULL DEFAULT 0,
    refresh_requested_at BIGINT,
    -- Who asked for that refresh: 'console' or 'portal' (the run's history says so).
    refresh_by TEXT NOT NULL DEFAULT '',
    -- When the company (or the console) last asked for a refresh: the throttle's clock.
    refresh_asked_at BIGINT,
    claim_token TEXT,
    claimed_until BIGINT,
    last_attempt_at BIGINT,
    last_success_at BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    -- Failed runs in a row, for the backoff.
    failures BIGINT NOT NULL DEFAULT 0,
    -- What the last successful run found.
    last_counts TEXT NOT NULL DEFAULT '',
    -- The directory users it fed its company at the last run, and of them those enabled
    -- without a second factor: the directory page's counts without counting thousands of rows.
    users_total BIGINT NOT NULL DEFAULT 0,
    users_without_mfa BIGINT NOT NULL DEFAULT 0,
    -- Incremental reads: the vendor's time of the latest change read (security alerts are read
    -- from it on, not whole).
    alerts_watermark TEXT NOT NULL DEFAULT '',
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (connector_id, external_id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX connector_tenants_due ON connector_tenants (next_sync_at);
CREATE INDEX connector_tenants_company ON connector_tenants (workspace_id, company_id);

-- Every run of a tenant's sync, kept 90 days: the console's history.
CREATE TABLE connector_runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    company_id TEXT,
    -- 'schedule', 'console' or 'portal'.
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    succeeded BOOLEAN NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    requests BIGINT NOT NULL DEFAULT 0,
    -- Records read, added, changed and retired.
    seen BIGINT NOT NULL DEFAULT 0,
    added BIGINT NOT NULL DEFAULT 0,
    changed BIGINT NOT NULL DEFAULT 0,
    retired BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX connector_runs_connector ON connector_runs (connector_id, started_at);
CREATE INDEX connector_runs_company ON connector_runs (workspace_id, company_id, started_at);

-- P11 Licences: a company's subscribed products, as the connector last read them. A product
-- gone upstream is retired (kept, marked), never deleted.
CREATE TABLE licences (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    external_tenant TEXT NOT NULL,
    sku_id TEXT NOT NULL,
    sku_part_number TEXT NOT NULL,
    product_name TEXT NOT NULL,
    capability_status TEXT NOT NULL,
    purchased BIGINT NOT NULL,
    assigned BIGINT NOT NULL,
    suspended BIGINT NOT NULL DEFAULT 0,
    warning BIGINT NOT NULL DEFAULT 0,
    -- Assigned to users who are disabled, and to enabled users not signed in for the
    -- connector's inactivity period: as of the last sync.
    unused_disabled BIGINT NOT NULL DEFAULT 0,
    unused_inactive BIGINT NOT NULL DEFAULT 0,
    -- The next renewal or lifecycle date the vendor gives (YYYY-MM-DD), and one staff entered,
    -- which wins.
    renews_on TEXT,
    renews_on_entered TEXT,
    retired_at BIGINT,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (company_id, external_tenant, sku_id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX licences_company ON licences (workspace_id, company_id);

-- What the MSP charges per user and month for a product (billing-only), per workspace.
CREATE TABLE licence_prices (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    sku_part_number TEXT NOT NULL,
    monthly_cents BIGINT NOT NULL CHECK (monthly_cents >= 0),
    currency TEXT NOT NULL,
    PRIMARY KEY (workspace_id, sku_part_number)
);

-- P19 Users: a company's directory users as the connector last read them.
CREATE TABLE directory_users (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    external_tenant TEXT NOT NULL,
    external_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    user_principal_name TEXT NOT NULL,
    mail TEXT NOT NULL DEFAULT '',
    enabled BOOLEAN NOT NULL,
    -- Space-separated SKU ids of the licences assigned.
    licence_skus TEXT NOT NULL DEFAULT '',
    -- NULL when the vendor did not say (no report permission).
    mfa_registered BOOLEAN,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    last_sign_in_at BIGINT,
    retired_at BIGINT,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (company_id, external_tenant, external_id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE
);
-- A company's page by name, in the page's own order (no sort).
CREATE INDEX directory_users_company ON directory_users (workspace_id, company_id, display_name, external_id);


-- Records an RMM connector keeps (P8 Assets, P4 Maintenance): the connector and the vendor's id
-- of the device or activity. A device is matched to an asset entered by hand by serial, then by
-- name, and linked; one gone upstream is archived, never deleted.
ALTER TABLE assets ADD COLUMN source_connector TEXT;
ALTER TABLE assets ADD COLUMN source_id TEXT;
-- Added by the connector (not an asset entered by hand that it was matched to): archived when
-- its tenant is unmapped, where a matched one is only unlinked.
ALTER TABLE assets ADD COLUMN source_added BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX assets_source ON assets (source_connector, source_id);
ALTER TABLE maintenance_records ADD COLUMN source_connector TEXT;
ALTER TABLE maintenance_records ADD COLUMN source_id TEXT;
CREATE INDEX maintenance_records_source ON maintenance_records (source_connector, source_id);


-- Security alerts a connector read (Microsoft Defender's `alerts_v2`), for the Security section:
-- read incrementally (changed since the watermark), kept as the vendor last reported them.
CREATE TABLE security_alerts (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    external_tenant TEXT NOT NULL,
    external_id TEXT NOT NULL,
    title TEXT NOT NULL,
    -- unknown, informational, low, medium or high.
    severity TEXT NOT NULL,
    -- new, inProgress or resolved (the vendor's words).
    status TEXT NOT NULL,
    service_source TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    -- What it concerns (a device, a mailbox, a user), from its evidence.
    subject TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (company_id, external_tenant, external_id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, connector_id) REFERENCES connectors (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX security_alerts_company ON security_alerts (workspace_id, company_id, created_at);

-- Connectors and their runs are the workspace's administration (owners, by the store's check),
-- never the portal's. A tenant row is its company's once mapped: the portal reads its own
-- company's freshness and asks for a refresh; unmapped tenants name other organisations and are
-- staff-only. Licences and directory users are the company's records.
ALTER TABLE connectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE connectors FORCE ROW LEVEL SECURITY;
CREATE POLICY connectors_scope ON connectors
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
ALTER TABLE connector_tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE connector_tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY connector_tenants_scope ON connector_tenants
    USING (portico_in_scope(workspace_id, company_id)
           AND (company_id IS NOT NULL
                OR (NOT portico_on_portal()
                    AND (COALESCE(current_setting('app.system', true), '') = 'on'
                         OR current_setting('app.company_ids', true) = '*'))));
ALTER TABLE connector_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE connector_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY connector_runs_scope ON connector_runs
    USING (portico_in_scope(workspace_id, company_id) AND NOT portico_on_portal());
ALTER TABLE licences ENABLE ROW LEVEL SECURITY;
ALTER TABLE licences FORCE ROW LEVEL SECURITY;
CREATE POLICY licences_scope ON licences USING (portico_in_scope(workspace_id, company_id));
ALTER TABLE licence_prices ENABLE ROW LEVEL SECURITY;
ALTER TABLE licence_prices FORCE ROW LEVEL SECURITY;
-- Readable within the workspace; the store gives prices only to billing readers (as it does
-- invoices' amounts: the database fence has no notion of billing rights). Written by staff only.
CREATE POLICY licence_prices_read ON licence_prices FOR SELECT
    USING (portico_in_scope(workspace_id, NULL));
CREATE POLICY licence_prices_write ON licence_prices
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
ALTER TABLE directory_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE directory_users FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_users_scope ON directory_users USING (portico_in_scope(workspace_id, company_id));
ALTER TABLE security_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE security_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY security_alerts_scope ON security_alerts USING (portico_in_scope(workspace_id, company_id));
