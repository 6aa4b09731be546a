-- The audit log (A4): every security-relevant and portal action, in hash chains. A company's
-- chain (`chain` = its id) holds what its client admins may read and verify themselves; the
-- workspace's chain (`chain` = '') holds the MSP's own (staff sign-ins, internal notes, settings
-- of the workspace). Each entry's hash covers the one before it (see `audit/chain.rs` for the
-- exact hashed text); `audit_heads` keeps each chain's last entry, and `audit_checkpoints` the
-- heads signed with the workspace's Ed25519 key every so many entries and minutes, so that a
-- truncated or rebuilt chain is caught too.
CREATE TABLE audit_entries (
    workspace_id TEXT NOT NULL,
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    -- The chain's company (NULL on the workspace's chain): what the fence reads.
    company_id TEXT,
    -- The company an entry concerns, on either chain (an internal note on its ticket).
    concerns_company_id TEXT,
    id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_label TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (workspace_id, chain, seq),
    CHECK (chain = COALESCE(company_id, '')),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX audit_entries_concerns ON audit_entries (workspace_id, concerns_company_id, at_ms);
CREATE INDEX audit_entries_time ON audit_entries (workspace_id, at_ms);

CREATE TABLE audit_heads (
    workspace_id TEXT NOT NULL,
    chain TEXT NOT NULL,
    company_id TEXT,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    -- The last entry signed by a checkpoint, and when (the periodic signer's cue).
    signed_seq BIGINT NOT NULL DEFAULT 0,
    signed_at_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, chain),
    CHECK (chain = COALESCE(company_id, ''))
);

CREATE TABLE audit_checkpoints (
    workspace_id TEXT NOT NULL,
    chain TEXT NOT NULL,
    company_id TEXT,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    -- Hex: the Ed25519 key that signed and its signature of the checkpoint's text.
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (workspace_id, chain, seq),
    CHECK (chain = COALESCE(company_id, ''))
);

-- The workspace's own chain (no company): read by scopes that cover every company (owners,
-- billing staff), appended by staff and sign-in flows, never touched by the portal.
CREATE FUNCTION portico_audit_chain(ws TEXT, company TEXT, reading BOOLEAN) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT portico_in_scope(ws, company)
        AND (company IS NOT NULL
             OR (NOT portico_on_portal()
                 AND (NOT reading OR current_setting('app.company_ids', true) = '*')))
$$;

ALTER TABLE audit_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_entries_read ON audit_entries FOR SELECT
    USING (portico_audit_chain(workspace_id, company_id, true));
CREATE POLICY audit_entries_append ON audit_entries FOR INSERT
    WITH CHECK (portico_audit_chain(workspace_id, company_id, false));

ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_heads_scope ON audit_heads
    USING (portico_audit_chain(workspace_id, company_id, false))
    WITH CHECK (portico_audit_chain(workspace_id, company_id, false));

ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_checkpoints_read ON audit_checkpoints FOR SELECT
    USING (portico_audit_chain(workspace_id, company_id, true));
CREATE POLICY audit_checkpoints_append ON audit_checkpoints FOR INSERT
    WITH CHECK (portico_audit_chain(workspace_id, company_id, false));

-- Append-only: the roles the application connects as may not UPDATE or DELETE entries or
-- checkpoints (the grants are narrowed after each migration run, see `migrate.rs`); only the
-- system role, which prunes past the retention period, may DELETE. This table is SQLite's
-- pruning permit (its triggers stand in for grants there) and stays empty here.
CREATE TABLE audit_prune_permits (permit BIGINT NOT NULL);
