-- Files of public messages that crossed to the PSA, each sent once: marked before its send
-- (`sent_at`), the PSA's id of it recorded after. NULL while the answer is unknown: the next
-- try looks for it in the PSA before sending it again. A file the PSA refuses (or whose bytes
-- cannot be read) keeps its error and is tried at most three times; the ticket's sync goes on.
CREATE TABLE psa_attachment_links (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    external_id TEXT,
    sent_at BIGINT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    failures BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, attachment_id),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
-- Files of messages that crossed before files did stay where they are: marked as not sent
-- (an empty PSA id), so that the first run after the upgrade does not upload the history.
INSERT INTO psa_attachment_links (workspace_id, company_id, ticket_id, attachment_id, external_id, sent_at)
SELECT a.workspace_id, a.company_id, a.ticket_id, a.id, '', 0
FROM ticket_attachments a
JOIN psa_message_links ml ON ml.workspace_id = a.workspace_id AND ml.message_id = a.message_id
WHERE ml.direction IN ('details', 'out');
