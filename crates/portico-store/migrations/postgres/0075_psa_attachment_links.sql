-- Files of public messages that crossed to the PSA, each sent once (as SQLite's 0066): marked
-- before its send (`sent_at`), the PSA's id of it recorded after; NULL while the answer is
-- unknown, so that the next try looks for it in the PSA before sending it again. A refused file
-- keeps its error and is tried at most three times.
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
-- Files of messages that crossed before files did stay where they are: marked as not sent (an
-- empty PSA id), so that the first run after the upgrade does not upload the history. The
-- tables' owner reads every tenant's, with the policies unforced for this transaction only.
ALTER TABLE ticket_attachments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE psa_message_links NO FORCE ROW LEVEL SECURITY;
INSERT INTO psa_attachment_links (workspace_id, company_id, ticket_id, attachment_id, external_id, sent_at)
SELECT a.workspace_id, a.company_id, a.ticket_id, a.id, '', 0
FROM ticket_attachments a
JOIN psa_message_links ml ON ml.workspace_id = a.workspace_id AND ml.message_id = a.message_id
WHERE ml.direction IN ('details', 'out');
ALTER TABLE ticket_attachments FORCE ROW LEVEL SECURITY;
ALTER TABLE psa_message_links FORCE ROW LEVEL SECURITY;
-- The desk's records, as the other links are: never the portal's.
ALTER TABLE psa_attachment_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE psa_attachment_links FORCE ROW LEVEL SECURITY;
CREATE POLICY psa_attachment_links_scope ON psa_attachment_links
    USING (portico_in_scope(workspace_id, company_id) AND NOT portico_on_portal());
