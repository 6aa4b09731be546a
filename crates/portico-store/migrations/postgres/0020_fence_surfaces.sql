-- The second fence, completed.
--
-- 1. No role lifts the fence from inside a transaction any more: the `app.system` switch is gone.
--    Work that spans tenants (seeding, the CLI, mail delivery) connects as its own role with
--    BYPASSRLS, in its own small pool; the application role, which has no such attribute, sees
--    nothing beyond the scope it sets, whatever it sets.
-- 2. Policies know the surface and the person: `app.surface` is `console` (staff), `portal` (a
--    client) or `auth` (sign-in flows, before anyone is known), and `app.principal` the acting
--    user's id. A client's transaction sees no staff user, no one else's sessions or one-time
--    tokens, no grant to a company outside its scope, no saved view and no internal note.

CREATE OR REPLACE FUNCTION portico_in_scope(ws TEXT, company TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT ws = current_setting('app.workspace_id', true)
        AND (company IS NULL
             OR current_setting('app.company_ids', true) = '*'
             OR company = ANY (string_to_array(current_setting('app.company_ids', true), ',')))
$$;

-- True in a client's transaction.
CREATE FUNCTION portico_on_portal() RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.surface', true), '') = 'portal'
$$;

-- The acting user's id ('' when none is set).
CREATE FUNCTION portico_principal() RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('app.principal', true), '')
$$;

DROP POLICY staff_users_scope ON staff_users;
CREATE POLICY staff_users_scope ON staff_users
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());

DROP POLICY sessions_scope ON sessions;
CREATE POLICY sessions_scope ON sessions
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()));

DROP POLICY one_time_tokens_scope ON one_time_tokens;
CREATE POLICY one_time_tokens_scope ON one_time_tokens
    USING (portico_in_scope(workspace_id, NULL)
           AND (NOT portico_on_portal() OR portal_user_id = portico_principal()));

DROP POLICY portal_user_companies_scope ON portal_user_companies;
CREATE POLICY portal_user_companies_scope ON portal_user_companies
    USING (portico_in_scope(workspace_id, company_id));

DROP POLICY ticket_messages_scope ON ticket_messages;
CREATE POLICY ticket_messages_scope ON ticket_messages
    USING (portico_in_scope(workspace_id, company_id) AND NOT (internal AND portico_on_portal()));

DROP POLICY saved_views_scope ON saved_views;
CREATE POLICY saved_views_scope ON saved_views
    USING (portico_in_scope(workspace_id, NULL) AND NOT portico_on_portal());

-- Mail to the workspace itself (staff invitations, password resets) only for scopes that cover
-- every company; the system role reads all of it by bypassing the policy.
DROP POLICY outbox_scope ON outbox;
CREATE POLICY outbox_scope ON outbox USING (
    portico_in_scope(workspace_id, company_id)
    AND (company_id IS NOT NULL OR current_setting('app.company_ids', true) = '*')
);
