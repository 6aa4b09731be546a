-- View as a role (C6): a staff member opens the portal as any user of a role of a company would
-- see it (a new member, a client admin with invoices), not only as one named user. Such a
-- hand-over and its session name the role and the user's settings instead of a user.
-- A hand-over lives a minute: the table is made again rather than copied.
DROP TABLE view_as_handoffs;
CREATE TABLE view_as_handoffs (
    token_hash TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    portal_user_id TEXT,
    role TEXT,
    own_only BOOLEAN NOT NULL DEFAULT 0,
    billing_access BOOLEAN NOT NULL DEFAULT 0,
    staff_user_id TEXT NOT NULL,
    staff_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    CHECK ((portal_user_id IS NULL) <> (role IS NULL)),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id),
    FOREIGN KEY (workspace_id, portal_user_id) REFERENCES portal_users (workspace_id, id),
    FOREIGN KEY (workspace_id, staff_user_id) REFERENCES staff_users (workspace_id, id)
);

ALTER TABLE sessions ADD COLUMN view_as_role TEXT;
ALTER TABLE sessions ADD COLUMN view_as_own_only BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN view_as_billing BOOLEAN NOT NULL DEFAULT 0;
