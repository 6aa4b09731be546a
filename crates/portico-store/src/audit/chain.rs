//! The audit chain's arithmetic, with no database: how an entry is hashed, how a checkpoint is
//! signed, and the checks `portico audit verify` (and a client's offline check of a proof
//! bundle) makes of one chain.
//!
//! **Entry hash** (version 1): SHA-256 over the bytes `portico-audit-entry-1`, then each of these
//! fields as a 4-byte big-endian length followed by its UTF-8 bytes: the previous entry's hash
//! (hex; 64 zeros for the first), workspace id, chain (`""` for the workspace's), seq (decimal),
//! entry id, time in milliseconds (decimal), concerned company id, actor kind, actor id, actor
//! name, action, target kind, target id, target label, detail, IP address, user agent. Stored as
//! lowercase hex.
//!
//! **Checkpoint** (version 1): an Ed25519 signature, by the workspace's key, of the same
//! length-prefixed encoding of `portico-audit-checkpoint-1`, workspace id, chain, seq (decimal),
//! the entry's hash and the time in milliseconds (decimal).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry as stored: everything its hash covers, and the hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntry {
    pub workspace_id: String,
    pub chain: String,
    pub seq: i64,
    pub id: String,
    pub at_ms: i64,
    pub concerns_company_id: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub target_label: String,
    pub detail: String,
    pub ip: String,
    pub user_agent: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A signed head of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub workspace_id: String,
    pub chain: String,
    pub seq: i64,
    pub hash: String,
    pub at_ms: i64,
    pub public_key: String,
    pub signature: String,
}

fn field(hasher: &mut impl Digest, value: &[u8]) {
    hasher.update((value.len() as u32).to_be_bytes());
    hasher.update(value);
}

impl StoredEntry {
    /// The hash this entry's fields and predecessor give (what `hash` must hold).
    pub fn computed_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"portico-audit-entry-1");
        let seq = self.seq.to_string();
        let at = self.at_ms.to_string();
        for value in [
            self.prev_hash.as_str(),
            &self.workspace_id,
            &self.chain,
            &seq,
            &self.id,
            &at,
            &self.concerns_company_id,
            &self.actor_kind,
            &self.actor_id,
            &self.actor_name,
            &self.action,
            &self.target_kind,
            &self.target_id,
            &self.target_label,
            &self.detail,
            &self.ip,
            &self.user_agent,
        ] {
            field(&mut h, value.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

impl Checkpoint {
    fn message(workspace_id: &str, chain: &str, seq: i64, hash: &str, at_ms: i64) -> Vec<u8> {
        let mut out = b"portico-audit-checkpoint-1".to_vec();
        for value in [
            workspace_id,
            chain,
            &seq.to_string(),
            hash,
            &at_ms.to_string(),
        ] {
            out.extend_from_slice(&(value.len() as u32).to_be_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        out
    }

    /// Signs the head `seq`/`hash` of a chain at `at_ms`.
    pub fn sign(
        key: &SigningKey,
        workspace_id: &str,
        chain: &str,
        seq: i64,
        hash: &str,
        at_ms: i64,
    ) -> Checkpoint {
        let signature = key.sign(&Self::message(workspace_id, chain, seq, hash, at_ms));
        Checkpoint {
            workspace_id: workspace_id.to_owned(),
            chain: chain.to_owned(),
            seq,
            hash: hash.to_owned(),
            at_ms,
            public_key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Whether `key` signed exactly this checkpoint.
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        let Ok(bytes) = hex::decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        let message = Self::message(
            &self.workspace_id,
            &self.chain,
            self.seq,
            &self.hash,
            self.at_ms,
        );
        key.verify(&message, &signature).is_ok()
    }
}

/// The secret every workspace's signing key is derived from (configuration, never the
/// database: whoever can rewrite the database must not be able to sign a rewritten chain).
#[derive(Clone)]
pub struct AuditKey {
    secret: [u8; 32],
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

impl AuditKey {
    pub fn from_secret(secret: [u8; 32]) -> AuditKey {
        AuditKey { secret }
    }

    /// A fresh random secret.
    pub fn generate() -> AuditKey {
        AuditKey {
            secret: rand::random(),
        }
    }

    /// The secret as hex, to be written to the key file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.secret)
    }

    /// Reads a secret written by [`AuditKey::to_hex`] (surrounding whitespace allowed).
    pub fn from_hex(text: &str) -> Option<AuditKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(AuditKey {
            secret: bytes.try_into().ok()?,
        })
    }

    /// The workspace's Ed25519 signing key: HMAC-SHA-256 of the workspace id under the secret.
    pub fn signing_key(&self, workspace_id: &str) -> SigningKey {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC takes a key of any length");
        mac.update(b"portico-audit-signing-key-1:");
        mac.update(workspace_id.as_bytes());
        let seed: [u8; 32] = mac.finalize().into_bytes().into();
        SigningKey::from_bytes(&seed)
    }

    /// A key for another purpose than signing (sealing stored secrets, hashing codes), named
    /// by `label`: HMAC-SHA-256 of the label under the secret, independent of every other.
    pub(crate) fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .expect("HMAC takes a key of any length");
        mac.update(b"portico-derived-key:");
        mac.update(label);
        mac.finalize().into_bytes().into()
    }

    pub fn verifying_key(&self, workspace_id: &str) -> VerifyingKey {
        self.signing_key(workspace_id).verifying_key()
    }
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub workspace_id: String,
    pub chain: String,
    /// The entry (or checkpoint) where the chain stops being trustworthy.
    pub seq: i64,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let chain = if self.chain.is_empty() {
            "the workspace's chain".to_owned()
        } else {
            format!("company {}'s chain", self.chain)
        };
        write!(
            f,
            "workspace {}, {chain}, entry {}: {}",
            self.workspace_id, self.seq, self.what
        )
    }
}

/// Checks one chain, fed its checkpoints first and then its entries in seq order (so that a
/// log of any length is checked in flat memory).
pub struct ChainCheck {
    workspace_id: String,
    chain: String,
    /// Every how many entries a checkpoint must exist.
    every: i64,
    checkpoints: Vec<Checkpoint>,
    /// The seq and hash of the last entry read.
    last: Option<(i64, String)>,
    first_seq: Option<i64>,
    /// The next checkpoint (index into `checkpoints`, sorted by seq) to compare.
    next_checkpoint: usize,
    pub entries: u64,
    problem: Option<Problem>,
}

impl ChainCheck {
    /// `checkpoints` in any order; each must be signed by `key`.
    pub fn new(
        workspace_id: &str,
        chain: &str,
        key: &VerifyingKey,
        every: i64,
        mut checkpoints: Vec<Checkpoint>,
    ) -> ChainCheck {
        checkpoints.sort_by_key(|c| c.seq);
        let mut check = ChainCheck {
            workspace_id: workspace_id.to_owned(),
            chain: chain.to_owned(),
            every: every.max(1),
            checkpoints,
            last: None,
            first_seq: None,
            next_checkpoint: 0,
            entries: 0,
            problem: None,
        };
        let bad = check.checkpoints.iter().find(|c| {
            !c.signed_by(key) || c.workspace_id != check.workspace_id || c.chain != check.chain
        });
        if let Some(c) = bad {
            let seq = c.seq;
            check.fail(
                seq,
                "the checkpoint's signature does not verify with the workspace's key (the chain \
                 was re-signed or rebuilt without the key)",
            );
        }
        check
    }

    fn fail(&mut self, seq: i64, what: &str) {
        if self.problem.is_none() {
            self.problem = Some(Problem {
                workspace_id: self.workspace_id.clone(),
                chain: self.chain.clone(),
                seq,
                what: what.to_owned(),
            });
        }
    }

    pub fn failed(&self) -> bool {
        self.problem.is_some()
    }

    /// The next entry of the chain, in seq order.
    pub fn entry(&mut self, entry: &StoredEntry) {
        if self.problem.is_some() {
            return;
        }
        self.entries += 1;
        if entry.workspace_id != self.workspace_id || entry.chain != self.chain {
            return self.fail(entry.seq, "the entry belongs to another chain");
        }
        match &self.last {
            None => {
                self.first_seq = Some(entry.seq);
                if entry.seq == 1 {
                    if entry.prev_hash != GENESIS {
                        return self.fail(entry.seq, "the first entry does not start the chain");
                    }
                } else {
                    // Pruned: the first entry kept must follow a signed checkpoint.
                    let anchor = self
                        .checkpoints
                        .iter()
                        .find(|c| c.seq == entry.seq - 1 && c.hash == entry.prev_hash);
                    if anchor.is_none() {
                        return self.fail(
                            entry.seq,
                            "the chain starts after entries that are missing, with no signed \
                             checkpoint where it was pruned (entries removed from the start)",
                        );
                    }
                }
            }
            Some((seq, hash)) => {
                if entry.seq != seq + 1 {
                    let what = if entry.seq > seq + 1 {
                        format!(
                            "entries {} to {} are missing (deleted)",
                            seq + 1,
                            entry.seq - 1
                        )
                    } else {
                        "the entry is out of order".to_owned()
                    };
                    return self.fail(entry.seq, &what);
                }
                if entry.prev_hash != *hash {
                    return self.fail(
                        entry.seq,
                        "the entry does not follow the one before it (an entry was inserted, \
                         removed or reordered here)",
                    );
                }
            }
        }
        if entry.computed_hash() != entry.hash {
            return self.fail(
                entry.seq,
                "the entry's content does not match its hash (it was modified)",
            );
        }
        // Checkpoints at or before this entry: each must name this chain's hash there.
        while let Some(c) = self.checkpoints.get(self.next_checkpoint) {
            if c.seq > entry.seq {
                break;
            }
            if c.seq == entry.seq && c.hash != entry.hash {
                let seq = c.seq;
                return self.fail(
                    seq,
                    "the entry differs from the one a signed checkpoint recorded (the chain \
                     was rewritten)",
                );
            }
            self.next_checkpoint += 1;
        }
        if entry.seq % self.every == 0
            && self
                .checkpoints
                .binary_search_by_key(&entry.seq, |c| c.seq)
                .is_err()
        {
            return self.fail(
                entry.seq,
                "the signed checkpoint due at this entry is missing (checkpoints were removed)",
            );
        }
        self.last = Some((entry.seq, entry.hash.clone()));
    }

    /// Ends the check: `head` is the chain's recorded last entry (seq and hash), if any.
    pub fn finish(mut self, head: Option<(i64, &str)>) -> Result<u64, Problem> {
        if self.problem.is_none() {
            let last_seq = self.last.as_ref().map_or(0, |(s, _)| *s);
            if let Some(c) = self.checkpoints.iter().rev().find(|c| c.seq > last_seq) {
                let seq = c.seq;
                self.fail(
                    seq,
                    &format!(
                        "the log ends at entry {last_seq}, but a signed checkpoint records entry \
                         {seq} (entries were removed from the end)"
                    ),
                );
            }
        }
        if self.problem.is_none()
            && let Some((head_seq, head_hash)) = head
        {
            match &self.last {
                Some((seq, hash)) if *seq == head_seq && hash == head_hash => {}
                Some((seq, _)) if *seq < head_seq => {
                    let seq = *seq;
                    self.fail(
                        head_seq,
                        &format!(
                            "the log ends at entry {seq}, but the chain's head is entry \
                             {head_seq} (entries were removed from the end)"
                        ),
                    )
                }
                // Every entry pruned: the head must be the signed checkpoint they were cut at.
                None if head_seq > 0
                    && !self
                        .checkpoints
                        .iter()
                        .any(|c| c.seq == head_seq && c.hash == head_hash) =>
                {
                    self.fail(
                        head_seq,
                        "the chain's entries are missing (the log was emptied)",
                    )
                }
                None => {}
                Some((seq, _)) => {
                    let seq = *seq;
                    self.fail(seq, "the last entry is not the chain's recorded head")
                }
            }
        }
        match self.problem {
            Some(problem) => Err(problem),
            None => Ok(self.entries),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(key: &AuditKey, n: i64, every: i64) -> (Vec<StoredEntry>, Vec<Checkpoint>) {
        let signing = key.signing_key("ws");
        let mut prev = GENESIS.to_owned();
        let mut entries = Vec::new();
        let mut checkpoints = Vec::new();
        for seq in 1..=n {
            let mut e = StoredEntry {
                workspace_id: "ws".into(),
                chain: "c".into(),
                seq,
                id: format!("id{seq}"),
                at_ms: 1000 + seq,
                concerns_company_id: "c".into(),
                actor_kind: "staff".into(),
                actor_id: "u".into(),
                actor_name: "Olivia".into(),
                action: "record_viewed".into(),
                target_kind: "ticket".into(),
                target_id: format!("t{seq}"),
                target_label: "#1".into(),
                detail: String::new(),
                ip: "127.0.0.1".into(),
                user_agent: "test".into(),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            e.hash = e.computed_hash();
            prev = e.hash.clone();
            if seq % every == 0 {
                checkpoints.push(Checkpoint::sign(&signing, "ws", "c", seq, &e.hash, e.at_ms));
            }
            entries.push(e);
        }
        (entries, checkpoints)
    }

    fn check(
        key: &AuditKey,
        entries: &[StoredEntry],
        checkpoints: Vec<Checkpoint>,
        every: i64,
    ) -> Result<u64, Problem> {
        let verifying = key.verifying_key("ws");
        let mut c = ChainCheck::new("ws", "c", &verifying, every, checkpoints);
        for e in entries {
            c.entry(e);
        }
        let head = entries.last().map(|e| (e.seq, e.hash.as_str()));
        c.finish(head)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let key = AuditKey::generate();
        let (entries, checkpoints) = chain(&key, 25, 10);
        assert_eq!(check(&key, &entries, checkpoints, 10), Ok(25));
    }

    #[test]
    fn a_changed_field_changes_the_hash() {
        let key = AuditKey::generate();
        let (mut entries, checkpoints) = chain(&key, 5, 10);
        entries[2].actor_name = "Mallory".into();
        let problem = check(&key, &entries, checkpoints, 10).unwrap_err();
        assert_eq!(problem.seq, 3);
        assert!(problem.what.contains("modified"), "{problem}");
    }

    #[test]
    fn a_field_boundary_cannot_be_moved() {
        // "ab" + "c" and "a" + "bc" hash differently: lengths are part of the text.
        let key = AuditKey::generate();
        let (entries, _) = chain(&key, 1, 10);
        let mut a = entries[0].clone();
        let mut b = entries[0].clone();
        (a.target_kind, a.target_id) = ("ab".into(), "c".into());
        (b.target_kind, b.target_id) = ("a".into(), "bc".into());
        assert_ne!(a.computed_hash(), b.computed_hash());
    }

    #[test]
    fn another_key_does_not_verify_a_checkpoint() {
        let key = AuditKey::generate();
        let (entries, checkpoints) = chain(&key, 12, 10);
        let other = AuditKey::generate();
        let problem = check(&other, &entries, checkpoints, 10).unwrap_err();
        assert!(problem.what.contains("signature"), "{problem}");
        assert_ne!(
            key.verifying_key("ws"),
            key.verifying_key("another workspace")
        );
    }

    #[test]
    fn a_key_round_trips_through_its_file_text() {
        let key = AuditKey::generate();
        let again = AuditKey::from_hex(&format!("{}\n", key.to_hex())).unwrap();
        assert_eq!(key.verifying_key("ws"), again.verifying_key("ws"));
        assert!(AuditKey::from_hex("abcd").is_none());
    }
}
