-- A staff user's saved queue views: a name and the queue's filter query string.
CREATE TABLE saved_views (
    workspace_id TEXT NOT NULL,
    staff_user_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id)
);
CREATE INDEX saved_views_owner ON saved_views (workspace_id, staff_user_id);

ALTER TABLE saved_views ENABLE ROW LEVEL SECURITY;
ALTER TABLE saved_views FORCE ROW LEVEL SECURITY;
CREATE POLICY saved_views_scope ON saved_views USING (portico_in_scope(workspace_id, NULL));
