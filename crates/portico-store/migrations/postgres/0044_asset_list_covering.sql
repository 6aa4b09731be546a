-- A company's current assets by name, holding every column a list shows or searches: a page
-- of the list, and a search through the company's assets, can be read from this index alone.
DROP INDEX IF EXISTS assets_company_list;
CREATE INDEX assets_company_list
    ON assets (workspace_id, company_id, archived_at, name, id)
    INCLUDE (site_id, kind, warranty_end, manufacturer, model, serial, assigned_user, last_seen_at);
