-- The client's ticket list shows each ticket's number, which came after the page index
-- (0012): with it the index carries every column of the list again, and a page costs no table
-- lookups.
DROP INDEX tickets_company_page;
CREATE INDEX tickets_company_page ON tickets (workspace_id, company_id, updated_at, id, site_id, requester_id, status, priority, resolved_at, title, number);
