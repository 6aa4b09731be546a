-- The console lists companies by name (the queue's company filter, the companies page): with
-- this a page of names is read in order instead of sorting every company of the workspace.
CREATE INDEX companies_name ON companies (workspace_id, name);
