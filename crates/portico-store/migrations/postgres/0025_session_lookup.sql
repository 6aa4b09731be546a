-- A request's session, with the versions its caches are checked against, in one round trip.
-- The lookup happens before anyone is known, under the sign-in fence of the host's workspace;
-- set inside the function, that fence lasts for the statement's own transaction, so that the
-- read needs neither an explicit transaction nor a statement of its own to set the fence. The
-- query is the one `AuthTx::resolve_session` runs on SQLite.
CREATE FUNCTION portico_session_lookup(ws TEXT, session_hash TEXT, surface_name TEXT, at BIGINT, idle_since BIGINT)
RETURNS TABLE (staff_user_id TEXT, portal_user_id TEXT, company_id TEXT, csrf_token TEXT,
               last_seen_at BIGINT, principal_version BIGINT, list_version BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('app.workspace_id', ws, true), set_config('app.company_ids', '*', true),
            set_config('app.surface', 'auth', true), set_config('app.principal', '', true);
    RETURN QUERY
    SELECT s.staff_user_id, s.portal_user_id, s.company_id, s.csrf_token, s.last_seen_at,
           COALESCE(v.version, 0), COALESCE(l.version, 0)
    FROM sessions s
    LEFT JOIN principal_versions v ON v.workspace_id = s.workspace_id
    LEFT JOIN ticket_list_versions l ON l.company_id = s.company_id AND l.workspace_id = s.workspace_id
    WHERE s.id_hash = session_hash AND s.workspace_id = ws AND s.surface = surface_name
      AND s.expires_at > at AND s.last_seen_at > idle_since;
END
$$;
