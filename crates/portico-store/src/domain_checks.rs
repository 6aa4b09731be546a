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
    /// When its breaches were last searched: at most daily, whoever asks for a check (each
    /// search spends the MSP's HIBP budget, shared by all its clients).
    pub breaches_checked_at: Option<i64>,
}

/// How often a domain's breaches are searched at most.
pub const SEARCH_BREACHES_EVERY_SECS: i64 = 20 * 3600;

impl DueDomain {
    /// Whether its breaches are due a search at `now`.
    pub fn breaches_due(&self, now: i64) -> bool {
        self.breaches_checked_at
            .is_none_or(|at| now - at >= SEARCH_BREACHES_EVERY_SECS)
    }
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
            "SELECT h.workspace_id, h.company_id, h.domain, h.dkim_selectors, h.breaches_checked_at \
             FROM domain_health h \
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
        let candidates: Vec<(String, String, String, String, Option<i64>)> =
            self.tx.all(query).await?;
        let mut due = Vec::new();
        for (workspace_id, company_id, domain, selectors, breaches_checked_at) in candidates {
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
                    breaches_checked_at,
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

/// The MSP's Have I Been Pwned key and the address it is used at.
#[derive(Clone)]
pub struct BreachKey {
    pub key: String,
    pub api_url: String,
}

impl std::fmt::Debug for BreachKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreachKey")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// An account newly found in a breach (or in a new one), for the mail that tells of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBreachFinding {
    pub address: String,
    /// The breaches' titles (or names, before their details are read).
    pub breaches: Vec<String>,
}

/// Who is told of a company's new findings, and under which names.
#[derive(Debug, Clone)]
pub struct BreachRecipients {
    pub workspace_name: String,
    pub company_name: String,
    pub owners: Vec<String>,
    /// Empty unless the company chose to have its client admins told.
    pub client_admins: Vec<String>,
}

impl SystemTx {
    /// The workspace's HIBP key, if an owner set one.
    pub async fn breach_key(
        &mut self,
        store: &crate::Store,
        workspace: &str,
    ) -> Result<Option<BreachKey>, StoreError> {
        let row: Option<(String, String)> = self
            .tx
            .optional(q!(
                "SELECT key_sealed, api_url FROM breach_monitoring WHERE workspace_id = $1",
                workspace
            ))
            .await?;
        let Some((sealed, api_url)) = row else {
            return Ok(None);
        };
        let key = store
            .audit_log()
            .sealer()
            .open(&crate::scoped::breaches::key_context(workspace), &sealed)?;
        Ok(Some(BreachKey {
            key: String::from_utf8_lossy(&key).into_owned(),
            api_url,
        }))
    }

    /// Breach names among `names` whose details `workspace` does not keep yet.
    pub async fn unknown_breaches(
        &mut self,
        workspace: &str,
        names: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let known: Vec<(String,)> = self
            .tx
            .all(q!(
                "SELECT name FROM known_breaches WHERE workspace_id = $1",
                workspace
            ))
            .await?;
        let known: std::collections::HashSet<String> = known.into_iter().map(|(n,)| n).collect();
        let mut unknown: Vec<String> = names
            .iter()
            .filter(|n| !known.contains(n.as_str()))
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        Ok(unknown)
    }

    /// Each of `names` as people read it: its title and date where its details are kept
    /// (`Adobe (2013-10-04)`), else its name.
    pub async fn breach_titles(
        &mut self,
        workspace: &str,
        names: &[String],
    ) -> Result<std::collections::HashMap<String, String>, StoreError> {
        let known: Vec<(String, String, String)> = self
            .tx
            .all(q!(
                "SELECT name, title, breach_date FROM known_breaches WHERE workspace_id = $1",
                workspace
            ))
            .await?;
        let known: std::collections::HashMap<String, String> = known
            .into_iter()
            .map(|(name, title, date)| (name, format!("{title} ({date})")))
            .collect();
        Ok(names
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    known.get(n).cloned().unwrap_or_else(|| n.clone()),
                )
            })
            .collect())
    }

    /// Keeps a breach's details as HIBP described them to `workspace`'s key.
    #[allow(clippy::too_many_arguments)]
    pub async fn keep_breach(
        &mut self,
        workspace: &str,
        name: &str,
        title: &str,
        breach_date: &str,
        data_classes: &str,
        pwn_count: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "INSERT INTO known_breaches (workspace_id, name, title, breach_date, data_classes, pwn_count, \
                 fetched_at) VALUES ($7, $1, $2, $3, $4, $5, $6) ON CONFLICT (workspace_id, name) DO UPDATE \
                 SET title = $2, breach_date = $3, data_classes = $4, pwn_count = $5, fetched_at = $6",
                name,
                title,
                breach_date,
                data_classes,
                pwn_count,
                now,
                workspace
            ))
            .await?;
        Ok(())
    }

    /// Keeps a search of `due`'s domain: each alias with its breaches' names. Answers what is
    /// new — an account first found, or found in a breach it was not in before — so that it
    /// can be told. An account no longer listed is kept with `gone_at`; a repeat writes nothing.
    pub async fn save_breach_search(
        &mut self,
        due: &DueDomain,
        found: &std::collections::BTreeMap<String, Vec<String>>,
        now: i64,
    ) -> Result<Vec<NewBreachFinding>, StoreError> {
        let stored: Vec<(String, String, Option<i64>)> = self
            .tx
            .all(q!(
                "SELECT alias, breaches, gone_at FROM breached_accounts WHERE workspace_id = $1 \
                 AND company_id = $2 AND domain = $3",
                &due.workspace_id,
                &due.company_id,
                &due.domain
            ))
            .await?;
        let stored: std::collections::HashMap<String, (String, Option<i64>)> = stored
            .into_iter()
            .map(|(alias, breaches, gone)| (alias, (breaches, gone)))
            .collect();
        let mut new = Vec::new();
        for (alias, names) in found {
            let alias = alias.trim().to_lowercase();
            if alias.is_empty() || alias.len() > 200 {
                continue;
            }
            let joined = names.join(" ");
            match stored.get(&alias) {
                None => {
                    self.tx
                        .exec(q!(
                            "INSERT INTO breached_accounts (workspace_id, company_id, domain, alias, \
                             breaches, first_seen_at, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                            &due.workspace_id,
                            &due.company_id,
                            &due.domain,
                            &alias,
                            &joined,
                            now
                        ))
                        .await?;
                    new.push(NewBreachFinding {
                        address: format!("{alias}@{}", due.domain),
                        breaches: names.clone(),
                    });
                }
                Some((before, gone)) if *before != joined || gone.is_some() => {
                    let before: Vec<&str> = before.split_whitespace().collect();
                    let added: Vec<String> = names
                        .iter()
                        .filter(|n| !before.contains(&n.as_str()))
                        .cloned()
                        .collect();
                    self.tx
                        .exec(q!(
                            "UPDATE breached_accounts SET breaches = $1, changed_at = $2, gone_at = NULL \
                             WHERE workspace_id = $3 AND company_id = $4 AND domain = $5 AND alias = $6",
                            &joined,
                            now,
                            &due.workspace_id,
                            &due.company_id,
                            &due.domain,
                            &alias
                        ))
                        .await?;
                    if !added.is_empty() {
                        new.push(NewBreachFinding {
                            address: format!("{alias}@{}", due.domain),
                            breaches: added,
                        });
                    }
                }
                Some(_) => {}
            }
        }
        for (alias, (_, gone)) in &stored {
            if gone.is_none() && !found.keys().any(|a| a.trim().eq_ignore_ascii_case(alias)) {
                self.tx
                    .exec(q!(
                        "UPDATE breached_accounts SET gone_at = $1 WHERE workspace_id = $2 \
                         AND company_id = $3 AND domain = $4 AND alias = $5",
                        now,
                        &due.workspace_id,
                        &due.company_id,
                        &due.domain,
                        alias
                    ))
                    .await?;
            }
        }
        self.tx
            .exec(q!(
                "UPDATE domain_health SET breaches_checked_at = $1, breach_error = '' \
                 WHERE workspace_id = $2 AND company_id = $3 AND domain = $4",
                now,
                &due.workspace_id,
                &due.company_id,
                &due.domain
            ))
            .await?;
        Ok(new)
    }

    /// Keeps why a domain's breach search failed (shown to staff on its page).
    pub async fn save_breach_error(
        &mut self,
        due: &DueDomain,
        error: &str,
    ) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE domain_health SET breach_error = $1 WHERE workspace_id = $2 \
                 AND company_id = $3 AND domain = $4",
                error,
                &due.workspace_id,
                &due.company_id,
                &due.domain
            ))
            .await?;
        Ok(())
    }

    /// Who is told of `due`'s company's new findings.
    pub async fn breach_recipients(
        &mut self,
        due: &DueDomain,
    ) -> Result<BreachRecipients, StoreError> {
        let (workspace_name, company_name, to_admins): (String, String, bool) = self
            .tx
            .one(q!(
                "SELECT w.name, c.name, c.breach_alerts_to_admins FROM companies c \
                 JOIN workspaces w ON w.id = c.workspace_id WHERE c.workspace_id = $1 AND c.id = $2",
                &due.workspace_id,
                &due.company_id
            ))
            .await?;
        let owners: Vec<(String,)> = self
            .tx
            .all(q!(
                "SELECT email FROM staff_users WHERE workspace_id = $1 AND role = 'owner' \
                 AND NOT disabled ORDER BY email",
                &due.workspace_id
            ))
            .await?;
        let client_admins: Vec<(String,)> = if to_admins {
            self.tx
                .all(q!(
                    "SELECT email FROM portal_users WHERE workspace_id = $1 AND company_id = $2 \
                     AND role = 'client_admin' AND NOT disabled AND password_hash IS NOT NULL \
                     ORDER BY email",
                    &due.workspace_id,
                    &due.company_id
                ))
                .await?
        } else {
            Vec::new()
        };
        Ok(BreachRecipients {
            workspace_name,
            company_name,
            owners: owners.into_iter().map(|(e,)| e).collect(),
            client_admins: client_admins.into_iter().map(|(e,)| e).collect(),
        })
    }

    /// Queues a mail about `due`'s company to `to`, worded by the caller.
    pub async fn queue_breach_mail(
        &mut self,
        due: &DueDomain,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let workspace = portico_core::WorkspaceId::from_stored(&due.workspace_id);
        let company = portico_core::CompanyId::from_stored(&due.company_id);
        crate::scoped::outbox::push(&mut self.tx, workspace, Some(company), to, subject, body).await
    }

    /// How many domains have a kept report (the domain-health benchmark's check).
    pub async fn checked_domains_count(&mut self) -> Result<i64, StoreError> {
        let (n,): (i64,) = self
            .tx
            .one(q!(
                "SELECT COUNT(*) FROM domain_health WHERE checked_at IS NOT NULL"
            ))
            .await?;
        Ok(n)
    }

    /// Makes every domain due a check (and a breach search) now, as a day passing would (tests
    /// of the daily round).
    #[cfg(feature = "test-hooks")]
    pub async fn make_domains_due(&mut self) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE domain_health SET next_check_at = 0, lease_until = 0, breaches_checked_at = NULL"
            ))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaches_are_searched_at_most_daily_whoever_asks_for_a_check() {
        let due = |at: Option<i64>| DueDomain {
            workspace_id: String::new(),
            company_id: String::new(),
            domain: "a.test".into(),
            dkim_selectors: Vec::new(),
            breaches_checked_at: at,
        };
        let now = 1_000_000;
        assert!(due(None).breaches_due(now));
        assert!(!due(Some(now - 3600)).breaches_due(now));
        assert!(due(Some(now - SEARCH_BREACHES_EVERY_SECS)).breaches_due(now));
    }
}
