-- A company's ticket list (every portal list, and the desk's per-company view) reads its page
-- from this index alone: it carries every column a client's list shows, so a page costs no
-- table lookups, and status filters skip resolved or closed tickets inside the index. With
-- resolved_at, the portal overview's ticket figures are counted inside it too.
DROP INDEX tickets_company_updated;
CREATE INDEX tickets_company_page ON tickets (workspace_id, company_id, updated_at, id, site_id, requester_id, status, priority, resolved_at, title);
