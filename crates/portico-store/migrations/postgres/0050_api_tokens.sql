-- API tokens (C9): made by an owner for the workspace or one company, read or read-write, with
-- an expiry; shown once, stored as SHA-256 only. A token acts for the owner who made it and
-- stops working when they are disabled or no longer an owner.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- NULL: every company of the workspace.
    company_id TEXT,
    access TEXT NOT NULL CHECK (access IN ('read', 'read_write')),
    token_hash TEXT NOT NULL UNIQUE,
    -- The first characters of the token, so that a person can tell their tokens apart.
    prefix TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,
    last_used_ip TEXT NOT NULL DEFAULT '',
    revoked_at BIGINT,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, created_by) REFERENCES staff_users (workspace_id, id)
);
CREATE INDEX api_tokens_workspace ON api_tokens (workspace_id, created_at);

-- Staff of the token's company (owners, who alone manage tokens, cover every company); the
-- sign-in fence of the workspace resolves a token by its hash. Never on the portal.
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY api_tokens_scope ON api_tokens
    USING (portico_in_scope(workspace_id, company_id) AND NOT portico_on_portal());
