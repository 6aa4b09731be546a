-- A company's ticket list (every portal list, and the desk's per-company view) can be read from
-- this index alone: it carries every column a client's list shows, and resolved_at for the
-- portal overview's ticket figures.
DROP INDEX tickets_company_updated;
CREATE INDEX tickets_company_page ON tickets (workspace_id, company_id, updated_at, id) INCLUDE (site_id, requester_id, status, priority, resolved_at, title);
