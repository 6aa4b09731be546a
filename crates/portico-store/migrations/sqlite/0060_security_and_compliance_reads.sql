-- The Security and Compliance pages' reads, each from one index range.
--
-- An assessment's findings are read together, by assessment: stored in their primary key's
-- order (WITHOUT ROWID) they are one range of the table, where a rowid table sought each row
-- again through its key's index. Nothing references a finding, so the table is rebuilt in place.
CREATE TABLE compliance_findings_rebuilt (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    assessment_id TEXT NOT NULL,
    requirement TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('met', 'not_met', 'not_applicable', 'not_assessed')),
    -- records (a rule over the company's records), staff, or none.
    source TEXT NOT NULL CHECK (source IN ('records', 'staff', 'none')),
    detail TEXT NOT NULL,
    PRIMARY KEY (assessment_id, requirement),
    FOREIGN KEY (workspace_id, company_id, assessment_id)
        REFERENCES compliance_assessments (workspace_id, company_id, id)
) WITHOUT ROWID;
INSERT INTO compliance_findings_rebuilt
    (workspace_id, company_id, assessment_id, requirement, status, source, detail)
    SELECT workspace_id, company_id, assessment_id, requirement, status, source, detail
    FROM compliance_findings;
DROP TABLE compliance_findings;
ALTER TABLE compliance_findings_rebuilt RENAME TO compliance_findings;

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
