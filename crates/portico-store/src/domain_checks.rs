//! The domain health worker's side (P5): which domains are due a check (each company's e-mail
//! domains, daily, and at once when asked), claimed so that two instances never check one
//! domain together, and each check's report kept.

use crate::StoreError;
use crate::sql::{Q, q};
use crate::system::SystemTx;

/// How often a domain is checked when nobody asks.
pub const CHECK_EVERY_SECS: i64 = 24 * 3600;

/// A domain due a check.
#[derive(Debug, Clone)]
pub struct DueDomain {
    pub workspace_id: String,
    pub company_id: String,
    pub domain: String,
    pub dkim_selectors: Vec<String>,
}

impl SystemTx {
    /// Claims up to `limit` due domains until `lease_until`: a domain first seen gets its row,
    /// so that every company's e-mail domains are checked without anyone asking.
    pub async fn claim_due_domain_checks(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<DueDomain>, StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO domain_health (workspace_id, company_id, domain, next_check_at) \
                 SELECT d.workspace_id, d.company_id, d.domain, 0 FROM company_email_domains d \
                 JOIN companies c ON c.workspace_id = d.workspace_id AND c.id = d.company_id \
                 WHERE c.archived_at IS NULL AND NOT EXISTS (SELECT 1 FROM domain_health h \
                 WHERE h.workspace_id = d.workspace_id AND h.company_id = d.company_id \
                 AND h.domain = d.domain) ON CONFLICT DO NOTHING"
            ))
            .await?;
        let mut query = Q::new(
            "SELECT h.workspace_id, h.company_id, h.domain, h.dkim_selectors FROM domain_health h \
             JOIN company_email_domains d ON d.workspace_id = h.workspace_id \
             AND d.company_id = h.company_id AND d.domain = h.domain \
             JOIN companies c ON c.workspace_id = h.workspace_id AND c.id = h.company_id \
             WHERE c.archived_at IS NULL AND h.next_check_at <= ",
        );
        let at = query.placeholder(now);
        query.sql(&format!(
            "{at} AND h.lease_until < {at} ORDER BY h.next_check_at LIMIT "
        ));
        query.arg(limit.clamp(1, 500));
        let candidates: Vec<(String, String, String, String)> = self.tx.all(query).await?;
        let mut due = Vec::new();
        for (workspace_id, company_id, domain, selectors) in candidates {
            // The guard makes the claim: a twin instance's UPDATE finds it taken.
            let n = self
                .tx
                .exec(q!(
                    "UPDATE domain_health SET lease_until = $1 WHERE workspace_id = $2 \
                     AND company_id = $3 AND domain = $4 AND lease_until < $5",
                    lease_until,
                    &workspace_id,
                    &company_id,
                    &domain,
                    now
                ))
                .await?;
            if n == 1 {
                due.push(DueDomain {
                    workspace_id,
                    company_id,
                    domain,
                    dkim_selectors: selectors.split_whitespace().map(str::to_owned).collect(),
                });
            }
        }
        Ok(due)
    }

    /// Keeps a check's report (JSON) and its worst level, and schedules the next check.
    pub async fn save_domain_report(
        &mut self,
        due: &DueDomain,
        report: &str,
        worst: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE domain_health SET report = $1, worst = $2, checked_at = $3, lease_until = 0, \
                 next_check_at = $4 WHERE workspace_id = $5 AND company_id = $6 AND domain = $7",
                report,
                worst,
                now,
                now + CHECK_EVERY_SECS,
                &due.workspace_id,
                &due.company_id,
                &due.domain
            ))
            .await?;
        Ok(())
    }
}
