-- P6 Compliance. The frameworks and their requirements are data in portico-core
-- (frameworks/*.toml); what is stored is what happened: staff's judgements of requirements the
-- records cannot judge, and the assessments staff recorded (a framework's scorecard at a moment).

-- A judgement of one requirement for a company, with its evidence: a note, a file, the last day
-- it holds. Never changed: a new judgement supersedes the last, and the history stays.
CREATE TABLE compliance_attestations (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    -- A requirement's id in the catalogue (`e8.mfa.2b`, `cis.14.1`).
    requirement TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('met', 'not_met', 'not_applicable')),
    note TEXT NOT NULL,
    evidence_blob TEXT,
    evidence_name TEXT,
    evidence_size BIGINT,
    -- YYYY-MM-DD: the last day the judgement holds (none: until superseded).
    expires_on TEXT,
    staff_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX compliance_attestations_requirement
    ON compliance_attestations (workspace_id, company_id, requirement, created_at);

-- A framework's scorecard for a company as staff recorded it: what the portal shows, and over
-- time the company's history.
CREATE TABLE compliance_assessments (
    workspace_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    framework TEXT NOT NULL,
    assessed_at BIGINT NOT NULL,
    staff_name TEXT NOT NULL,
    -- 0–100; the maturity level reached (maturity frameworks).
    percent BIGINT NOT NULL,
    level BIGINT,
    met BIGINT NOT NULL,
    not_met BIGINT NOT NULL,
    not_assessed BIGINT NOT NULL,
    not_applicable BIGINT NOT NULL,
    UNIQUE (workspace_id, company_id, id),
    FOREIGN KEY (workspace_id, company_id) REFERENCES companies (workspace_id, id)
);
CREATE INDEX compliance_assessments_latest
    ON compliance_assessments (workspace_id, company_id, framework, assessed_at);

-- Each requirement's standing in an assessment, and why.
CREATE TABLE compliance_findings (
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
);
