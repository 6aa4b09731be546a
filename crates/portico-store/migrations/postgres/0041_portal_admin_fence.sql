-- The second fence for client admins managing their company's users (§1): their transactions
-- run on the `portal_admin` surface, a portal surface like `portal` in every policy, which may
-- also write an invitation token for, and end the sessions of, a portal user of a company in
-- the scope. Everyone else on the portal still sees their own sessions and tokens only.

CREATE OR REPLACE FUNCTION portico_on_portal() RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.surface', true), '') IN ('portal', 'portal_admin')
$$;

CREATE FUNCTION portico_portal_admin_of(portal_user TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.surface', true), '') = 'portal_admin'
        AND EXISTS (SELECT 1 FROM portal_users u WHERE u.id = portal_user
                    AND portico_in_scope(u.workspace_id, u.company_id))
$$;

DROP POLICY sessions_scope ON sessions;
CREATE POLICY sessions_scope ON sessions
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()
                OR portico_portal_admin_of(portal_user_id)));

DROP POLICY one_time_tokens_scope ON one_time_tokens;
CREATE POLICY one_time_tokens_scope ON one_time_tokens
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()
                OR portico_portal_admin_of(portal_user_id)));
