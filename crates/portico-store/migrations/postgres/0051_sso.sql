-- Single sign-on (A3): one OpenID Connect provider per workspace, for staff, for portal users,
-- or both; its client secret sealed with a key derived from the server key file. A sign-in in
-- flight keeps its state (hashed), nonce and PKCE verifier (sealed) until the provider sends
-- the person back, once. A company can require it of its portal users.
CREATE TABLE sso_providers (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
    display_name TEXT NOT NULL,
    issuer_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    for_staff BOOLEAN NOT NULL DEFAULT FALSE,
    for_portal BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sso_logins (
    state_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    surface TEXT NOT NULL CHECK (surface IN ('console', 'portal')),
    nonce_sealed TEXT NOT NULL,
    pkce_verifier_sealed TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

ALTER TABLE companies ADD COLUMN sso_required BOOLEAN NOT NULL DEFAULT FALSE;

-- The workspace's own: owners configure it; the sign-in fence reads it. Never on the portal.
ALTER TABLE sso_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY sso_providers_scope ON sso_providers
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
ALTER TABLE sso_logins ENABLE ROW LEVEL SECURITY;
ALTER TABLE sso_logins FORCE ROW LEVEL SECURITY;
CREATE POLICY sso_logins_scope ON sso_logins
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());
