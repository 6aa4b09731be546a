-- Files attached to ticket messages. The bytes live in the blob store under a content-derived
-- key; this row is the only way to reach them, and it carries the ticket's company for the
-- fence. Internal attachments (on internal notes) are never selected for the portal.
CREATE TABLE ticket_attachments (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    blob_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    inline BOOLEAN NOT NULL,
    internal BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id);
