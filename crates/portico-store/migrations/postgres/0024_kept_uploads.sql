-- Files attached to a form the server refused (a new ticket missing its title, say): stored
-- already, and kept here for the person who attached them, so that the form shown again still
-- carries them. A random token per file, stored hashed, names it in that form; a day later it
-- is forgotten.
CREATE TABLE kept_uploads (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    token_hash TEXT PRIMARY KEY,
    portal_user_id TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    inline BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);
CREATE INDEX kept_uploads_owner ON kept_uploads (workspace_id, portal_user_id, created_at);

-- One person's own: a client's transaction sees only its own user's.
ALTER TABLE kept_uploads ENABLE ROW LEVEL SECURITY;
ALTER TABLE kept_uploads FORCE ROW LEVEL SECURITY;
CREATE POLICY kept_uploads_scope ON kept_uploads
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()));
