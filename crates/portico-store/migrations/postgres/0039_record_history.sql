-- Whether a company's client admins edit contact and asset details themselves (never delete or
-- archive) or ask for every such change through a change request: the MSP's call per company.
ALTER TABLE companies ADD COLUMN client_admin_edits BOOLEAN NOT NULL DEFAULT FALSE;

-- Every edit of a contact, an asset or a portal user, one row per changed field: who (their
-- name as it was, and from which surface), when, the field, and its value before and after.
-- Fields are named by stable keys (`name`, `custom:<field id>`) so that a reader is shown only
-- the changes to fields they may see.
CREATE TABLE record_changes (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    record_kind TEXT NOT NULL CHECK (record_kind IN ('contact', 'asset', 'portal_user')),
    record_id TEXT NOT NULL,
    -- One edit's rows share an id; `position` keeps its fields in the form's order.
    edit_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    actor_name TEXT NOT NULL,
    via_portal BOOLEAN NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX record_changes_record ON record_changes (workspace_id, record_id, changed_at);

ALTER TABLE record_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE record_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY record_changes_scope ON record_changes USING (portico_in_scope(workspace_id, company_id));
