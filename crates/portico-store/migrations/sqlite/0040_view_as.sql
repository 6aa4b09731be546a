-- View as (C6): a staff member opens the portal as one of a company's portal users, read-only,
-- for at most fifteen minutes, with a reason, every page audited. The console hands over to the
-- portal's host through a single-use token (cookies do not cross hosts); redeemed, it opens a
-- portal session of the user that names who is viewing and why.
CREATE TABLE view_as_handoffs (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    portal_user_id TEXT NOT NULL,
    staff_user_id TEXT NOT NULL,
    staff_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id)
);

ALTER TABLE sessions ADD COLUMN view_as_staff_id TEXT;
ALTER TABLE sessions ADD COLUMN view_as_by TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN view_as_reason TEXT NOT NULL DEFAULT '';

-- A portal user's own sign-ins, for their profile.
CREATE INDEX audit_entries_target ON audit_entries (workspace_id, target_id, at_ms);
