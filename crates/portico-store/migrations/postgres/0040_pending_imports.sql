-- A CSV file uploaded for import (I3, C5), kept between its preview and its application so the
-- file applied is exactly the file previewed. One staff user's own; dropped a day after upload.
CREATE TABLE pending_imports (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT PRIMARY KEY,
    staff_user_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('companies', 'sites', 'contacts', 'assets', 'portal_users')),
    file_name TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    applied_at BIGINT
);
CREATE INDEX pending_imports_created ON pending_imports (workspace_id, created_at);

ALTER TABLE pending_imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE pending_imports FORCE ROW LEVEL SECURITY;
CREATE POLICY pending_imports_scope ON pending_imports
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal()
           AND staff_user_id = portico_principal());
