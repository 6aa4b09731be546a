-- The Security page's open alerts, open first, then by severity, newest first: read in this
-- index's order, so that no page sorts the company's alerts in a temporary table. The
-- expressions are the page's ORDER BY, term for term (`scoped/security_alerts.rs`).
CREATE INDEX security_alerts_shown ON security_alerts (
    workspace_id,
    company_id,
    (status = 'resolved'),
    (CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 ELSE 3 END),
    created_at DESC
);
