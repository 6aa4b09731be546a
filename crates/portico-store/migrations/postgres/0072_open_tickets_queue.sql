-- The console queue's page read from the index of open tickets alone (an index-only scan where
-- the visibility map allows): it holds every column the desk's lists read. See SQLite's 0063.
DROP INDEX tickets_open_updated;
CREATE INDEX tickets_open_queue ON tickets (workspace_id, updated_at, id)
    INCLUDE (number, company_id, site_id, requester_id, assignee_id, status, priority, category,
        created_at, resolved_at, first_response_at, first_response_due_at, resolution_due_at,
        sla_paused_at, title)
    WHERE status NOT IN ('resolved', 'closed');
