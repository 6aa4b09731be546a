-- A person's recent sign-ins (their profile) are the only reads by target: the index holds
-- sign-ins alone, so that the page views the log records at every request no longer write to it.
DROP INDEX audit_entries_target;
CREATE INDEX audit_entries_sign_ins ON audit_entries (workspace_id, target_id, at_ms)
    WHERE action IN ('sign_in', 'sign_in_failed');
