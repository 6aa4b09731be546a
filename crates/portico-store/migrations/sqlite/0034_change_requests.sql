-- Change requests (P14, C7): what a client asked the MSP to change, about an asset, a contact,
-- a portal user or nothing in particular. The target's name is kept as it was asked about.
-- Nothing changes until staff carry a request out; a purchase first needs the company's
-- purchase approver.
CREATE TABLE change_requests (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('update', 'add', 'remove', 'purchase', 'other')),
    target_kind TEXT NOT NULL CHECK (target_kind IN ('asset', 'contact', 'portal_user', 'general')),
    target_id TEXT,
    target_label TEXT NOT NULL,
    -- The site of the asset a request is about, as it was raised: site-restricted readers see
    -- requests about their sites' assets (and those about no site) only.
    site_id TEXT,
    title TEXT NOT NULL,
    details TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('awaiting_approval', 'declined', 'open', 'approved', 'rejected', 'done')),
    requested_by TEXT NOT NULL,
    requester_name TEXT NOT NULL,
    assignee_id TEXT,
    decision_note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
-- A company's requests, latest first; the console's queue by status.
CREATE INDEX change_requests_company ON change_requests (workspace_id, company_id, created_at);
CREATE INDEX change_requests_queue ON change_requests (workspace_id, status, created_at);

-- What happened to a request, in order: raised, approved by the purchase approver, assigned,
-- approved, rejected, done; by whom (their name as it was) and with what note.
CREATE TABLE change_request_events (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor_name TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    FOREIGN KEY (workspace_id, company_id, request_id) REFERENCES change_requests (workspace_id, company_id, id)
);
CREATE INDEX change_request_events_request ON change_request_events (request_id, at);
