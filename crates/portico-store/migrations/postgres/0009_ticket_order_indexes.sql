-- Ticket lists are ordered by (updated_at DESC, id DESC): id breaks ties so keyset paging is
-- exact. With id in the index the order comes straight from it, so a page stops after its rows
-- instead of sorting every ticket that shares an updated_at with the page's edge.
DROP INDEX tickets_company_updated;
DROP INDEX tickets_workspace_updated;
DROP INDEX tickets_assignee;
CREATE INDEX tickets_company_updated ON tickets (workspace_id, company_id, updated_at, id);
CREATE INDEX tickets_workspace_updated ON tickets (workspace_id, updated_at, id);
CREATE INDEX tickets_assignee ON tickets (workspace_id, assignee_id, updated_at, id);
