//! P5's breach monitoring: the MSP's Have I Been Pwned key (owners set it; it is sealed and
//! never shown again), the accounts of each company's domains found in breaches, and whether a
//! company's client admins are told of new findings. The searches are the domain worker's
//! ([`crate::SystemTx::save_breach_search`]).

use portico_core::{Action, AuditAction, AuditTarget, CompanyId};

use crate::scoped::connectors::{check_base_url, hint};
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// Have I Been Pwned's API, unless an owner names a proxy.
pub const HIBP_API_URL: &str = "https://haveibeenpwned.com/api/v3";

/// The context the key is sealed for: its workspace.
pub(crate) fn key_context(workspace: &str) -> String {
    format!("hibp:{workspace}")
}

/// The workspace's breach monitoring, as its owners' page shows it (never the key).
#[derive(Debug, Clone)]
pub struct BreachMonitoring {
    /// The key's last characters.
    pub key_hint: String,
    pub api_url: String,
    pub updated_at: i64,
}
crate::sql::db_row!(BreachMonitoring {
    key_hint,
    api_url,
    updated_at
});

/// A breach as HIBP describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownBreach {
    pub name: String,
    pub title: String,
    /// `YYYY-MM-DD`; empty until its details are read.
    pub breach_date: String,
    pub data_classes: String,
}

/// An account of a company's domain found in breaches.
#[derive(Debug, Clone)]
pub struct BreachedAccount {
    pub domain: String,
    pub alias: String,
    pub breaches: Vec<KnownBreach>,
    pub first_seen_at: i64,
    pub changed_at: i64,
    /// When HIBP stopped listing it.
    pub gone_at: Option<i64>,
}

struct AccountRow {
    domain: String,
    alias: String,
    breaches: String,
    first_seen_at: i64,
    changed_at: i64,
    gone_at: Option<i64>,
}
crate::sql::db_row!(AccountRow {
    domain,
    alias,
    breaches,
    first_seen_at,
    changed_at,
    gone_at
});

impl BreachedAccount {
    /// The account's address.
    pub fn address(&self) -> String {
        format!("{}@{}", self.alias, self.domain)
    }
}

impl ScopedTx<'_> {
    /// The workspace's breach monitoring, if an owner set a key.
    pub async fn breach_monitoring(&mut self) -> Result<Option<BreachMonitoring>, StoreError> {
        self.scope.may(Action::ManageConnectors)?;
        let query = self.select(
            "b.key_hint, b.api_url, b.updated_at",
            &fence::BREACH_MONITORING,
            "b",
        );
        self.tx.optional(query).await
    }

    /// Sets the workspace's HIBP key (a new one, or `None` to keep the one set) and the address
    /// it is used at; audited as a credential change.
    pub async fn set_breach_monitoring(
        &mut self,
        key: Option<&str>,
        api_url: &str,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageConnectors)?;
        let mut refusals = Vec::new();
        let url = match check_base_url(if api_url.trim().is_empty() {
            HIBP_API_URL
        } else {
            api_url
        }) {
            Ok(url) => url,
            Err(m) => {
                refusals.push(("api_url".to_owned(), m));
                String::new()
            }
        };
        let key = key.map(str::trim).filter(|k| !k.is_empty());
        let existing = self.breach_monitoring().await?;
        match key {
            Some(k)
                if k.len() < 16
                    || k.len() > 100
                    || !k.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                refusals.push((
                    "key".to_owned(),
                    "An HIBP API key is 16 to 100 letters and digits (from haveibeenpwned.com/API/Key).".to_owned(),
                ));
            }
            None if existing.is_none() => {
                refusals.push(("key".to_owned(), "Enter the MSP's HIBP API key.".to_owned()));
            }
            // The stored key goes only where it went when it was typed: a new address needs it
            // typed again, or an owner could send it to a host of their own and read it.
            None if refusals.is_empty() && existing.as_ref().is_some_and(|e| e.api_url != url) => {
                refusals.push((
                    "key".to_owned(),
                    "Enter the key again to use it at the new address.".to_owned(),
                ));
            }
            _ => {}
        }
        if !refusals.is_empty() {
            return Err(StoreError::InvalidFields(refusals));
        }
        let workspace = self.scope.workspace();
        let at = now();
        match key {
            Some(k) => {
                let sealed = self
                    .audit
                    .sealer()
                    .seal(&key_context(&workspace.as_text()), k.as_bytes());
                self.tx
                    .exec(q!(
                        "INSERT INTO breach_monitoring (workspace_id, key_sealed, key_hint, api_url, updated_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id) DO UPDATE SET \
                         key_sealed = $2, key_hint = $3, api_url = $4, updated_at = $5",
                        workspace,
                        sealed,
                        hint(k),
                        url.as_str(),
                        at
                    ))
                    .await?;
            }
            None => {
                let update = self.update(&fence::BREACH_MONITORING, |set| {
                    set.sql("api_url = ")
                        .arg(url.as_str())
                        .sql(", updated_at = ")
                        .arg(at);
                });
                self.tx.exec(update).await?;
            }
        }
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("breach_monitoring", workspace, "Breach monitoring"),
            if key.is_some() {
                "Have I Been Pwned API key set"
            } else {
                "Have I Been Pwned address changed"
            },
        )
        .await
    }

    /// Stops breach monitoring: the key is forgotten; findings already made stay.
    pub async fn remove_breach_monitoring(&mut self) -> Result<(), StoreError> {
        self.scope.may(Action::ManageConnectors)?;
        let delete = self.delete(&fence::BREACH_MONITORING);
        if self.tx.exec(delete).await? == 0 {
            return Ok(());
        }
        let workspace = self.scope.workspace();
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("breach_monitoring", workspace, "Breach monitoring"),
            "Have I Been Pwned API key removed",
        )
        .await
    }

    /// The accounts of `company`'s domains found in breaches: current ones first, by address.
    pub async fn breached_accounts(
        &mut self,
        company: CompanyId,
    ) -> Result<Vec<BreachedAccount>, StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ViewDomainHealth)?;
        let mut query = self.select(
            "a.domain, a.alias, a.breaches, a.first_seen_at, a.changed_at, a.gone_at",
            &fence::BREACHED_ACCOUNTS,
            "a",
        );
        query
            .sql(" AND a.company_id = ")
            .arg(company)
            .sql(" ORDER BY (a.gone_at IS NOT NULL), a.domain, a.alias LIMIT 2000");
        let rows: Vec<AccountRow> = self.tx.all(query).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // The workspace's own copy of HIBP's descriptions (each fetched with its own key's
        // address), of the breaches named here only: by name.
        let mut names: Vec<&str> = rows
            .iter()
            .flat_map(|r| r.breaches.split_whitespace())
            .collect();
        names.sort_unstable();
        names.dedup();
        let known: Vec<(String, String, String, String)> = if names.is_empty() {
            Vec::new()
        } else {
            let mut known = self.select(
                "k.name, k.title, k.breach_date, k.data_classes",
                &fence::KNOWN_BREACHES,
                "k",
            );
            known.sql(" AND ");
            known.in_list("k.name", &names).sql(" ORDER BY k.name");
            self.tx.all(known).await?
        };
        let describe = |name: &str| match known.binary_search_by(|k| k.0.as_str().cmp(name)) {
            Ok(i) => KnownBreach {
                name: known[i].0.clone(),
                title: known[i].1.clone(),
                breach_date: known[i].2.clone(),
                data_classes: known[i].3.clone(),
            },
            Err(_) => KnownBreach {
                name: name.to_owned(),
                title: name.to_owned(),
                breach_date: String::new(),
                data_classes: String::new(),
            },
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut breaches: Vec<KnownBreach> =
                    r.breaches.split_whitespace().map(describe).collect();
                // Newest breach first.
                breaches.sort_by(|a, b| b.breach_date.cmp(&a.breach_date));
                BreachedAccount {
                    domain: r.domain,
                    alias: r.alias,
                    breaches,
                    first_seen_at: r.first_seen_at,
                    changed_at: r.changed_at,
                    gone_at: r.gone_at,
                }
            })
            .collect())
    }

    /// Whether `company`'s client admins are mailed new findings.
    pub async fn breach_alerts_to_admins(
        &mut self,
        company: CompanyId,
    ) -> Result<bool, StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::ViewDomainHealth)?;
        let mut query = self.select("c.breach_alerts_to_admins", &fence::COMPANIES, "c");
        query.sql(" AND c.id = ").arg(company);
        let (on,): (bool,) = self.tx.one(query).await?;
        Ok(on)
    }

    /// Has `company`'s client admins mailed new findings, or not: the company's choice (its
    /// client admins on the portal, or staff on its behalf).
    pub async fn set_breach_alerts_to_admins(
        &mut self,
        company: CompanyId,
        on: bool,
    ) -> Result<(), StoreError> {
        self.visible_company(company).await?;
        self.scope.may(Action::CheckDomainHealth)?;
        let mut update = self.update(&fence::COMPANIES, |set| {
            set.sql("breach_alerts_to_admins = ").arg(on);
        });
        update.sql(" AND id = ").arg(company);
        self.tx.exec(update).await?;
        self.audit(
            AuditAction::SettingsChanged,
            Some(company),
            AuditTarget::new("company", company, "Breach alerts"),
            if on {
                "client admins are mailed new breach findings"
            } else {
                "client admins are no longer mailed breach findings"
            },
        )
        .await
    }
}
