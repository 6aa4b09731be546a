-- A company's current assets by name, holding every column a list shows or searches (model,
-- serial, manufacturer, assigned user, last seen): a page of the list, and a search through
-- the company's assets, read this index alone instead of looking up each asset's row (fifty
-- lookups a page; two thousand for a search of the measured company).
DROP INDEX IF EXISTS assets_company_list;
CREATE INDEX assets_company_list
    ON assets (workspace_id, company_id, archived_at, name, id, site_id, kind, warranty_end,
               manufacturer, model, serial, assigned_user, last_seen_at);
