-- Files of public messages that crossed to the PSA, each sent once: marked before its send
-- (`sent_at`), the PSA's id of it recorded after. NULL while the answer is unknown: the next
-- try looks for it in the PSA before sending it again.
CREATE TABLE psa_attachment_links (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    external_id TEXT,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, attachment_id),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
