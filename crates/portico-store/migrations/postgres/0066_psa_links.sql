-- I2 PSA two-way (HaloPSA): each Portico ticket sent to the MSP's PSA is linked to the PSA's
-- ticket, and each message that crossed (out: a portal or desk reply; in: a technician's public
-- reply) to the PSA's action, so that nothing crosses twice. A send whose answer never came is
-- marked before it goes (`create_sent_at`, `sent_at`): the next try first looks for it in the
-- PSA instead of sending it again.
CREATE TABLE psa_ticket_links (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    -- The PSA's client the company is mapped to.
    external_tenant TEXT NOT NULL,
    -- The PSA's ticket id; NULL until its creation is known.
    external_id TEXT,
    create_sent_at BIGINT,
    -- Both sides' statuses when they last agreed: a side whose status differs changed since.
    portico_status TEXT NOT NULL DEFAULT '',
    psa_status TEXT NOT NULL DEFAULT '',
    psa_status_name TEXT NOT NULL DEFAULT '',
    synced_at BIGINT,
    -- This ticket's last failure (the tenant's run goes on with the others), and how many in a row.
    last_error TEXT NOT NULL DEFAULT '',
    failures BIGINT NOT NULL DEFAULT 0,
    -- The last time both sides changed the status between two runs, and how it was settled.
    conflict TEXT NOT NULL DEFAULT '',
    conflict_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, ticket_id),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
CREATE UNIQUE INDEX psa_ticket_links_external ON psa_ticket_links (connector_id, external_id);
CREATE INDEX psa_ticket_links_company ON psa_ticket_links (workspace_id, company_id, connector_id);

CREATE TABLE psa_message_links (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    -- 'out': written in Portico, sent; 'in': a PSA action brought in; 'details': the ticket's
    -- first message, sent as the PSA ticket's own text.
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in', 'details')),
    -- The PSA's action id; NULL while a send's answer is unknown.
    external_id TEXT,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, message_id),
    FOREIGN KEY (workspace_id, company_id, ticket_id) REFERENCES tickets (workspace_id, company_id, id)
);
CREATE UNIQUE INDEX psa_message_links_external ON psa_message_links (workspace_id, ticket_id, external_id);

-- A reply brought in from the PSA: 'agent' (the MSP's technician, shown as the desk's) or
-- 'user'; NULL for messages written in Portico.
ALTER TABLE ticket_messages ADD COLUMN psa_author TEXT;

-- The worker looks for PSA tenants whose company's tickets changed since their last run.
CREATE INDEX connector_tenants_kind ON connector_tenants (kind, company_id);

-- Links are the desk's records, never the portal's.
ALTER TABLE psa_ticket_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE psa_ticket_links FORCE ROW LEVEL SECURITY;
CREATE POLICY psa_ticket_links_scope ON psa_ticket_links
    USING (portico_in_scope(workspace_id, company_id) AND NOT portico_on_portal());
ALTER TABLE psa_message_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE psa_message_links FORCE ROW LEVEL SECURITY;
CREATE POLICY psa_message_links_scope ON psa_message_links
    USING (portico_in_scope(workspace_id, company_id) AND NOT portico_on_portal());
