-- Webhooks out (I1): an owner subscribes a URL to events of the workspace (a ticket created,
-- updated or resolved; a change request created or decided). A change that is such an event
-- writes a row to webhook_events in its own transaction, but only when some enabled endpoint of
-- the workspace takes that event (workspaces.webhook_events lists them, kept with the
-- endpoints); the delivery worker fans each event out to the endpoints taking it, signs every
-- delivery per the Standard Webhooks convention, and retries with backoff. Every attempt is kept
-- (the delivery log, with the response's status), and an endpoint failing for days is switched
-- off and its owners told.
ALTER TABLE workspaces ADD COLUMN webhook_events TEXT NOT NULL DEFAULT '';

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Space-separated event types ("ticket.created ticket.resolved").
    events TEXT NOT NULL,
    -- The signing secret, sealed: it must be read back to sign, so it cannot be a hash.
    secret_sealed TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    -- Why it was switched off by the worker (empty when an owner did it, or when enabled).
    disabled_reason TEXT NOT NULL DEFAULT '',
    -- The first failed attempt of its current unbroken run of failures.
    failing_since BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, created_by) REFERENCES staff_users (workspace_id, id)
);

CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    company_id TEXT,
    type TEXT NOT NULL,
    -- The payload's JSON, as each endpoint receives it.
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX webhook_events_created ON webhook_events (created_at);

CREATE TABLE webhook_deliveries (
    -- The `webhook-id` header: the same at every attempt, so that a receiver can ignore a repeat.
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claim_token TEXT,
    claimed_until BIGINT,
    last_status BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    FOREIGN KEY (workspace_id, endpoint_id) REFERENCES webhook_endpoints (workspace_id, id)
        ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    -- The response's status; NULL when none came (refused, timed out).
    status BIGINT,
    error TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
