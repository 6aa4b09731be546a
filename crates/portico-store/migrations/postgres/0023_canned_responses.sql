-- Replies staff use again and again, per workspace, with placeholders filled in per ticket
-- ({client_name}, {ticket_number}, …).
CREATE TABLE canned_responses (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, title)
);

-- The desk's own material: a client's transaction sees none.
ALTER TABLE canned_responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE canned_responses FORCE ROW LEVEL SECURITY;
CREATE POLICY canned_responses_scope ON canned_responses
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
