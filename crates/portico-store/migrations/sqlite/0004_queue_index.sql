-- The desk's queue across every company of the workspace, newest activity first: without this
-- an owner's queue sorts every matching ticket of the workspace for each page.
CREATE INDEX tickets_workspace_updated ON tickets (workspace_id, updated_at);
