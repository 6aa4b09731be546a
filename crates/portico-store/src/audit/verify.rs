//! System work on the whole audit log: checking every chain (`portico audit verify`), signing
//! the heads that grew since their last checkpoint, and pruning past the retention period.

use portico_core::{AuditAction, AuditTarget, CompanyId, Origin, WorkspaceId};

use super::chain::{ChainCheck, Checkpoint, Problem, StoredEntry};
use super::{
    AuditKey, AuditLog, CheckpointRow, ENTRY_COLUMNS, EntryActor, Pending, append,
    insert_checkpoint, now_ms,
};
use crate::StoreError;
use crate::sql::{Tx, q};
use crate::system::SystemTx;

/// Entries read per statement while checking: flat memory for a log of any length.
const PAGE: i64 = 5000;

/// What a check of the log found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub chains: usize,
    pub entries: u64,
    pub checkpoints: u64,
    /// Each broken chain's first bad entry, in chain order.
    pub problems: Vec<Problem>,
}

pub(crate) async fn checkpoints_of(
    tx: &mut Tx,
    workspace: &str,
    chain: &str,
) -> Result<Vec<Checkpoint>, StoreError> {
    let rows: Vec<CheckpointRow> = tx
        .all(q!(
            "SELECT workspace_id, chain, seq, hash, at_ms, public_key, signature \
             FROM audit_checkpoints WHERE workspace_id = $1 AND chain = $2 ORDER BY seq",
            workspace,
            chain
        ))
        .await?;
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}

/// Checks one chain read from `tx` page by page.
pub(crate) async fn check_chain(
    tx: &mut Tx,
    key: &AuditKey,
    every: i64,
    workspace: &str,
    chain: &str,
    checkpoints: Vec<Checkpoint>,
    head: Option<(i64, String)>,
) -> Result<Result<u64, Problem>, StoreError> {
    let verifying = key.verifying_key(workspace);
    let mut check = ChainCheck::new(workspace, chain, &verifying, every, checkpoints);
    let mut after = 0i64;
    loop {
        let page: Vec<StoredEntry> = tx
            .all(q!(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM audit_entries \
                     WHERE workspace_id = $1 AND chain = $2 AND seq > $3 ORDER BY seq LIMIT $4"
                ),
                workspace,
                chain,
                after,
                PAGE
            ))
            .await?;
        for entry in &page {
            check.entry(entry);
        }
        match page.last() {
            Some(last) if !check.failed() && page.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    if head.is_none() && check.entries > 0 && !check.failed() {
        return Ok(Err(Problem {
            workspace_id: workspace.to_owned(),
            chain: chain.to_owned(),
            seq: 0,
            what: "the chain's head record is missing".into(),
        }));
    }
    Ok(check.finish(head.as_ref().map(|(s, h)| (*s, h.as_str()))))
}

impl SystemTx {
    /// Checks every chain of the log (or of one workspace) against the key and checkpoints.
    pub async fn verify_audit(
        &mut self,
        log: &AuditLog,
        workspace: Option<WorkspaceId>,
    ) -> Result<VerifyReport, StoreError> {
        let only = workspace.map(|w| w.as_text());
        // Every chain anything names: a head, an entry or a checkpoint (a deleted head row
        // must not hide its chain). SQLite lists the entries' chains by skipping through the
        // primary key's index on its own; PostgreSQL (15) reads every entry for a DISTINCT (1.3 s
        // for 4.7 million), so there the query skips from one chain to the next itself.
        let listing = if self.tx.is_postgres() {
            "WITH RECURSIVE entry_chains (workspace_id, chain) AS ( \
                 (SELECT workspace_id, chain FROM audit_entries ORDER BY workspace_id, chain LIMIT 1) \
                 UNION ALL \
                 SELECT next.workspace_id, next.chain FROM entry_chains c CROSS JOIN LATERAL ( \
                     SELECT e.workspace_id, e.chain FROM audit_entries e \
                     WHERE (e.workspace_id, e.chain) > (c.workspace_id, c.chain) \
                     ORDER BY e.workspace_id, e.chain LIMIT 1) next) \
             SELECT workspace_id, chain FROM audit_heads \
             UNION SELECT workspace_id, chain FROM entry_chains \
             UNION SELECT DISTINCT workspace_id, chain FROM audit_checkpoints \
             ORDER BY 1, 2"
        } else {
            "SELECT workspace_id, chain FROM audit_heads \
             UNION SELECT DISTINCT workspace_id, chain FROM audit_entries \
             UNION SELECT DISTINCT workspace_id, chain FROM audit_checkpoints \
             ORDER BY 1, 2"
        };
        let mut chains: Vec<(String, String)> =
            self.tx.all(crate::sql::Q::with(listing, vec![])).await?;
        if let Some(w) = &only {
            chains.retain(|(ws, _)| ws == w);
        }
        let mut report = VerifyReport {
            chains: chains.len(),
            ..VerifyReport::default()
        };
        for (ws, chain) in chains {
            let head: Option<(i64, String)> = self
                .tx
                .optional(q!(
                    "SELECT seq, hash FROM audit_heads WHERE workspace_id = $1 AND chain = $2",
                    &ws,
                    &chain
                ))
                .await?;
            let checkpoints = checkpoints_of(&mut self.tx, &ws, &chain).await?;
            report.checkpoints += checkpoints.len() as u64;
            match check_chain(
                &mut self.tx,
                log.key(),
                log.checkpoint_every(),
                &ws,
                &chain,
                checkpoints,
                head,
            )
            .await?
            {
                Ok(entries) => report.entries += entries,
                Err(problem) => report.problems.push(problem),
            }
        }
        Ok(report)
    }

    /// Signs the head of every chain that grew since its last checkpoint (the periodic signer:
    /// the entries after the last checkpoint are then covered within its interval). Returns
    /// how many were signed.
    pub async fn checkpoint_audit_heads(&mut self, log: &AuditLog) -> Result<u64, StoreError> {
        let heads: Vec<(String, String, Option<String>, i64, String)> = self
            .tx
            .all(q!(
                "SELECT workspace_id, chain, company_id, seq, hash FROM audit_heads \
                 WHERE seq > signed_seq"
            ))
            .await?;
        let now = now_ms();
        for (ws, chain, company, seq, hash) in &heads {
            let checkpoint =
                Checkpoint::sign(&log.key().signing_key(ws), ws, chain, *seq, hash, now);
            insert_checkpoint(
                &mut self.tx,
                &checkpoint,
                company.as_deref().map(CompanyId::from_stored),
            )
            .await?;
            self.tx
                .exec(q!(
                    "UPDATE audit_heads SET signed_seq = $1, signed_at_ms = $2 \
                     WHERE workspace_id = $3 AND chain = $4",
                    *seq,
                    now,
                    ws,
                    chain
                ))
                .await?;
        }
        Ok(heads.len() as u64)
    }

    /// Removes the entries recorded before `before_ms` from every chain, keeping each chain
    /// verifiable: the last removed entry's head is signed (if it was not already) and kept as
    /// the checkpoint the remaining entries follow. Each cut is itself recorded on the
    /// workspace's chain. Returns how many entries were removed.
    pub async fn prune_audit(&mut self, log: &AuditLog, before_ms: i64) -> Result<u64, StoreError> {
        // A chain is cut after its last entry of which it and every entry before it are older
        // than `before_ms` (views are appended a moment after they happen, so times are not
        // quite in seq order).
        let cuts: Vec<(String, String, Option<String>, i64)> = self
            .tx
            .all(q!(
                "SELECT h.workspace_id, h.chain, h.company_id, \
                 COALESCE((SELECT MIN(e.seq) - 1 FROM audit_entries e \
                           WHERE e.workspace_id = h.workspace_id AND e.chain = h.chain \
                           AND e.at_ms >= $1), h.seq) \
                 FROM audit_heads h",
                before_ms
            ))
            .await?;
        let mut removed = 0;
        let sqlite = !self.tx.is_postgres();
        if sqlite {
            // SQLite's triggers let entries go only while a permit exists (see migration 0039).
            self.tx
                .exec(q!("INSERT INTO audit_prune_permits (permit) VALUES (1)"))
                .await?;
        }
        for (ws, chain, company, cut) in cuts {
            let oldest: Option<i64> = self
                .tx
                .optional::<(Option<i64>,)>(q!(
                    "SELECT MIN(seq) FROM audit_entries WHERE workspace_id = $1 AND chain = $2",
                    &ws,
                    &chain
                ))
                .await?
                .and_then(|(s,)| s);
            let Some(oldest) = oldest else { continue };
            if cut < oldest {
                continue;
            }
            let (hash, at_ms): (String, i64) = self
                .tx
                .one(q!(
                    "SELECT hash, at_ms FROM audit_entries \
                     WHERE workspace_id = $1 AND chain = $2 AND seq = $3",
                    &ws,
                    &chain,
                    cut
                ))
                .await?;
            let signed = self
                .tx
                .count(q!(
                    "SELECT COUNT(*) FROM audit_checkpoints \
                     WHERE workspace_id = $1 AND chain = $2 AND seq = $3",
                    &ws,
                    &chain,
                    cut
                ))
                .await?;
            let company_id = company.as_deref().map(CompanyId::from_stored);
            if signed == 0 {
                let checkpoint =
                    Checkpoint::sign(&log.key().signing_key(&ws), &ws, &chain, cut, &hash, at_ms);
                insert_checkpoint(&mut self.tx, &checkpoint, company_id).await?;
            }
            let n = self
                .tx
                .exec(q!(
                    "DELETE FROM audit_entries WHERE workspace_id = $1 AND chain = $2 AND seq <= $3",
                    &ws,
                    &chain,
                    cut
                ))
                .await?;
            self.tx
                .exec(q!(
                    "DELETE FROM audit_checkpoints \
                     WHERE workspace_id = $1 AND chain = $2 AND seq < $3",
                    &ws,
                    &chain,
                    cut
                ))
                .await?;
            removed += n;
            let what = if chain.is_empty() {
                "the workspace's chain".to_owned()
            } else {
                "a company's chain".to_owned()
            };
            append(
                &mut self.tx,
                log,
                &Pending::new(
                    WorkspaceId::from_stored(&ws),
                    None,
                    EntryActor::system("Retention"),
                    AuditAction::AuditPruned,
                    AuditTarget::new("audit_chain", &chain, what),
                    &format!("{n} entries up to entry {cut}, recorded before the retention period"),
                    &Origin::default(),
                ),
            )
            .await?;
        }
        if sqlite {
            self.tx.exec(q!("DELETE FROM audit_prune_permits")).await?;
        }
        Ok(removed)
    }
}

impl SystemTx {
    /// Test hook: runs `statements` against the audit tables as an attacker with the database
    /// in hand would: SQLite's append-only triggers dropped first; on PostgreSQL (connected as
    /// the tables' owner) with row-level security unforced for the transaction.
    #[cfg(feature = "test-hooks")]
    pub async fn tamper_with_audit_log(&mut self, statements: &[&str]) -> Result<(), StoreError> {
        let tables = ["audit_entries", "audit_heads", "audit_checkpoints"];
        if self.tx.is_postgres() {
            for t in tables {
                self.tx
                    .exec(crate::sql::Q::with(
                        &format!("ALTER TABLE {t} NO FORCE ROW LEVEL SECURITY"),
                        vec![],
                    ))
                    .await?;
            }
        } else {
            for trigger in [
                "audit_entries_no_update",
                "audit_entries_no_delete",
                "audit_checkpoints_no_update",
                "audit_checkpoints_no_delete",
            ] {
                self.tx
                    .exec(crate::sql::Q::with(
                        &format!("DROP TRIGGER IF EXISTS {trigger}"),
                        vec![],
                    ))
                    .await?;
            }
        }
        for statement in statements {
            self.tx.exec(crate::sql::Q::with(statement, vec![])).await?;
        }
        if self.tx.is_postgres() {
            for t in tables {
                self.tx
                    .exec(crate::sql::Q::with(
                        &format!("ALTER TABLE {t} FORCE ROW LEVEL SECURITY"),
                        vec![],
                    ))
                    .await?;
            }
        }
        Ok(())
    }
}
