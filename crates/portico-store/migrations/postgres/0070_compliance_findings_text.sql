-- An assessment's findings, also as one text in the assessment's own row (as SQLite's 0062):
-- the Compliance page reads them whole, one value instead of a row per requirement. The format
-- is `scoped/compliance.rs`'s `findings_text`: a line per finding in requirement order,
-- `requirement TAB status TAB source TAB detail`, the detail's backslashes, tabs and line
-- breaks written as `\\`, `\t` and `\n`. The rows stay the record; assessments never change.
ALTER TABLE compliance_assessments ADD COLUMN findings TEXT NOT NULL DEFAULT '';
-- The tables' owner writes the texts of every tenant, with the policy unforced for this
-- transaction only.
ALTER TABLE compliance_assessments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE compliance_findings NO FORCE ROW LEVEL SECURITY;
UPDATE compliance_assessments a SET findings = COALESCE((
    SELECT string_agg(
        f.requirement || chr(9) || f.status || chr(9) || f.source || chr(9)
            || replace(replace(replace(f.detail, chr(92), chr(92) || chr(92)), chr(9), chr(92) || 't'),
                    chr(10), chr(92) || 'n'),
        chr(10) ORDER BY f.requirement COLLATE "C")
    FROM compliance_findings f
    WHERE f.assessment_id = a.id
), '');
ALTER TABLE compliance_assessments FORCE ROW LEVEL SECURITY;
-- Every assessment written from now on carries its text: none is taken for granted.
ALTER TABLE compliance_assessments ALTER COLUMN findings DROP DEFAULT;
ALTER TABLE compliance_findings FORCE ROW LEVEL SECURITY;
