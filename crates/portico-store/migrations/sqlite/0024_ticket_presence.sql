-- Who of the desk is writing a reply to a ticket, so that a colleague on the same ticket is
-- told. Each row lasts until `until` (the page renews it while its writer types); staff only.
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
