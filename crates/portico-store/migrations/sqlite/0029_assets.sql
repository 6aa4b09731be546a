-- Assets (P8, C3): the devices and other things an MSP looks after, per company and site.
-- Dates without a time (warranty end, purchase) are ISO dates, which sort as text.
CREATE TABLE assets (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    site_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('workstation', 'laptop', 'server', 'network', 'printer', 'phone', 'tablet', 'other')),
    manufacturer TEXT NOT NULL,
    model TEXT NOT NULL,
    serial TEXT NOT NULL,
    os TEXT NOT NULL,
    warranty_end TEXT,
    purchased_on TEXT,
    last_seen_at BIGINT,
    assigned_user TEXT NOT NULL,
    notes TEXT NOT NULL,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, company_id, site_id) REFERENCES sites (workspace_id, company_id, id)
);
-- A company's list by name (the default order) and by warranty end (the "ending soon" filter).
CREATE INDEX assets_company_name ON assets (workspace_id, company_id, name, id);
CREATE INDEX assets_company_warranty ON assets (workspace_id, company_id, warranty_end);

-- Fields a workspace adds to its assets, in order; values per asset.
CREATE TABLE asset_fields (
    workspace_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    position BIGINT NOT NULL,
    UNIQUE (workspace_id, id)
);
CREATE TABLE asset_field_values (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    field_id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (asset_id, field_id),
    FOREIGN KEY (workspace_id, company_id, asset_id) REFERENCES assets (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, field_id) REFERENCES asset_fields (workspace_id, id)
);

-- Which asset fields the portal shows: the workspace's choice (no company) and a company's
-- override. A field is a built-in one's name or `custom:<field id>`. Fields not listed take
-- their default (built-in fields shown but notes, custom fields hidden).
CREATE TABLE asset_field_visibility (
    workspace_id TEXT NOT NULL,
    company_id TEXT,
    field TEXT NOT NULL,
    shown BOOLEAN NOT NULL
);
CREATE INDEX asset_field_visibility_owner ON asset_field_visibility (workspace_id, company_id);

-- A ticket raised about an asset ("Report an issue").
ALTER TABLE tickets ADD COLUMN asset_id TEXT;
