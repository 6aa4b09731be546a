-- The Security and Compliance pages' reads, each from one index range (as SQLite's 0060; there
-- the findings table is also stored in its key's order, which PostgreSQL's heap has no need of).

-- A framework's history is read latest first with the id breaking ties: with the id in the
-- index, in its order, without a sort per page.
DROP INDEX compliance_assessments_latest;
CREATE INDEX compliance_assessments_latest
    ON compliance_assessments (workspace_id, company_id, framework, assessed_at, id);

-- The protection cards' open alerts by source and severity: grouped in this index's order and
-- read from it alone.
CREATE INDEX security_alerts_tally
    ON security_alerts (workspace_id, company_id, service_source, severity, status, updated_at);

-- A company's penetration tests, latest first with the time entered breaking ties: in this
-- index's order, without a sort per page.
DROP INDEX pentests_company;
CREATE INDEX pentests_company ON pentests (workspace_id, company_id, tested_on, created_at);
