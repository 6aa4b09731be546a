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
ALTER TABLE view_as_handoffs ENABLE ROW LEVEL SECURITY;
ALTER TABLE view_as_handoffs FORCE ROW LEVEL SECURITY;
-- Written by staff of the company; redeemed under the sign-in fence of the workspace.
CREATE POLICY view_as_handoffs_scope ON view_as_handoffs
    USING (portico_in_scope(workspace_id, company_id) AND NOT portico_on_portal());

ALTER TABLE sessions ADD COLUMN view_as_staff_id TEXT;
ALTER TABLE sessions ADD COLUMN view_as_by TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN view_as_reason TEXT NOT NULL DEFAULT '';

DROP FUNCTION portico_session_lookup(TEXT, TEXT, TEXT, BIGINT, BIGINT);
CREATE FUNCTION portico_session_lookup(ws TEXT, session_hash TEXT, surface_name TEXT, at BIGINT, idle_since BIGINT)
RETURNS TABLE (staff_user_id TEXT, portal_user_id TEXT, company_id TEXT, csrf_token TEXT,
               last_seen_at BIGINT, principal_version BIGINT, list_version BIGINT,
               view_as_staff_id TEXT, view_as_by TEXT, view_as_reason TEXT, expires_at BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('app.workspace_id', ws, true), set_config('app.company_ids', '*', true),
            set_config('app.surface', 'auth', true), set_config('app.principal', '', true);
    RETURN QUERY
    SELECT s.staff_user_id, s.portal_user_id, s.company_id, s.csrf_token, s.last_seen_at,
           COALESCE(v.version, 0), COALESCE(l.version, 0),
           s.view_as_staff_id, s.view_as_by, s.view_as_reason, s.expires_at
    FROM sessions s
    LEFT JOIN principal_versions v ON v.workspace_id = s.workspace_id
    LEFT JOIN ticket_list_versions l ON l.company_id = s.company_id AND l.workspace_id = s.workspace_id
    WHERE s.id_hash = session_hash AND s.workspace_id = ws AND s.surface = surface_name
      AND s.expires_at > at AND s.last_seen_at > idle_since;
END
$$;

-- A portal user's own sign-ins, for their profile.
CREATE INDEX audit_entries_target ON audit_entries (workspace_id, target_id, at_ms);
