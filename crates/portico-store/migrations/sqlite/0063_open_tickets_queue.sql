-- The console queue's page read from the index of open tickets alone: the index named each
-- ticket, and each of the page's rows was then found again in the table (a tenth of the page's
-- time). It now holds every column the desk's lists read, so SQLite never leaves it. Open
-- tickets are the desk's working set, not its history, so the copy stays small beside the table.
DROP INDEX tickets_open_updated;
CREATE INDEX tickets_open_queue ON tickets (
    workspace_id, updated_at, id, number, company_id, site_id, requester_id, assignee_id, status,
    priority, category, created_at, resolved_at, first_response_at, first_response_due_at,
    resolution_due_at, sla_paused_at, title
) WHERE status NOT IN ('resolved', 'closed');
