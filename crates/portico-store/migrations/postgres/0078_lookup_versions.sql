-- A session's and an API token's lookup (0053, 0071) read the versions beside their row as
-- scalar subqueries on the lookup's own arguments rather than as outer joins: the planner then
-- keeps a plain index scan for each, and a lookup took 15 µs instead of 18 inside the server
-- (20,000 in a loop, `bench/README.md`). The same rows, the same fences.
CREATE OR REPLACE FUNCTION portico_session_lookup(ws TEXT, session_hash TEXT, surface_name TEXT, at BIGINT, idle_since BIGINT)
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
           COALESCE((SELECT v.version FROM principal_versions v WHERE v.workspace_id = ws), 0),
           COALESCE((SELECT l.version FROM ticket_list_versions l
                     WHERE l.company_id = s.company_id AND l.workspace_id = ws), 0),
           s.view_as_staff_id, s.view_as_by, s.view_as_reason, s.expires_at,
           s.view_as_role, s.view_as_own_only, s.view_as_billing
    FROM sessions s
    WHERE s.id_hash = session_hash AND s.workspace_id = ws AND s.surface = surface_name
      AND s.expires_at > at AND s.last_seen_at > idle_since;
END
$$;

CREATE OR REPLACE FUNCTION portico_api_token_lookup(ws TEXT, hash TEXT, at BIGINT)
RETURNS TABLE (id TEXT, name TEXT, company_id TEXT, access TEXT, created_by TEXT,
               expires_at BIGINT, last_used_at BIGINT, principal_version BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('app.workspace_id', ws, true), set_config('app.company_ids', '*', true),
            set_config('app.surface', 'auth', true), set_config('app.principal', '', true);
    RETURN QUERY
    SELECT t.id, t.name, t.company_id, t.access, t.created_by, t.expires_at, t.last_used_at,
           COALESCE((SELECT v.version FROM principal_versions v WHERE v.workspace_id = ws), 0)
    FROM api_tokens t
    WHERE t.token_hash = hash AND t.workspace_id = ws AND t.revoked_at IS NULL
      AND t.expires_at > at;
END
$$;
