-- An API request's token lookup in one round trip, as a session's (0025): the function sets the
-- workspace's sign-in fence for its own statement, so the lookup needs no transaction (BEGIN
-- with the fence's settings, then the query, were two round trips).
CREATE FUNCTION portico_api_token_lookup(ws TEXT, hash TEXT, at BIGINT)
RETURNS TABLE (id TEXT, name TEXT, company_id TEXT, access TEXT, created_by TEXT,
               expires_at BIGINT, last_used_at BIGINT, principal_version BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('app.workspace_id', ws, true), set_config('app.company_ids', '*', true),
            set_config('app.surface', 'auth', true), set_config('app.principal', '', true);
    RETURN QUERY
    SELECT t.id, t.name, t.company_id, t.access, t.created_by, t.expires_at, t.last_used_at,
           COALESCE(v.version, 0)
    FROM api_tokens t
    LEFT JOIN principal_versions v ON v.workspace_id = t.workspace_id
    WHERE t.token_hash = hash AND t.workspace_id = ws AND t.revoked_at IS NULL
      AND t.expires_at > at;
END
$$;
