-- Who of the desk is writing a reply to a ticket (the SQLite migration 0024 says more).
CREATE TABLE ticket_presence (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    staff_user_id TEXT NOT NULL,
    staff_name TEXT NOT NULL,
    until BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, staff_user_id),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
ALTER TABLE ticket_presence ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_presence FORCE ROW LEVEL SECURITY;
-- The desk's own business: never visible to a client's transaction.
CREATE POLICY ticket_presence_scope ON ticket_presence
    USING (portico_in_scope(workspace_id, company_id) AND NOT portico_on_portal());
