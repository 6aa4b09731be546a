//! P6 Compliance: each framework of the catalogue (portico-core's `compliance`) judged for a
//! company — by a rule over its records where one applies and the facts are recorded, otherwise
//! by the judgement staff last recorded, with evidence and an expiry — and the assessments staff
//! record from that: a scorecard at a moment, which is what the portal shows, and over time the
//! company's history. Staff's judgements and their evidence are the MSP's working papers: the
//! portal reads assessments only (the PostgreSQL policy hides judgements from portal scopes).

use std::collections::HashMap;

use portico_core::compliance::{
    self, BackupFact, ComputerFact, Facts, Finding, Framework, Judged, Score, Source, Status,
    UserFact,
};
use portico_core::{Action, AssessmentId, AttestationId, AuditAction, AuditTarget, CompanyId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};
use crate::{StoreError, now};

/// Earlier assessments shown per framework.
pub const HISTORY_SHOWN: i64 = 24;

/// A judgement staff recorded.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub id: String,
    pub requirement: String,
    /// met, not_met or not_applicable.
    pub status: String,
    pub note: String,
    pub evidence_name: Option<String>,
    pub evidence_size: Option<i64>,
    /// YYYY-MM-DD: the last day it holds.
    pub expires_on: Option<String>,
    pub staff_name: String,
    pub created_at: i64,
}
crate::sql::db_row!(Attestation {
    id,
    requirement,
    status,
    note,
    evidence_name,
    evidence_size,
    expires_on,
    staff_name,
    created_at
});

impl Attestation {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::NotAssessed)
    }

    /// Past its last day (`today` is YYYY-MM-DD).
    pub fn expired(&self, today: &str) -> bool {
        self.expires_on.as_deref().is_some_and(|day| day < today)
    }
}

/// A judgement as staff enter it (the form's text).
#[derive(Debug, Clone, Default)]
pub struct AttestationForm {
    pub status: String,
    pub note: String,
    pub expires_on: String,
}

/// An evidence file staged for a judgement.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub blob_key: String,
    pub file_name: String,
    pub size: i64,
}

/// A judgement's evidence file, to download.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    pub blob_key: String,
    pub file_name: String,
}

/// A recorded assessment's totals.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub id: String,
    pub framework: String,
    pub assessed_at: i64,
    pub staff_name: String,
    pub percent: i64,
    pub level: Option<i64>,
    pub met: i64,
    pub not_met: i64,
    pub not_assessed: i64,
    pub not_applicable: i64,
}
crate::sql::db_row!(Assessment {
    id,
    framework,
    assessed_at,
    staff_name,
    percent,
    level,
    met,
    not_met,
    not_assessed,
    not_applicable
});

const ASSESSMENT_COLUMNS: &str = "a.id, a.framework, a.assessed_at, a.staff_name, a.percent, \
     a.level, a.met, a.not_met, a.not_assessed, a.not_applicable";

/// A framework's scorecard: as judged now (the console's working view) or as an assessment
/// recorded it (the portal's).
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub framework: &'static Framework,
    pub findings: Vec<Finding>,
    pub score: Score,
    /// The assessment shown (none: judged now).
    pub assessment: Option<Assessment>,
    /// Earlier assessments, latest first.
    pub history: Vec<Assessment>,
}

impl Scorecard {
    /// The finding of requirement `id`.
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.requirement == id)
    }
}

/// A requirement's page on the console: how it stands now and every judgement recorded.
#[derive(Debug, Clone)]
pub struct RequirementView {
    pub framework: &'static Framework,
    pub control: &'static compliance::Control,
    pub requirement: &'static compliance::Requirement,
    pub finding: Finding,
    pub judgements: Vec<Attestation>,
}

/// A finding as stored; its codes are parsed where they lie (a page reads a hundred at a time).
impl crate::sql::DbRow for Finding {
    const COLUMNS: &'static [&'static str] = &["requirement", "status", "source", "detail"];
    fn decode(row: &crate::sql::RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(Finding {
            requirement: row.get(0, "requirement")?,
            status: row.text_with(1, "status", |s| {
                Status::parse(s).unwrap_or(Status::NotAssessed)
            })?,
            source: row.text_with(2, "source", |s| Source::parse(s).unwrap_or(Source::None))?,
            detail: row.get(3, "detail")?,
        })
    }
}

/// An assessment's findings as one text, kept in the assessment's own row (`findings`) beside
/// the `compliance_findings` rows written with it: one line per finding in requirement order,
/// `requirement TAB status TAB source TAB detail`, the detail's backslashes, tabs and line
/// breaks written `\\`, `\t` and `\n`. An assessment never changes, and the Compliance page
/// reads its findings whole: one value instead of 86 rows was a fifth of the page. Migrations
/// sqlite 0062 / pg 0070 wrote the same for the assessments recorded before.
pub(crate) fn findings_text(findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_unstable_by(|a, b| a.requirement.cmp(&b.requirement));
    let mut text = String::with_capacity(findings.len() * 48);
    for (i, f) in sorted.into_iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&f.requirement);
        text.push('\t');
        text.push_str(f.status.as_str());
        text.push('\t');
        text.push_str(f.source.as_str());
        text.push('\t');
        for c in f.detail.chars() {
            match c {
                '\\' => text.push_str("\\\\"),
                '\t' => text.push_str("\\t"),
                '\n' => text.push_str("\\n"),
                c => text.push(c),
            }
        }
    }
    text
}

/// The findings [`findings_text`] wrote, in requirement order.
pub(crate) fn parse_findings(text: &str) -> Result<Vec<Finding>, StoreError> {
    let malformed = || StoreError::Invalid("an assessment's findings are malformed".into());
    let mut findings = Vec::with_capacity(text.len() / 24);
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(4, '\t');
        let (Some(requirement), Some(status), Some(source), Some(detail)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let detail = if detail.contains('\\') {
            let mut plain = String::with_capacity(detail.len());
            let mut chars = detail.chars();
            while let Some(c) = chars.next() {
                plain.push(match c {
                    '\\' => match chars.next() {
                        Some('t') => '\t',
                        Some('n') => '\n',
                        Some('\\') => '\\',
                        _ => return Err(malformed()),
                    },
                    c => c,
                });
            }
            plain
        } else {
            detail.to_owned()
        };
        // An unknown code reads as nothing judged, as the findings' rows always read.
        findings.push(Finding {
            requirement: requirement.to_owned(),
            status: Status::parse(status).unwrap_or(Status::NotAssessed),
            source: Source::parse(source).unwrap_or(Source::None),
            detail,
        });
    }
    // Written sorted; sorted again only if a backend's collation ordered them otherwise.
    if !findings.is_sorted_by(|a, b| a.requirement <= b.requirement) {
        findings.sort_unstable_by(|a, b| a.requirement.cmp(&b.requirement));
    }
    Ok(findings)
}

struct Directory {
    mfa_registered: Option<bool>,
    is_admin: bool,
    last_sign_in_at: Option<i64>,
}
crate::sql::db_row!(Directory {
    mfa_registered,
    is_admin,
    last_sign_in_at
});

struct Computer {
    os: String,
    last_seen_at: Option<i64>,
}
crate::sql::db_row!(Computer { os, last_seen_at });

/// Today, as judgements' last days are written.
fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

struct CheckedAttestation {
    status: Status,
    note: String,
    expires_on: Option<String>,
}

fn check(form: &AttestationForm) -> Result<CheckedAttestation, StoreError> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let status = match Status::parse(form.status.trim()) {
        Some(s @ (Status::Met | Status::NotMet | Status::NotApplicable)) => s,
        _ => {
            errors.push((
                "status".into(),
                "Choose met, not met or not applicable.".into(),
            ));
            Status::NotAssessed
        }
    };
    let note = form.note.trim().replace("\r\n", "\n");
    if note.is_empty() || note.chars().count() > 4000 {
        errors.push((
            "note".into(),
            "Say what the judgement rests on, as the client may read it in the assessment, in \
             up to 4,000 characters."
                .into(),
        ));
    }
    let expires_on = match form.expires_on.trim() {
        "" => None,
        text => match portico_core::parse_date(text) {
            Some(day) if day >= today() => Some(day),
            Some(_) => {
                errors.push((
                    "expires_on".into(),
                    "The last day it holds cannot be in the past.".into(),
                ));
                None
            }
            None => {
                errors.push((
                    "expires_on".into(),
                    "Enter the last day it holds as YYYY-MM-DD, or leave it empty.".into(),
                ));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(StoreError::InvalidFields(errors));
    }
    Ok(CheckedAttestation {
        status,
        note,
        expires_on,
    })
}

impl ScopedTx<'_> {
    /// What `company`'s records say for the rules: its directory, computers, endpoint
    /// coverage, patching and backups. Staff only (the portal reads assessments).
    async fn compliance_facts(&mut self, company: CompanyId) -> Result<Facts, StoreError> {
        let at = now();
        let now_at = at;
        let mut users = self.select(
            "u.mfa_registered, u.is_admin, u.last_sign_in_at",
            &fence::DIRECTORY_USERS,
            "u",
        );
        users
            .sql(" AND u.company_id = ")
            .arg(company)
            .sql(" AND u.retired_at IS NULL AND u.enabled");
        let users: Vec<Directory> = self.tx.all(users).await?;
        let mut computers = self.select("a.os, a.last_seen_at", &fence::ASSETS, "a");
        computers
            .sql(" AND a.company_id = ")
            .arg(company)
            .sql(" AND a.archived_at IS NULL AND a.kind IN ('workstation', 'laptop', 'server')");
        let computers: Vec<Computer> = self.tx.all(computers).await?;
        let endpoint = self
            .endpoint_view(company)
            .await?
            .coverage
            .and_then(|c| c.total.map(|total| (total, c.protected)));
        let mut patching = self.select(
            "MAX(m.starts_at), MAX(CASE WHEN m.outcome = 'succeeded' \
             THEN COALESCE(m.ends_at, m.starts_at) END)",
            &fence::MAINTENANCE_RECORDS,
            "m",
        );
        patching
            .sql(" AND m.company_id = ")
            .arg(company)
            .sql(" AND m.kind = 'patching' AND m.outcome NOT IN ('planned', 'cancelled') AND m.starts_at <= ")
            .arg(at);
        let (last_patch_run_at, last_patched_at): (Option<i64>, Option<i64>) =
            self.tx.one(patching).await?;
        let mut backups = self.select(
            "b.last_success_at, b.expected_every_hours",
            &fence::BACKUP_JOBS,
            "b",
        );
        backups
            .sql(" AND b.company_id = ")
            .arg(company)
            .sql(" AND b.retired_at IS NULL");
        let backups: Vec<(Option<i64>, i64)> = self.tx.all(backups).await?;
        Ok(Facts {
            now: at,
            users: (!users.is_empty()).then(|| {
                users
                    .into_iter()
                    .map(|u| UserFact {
                        mfa: u.mfa_registered,
                        // Roles come with the sign-in registration report, as MFA does: a
                        // directory read without it says nothing of who is an administrator.
                        admin: u.mfa_registered.map(|_| u.is_admin),
                        last_sign_in_at: u.last_sign_in_at,
                    })
                    .collect()
            }),
            computers: computers
                .into_iter()
                .map(|c| ComputerFact {
                    os: c.os,
                    last_seen_at: c.last_seen_at,
                })
                .collect(),
            endpoint,
            last_patch_run_at,
            // A window recorded as succeeded before its end: patched now, not later.
            last_patched_at: last_patched_at.map(|at| at.min(now_at)),
            backups: backups
                .into_iter()
                .map(|(last_success_at, expected_every_hours)| BackupFact {
                    last_success_at,
                    expected_every_hours,
                })
                .collect(),
        })
    }

    /// Staff's judgements of `company`'s requirements, latest first.
    async fn judgements(
        &mut self,
        company: CompanyId,
        requirement: Option<&str>,
    ) -> Result<Vec<Attestation>, StoreError> {
        let mut query = self.select(
            "j.id, j.requirement, j.status, j.note, j.evidence_name, j.evidence_size, \
             j.expires_on, j.staff_name, j.created_at",
            &fence::COMPLIANCE_ATTESTATIONS,
            "j",
        );
        query.sql(" AND j.company_id = ").arg(company);
        if let Some(requirement) = requirement {
            query.sql(" AND j.requirement = ").arg(requirement);
        }
        query.sql(" ORDER BY j.created_at DESC, j.id DESC LIMIT 5000");
        self.tx.all(query).await
    }

    /// Every framework judged for `company` now, with its latest assessment's history: the
    /// console's working view.
    pub async fn compliance_now(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<Scorecard>, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        let facts = self.compliance_facts(company).await?;
        let judgements = self.judgements(company, None).await?;
        let today = today();
        // The latest judgement of each requirement, unless it has expired.
        let mut current: HashMap<&str, &Attestation> = HashMap::new();
        for j in &judgements {
            current.entry(j.requirement.as_str()).or_insert(j);
        }
        let judged = |id: &str| {
            current
                .get(id)
                .filter(|j| !j.expired(&today))
                .map(|j| Judged {
                    status: j.status(),
                    note: j.note.clone(),
                })
        };
        let mut cards = Vec::new();
        for framework in compliance::frameworks() {
            let findings = compliance::evaluate(framework, &facts, &judged);
            let score = compliance::score(framework, &findings);
            let mut history = self.assessments(company, &framework.id).await?;
            history.truncate(HISTORY_SHOWN as usize);
            cards.push(Scorecard {
                framework,
                findings,
                score,
                assessment: None,
                history,
            });
        }
        Ok(cards)
    }

    /// `company`'s assessments of `framework`, latest first.
    async fn assessments(
        &mut self,
        company: CompanyId,
        framework: &str,
    ) -> Result<Vec<Assessment>, StoreError> {
        let mut query = self.select(ASSESSMENT_COLUMNS, &fence::COMPLIANCE_ASSESSMENTS, "a");
        query
            .sql(" AND a.company_id = ")
            .arg(company)
            .sql(" AND a.framework = ")
            .arg(framework)
            .sql(" ORDER BY a.assessed_at DESC, a.id DESC LIMIT ")
            .arg(HISTORY_SHOWN + 1);
        self.tx.all(query).await
    }

    /// The latest assessment of each framework `company` has been assessed against, with the
    /// ones before it: what the portal's Compliance section shows.
    pub async fn compliance_assessed(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<Scorecard>, StoreError> {
        if !self.scope.is_portal() {
            self.company(company).await?;
        }
        self.scope.may(Action::ViewCompliance)?;
        let mut cards = Vec::new();
        for framework in compliance::frameworks() {
            let mut history = self.assessments(company, &framework.id).await?;
            if history.is_empty() {
                continue;
            }
            let latest = history.remove(0);
            let mut query = self.select("a.findings", &fence::COMPLIANCE_ASSESSMENTS, "a");
            query
                .sql(" AND a.company_id = ")
                .arg(company)
                .sql(" AND a.id = ")
                .arg(latest.id.as_str());
            let (text,): (String,) = self.tx.one(query).await?;
            let findings = if text.is_empty() {
                // No text (an assessment written without it): its rows, the record.
                let mut query = self.select(
                    "f.requirement, f.status, f.source, f.detail",
                    &fence::COMPLIANCE_FINDINGS,
                    "f",
                );
                query
                    .sql(" AND f.company_id = ")
                    .arg(company)
                    .sql(" AND f.assessment_id = ")
                    .arg(latest.id.as_str());
                self.tx.all(query).await?
            } else {
                parse_findings(&text)?
            };
            // The breakdown from the findings; the headline as it was recorded (the Overview
            // and the history show the same figures, whatever the catalogue has become).
            let mut score = compliance::score(framework, &findings);
            score.percent = u8::try_from(latest.percent).unwrap_or(0);
            score.level = latest.level.and_then(|l| u8::try_from(l).ok());
            score.met = latest.met as usize;
            score.not_met = latest.not_met as usize;
            score.not_assessed = latest.not_assessed as usize;
            score.not_applicable = latest.not_applicable as usize;
            cards.push(Scorecard {
                framework,
                findings,
                score,
                assessment: Some(latest),
                history,
            });
        }
        if self.scope.is_portal() {
            self.audit_view(
                AuditAction::RecordViewed,
                Some(company),
                AuditTarget::new("compliance", company, "Compliance scorecards"),
                "",
            )?;
        }
        Ok(cards)
    }

    /// The latest assessment of each framework `company` was assessed against: the
    /// Overview's figures.
    pub async fn compliance_scores(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<Assessment>, StoreError> {
        self.scope.may(Action::ViewCompliance)?;
        // Each framework's latest in one statement: a `LIMIT 1` per framework, joined.
        let mut query = Q::new("");
        for (n, framework) in compliance::frameworks().iter().enumerate() {
            if n > 0 {
                query.sql(" UNION ALL ");
            }
            query.sql("SELECT * FROM ");
            self.sub_select(
                &mut query,
                ASSESSMENT_COLUMNS,
                &fence::COMPLIANCE_ASSESSMENTS,
                "a",
            );
            query
                .sql(" AND a.company_id = ")
                .arg(company)
                .sql(" AND a.framework = ")
                .arg(framework.id.as_str())
                .sql(&format!(
                    " ORDER BY a.assessed_at DESC, a.id DESC LIMIT 1) f{n}"
                ));
        }
        let mut latest: Vec<Assessment> = self.tx.all(query).await?;
        let place = |a: &Assessment| {
            compliance::frameworks()
                .iter()
                .position(|f| f.id == a.framework)
        };
        latest.sort_by_key(place);
        Ok(latest)
    }

    /// One requirement of `company`: how it stands now and every judgement recorded.
    pub async fn compliance_requirement(
        &mut self,
        company: CompanyId,
        requirement: &str,
    ) -> Result<RequirementView, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        let (framework, control, req) =
            compliance::requirement(requirement).ok_or(StoreError::NotFound)?;
        let facts = self.compliance_facts(company).await?;
        let judgements = self.judgements(company, Some(requirement)).await?;
        let today = today();
        let current = judgements
            .first()
            .filter(|j| !j.expired(&today))
            .map(|j| Judged {
                status: j.status(),
                note: j.note.clone(),
            });
        let finding = compliance::evaluate(framework, &facts, &|id| {
            (id == requirement).then(|| current.clone()).flatten()
        })
        .into_iter()
        .find(|f| f.requirement == requirement)
        .ok_or(StoreError::NotFound)?;
        Ok(RequirementView {
            framework,
            control,
            requirement: req,
            finding,
            judgements,
        })
    }

    /// Records staff's judgement of one of `company`'s requirements, superseding the last.
    pub async fn attest(
        &mut self,
        company: CompanyId,
        requirement: &str,
        form: &AttestationForm,
        evidence: Option<&Evidence>,
    ) -> Result<AttestationId, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        let (_, _, req) = compliance::requirement(requirement).ok_or(StoreError::NotFound)?;
        let checked = check(form)?;
        let id = AttestationId::new();
        self.tx
            .exec(q!(
                "INSERT INTO compliance_attestations (workspace_id, company_id, id, requirement, \
                 status, note, evidence_blob, evidence_name, evidence_size, expires_on, staff_name, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                self.scope.workspace(),
                company,
                id,
                req.id.as_str(),
                checked.status.as_str(),
                &checked.note,
                evidence.map(|e| e.blob_key.clone()),
                evidence.map(|e| e.file_name.clone()),
                evidence.map(|e| e.size),
                checked.expires_on.clone(),
                self.scope.actor_name(),
                now()
            ))
            .await?;
        // The MSP's working papers: on the workspace's chain, naming the company.
        self.audit_on(
            false,
            AuditAction::RecordCreated,
            Some(company),
            AuditTarget::new("compliance_judgement", id, &req.id),
            checked.status.label(),
        )
        .await?;
        Ok(id)
    }

    /// A judgement's evidence file, to download (staff only).
    pub async fn attestation_evidence(
        &mut self,
        company: CompanyId,
        id: AttestationId,
    ) -> Result<EvidenceFile, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        let mut query = self.select(
            "j.evidence_blob, j.evidence_name",
            &fence::COMPLIANCE_ATTESTATIONS,
            "j",
        );
        query
            .sql(" AND j.company_id = ")
            .arg(company)
            .sql(" AND j.id = ")
            .arg(id)
            .sql(" AND j.evidence_blob IS NOT NULL");
        let (blob_key, file_name): (String, String) =
            self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        self.audit_view_on(
            false,
            AuditAction::Downloaded,
            Some(company),
            AuditTarget::new("compliance_judgement", id, &file_name),
            "",
        )?;
        Ok(EvidenceFile {
            blob_key,
            file_name,
        })
    }

    /// Records `framework`'s scorecard for `company` as judged now: the portal shows it, and
    /// it joins the company's history.
    pub async fn record_assessment(
        &mut self,
        company: CompanyId,
        framework: &str,
    ) -> Result<AssessmentId, StoreError> {
        self.company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        let framework = compliance::framework(framework).ok_or_else(|| {
            StoreError::InvalidFields(vec![(
                "framework".into(),
                "Choose a framework to assess.".into(),
            )])
        })?;
        let card = self
            .compliance_now(company)
            .await?
            .into_iter()
            .find(|c| std::ptr::eq(c.framework, framework))
            .ok_or(StoreError::NotFound)?;
        let id = AssessmentId::new();
        let score = &card.score;
        self.tx
            .exec(q!(
                "INSERT INTO compliance_assessments (workspace_id, company_id, id, framework, \
                 assessed_at, staff_name, percent, level, met, not_met, not_assessed, \
                 not_applicable, findings) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                self.scope.workspace(),
                company,
                id,
                framework.id.as_str(),
                now(),
                self.scope.actor_name(),
                i64::from(score.percent),
                score.level.map(i64::from),
                score.met as i64,
                score.not_met as i64,
                score.not_assessed as i64,
                score.not_applicable as i64,
                findings_text(&card.findings)
            ))
            .await?;
        for finding in &card.findings {
            self.tx
                .exec(q!(
                    "INSERT INTO compliance_findings (workspace_id, company_id, assessment_id, \
                     requirement, status, source, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    self.scope.workspace(),
                    company,
                    id,
                    finding.requirement.as_str(),
                    finding.status.as_str(),
                    finding.source.as_str(),
                    finding.detail.as_str()
                ))
                .await?;
        }
        self.audit(
            AuditAction::RecordCreated,
            Some(company),
            AuditTarget::new("compliance_assessment", id, &framework.name),
            &match score.level {
                Some(level) => format!("maturity level {level}, {}%", score.percent),
                None => format!("{}%", score.percent),
            },
        )
        .await?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_survive_their_text() {
        let findings = vec![
            Finding {
                requirement: "e8.mfa.1a".into(),
                status: Status::NotMet,
                source: Source::Records,
                detail: "46 of 48 users\tregistered\nC:\\temp \\n".into(),
            },
            Finding {
                requirement: "e8.admin.1a".into(),
                status: Status::NotAssessed,
                source: Source::None,
                detail: String::new(),
            },
        ];
        let text = findings_text(&findings);
        assert_eq!(text.lines().count(), 2, "one line each: {text:?}");
        assert!(text.starts_with("e8.admin.1a\tnot_assessed\tnone\t\n"));
        let back = parse_findings(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].requirement, "e8.admin.1a");
        assert_eq!(back[1].detail, findings[0].detail);
        assert_eq!(back[1].status, Status::NotMet);
        assert_eq!(back[1].source, Source::Records);
        assert!(parse_findings("").unwrap().is_empty());
        assert!(parse_findings("e8.x\tmet\tstaff").is_err());
        let unknown = parse_findings("e8.x\tmaybe\tstaff\t").unwrap();
        assert_eq!(unknown[0].status, Status::NotAssessed);
        assert!(parse_findings("e8.x\tmet\tstaff\ta\\q").is_err());
    }

    #[test]
    fn a_judgement_needs_a_status_a_note_and_a_future_last_day() {
        let Err(StoreError::InvalidFields(errors)) = check(&AttestationForm {
            status: "maybe".into(),
            note: "  ".into(),
            expires_on: "2001-01-01".into(),
        }) else {
            panic!("refused");
        };
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["status", "note", "expires_on"]);
        let ok = check(&AttestationForm {
            status: "not_applicable".into(),
            note: "No macros: the company does not use Microsoft Office.".into(),
            expires_on: String::new(),
        })
        .unwrap();
        assert_eq!(ok.status, Status::NotApplicable);
        assert_eq!(ok.expires_on, None);
        // "not_assessed" is what no judgement means, not a judgement.
        assert!(
            check(&AttestationForm {
                status: "not_assessed".into(),
                note: "x".into(),
                expires_on: String::new(),
            })
            .is_err()
        );
    }
}
