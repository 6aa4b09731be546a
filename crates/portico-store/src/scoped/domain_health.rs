//! P5's e-mail domain health: each of a company's e-mail domains with the DKIM selectors staff
//! set for it and the worker's last check, through the same fence as everything else. The
//! checks themselves are `portico-domains`'; the worker claims due domains through the system
//! handle ([`crate::SystemTx::claim_due_domain_checks`]).

use portico_core::{Action, AuditAction, AuditTarget, CompanyId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// Selectors a domain may have.
pub const MAX_SELECTORS: usize = 10;

/// How soon a company's domains may be checked again on request.
pub const CHECK_AGAIN_AFTER_SECS: i64 = 60;

/// A company's domain with its last check.
#[derive(Debug, Clone)]
pub struct DomainHealth {
    pub domain: String,
    pub dkim_selectors: Vec<String>,
    /// The findings as `portico-domains` wrote them (JSON); `None` before the first check.
    pub report: Option<String>,
    /// good, unknown, warn or bad.
    pub worst: Option<String>,
    pub checked_at: Option<i64>,
    /// Asked for and not yet done.
    pub pending: bool,
    /// When its breaches were last searched (with the MSP's HIBP key).
    pub breaches_checked_at: Option<i64>,
    /// Why the last breach search failed; empty when it did not.
    pub breach_error: String,
}

struct Row {
    domain: String,
    dkim_selectors: Option<String>,
    report: Option<String>,
    worst: Option<String>,
    checked_at: Option<i64>,
    next_check_at: Option<i64>,
    breaches_checked_at: Option<i64>,
    breach_error: Option<String>,
}
crate::sql::db_row!(Row {
    domain,
    dkim_selectors,
    report,
    worst,
    checked_at,
    next_check_at,
    breaches_checked_at,
    breach_error
});

/// Reads the selectors a person typed: names separated by spaces or commas, each a DNS label.
pub fn parse_selectors(text: &str) -> Result<Vec<String>, String> {
    let mut selectors: Vec<String> = Vec::new();
    for word in text
        .split([' ', ',', '\n', '\r', '\t'])
        .filter(|w| !w.is_empty())
    {
        let word = word.to_ascii_lowercase();
        let valid = word.len() <= 63
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && !word.starts_with(['-', '.'])
            && !word.ends_with(['-', '.']);
        if !valid {
            return Err(format!(
                "“{word}” is not a selector: letters, digits, hyphens and dots, at most 63."
            ));
        }
        if !selectors.contains(&word) {
            selectors.push(word);
        }
    }
    if selectors.len() > MAX_SELECTORS {
        return Err(format!("At most {MAX_SELECTORS} selectors a domain."));
    }
    Ok(selectors)
}

impl ScopedTx<'_> {
    /// `company`'s e-mail domains by name, each with its last check.
    pub async fn domain_health(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<DomainHealth>, StoreError> {
        // Another company's answers as a missing one, before anything is refused.
        self.visible_company(company).await?;
        self.scope.may(Action::ViewDomainHealth)?;
        let mut query = self.select_joined(
            "d.domain, h.dkim_selectors, h.report, h.worst, h.checked_at, h.next_check_at, \
             h.breaches_checked_at, h.breach_error",
            &fence::COMPANY_EMAIL_DOMAINS,
            "d",
            " LEFT JOIN domain_health h ON h.workspace_id = d.workspace_id \
             AND h.company_id = d.company_id AND h.domain = d.domain",
        );
        query
            .sql(" AND d.company_id = ")
            .arg(company)
            .sql(" ORDER BY d.domain");
        let rows: Vec<Row> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|r| DomainHealth {
                pending: r.checked_at.is_none() || r.next_check_at.is_some_and(|at| at == 0),
                domain: r.domain,
                dkim_selectors: r
                    .dkim_selectors
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                report: r.report,
                worst: r.worst,
                checked_at: r.checked_at,
                breaches_checked_at: r.breaches_checked_at,
                breach_error: r.breach_error.unwrap_or_default(),
            })
            .collect())
    }

    /// Sets the DKIM selectors of `company`'s `domain` (one of its e-mail domains) and has it
    /// checked again.
    pub async fn set_dkim_selectors(
        &mut self,
        company: CompanyId,
        domain: &str,
        selectors: &[String],
    ) -> Result<(), StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ManageCompanyRecords)?;
        self.scope.may(Action::CheckDomainHealth)?;
        let domains = self.company_email_domains(company).await?;
        let Some(domain) = domains.into_iter().find(|d| d == domain) else {
            return Err(StoreError::NotFound);
        };
        let joined = selectors.join(" ");
        self.tx
            .exec(q!(
                "INSERT INTO domain_health (workspace_id, company_id, domain, dkim_selectors, next_check_at) \
                 VALUES ($1, $2, $3, $4, 0) ON CONFLICT (workspace_id, company_id, domain) \
                 DO UPDATE SET dkim_selectors = $4, next_check_at = 0",
                self.scope.workspace(),
                company,
                domain.as_str(),
                joined.as_str()
            ))
            .await?;
        self.audit(
            AuditAction::SettingsChanged,
            Some(company),
            AuditTarget::new("domain", domain.as_str(), domain.as_str()),
            &format!(
                "DKIM selectors set to {}",
                if joined.is_empty() { "none" } else { &joined }
            ),
        )
        .await
    }

    /// Has `company`'s domains checked again as soon as the worker can; `false` when they were
    /// checked or asked for less than a minute ago (nothing is done).
    pub async fn request_domain_check(&mut self, company: CompanyId) -> Result<bool, StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::CheckDomainHealth)?;
        let health = self.domain_health(company).await?;
        let at = now();
        let mut query = self.select("MAX(h.checked_at)", &fence::DOMAIN_HEALTH, "h");
        query.sql(" AND h.company_id = ").arg(company);
        let (last,): (Option<i64>,) = self.tx.one(query).await?;
        if health.iter().all(|h| h.pending) || last.is_some_and(|l| at - l < CHECK_AGAIN_AFTER_SECS)
        {
            return Ok(false);
        }
        for h in &health {
            self.tx
                .exec(q!(
                    "INSERT INTO domain_health (workspace_id, company_id, domain, next_check_at) \
                     VALUES ($1, $2, $3, 0) ON CONFLICT (workspace_id, company_id, domain) \
                     DO UPDATE SET next_check_at = 0",
                    self.scope.workspace(),
                    company,
                    h.domain.as_str()
                ))
                .await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_selectors;

    #[test]
    fn selectors_are_read_as_typed_and_refused_when_not_labels() {
        assert_eq!(
            parse_selectors("selector1, Selector2  google selector1").unwrap(),
            ["selector1", "selector2", "google"]
        );
        assert!(parse_selectors("").unwrap().is_empty());
        assert!(parse_selectors("bad/selector").is_err());
        assert!(parse_selectors("-x").is_err());
        let many = (0..11)
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(parse_selectors(&many).is_err());
    }
}
