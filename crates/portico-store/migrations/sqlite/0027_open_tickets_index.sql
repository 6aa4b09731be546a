-- The desk's open tickets across companies (the console queue, "my work"), newest first, from an
-- index of open tickets alone: walking every ticket's entry newest first read each one's row to
-- test its status, and skipped the resolved and closed ones that most of a desk's history is.
CREATE INDEX tickets_open_updated ON tickets (workspace_id, updated_at, id)
    WHERE status NOT IN ('resolved', 'closed');
