-- The second fence for client admins managing their company's users (§1): their transactions
-- run on the `portal_admin` surface, a portal surface like `portal` in every policy. Besides
-- their own sessions and tokens, it may read and end the sessions of a portal user of a
-- company in the scope, and issue or revoke an invitation for one who has not chosen a
-- password yet. Nothing else: no password-reset tokens, no sessions created for anyone, and
-- everyone else on the portal still sees their own sessions and tokens only.

CREATE OR REPLACE FUNCTION portico_on_portal() RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.surface', true), '') IN ('portal', 'portal_admin')
$$;

-- A portal user of a company in the scope, in a client admin's transaction.
CREATE FUNCTION portico_portal_admin_of(portal_user TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.surface', true), '') = 'portal_admin'
        AND EXISTS (SELECT 1 FROM portal_users u WHERE u.id = portal_user
                    AND portico_in_scope(u.workspace_id, u.company_id))
$$;

-- The same, for a user who has not accepted their invitation yet.
CREATE FUNCTION portico_portal_admin_invites(portal_user TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.surface', true), '') = 'portal_admin'
        AND EXISTS (SELECT 1 FROM portal_users u WHERE u.id = portal_user
                    AND u.password_hash IS NULL
                    AND portico_in_scope(u.workspace_id, u.company_id))
$$;

CREATE POLICY sessions_admin_read ON sessions FOR SELECT
    USING (portico_in_scope(workspace_id, NULL) AND portico_portal_admin_of(portal_user_id));
CREATE POLICY sessions_admin_end ON sessions FOR DELETE
    USING (portico_in_scope(workspace_id, NULL) AND portico_portal_admin_of(portal_user_id));

CREATE POLICY one_time_tokens_admin_read ON one_time_tokens FOR SELECT
    USING (portico_in_scope(workspace_id, NULL) AND purpose = 'invite'
           AND portico_portal_admin_invites(portal_user_id));
CREATE POLICY one_time_tokens_admin_revoke ON one_time_tokens FOR UPDATE
    USING (portico_in_scope(workspace_id, NULL) AND purpose = 'invite'
           AND portico_portal_admin_invites(portal_user_id))
    WITH CHECK (portico_in_scope(workspace_id, NULL) AND purpose = 'invite'
                AND portico_portal_admin_invites(portal_user_id));
CREATE POLICY one_time_tokens_admin_issue ON one_time_tokens FOR INSERT
    WITH CHECK (portico_in_scope(workspace_id, NULL) AND purpose = 'invite'
                AND portico_portal_admin_invites(portal_user_id));
