//! The audit log (A4). Every entry is appended to one hash chain: its company's (what the
//! company's client admins read and can verify themselves) or the workspace's (the MSP's own).
//! A change's entry is written in the change's own transaction ([`ScopedTx::audit`]), so a
//! rolled-back change leaves none and a committed one always has one. What a reader merely saw
//! ([`ScopedTx::audit_view`]) changes nothing, so it is queued in memory and appended within a
//! fraction of a second by the recorder, many entries to one transaction: a page view costs no
//! write of its own. Each chain's head is signed with the workspace's Ed25519 key every
//! [`AuditLog::checkpoint_every`] entries and by the periodic signer, so that removing entries
//! from the end or rebuilding a chain from the start is caught as well ([`chain`]).

pub mod chain;
#[cfg(feature = "system")]
pub mod verify;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portico_core::{Actor, AuditAction, AuditEntryId, AuditTarget, CompanyId, Origin, WorkspaceId};

pub use chain::{AuditKey, Checkpoint, GENESIS, Problem, StoredEntry};

use crate::scoped::ScopedTx;
use crate::sql::{Tx, q};
use crate::{Store, StoreError};

/// Entries between the checkpoints signed as a chain grows (besides the periodic ones).
pub const DEFAULT_CHECKPOINT_EVERY: i64 = 1000;

/// How often the recorder appends the views waiting: each append is a write transaction, and
/// on SQLite every commit makes the other connections drop their page caches.
const RECORD_EVERY: Duration = Duration::from_millis(500);
/// Views waiting at which the recorder is woken before its interval is up.
const WAKE_AT: usize = 8192;
/// Views kept for another attempt when appending them failed (the database is away): past
/// this, the oldest failed batch is given up rather than memory.
const KEPT_ON_FAILURE: usize = 65536;

/// The store's audit settings and the views waiting to be appended.
pub struct AuditLog {
    key: AuditKey,
    /// Seals stored secrets under a key derived from the same server secret.
    sealer: crate::sealed::Sealer,
    checkpoint_every: i64,
    pending: Mutex<Vec<Pending>>,
    wake: tokio::sync::Notify,
    recorder_started: std::sync::atomic::AtomicBool,
}

impl AuditLog {
    pub fn new(key: AuditKey, checkpoint_every: i64) -> AuditLog {
        AuditLog {
            sealer: crate::sealed::Sealer::new(&key),
            key,
            checkpoint_every: checkpoint_every.max(1),
            pending: Mutex::new(Vec::new()),
            wake: tokio::sync::Notify::new(),
            recorder_started: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn key(&self) -> &AuditKey {
        &self.key
    }

    pub(crate) fn sealer(&self) -> &crate::sealed::Sealer {
        &self.sealer
    }

    pub fn checkpoint_every(&self) -> i64 {
        self.checkpoint_every
    }
}

/// Who acted, as an entry records it.
#[derive(Debug, Clone)]
pub(crate) struct EntryActor {
    pub(crate) kind: &'static str,
    pub(crate) id: String,
    pub(crate) name: String,
}

impl EntryActor {
    /// Who acts in `scope`: its user, or the staff member viewing the portal as them.
    pub(crate) fn of_scope(scope: &portico_core::Scope) -> EntryActor {
        if let Some(tool) = scope.connector() {
            return EntryActor {
                kind: "system",
                id: String::new(),
                name: tool.to_owned(),
            };
        }
        match scope.view_as() {
            Some(view) => EntryActor {
                kind: "staff",
                id: view.staff_id.as_text(),
                name: format!("{} (as {})", view.staff_name, scope.actor_name()),
            },
            None => match scope.actor() {
                Actor::Staff(id) => EntryActor {
                    kind: "staff",
                    id: id.as_text(),
                    name: scope.actor_name().to_owned(),
                },
                Actor::Portal(id) => EntryActor {
                    kind: "portal",
                    id: id.as_text(),
                    name: scope.actor_name().to_owned(),
                },
            },
        }
    }

    /// Someone not signed in (a failed sign-in names the address tried in `name`).
    pub(crate) fn anonymous(name: &str) -> EntryActor {
        EntryActor {
            kind: "anonymous",
            id: String::new(),
            name: name.to_owned(),
        }
    }

    #[cfg_attr(not(feature = "system"), allow(dead_code))]
    pub(crate) fn system(name: &str) -> EntryActor {
        EntryActor {
            kind: "system",
            id: String::new(),
            name: name.to_owned(),
        }
    }
}

/// An entry before it is chained.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) workspace: WorkspaceId,
    /// The company whose chain it goes on; `None` for the workspace's.
    pub(crate) chain: Option<CompanyId>,
    pub(crate) concerns: Option<CompanyId>,
    pub(crate) at_ms: i64,
    pub(crate) actor: EntryActor,
    pub(crate) action: AuditAction,
    pub(crate) target: AuditTarget,
    pub(crate) detail: String,
    pub(crate) origin: Origin,
}

impl Pending {
    pub(crate) fn new(
        workspace: WorkspaceId,
        company: Option<CompanyId>,
        actor: EntryActor,
        action: AuditAction,
        target: AuditTarget,
        detail: &str,
        origin: &Origin,
    ) -> Pending {
        Pending {
            workspace,
            chain: company.filter(|_| action.shown_to_client()),
            concerns: company,
            at_ms: now_ms(),
            actor,
            action,
            target,
            detail: detail.to_owned(),
            origin: origin.clone(),
        }
    }
}

impl crate::sql::DbRow for StoredEntry {
    fn decode(row: &crate::sql::RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(StoredEntry {
            workspace_id: row.at(0)?,
            chain: row.at(1)?,
            seq: row.at(2)?,
            id: row.at(3)?,
            at_ms: row.at(4)?,
            concerns_company_id: row.at::<Option<String>>(5)?.unwrap_or_default(),
            actor_kind: row.at(6)?,
            actor_id: row.at(7)?,
            actor_name: row.at(8)?,
            action: row.at(9)?,
            target_kind: row.at(10)?,
            target_id: row.at(11)?,
            target_label: row.at(12)?,
            detail: row.at(13)?,
            ip: row.at(14)?,
            user_agent: row.at(15)?,
            prev_hash: row.at(16)?,
            hash: row.at(17)?,
        })
    }
}

/// The stored entry's columns, in [`StoredEntry`]'s decoding order.
pub(crate) const ENTRY_COLUMNS: &str = "workspace_id, chain, seq, id, at_ms, concerns_company_id, \
     actor_kind, actor_id, actor_name, action, target_kind, target_id, target_label, detail, ip, \
     user_agent, prev_hash, hash";

pub(crate) struct CheckpointRow {
    workspace_id: String,
    chain: String,
    seq: i64,
    hash: String,
    at_ms: i64,
    public_key: String,
    signature: String,
}
crate::sql::db_row!(CheckpointRow {
    workspace_id,
    chain,
    seq,
    hash,
    at_ms,
    public_key,
    signature
});

impl From<CheckpointRow> for Checkpoint {
    fn from(r: CheckpointRow) -> Checkpoint {
        Checkpoint {
            workspace_id: r.workspace_id,
            chain: r.chain,
            seq: r.seq,
            hash: r.hash,
            at_ms: r.at_ms,
            public_key: r.public_key,
            signature: r.signature,
        }
    }
}

/// An entry of what the holder of `scope` did to or saw of `company`'s records (`None`: the
/// workspace's own, never for the portal); a company outside the scope is `NotFound`.
/// `client_sees` false keeps it on the workspace's chain, naming the company concerned.
pub(crate) fn entry_of(
    scope: &portico_core::Scope,
    client_sees: bool,
    action: AuditAction,
    company: Option<CompanyId>,
    target: AuditTarget,
    detail: &str,
) -> Result<Pending, StoreError> {
    match company {
        Some(c) if !scope.companies().contains(c) => return Err(StoreError::NotFound),
        None if scope.is_portal() => return Err(StoreError::NotFound),
        _ => {}
    }
    let mut entry = Pending::new(
        scope.workspace(),
        company,
        EntryActor::of_scope(scope),
        action,
        target,
        detail,
        scope.origin(),
    );
    if !client_sees {
        entry.chain = None;
    }
    Ok(entry)
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn text(id: Option<CompanyId>) -> String {
    id.map(|c| c.as_text()).unwrap_or_default()
}

/// Whether this process records nothing: only a build with the `audit-cost-diagnostic` feature
/// can, with `PORTICO_DIAGNOSTIC_SKIP_AUDIT=1`, so that `bench/audit-cost` can weigh recording
/// against the same binary without it. A release build has no such switch.
#[cfg(feature = "audit-cost-diagnostic")]
fn recording_skipped() -> bool {
    static SKIPPED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SKIPPED.get_or_init(|| std::env::var("PORTICO_DIAGNOSTIC_SKIP_AUDIT").is_ok_and(|v| v == "1"))
}

#[cfg(not(feature = "audit-cost-diagnostic"))]
#[inline(always)]
const fn recording_skipped() -> bool {
    false
}

/// Appends one entry to its chain in `tx` (see [`append_all`]).
pub(crate) async fn append(tx: &mut Tx, log: &AuditLog, entry: &Pending) -> Result<(), StoreError> {
    append_all(tx, log, std::slice::from_ref(entry)).await
}

/// Appends entries to their chains in `tx`, in order, and signs a chain's head wherever a
/// checkpoint falls due. However many chains a batch touches (the recorder's views come from
/// every company at once), their heads are read in one statement (on PostgreSQL locked, which
/// orders concurrent appends to one chain; SQLite has a single writer), the entries go in
/// INSERTs of up to 64 rows whatever their chains, and the heads are written in one UPDATE: a
/// batch costs a few statements, not three for each chain. On SQLite those INSERTs need
/// statement journals (the table's constraints may abort one halfway), which the recorder's
/// connection keeps in memory (see `LitePool::begin_recording`).
pub(crate) async fn append_all(
    tx: &mut Tx,
    log: &AuditLog,
    entries: &[Pending],
) -> Result<(), StoreError> {
    if recording_skipped() {
        return Ok(());
    }
    // Each chain's entries in the order they came, chains by (workspace, chain).
    let mut chains: BTreeMap<(String, String), Vec<&Pending>> = BTreeMap::new();
    for entry in entries {
        chains
            .entry((entry.workspace.as_text(), text(entry.chain)))
            .or_default()
            .push(entry);
    }
    if chains.is_empty() {
        return Ok(());
    }
    let mut heads = heads(tx, chains.keys()).await?;
    let mut rows = EntryRows::default();
    let mut moved: Vec<MovedHead> = Vec::with_capacity(chains.len());
    for ((workspace_text, chain), chain_entries) in chains {
        let (mut seq, mut hash) = heads
            .remove(&(workspace_text.clone(), chain.clone()))
            .ok_or(StoreError::NotFound)?;
        let mut signed: Option<i64> = None;
        for entry in chain_entries {
            seq += 1;
            let mut stored = StoredEntry {
                workspace_id: workspace_text.clone(),
                chain: chain.clone(),
                seq,
                id: AuditEntryId::new().as_text(),
                at_ms: entry.at_ms,
                concerns_company_id: text(entry.concerns),
                actor_kind: entry.actor.kind.to_owned(),
                actor_id: entry.actor.id.clone(),
                actor_name: entry.actor.name.clone(),
                action: entry.action.as_str().to_owned(),
                target_kind: entry.target.kind.to_owned(),
                target_id: entry.target.id.clone(),
                target_label: entry.target.label.clone(),
                detail: entry.detail.clone(),
                ip: entry.origin.ip.map(|ip| ip.to_string()).unwrap_or_default(),
                user_agent: entry.origin.user_agent.clone(),
                prev_hash: std::mem::take(&mut hash),
                hash: String::new(),
            };
            stored.hash = stored.computed_hash();
            hash = stored.hash.clone();
            let checkpoint_due = seq % log.checkpoint_every == 0;
            let at_ms = stored.at_ms;
            rows.push(stored, entry);
            if checkpoint_due {
                // The entries first, then the checkpoint that signs the last of them.
                rows.insert(tx, false).await?;
                let signing = log.key.signing_key(&workspace_text);
                let checkpoint =
                    Checkpoint::sign(&signing, &workspace_text, &chain, seq, &hash, at_ms);
                insert_checkpoint(tx, &checkpoint, entry.chain).await?;
                signed = Some(at_ms);
            }
        }
        moved.push(MovedHead {
            signed_seq: signed.map(|_| seq - seq % log.checkpoint_every),
            signed_at_ms: signed,
            workspace: workspace_text,
            chain,
            seq,
            hash,
        });
    }
    // On PostgreSQL the last rows go in with the heads' UPDATE, as its `WITH` clause: a round
    // trip fewer while the heads are locked (an audited change holds its chain's lock from
    // the heads' read to its commit).
    let postgres = tx.is_postgres();
    let mut update = rows
        .insert(tx, postgres)
        .await?
        .unwrap_or_else(|| crate::sql::Q::new(""));
    let heads_moved = moved.len() as u64;
    if let [head] = moved.as_slice() {
        // One chain (a change's entries): by its key, which PostgreSQL reads from the primary
        // key's index. Joined to the JSON array, it scanned every chain's head (see `heads`).
        update
            .sql("UPDATE audit_heads SET seq = ")
            .arg(head.seq)
            .sql(", hash = ")
            .arg(head.hash.as_str())
            .sql(", signed_seq = COALESCE(")
            .arg(head.signed_seq)
            .sql(", signed_seq), signed_at_ms = COALESCE(")
            .arg(head.signed_at_ms)
            .sql(", signed_at_ms) WHERE workspace_id = ")
            .arg(head.workspace.as_str())
            .sql(" AND chain = ")
            .arg(head.chain.as_str());
    } else {
        // Each moved head as [workspace, chain, seq, hash, signed seq, signed at].
        let moved: Vec<serde_json::Value> = moved
            .into_iter()
            .map(|h| {
                serde_json::json!([
                    h.workspace,
                    h.chain,
                    h.seq,
                    h.hash,
                    h.signed_seq,
                    h.signed_at_ms
                ])
            })
            .collect();
        update.sql(
            "UPDATE audit_heads AS h SET seq = v.seq, hash = v.hash, \
             signed_seq = COALESCE(v.signed_seq, h.signed_seq), \
             signed_at_ms = COALESCE(v.signed_at_ms, h.signed_at_ms) \
             FROM (SELECT k.value ->> 0 AS workspace_id, k.value ->> 1 AS chain, \
             CAST(k.value ->> 2 AS BIGINT) AS seq, k.value ->> 3 AS hash, \
             CAST(k.value ->> 4 AS BIGINT) AS signed_seq, CAST(k.value ->> 5 AS BIGINT) AS signed_at_ms \
             FROM ",
        );
        json_elements(&mut update, tx, serde_json::Value::Array(moved).to_string());
        update.sql(") AS v WHERE h.workspace_id = v.workspace_id AND h.chain = v.chain");
    }
    // Every head read is written: one the fence hid meanwhile fails the append whole.
    if tx.exec(update).await? != heads_moved {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A chain's head as an append leaves it.
struct MovedHead {
    workspace: String,
    chain: String,
    seq: i64,
    hash: String,
    /// The last entry a checkpoint signed in this append, and its time (none fell due: None).
    signed_seq: Option<i64>,
    signed_at_ms: Option<i64>,
}

/// `<elements of the JSON array> AS k`, each element as `k.value` (PostgreSQL
/// `json_array_elements`, SQLite `json_each`).
fn json_elements(query: &mut crate::sql::Q, tx: &Tx, array: String) {
    if tx.is_postgres() {
        query
            .sql("json_array_elements(CAST(")
            .arg(array)
            .sql(" AS JSON)) AS k");
    } else {
        query.sql("json_each(").arg(array).sql(") AS k");
    }
}

/// The heads (last seq and hash) of the chains named `(workspace, chain)`, each made at seq 0
/// on its first entry: one statement for all (two more if any is new). On PostgreSQL they are
/// locked until the transaction ends, in the order of their keys, so that two appenders of
/// the same chains (two instances' recorders) wait for each other. Heads made here are locked
/// after the rest: should another appender make one of them meanwhile and hold it while it
/// waits for one of ours, PostgreSQL ends one of the two transactions as a deadlock, and the
/// recorder appends its batch again on its next round. Only a chain's very first entry can
/// meet this.
async fn heads<'k>(
    tx: &mut Tx,
    chains: impl Iterator<Item = &'k (String, String)>,
) -> Result<HashMap<(String, String), (i64, String)>, StoreError> {
    let keys: Vec<&(String, String)> = chains.collect();
    type Head = (String, String, i64, String);
    let by_key = |rows: Vec<Head>| {
        rows.into_iter()
            .map(|(workspace, chain, seq, hash)| ((workspace, chain), (seq, hash)))
    };
    let read = |tx: &Tx, keys: &[&(String, String)]| {
        let mut query = crate::sql::Q::new("SELECT h.workspace_id, h.chain, h.seq, h.hash FROM ");
        if let [(workspace, chain)] = keys {
            // One chain (a change's entries) by its key. Joined to the JSON array, PostgreSQL's
            // plan (the array's size unknown) scanned every chain's head: 374 µs a reply's
            // append, inside the time the ticket's row is locked.
            query
                .sql("audit_heads h WHERE h.workspace_id = ")
                .arg(workspace.as_str())
                .sql(" AND h.chain = ")
                .arg(chain.as_str());
        } else {
            json_elements(&mut query, tx, key_array(keys));
            query.sql(
                " JOIN audit_heads h ON h.workspace_id = k.value ->> 0 \
                 AND h.chain = k.value ->> 1 ORDER BY h.workspace_id, h.chain",
            );
        }
        if tx.is_postgres() {
            query.sql(" FOR UPDATE OF h");
        }
        query
    };
    let mut heads: HashMap<(String, String), (i64, String)> =
        by_key(tx.all(read(tx, &keys)).await?).collect();
    let missing: Vec<&(String, String)> = keys
        .into_iter()
        .filter(|key| !heads.contains_key(*key))
        .collect();
    if !missing.is_empty() {
        // Two first entries at once on PostgreSQL: one makes the row, both then lock it.
        let mut insert = crate::sql::Q::new(
            "INSERT INTO audit_heads (workspace_id, chain, company_id, seq, hash) \
             SELECT k.value ->> 0, k.value ->> 1, NULLIF(k.value ->> 1, ''), 0, ",
        );
        insert.arg(GENESIS).sql(" FROM ");
        json_elements(&mut insert, tx, key_array(&missing));
        // `WHERE true`: SQLite would read `ON` as the start of a join's constraint.
        insert.sql(" WHERE true ON CONFLICT (workspace_id, chain) DO NOTHING");
        tx.exec(insert).await?;
        heads.extend(by_key(tx.all(read(tx, &missing)).await?));
    }
    Ok(heads)
}

/// `[[workspace, chain], …]`, the chains' keys as a JSON array.
fn key_array(keys: &[&(String, String)]) -> String {
    serde_json::Value::Array(
        keys.iter()
            .map(|(workspace, chain)| serde_json::json!([workspace, chain]))
            .collect(),
    )
    .to_string()
}

/// Entries waiting to be inserted, as the arguments of their rows, many rows to a statement:
/// a page view's entry is one row of an INSERT of up to 64.
#[derive(Default)]
struct EntryRows {
    args: Vec<crate::sql::Arg>,
    rows: usize,
}

impl EntryRows {
    /// The columns of a row, in the order of its arguments.
    const COLUMNS: &'static str = "workspace_id, chain, seq, company_id, concerns_company_id, id, \
         at_ms, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_label, \
         detail, ip, user_agent, prev_hash, hash";
    const ARGS_PER_ROW: usize = 19;
    /// The statement sizes used: a batch is cut into these, largest first, so that only four
    /// statements are ever prepared (SQLite caches each by its text).
    const STATEMENT_ROWS: [usize; 4] = [64, 16, 4, 1];

    /// Takes an entry's stored text (moved, not copied) and its chain's and concerned company.
    fn push(&mut self, stored: StoredEntry, entry: &Pending) {
        use crate::sql::Arg;
        let StoredEntry {
            workspace_id,
            chain,
            seq,
            id,
            at_ms,
            concerns_company_id: _,
            actor_kind,
            actor_id,
            actor_name,
            action,
            target_kind,
            target_id,
            target_label,
            detail,
            ip,
            user_agent,
            prev_hash,
            hash,
        } = stored;
        self.args.extend([
            Arg::Text(workspace_id),
            Arg::Text(chain),
            Arg::Int(seq),
            Arg::from(entry.chain),
            Arg::from(entry.concerns),
            Arg::Text(id),
            Arg::Int(at_ms),
            Arg::Text(actor_kind),
            Arg::Text(actor_id),
            Arg::Text(actor_name),
            Arg::Text(action),
            Arg::Text(target_kind),
            Arg::Text(target_id),
            Arg::Text(target_label),
            Arg::Text(detail),
            Arg::Text(ip),
            Arg::Text(user_agent),
            Arg::Text(prev_hash),
            Arg::Text(hash),
        ]);
        self.rows += 1;
    }

    /// Inserts the rows waiting, in order, and empties the buffer. With `keep_last`, the last
    /// statement is not run but returned as `WITH entries AS (INSERT …) `, for the caller to
    /// end with the statement it runs next (PostgreSQL only: SQLite has no INSERT in `WITH`).
    async fn insert(
        &mut self,
        tx: &mut Tx,
        keep_last: bool,
    ) -> Result<Option<crate::sql::Q>, StoreError> {
        let mut args = std::mem::take(&mut self.args).into_iter();
        let mut left = std::mem::take(&mut self.rows);
        while left > 0 {
            // The last size is 1: one always fits.
            let rows = Self::STATEMENT_ROWS
                .into_iter()
                .find(|&n| n <= left)
                .unwrap_or(1);
            let chunk: Vec<crate::sql::Arg> =
                args.by_ref().take(rows * Self::ARGS_PER_ROW).collect();
            left -= rows;
            if keep_last && left == 0 {
                let with = format!("WITH entries AS ({}) ", Self::statement(rows));
                return Ok(Some(crate::sql::Q::with(&with, chunk)));
            }
            tx.exec(crate::sql::Q::with(Self::statement(rows), chunk))
                .await?;
        }
        Ok(None)
    }

    /// `INSERT INTO audit_entries (…) VALUES (…), (…)` for `rows` rows, made once per size.
    fn statement(rows: usize) -> &'static str {
        static STATEMENTS: std::sync::OnceLock<Vec<(usize, String)>> = std::sync::OnceLock::new();
        let statements = STATEMENTS.get_or_init(|| {
            EntryRows::STATEMENT_ROWS
                .iter()
                .map(|&n| {
                    let mut sql = format!("INSERT INTO audit_entries ({}) VALUES ", Self::COLUMNS);
                    for row in 0..n {
                        if row > 0 {
                            sql.push_str(", ");
                        }
                        sql.push('(');
                        for column in 0..Self::ARGS_PER_ROW {
                            if column > 0 {
                                sql.push_str(", ");
                            }
                            sql.push('$');
                            sql.push_str(&(row * Self::ARGS_PER_ROW + column + 1).to_string());
                        }
                        sql.push(')');
                    }
                    (n, sql)
                })
                .collect()
        });
        statements
            .iter()
            .find(|(n, _)| *n == rows)
            .map(|(_, sql)| sql.as_str())
            .expect("a statement for every size cut")
    }
}

pub(crate) async fn insert_checkpoint(
    tx: &mut Tx,
    c: &Checkpoint,
    company: Option<CompanyId>,
) -> Result<(), StoreError> {
    tx.exec(q!(
        "INSERT INTO audit_checkpoints (workspace_id, chain, company_id, seq, hash, at_ms, \
         public_key, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &c.workspace_id,
        &c.chain,
        company,
        c.seq,
        &c.hash,
        c.at_ms,
        &c.public_key,
        &c.signature
    ))
    .await?;
    Ok(())
}

impl ScopedTx<'_> {
    /// Records what this transaction changes, in it: committed together or not at all (the
    /// entry is appended by [`ScopedTx::commit`]).
    /// `company` is the company the change concerns (in the scope), `None` for the workspace's
    /// own settings (staff only).
    pub async fn audit(
        &mut self,
        action: AuditAction,
        company: Option<CompanyId>,
        target: AuditTarget,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.audit_on(true, action, company, target, detail).await
    }

    /// Like [`ScopedTx::audit`]; `client_sees` false keeps a change the client is not shown
    /// (an internal event of a ticket) on the workspace's chain, naming the company concerned.
    pub(crate) async fn audit_on(
        &mut self,
        client_sees: bool,
        action: AuditAction,
        company: Option<CompanyId>,
        target: AuditTarget,
        detail: &str,
    ) -> Result<(), StoreError> {
        let event = crate::scoped::webhooks::WebhookEvent::of_audited(action, target.kind)
            .map(|event| (event, target.clone()));
        let entry = entry_of(self.scope, client_sees, action, company, target, detail)?;
        if !self.write {
            return Err(StoreError::Invalid(
                "an audited change needs a write transaction".into(),
            ));
        }
        // Appended when the transaction commits (see `ScopedTx::audited`).
        self.audited.push(entry);
        // Every ticket and change-request change is audited here: the one place to tell
        // webhooks of them too.
        if let Some((event, target)) = event {
            self.emit_webhook(event, company, &target, action, detail)
                .await?;
        }
        Ok(())
    }

    /// Records that the reader was shown a record, downloaded or exported something: queued,
    /// and appended by the recorder within a fraction of a second (see the module's notes).
    pub fn audit_view(
        &self,
        action: AuditAction,
        company: Option<CompanyId>,
        target: AuditTarget,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.audit_view_on(true, action, company, target, detail)
    }

    /// Like [`ScopedTx::audit_view`]; `client_sees` false keeps it on the workspace's chain.
    pub(crate) fn audit_view_on(
        &self,
        client_sees: bool,
        action: AuditAction,
        company: Option<CompanyId>,
        target: AuditTarget,
        detail: &str,
    ) -> Result<(), StoreError> {
        if recording_skipped() {
            return Ok(());
        }
        let entry = entry_of(self.scope, client_sees, action, company, target, detail)?;
        self.queue_audit(entry);
        Ok(())
    }

    /// A ticket as an entry names it.
    pub(crate) fn ticket_target(ticket: &crate::scoped::tickets::TicketSummary) -> AuditTarget {
        AuditTarget::new(
            "ticket",
            ticket.id,
            format!("#{} {}", ticket.number, ticket.title),
        )
    }

    /// Records a change to `ticket` in this transaction.
    pub(crate) async fn audit_ticket(
        &mut self,
        ticket: &crate::scoped::tickets::TicketSummary,
        action: AuditAction,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.audit(
            action,
            Some(ticket.company_id),
            Self::ticket_target(ticket),
            detail,
        )
        .await
    }

    /// Records that the reader opened a record's page.
    pub fn audit_viewed(&self, company: CompanyId, target: AuditTarget) -> Result<(), StoreError> {
        self.audit_view(AuditAction::RecordViewed, Some(company), target, "")
    }

    /// Records that a member of staff opened a record the client does not see yet (a draft
    /// invoice): on the workspace's chain, naming the company.
    pub fn audit_viewed_internally(
        &self,
        company: CompanyId,
        target: AuditTarget,
    ) -> Result<(), StoreError> {
        if self.scope.is_portal() {
            return Err(StoreError::NotFound);
        }
        self.audit_view_on(false, AuditAction::RecordViewed, Some(company), target, "")
    }

    /// Records that the reader opened `ticket`'s page.
    pub fn audit_ticket_viewed(
        &self,
        ticket: &crate::scoped::tickets::TicketSummary,
    ) -> Result<(), StoreError> {
        self.audit_view(
            AuditAction::RecordViewed,
            Some(ticket.company_id),
            Self::ticket_target(ticket),
            "",
        )
    }

    fn queue_audit(&self, entry: Pending) {
        self.audit.queue(entry);
    }
}

impl AuditLog {
    /// Queues a view for the recorder, waking it early when many wait.
    pub(crate) fn queue(&self, entry: Pending) {
        let len = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.push(entry);
            pending.len()
        };
        if len >= WAKE_AT {
            self.wake.notify_one();
        }
    }
}

impl Store {
    /// Starts the recorder with the store's first transaction (a runtime is running then).
    pub(crate) fn ensure_audit_recorder(&self) {
        use std::sync::atomic::Ordering;
        let started = &self.audit.recorder_started;
        if !started.load(Ordering::Acquire)
            && !started.swap(true, Ordering::AcqRel)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(self.clone().record_views());
        }
    }

    /// The recorder: appends queued views every [`RECORD_EVERY`], or sooner when many wait. It
    /// ends once no other handle to the store is left, after a last flush.
    async fn record_views(self) {
        loop {
            tokio::select! {
                _ = self.audit.wake.notified() => {}
                _ = tokio::time::sleep(RECORD_EVERY) => {}
            }
            if let Err(e) = self.flush_audit().await {
                tracing::error!(error = %e, "appending viewed records to the audit log failed; retrying");
            }
            if Arc::strong_count(&self.audit) == 1 {
                break;
            }
        }
    }

    /// Records, outside any transaction, that the holder of `scope` was shown or took
    /// something (an export, a download): queued like [`ScopedTx::audit_view`].
    pub fn audit_view(
        &self,
        scope: &portico_core::Scope,
        action: AuditAction,
        company: Option<CompanyId>,
        target: AuditTarget,
        detail: &str,
    ) -> Result<(), StoreError> {
        if recording_skipped() {
            return Ok(());
        }
        let entry = entry_of(scope, true, action, company, target, detail)?;
        self.ensure_audit_recorder();
        self.audit.queue(entry);
        Ok(())
    }

    /// Appends every queued view now, in one transaction (the recorder does this by itself;
    /// call it before shutting down, and in tests before reading the log). Returns how many.
    pub async fn flush_audit(&self) -> Result<usize, StoreError> {
        let batch: Vec<Pending> = {
            let mut pending = self.audit.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *pending)
        };
        if batch.is_empty() {
            return Ok(0);
        }
        let result = async {
            // Entries of many workspaces and companies: system work, on PostgreSQL as the
            // system role.
            let mut tx = self.begin_recording().await?;
            append_all(&mut tx, &self.audit, &batch).await?;
            tx.commit().await
        }
        .await;
        match result {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                // Kept for the next attempt, unless the queue has since grown past its bound.
                let mut pending = self.audit.pending.lock().unwrap_or_else(|e| e.into_inner());
                if pending.len() + batch.len() <= KEPT_ON_FAILURE {
                    let newer = std::mem::replace(&mut *pending, batch);
                    pending.extend(newer);
                }
                Err(e)
            }
        }
    }

    /// The audit settings this store signs with.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// Uses `key` for the workspaces' signing keys and signs a checkpoint every `every` entries.
    pub fn with_audit_key(mut self, key: AuditKey, every: i64) -> Store {
        self.audit = Arc::new(AuditLog::new(key, every));
        self
    }
}
