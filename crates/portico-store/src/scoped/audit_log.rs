//! Reading the audit log (A4): the console's owners read the whole workspace's (both chains, a
//! company's entries by the company they concern); a company's client admins read their
//! company's own chain — including what the MSP's staff saw of their records and the reason a
//! view-as gave — and take it away as a proof bundle that checks offline.

use portico_core::{Action, AuditAction, CompanyId};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::audit::ENTRY_COLUMNS;
use crate::audit::chain::{Checkpoint, StoredEntry};
use crate::scoped::{ScopedTx, fence};

/// Entries on one page of the log.
pub const PAGE_SIZE: i64 = 50;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The console: the entries concerning this company (both chains). The portal always reads
    /// its own company's chain.
    pub company: Option<CompanyId>,
    pub action: Option<AuditAction>,
    /// Staff (`staff`), the company's people (`portal`), or sign-in attempts by no one known
    /// (`anonymous`).
    pub actor_kind: Option<String>,
    /// Entries at or after / before these times (milliseconds).
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// The page after this entry (its time and id), newest first.
    pub after: Option<(i64, String)>,
}

/// One entry as a reader is shown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub at_ms: i64,
    /// The company the entry concerns, if any.
    pub company_id: Option<CompanyId>,
    /// On the workspace's own chain (the MSP's internal work), not the company's.
    pub internal: bool,
    pub seq: i64,
    pub actor_kind: String,
    pub actor_name: String,
    pub action: AuditAction,
    pub target_kind: String,
    pub target_id: String,
    pub target_label: String,
    pub detail: String,
    pub ip: String,
    pub user_agent: String,
}

impl AuditEntry {
    /// Who acted, as a reader of the portal knows them: the MSP's staff are named as such.
    pub fn actor_is_staff(&self) -> bool {
        self.actor_kind == "staff"
    }
}

/// A page of entries and the cursor of the next.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<(i64, String)>,
}

/// A company's chain, whole, with what is needed to check it without Portico's database: its
/// signed checkpoints, its head and the workspace's public key (see `audit::chain` for the
/// hashed and signed texts, and `portico audit verify-bundle`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProofBundle {
    pub format: String,
    pub workspace_id: String,
    pub chain: String,
    pub public_key: String,
    pub checkpoint_every: i64,
    pub head_seq: i64,
    pub head_hash: String,
    pub exported_at_ms: i64,
    pub checkpoints: Vec<Checkpoint>,
    pub entries: Vec<StoredEntry>,
}

/// The bundle's format name.
pub const BUNDLE_FORMAT: &str = "portico-audit-bundle-1";

struct Row {
    id: String,
    at_ms: i64,
    concerns_company_id: Option<String>,
    chain: String,
    seq: i64,
    actor_kind: String,
    actor_name: String,
    action: String,
    target_kind: String,
    target_id: String,
    target_label: String,
    detail: String,
    ip: String,
    user_agent: String,
}
crate::sql::db_row!(Row {
    id,
    at_ms,
    concerns_company_id,
    chain,
    seq,
    actor_kind,
    actor_name,
    action,
    target_kind,
    target_id,
    target_label,
    detail,
    ip,
    user_agent
});

impl Row {
    fn into_entry(self) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            action: AuditAction::parse(&self.action)
                .ok_or_else(|| StoreError::Corrupt(format!("audit action {:?}", self.action)))?,
            id: self.id,
            at_ms: self.at_ms,
            company_id: self
                .concerns_company_id
                .as_deref()
                .map(CompanyId::from_stored),
            internal: self.chain.is_empty(),
            seq: self.seq,
            actor_kind: self.actor_kind,
            actor_name: self.actor_name,
            target_kind: self.target_kind,
            target_id: self.target_id,
            target_label: self.target_label,
            detail: self.detail,
            ip: self.ip,
            user_agent: self.user_agent,
        })
    }
}

impl ScopedTx<'_> {
    /// The company a portal reader's log is: their current company.
    fn own_company(&self) -> Result<CompanyId, StoreError> {
        match self.scope.companies() {
            portico_core::CompanySet::Only(ids) if ids.len() == 1 => Ok(ids[0]),
            _ => Err(StoreError::NotFound),
        }
    }

    /// A page of the log, newest first.
    pub async fn audit_entries(&mut self, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
        self.scope.may(Action::ViewAudit)?;
        let mut query = self.select(
            "a.id, a.at_ms, a.concerns_company_id, a.chain, a.seq, a.actor_kind, a.actor_name, \
             a.action, a.target_kind, a.target_id, a.target_label, a.detail, a.ip, a.user_agent",
            &fence::AUDIT_ENTRIES,
            "a",
        );
        if self.scope.is_portal() {
            let company = self.own_company()?;
            query
                .sql(" AND a.concerns_company_id = ")
                .arg(company)
                .sql(" AND a.chain = ")
                .arg(company.as_text());
        } else if let Some(company) = filter.company {
            self.visible_company(company).await?;
            query.sql(" AND a.concerns_company_id = ").arg(company);
        }
        if let Some(action) = filter.action {
            query.sql(" AND a.action = ").arg(action.as_str());
        }
        if let Some(kind) = &filter.actor_kind {
            query.sql(" AND a.actor_kind = ").arg(kind.as_str());
        }
        if let Some(from) = filter.from_ms {
            query.sql(" AND a.at_ms >= ").arg(from);
        }
        if let Some(until) = filter.until_ms {
            query.sql(" AND a.at_ms < ").arg(until);
        }
        if let Some((at, id)) = &filter.after {
            query
                .sql(" AND (a.at_ms < ")
                .arg(*at)
                .sql(" OR (a.at_ms = ")
                .arg(*at)
                .sql(" AND a.id < ")
                .arg(id.as_str())
                .sql("))");
        }
        query
            .sql(" ORDER BY a.at_ms DESC, a.id DESC LIMIT ")
            .arg(PAGE_SIZE + 1);
        let mut rows: Vec<Row> = self.tx.all(query).await?;
        let more = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        let entries = rows
            .into_iter()
            .map(Row::into_entry)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let next = if more {
            entries.last().map(|e| (e.at_ms, e.id.clone()))
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }

    /// The latest sign-ins and failed sign-ins to the reader's own account (a portal user's
    /// profile), newest first: when, from which address and browser.
    pub async fn my_sign_ins(&mut self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let portico_core::Actor::Portal(me) = self.scope.actor() else {
            return Ok(Vec::new());
        };
        let mut query = self.select(
            "a.id, a.at_ms, a.concerns_company_id, a.chain, a.seq, a.actor_kind, a.actor_name, \
             a.action, a.target_kind, a.target_id, a.target_label, a.detail, a.ip, a.user_agent",
            &fence::AUDIT_ENTRIES,
            "a",
        );
        query
            .sql(" AND a.target_kind = 'portal_user' AND a.target_id = ")
            .arg(me)
            .sql(" AND a.action IN ('sign_in', 'sign_in_failed') ORDER BY a.at_ms DESC LIMIT ")
            .arg(limit);
        let rows: Vec<Row> = self.tx.all(query).await?;
        rows.into_iter().map(Row::into_entry).collect()
    }

    /// The reader's company's chain as a proof bundle (the portal's download; the console's
    /// owners for any company in scope).
    pub async fn audit_bundle(
        &mut self,
        company: Option<CompanyId>,
    ) -> Result<ProofBundle, StoreError> {
        // A company out of sight is missing before it is forbidden.
        let company = match (self.scope.is_portal(), company) {
            (true, _) => self.own_company()?,
            (false, Some(c)) => {
                self.visible_company(c).await?;
                c
            }
            (false, None) => return Err(StoreError::NotFound),
        };
        self.scope.may(Action::ViewAudit)?;
        let chain = company.as_text();
        let workspace = self.scope.workspace().as_text();
        let mut query = self.select("h.seq, h.hash", &fence::AUDIT_HEADS, "h");
        query.sql(" AND h.chain = ").arg(chain.as_str());
        let head: Option<(i64, String)> = self.tx.optional(query).await?;
        let (head_seq, head_hash) = head.unwrap_or((0, crate::audit::GENESIS.to_owned()));
        let mut query = self.select(
            "c.workspace_id, c.chain, c.seq, c.hash, c.at_ms, c.public_key, c.signature",
            &fence::AUDIT_CHECKPOINTS,
            "c",
        );
        query
            .sql(" AND c.chain = ")
            .arg(chain.as_str())
            .sql(" AND c.seq <= ")
            .arg(head_seq)
            .sql(" ORDER BY c.seq");
        let checkpoints: Vec<crate::audit::CheckpointRow> = self.tx.all(query).await?;
        let checkpoints = checkpoints.into_iter().map(Checkpoint::from).collect();
        // Read up to the head read above: entries appended meanwhile belong to the next bundle.
        let columns: String = ENTRY_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut query = self.select(&columns, &fence::AUDIT_ENTRIES, "e");
        query
            .sql(" AND e.chain = ")
            .arg(chain.as_str())
            .sql(" AND e.seq <= ")
            .arg(head_seq)
            .sql(" ORDER BY e.seq");
        let entries: Vec<StoredEntry> = self.tx.all(query).await?;
        Ok(ProofBundle {
            format: BUNDLE_FORMAT.to_owned(),
            public_key: hex::encode(self.audit.key().verifying_key(&workspace).as_bytes()),
            workspace_id: workspace,
            chain,
            checkpoint_every: self.audit.checkpoint_every(),
            head_seq,
            head_hash,
            exported_at_ms: crate::audit::now_ms(),
            checkpoints,
            entries,
        })
    }
}

impl ProofBundle {
    /// Checks the bundle on its own: every entry against its predecessor and hash, every
    /// checkpoint against `public_key` (the workspace's key as the reader knows it; the
    /// bundle's own if `None`). Returns the number of entries checked.
    pub fn verify(&self, public_key: Option<&str>) -> Result<u64, String> {
        if self.format != BUNDLE_FORMAT {
            return Err(format!("not a proof bundle of format {BUNDLE_FORMAT}"));
        }
        let key_hex = public_key.unwrap_or(&self.public_key);
        let key = hex::decode(key_hex.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
            .ok_or("the public key is not an Ed25519 key in hex")?;
        let mut check = crate::audit::chain::ChainCheck::new(
            &self.workspace_id,
            &self.chain,
            &key,
            self.checkpoint_every,
            self.checkpoints.clone(),
        );
        for entry in &self.entries {
            check.entry(entry);
        }
        check
            .finish(Some((self.head_seq, self.head_hash.as_str())))
            .map_err(|p| p.to_string())
    }
}
