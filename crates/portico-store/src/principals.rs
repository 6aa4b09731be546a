//! Principals already resolved for sessions, kept per instance so that a request does not rebuild
//! its principal (user, companies, grants, sites, sections: five queries) while nothing it was
//! built from has changed.
//!
//! An entry is used only when the workspace's principal version, read with the session row on
//! every request, still equals the version it was built at. Triggers bump that version in the
//! same transaction as any write to the tables a principal is built from (migration
//! `0011_principal_versions`), so a change made through any instance or path is seen by the next
//! request everywhere. The session row itself (expiry, idle timeout, its user and company) is
//! read fresh every time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use portico_core::Principal;

/// Entries kept at most; past that the cache starts over (it only ever saves work).
const MAX_ENTRIES: usize = 16_384;

#[derive(Default)]
pub(crate) struct PrincipalCache {
    entries: Mutex<HashMap<String, Entry>>,
}

/// What an entry was resolved from: the session's user and company at a workspace version.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Basis {
    pub(crate) version: i64,
    pub(crate) staff_user_id: Option<String>,
    pub(crate) portal_user_id: Option<String>,
    pub(crate) company_id: Option<String>,
}

struct Entry {
    basis: Basis,
    /// Shared with the requests that use it: a principal holds a dozen strings.
    principal: Arc<Principal>,
}

impl PrincipalCache {
    /// The principal resolved for session `id_hash`, if it was resolved from `basis`.
    pub(crate) fn get(&self, id_hash: &str, basis: &Basis) -> Option<Arc<Principal>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(id_hash)
            .filter(|e| e.basis == *basis)
            .map(|e| e.principal.clone())
    }

    pub(crate) fn put(&self, id_hash: &str, basis: Basis, principal: Arc<Principal>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(id_hash) {
            entries.clear();
        }
        entries.insert(id_hash.to_owned(), Entry { basis, principal });
    }

    /// Forgets a session's entry (it ended, or resolves to nobody now).
    pub(crate) fn forget(&self, id_hash: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id_hash);
    }
}
