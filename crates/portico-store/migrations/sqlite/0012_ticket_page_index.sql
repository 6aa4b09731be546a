-- A client's ticket list reads its page from this index alone: it carries every column the
-- portal list shows, so a page costs no table lookups, and status filters skip resolved or
-- closed tickets inside the index. With resolved_at, the portal overview's ticket figures are
-- counted inside it too. The desk's per-company view walks it in order and reads the rest from
-- the table.
DROP INDEX tickets_company_updated;
CREATE INDEX tickets_company_page ON tickets (workspace_id, company_id, updated_at, id, site_id, requester_id, status, priority, resolved_at, title);
