-- The session and API token lookups are plain statements from this version on, read on
-- connections that hold the sign-in fence for their whole session (`pg_lane.rs`): the
-- functions' PL/pgSQL call and settings were a third of a lookup inside the server. The
-- functions stay, unused, for the instances of an earlier version that still run during a
-- rolling upgrade; a later migration drops them.
COMMENT ON FUNCTION portico_session_lookup(TEXT, TEXT, TEXT, BIGINT, BIGINT) IS
    'Unused since migration 0080 (kept for instances of earlier versions during an upgrade).';
COMMENT ON FUNCTION portico_api_token_lookup(TEXT, TEXT, BIGINT) IS
    'Unused since migration 0080 (kept for instances of earlier versions during an upgrade).';
