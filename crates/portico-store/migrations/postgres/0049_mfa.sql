-- Two-step verification (A3, P17): a TOTP authenticator per user (RFC 6238), ten single-use
-- recovery codes, sign-in challenges between the password and the code, and browsers a user
-- chose to remember. Secrets are sealed with a key derived from the server's key file, never
-- stored in the clear; codes and tokens are stored as keyed hashes only.
CREATE TABLE mfa_totp (
    workspace_id TEXT NOT NULL,
    staff_user_id TEXT,
    portal_user_id TEXT,
    secret_sealed TEXT NOT NULL,
    -- NULL while an enrolment begun from the security page waits for its first code.
    confirmed_at BIGINT,
    -- The last time step accepted: a code is good once (RFC 6238, 5.2).
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK ((staff_user_id IS NULL) <> (portal_user_id IS NULL)),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);
CREATE UNIQUE INDEX mfa_totp_staff ON mfa_totp (workspace_id, staff_user_id)
    WHERE staff_user_id IS NOT NULL;
CREATE UNIQUE INDEX mfa_totp_portal ON mfa_totp (workspace_id, portal_user_id)
    WHERE portal_user_id IS NOT NULL;

CREATE TABLE mfa_recovery_codes (
    code_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    staff_user_id TEXT,
    portal_user_id TEXT,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    CHECK ((staff_user_id IS NULL) <> (portal_user_id IS NULL)),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);
CREATE INDEX mfa_recovery_codes_staff ON mfa_recovery_codes (workspace_id, staff_user_id);
CREATE INDEX mfa_recovery_codes_portal ON mfa_recovery_codes (workspace_id, portal_user_id);

-- Between a correct password and the second factor: a short-lived token in a cookie. An
-- enrolment the workspace or company requires carries the secret being set up.
CREATE TABLE mfa_challenges (
    challenge_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    surface TEXT NOT NULL CHECK (surface IN ('console', 'portal')),
    staff_user_id TEXT,
    portal_user_id TEXT,
    enrol_secret_sealed TEXT,
    next_path TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    CHECK ((staff_user_id IS NULL) <> (portal_user_id IS NULL)),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);

CREATE TABLE mfa_remembered_devices (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    staff_user_id TEXT,
    portal_user_id TEXT,
    user_agent TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CHECK ((staff_user_id IS NULL) <> (portal_user_id IS NULL)),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id)
);
CREATE INDEX mfa_remembered_devices_staff ON mfa_remembered_devices (workspace_id, staff_user_id);
CREATE INDEX mfa_remembered_devices_portal ON mfa_remembered_devices (workspace_id, portal_user_id);

-- An owner can require the second factor of every staff member; a company of its portal users.
ALTER TABLE workspaces ADD COLUMN staff_mfa_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE companies ADD COLUMN portal_mfa_required BOOLEAN NOT NULL DEFAULT FALSE;

-- Like sessions: the workspace's, and on the portal only the acting user's own.
ALTER TABLE mfa_totp ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_totp FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_totp_scope ON mfa_totp
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()));
ALTER TABLE mfa_recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_recovery_codes_scope ON mfa_recovery_codes
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()));
ALTER TABLE mfa_challenges ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_challenges FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_challenges_scope ON mfa_challenges
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()));
ALTER TABLE mfa_remembered_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE mfa_remembered_devices FORCE ROW LEVEL SECURITY;
CREATE POLICY mfa_remembered_devices_scope ON mfa_remembered_devices
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()));
