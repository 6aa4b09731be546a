-- Idempotency keys of the REST API (I1): a POST sent with `Idempotency-Key` is carried out once
-- per token and key; a retry with the same body gets the first answer again, with another body
-- a refusal. Written in the transaction of the change it answers, so a rolled-back change leaves
-- no key behind. Kept a day.
CREATE TABLE api_idempotency_keys (
    workspace_id TEXT NOT NULL,
    token_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- The token's company (NULL: every company), for the fence.
    company_id TEXT,
    -- SHA-256 of the method, path and body the key was first used with.
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    location TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, idempotency_key),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX api_idempotency_keys_age ON api_idempotency_keys (created_at);
