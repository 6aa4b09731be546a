-- Mail about no particular company (staff invitations, password resets) carries one-time links.
-- The general policy lets a row without a company through for any scope of the workspace, which
-- suits workspace-wide settings but not these: only scopes that cover every company (the
-- workspace's owners, sign-in and reset handling) and the system may see them, never a client's
-- or a technician's transaction. The application's own queries already fence the outbox to
-- owners; this is the second fence.
DROP POLICY outbox_scope ON outbox;
CREATE POLICY outbox_scope ON outbox USING (
    portico_in_scope(workspace_id, company_id)
    AND (company_id IS NOT NULL
         OR COALESCE(current_setting('app.system', true), '') = 'on'
         OR current_setting('app.company_ids', true) = '*')
);
