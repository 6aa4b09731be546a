//! Pages of a client's ticket list already read, kept per instance so that a list shown again
//! does not walk the tickets index and decode the same rows while nothing in them has changed.
//!
//! An entry is keyed by the exact query that read it: its SQL and every argument, the scope's
//! fence among them (workspace, company, sites, own tickets), and the row-level-security context
//! it ran under. A caller gets an entry only when it would have run that very query, so it can
//! never be handed rows that its own query would not have returned.
//!
//! An entry is used only while the versions of what it shows are unchanged: its company's ticket
//! list version (the company's tickets, who is copied on them, its sites) and its workspace's
//! principal version (among the rest, the names of its users). Both are read in the same
//! transaction as the page would be, before it, and again after a page is read: it is kept only
//! if they did not change meanwhile. Triggers write new versions in the same
//! transaction as any change to those tables (migrations `ticket_list_versions` and
//! `principal_versions`), so a change committed through any instance or path is seen by the next
//! page everywhere. Versions are random rather than counted, so none is reached twice, even by a
//! database restored to an earlier state under running instances. Pages are kept only
//! from read-only transactions: a page read after a write may yet be rolled back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::sql::Arg;

/// Pages kept at most; past that the cache starts over (it only ever saves work). A page of
/// 26 rows takes about 5 KiB with typical titles, 25 KiB at most.
const MAX_ENTRIES: usize = 1_024;

/// The query that read a page, and the row-level-security context it ran under.
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct PageKey {
    pub(crate) workspace: String,
    pub(crate) company: String,
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

/// The versions a page was read at: its company's ticket list version and its workspace's
/// principal version (the names of people it shows).
pub(crate) type Versions = [i64; 2];

struct Entry<T> {
    versions: Versions,
    page: Arc<T>,
}

/// One kind of page (`T`): what a query's rows decoded into.
pub(crate) struct PageCache<T> {
    enabled: bool,
    entries: Mutex<HashMap<PageKey, Entry<T>>>,
    /// Pages served from memory, since start.
    hits: AtomicU64,
}

impl<T> PageCache<T> {
    pub(crate) fn new(enabled: bool) -> Self {
        PageCache {
            enabled,
            entries: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// The page `key` read at `versions`, if kept.
    pub(crate) fn get(&self, key: &PageKey, versions: Versions) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let page = entries
            .get(key)
            .filter(|e| e.versions == versions)
            .map(|e| e.page.clone());
        if page.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        page
    }

    /// Pages served from memory since start.
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Keeps `page`, read by `key` in a read-only transaction after reading `versions` in it.
    pub(crate) fn put(&self, key: PageKey, versions: Versions, page: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, Entry { versions, page });
    }
}
