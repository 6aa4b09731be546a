-- A company's current assets, by name, with what their lists filter on (site, kind): counting a
-- page's matches reads this index alone instead of every asset's row (2,000 row reads for the
-- measured company's list, 2 ms a page).
CREATE INDEX assets_company_active ON assets (workspace_id, company_id, name, id, site_id, kind)
    WHERE archived_at IS NULL;
