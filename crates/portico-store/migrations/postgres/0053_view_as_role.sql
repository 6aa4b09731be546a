-- View as a role (C6): a staff member opens the portal as any user of a role of a company would
-- see it (a new member, a client admin with invoices), not only as one named user. Such a
-- hand-over and its session name the role and the user's settings instead of a user.
ALTER TABLE view_as_handoffs ALTER COLUMN portal_user_id DROP NOT NULL;
ALTER TABLE view_as_handoffs ADD COLUMN role TEXT;
ALTER TABLE view_as_handoffs ADD COLUMN own_only BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE view_as_handoffs ADD COLUMN billing_access BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE view_as_handoffs ADD CONSTRAINT view_as_handoffs_user_or_role
    CHECK ((portal_user_id IS NULL) <> (role IS NULL));

ALTER TABLE sessions ADD COLUMN view_as_role TEXT;
ALTER TABLE sessions ADD COLUMN view_as_own_only BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN view_as_billing BOOLEAN NOT NULL DEFAULT false;

DROP FUNCTION portico_session_lookup(TEXT, TEXT, TEXT, BIGINT, BIGINT);
CREATE FUNCTION portico_session_lookup(ws TEXT, session_hash TEXT, surface_name TEXT, at BIGINT, idle_since BIGINT)
RETURNS TABLE (staff_user_id TEXT, portal_user_id TEXT, company_id TEXT, csrf_token TEXT,
               last_seen_at BIGINT, principal_version BIGINT, list_version BIGINT,
               view_as_staff_id TEXT, view_as_by TEXT, view_as_reason TEXT, expires_at BIGINT,
               view_as_role TEXT, view_as_own_only BOOLEAN, view_as_billing BOOLEAN)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('app.workspace_id', ws, true), set_config('app.company_ids', '*', true),
            set_config('app.surface', 'auth', true), set_config('app.principal', '', true);
    RETURN QUERY
    SELECT s.staff_user_id, s.portal_user_id, s.company_id, s.csrf_token, s.last_seen_at,
           COALESCE(v.version, 0), COALESCE(l.version, 0),
           s.view_as_staff_id, s.view_as_by, s.view_as_reason, s.expires_at,
           s.view_as_role, s.view_as_own_only, s.view_as_billing
    FROM sessions s
    LEFT JOIN principal_versions v ON v.workspace_id = s.workspace_id
    LEFT JOIN ticket_list_versions l ON l.company_id = s.company_id AND l.workspace_id = s.workspace_id
    WHERE s.id_hash = session_hash AND s.workspace_id = ws AND s.surface = surface_name
      AND s.expires_at > at AND s.last_seen_at > idle_since;
END
$$;
