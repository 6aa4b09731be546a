-- One choice per field and owner (the workspace, or one company), as SQLite's 0064: two owners
-- saving the same page at once could store a field twice. One row of each is kept, and saving
-- now writes each field with an upsert on this key. The tables' owner removes the duplicates
-- of every tenant, with the policy unforced for this transaction only.
ALTER TABLE asset_field_visibility NO FORCE ROW LEVEL SECURITY;
DELETE FROM asset_field_visibility a
    USING asset_field_visibility b
    WHERE a.workspace_id = b.workspace_id
      AND COALESCE(a.company_id, '') = COALESCE(b.company_id, '')
      AND a.field = b.field
      AND a.ctid > b.ctid;
ALTER TABLE asset_field_visibility FORCE ROW LEVEL SECURITY;
CREATE UNIQUE INDEX asset_field_visibility_choice
    ON asset_field_visibility (workspace_id, COALESCE(company_id, ''), field);
