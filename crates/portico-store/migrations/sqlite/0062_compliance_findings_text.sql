-- An assessment's findings, also as one text in the assessment's own row: the Compliance page
-- reads them whole, one value instead of a row per requirement (86 for the Essential Eight).
-- The format is `scoped/compliance.rs`'s `findings_text`: a line per finding in requirement
-- order, `requirement TAB status TAB source TAB detail`, the detail's backslashes, tabs and
-- line breaks written as `\\`, `\t` and `\n`. The rows stay the record; assessments never change.
ALTER TABLE compliance_assessments ADD COLUMN findings TEXT NOT NULL DEFAULT '';
UPDATE compliance_assessments SET findings = COALESCE((
    SELECT group_concat(line, char(10)) FROM (
        SELECT f.requirement || char(9) || f.status || char(9) || f.source || char(9)
               || replace(replace(replace(f.detail, '\', '\\'), char(9), '\t'), char(10), '\n') AS line
        FROM compliance_findings f
        WHERE f.assessment_id = compliance_assessments.id
        ORDER BY f.requirement
    )
), '');
