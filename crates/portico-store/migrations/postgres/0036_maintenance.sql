-- Maintenance (P4): work done on a company's systems, or planned ahead (a patching run, updates,
-- scheduled work), with the sites and assets it touched. Entered by staff; later fed by an RMM.
CREATE TABLE maintenance_records (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('patching', 'updates', 'scheduled', 'other')),
    outcome TEXT NOT NULL CHECK (outcome IN ('planned', 'succeeded', 'partial', 'failed', 'cancelled')),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    -- The end of the window; none for work recorded at a moment.
    ends_at BIGINT,
    -- Who recorded it, as it was, as a reply keeps its author's.
    staff_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE INDEX maintenance_company_start ON maintenance_records (workspace_id, company_id, starts_at);

-- What a record touched: a whole site (no asset), or an asset (with the site it stood at, so
-- that a site-restricted reader's fence applies to it). A record with no site at all concerns
-- the whole company.
CREATE TABLE maintenance_targets (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    site_id TEXT,
    asset_id TEXT,
    CHECK (site_id IS NOT NULL OR asset_id IS NOT NULL),
    FOREIGN KEY (workspace_id, company_id, record_id) REFERENCES maintenance_records (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id, site_id) REFERENCES sites (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id, asset_id) REFERENCES assets (workspace_id, company_id, id)
);
CREATE INDEX maintenance_targets_record ON maintenance_targets (record_id);
CREATE INDEX maintenance_targets_asset ON maintenance_targets (asset_id);

ALTER TABLE maintenance_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE maintenance_records FORCE ROW LEVEL SECURITY;
CREATE POLICY maintenance_records_scope ON maintenance_records USING (portico_in_scope(workspace_id, company_id));
ALTER TABLE maintenance_targets ENABLE ROW LEVEL SECURITY;
ALTER TABLE maintenance_targets FORCE ROW LEVEL SECURITY;
CREATE POLICY maintenance_targets_scope ON maintenance_targets USING (portico_in_scope(workspace_id, company_id));
