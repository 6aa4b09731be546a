-- A client's ticket list can be read from this index alone: it carries every column the portal
-- list shows, and resolved_at for the portal overview's ticket figures. The desk's per-company
-- view walks it in order and reads the rest from the table.
DROP INDEX tickets_company_updated;
CREATE INDEX tickets_company_page ON tickets (workspace_id, company_id, updated_at, id) INCLUDE (site_id, requester_id, status, priority, resolved_at, title);
