-- One choice per field and owner (the workspace, or one company): two owners saving the same
-- page at once could store a field twice. The earliest row of each is the one readers took;
-- it is kept, and saving now writes each field with an upsert on this key.
DELETE FROM asset_field_visibility WHERE rowid NOT IN (
    SELECT MIN(rowid) FROM asset_field_visibility
    GROUP BY workspace_id, COALESCE(company_id, ''), field
);
CREATE UNIQUE INDEX asset_field_visibility_choice
    ON asset_field_visibility (workspace_id, COALESCE(company_id, ''), field);
