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

-- Append-only. Pruning past the retention period is the one exception: the system handle
-- writes a permit row in its own transaction, deletes, and removes the permit before commit.
CREATE TABLE audit_prune_permits (permit BIGINT NOT NULL);
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permits)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permits)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
