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
//! if they did not change meanwhile. A client's list request may instead check a kept page
//! against the same two versions read with its session, moments earlier, and then runs no
//! statement at all (`SessionVersions`). Triggers write new versions in the same
//! transaction as any change to those tables (migrations `ticket_list_versions` and
//! `principal_versions`), so a change committed through any instance or path is seen by the next
//! page everywhere. Versions are random rather than counted, so none is reached twice, even by a
//! database restored to an earlier state under running instances. Pages are kept only
//! from read-only transactions: a page read after a write may yet be rolled back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use foldhash::{HashMap, HashMapExt};

use crate::sql::Arg;

/// Pages kept at most, and the memory they may take by their own estimate
/// ([`PageCache::put`]); past either the cache starts over (it only ever saves work). A client's
/// list page of 26 rows, with its rendering, takes about 15 KiB with typical titles.
const MAX_ENTRIES: usize = 1_024;
const MAX_BYTES: usize = 16 * 1024 * 1024;

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
    bytes: usize,
}

struct Entries<T> {
    map: HashMap<PageKey, Entry<T>>,
    /// The estimated size of the pages in `map`.
    bytes: usize,
}

/// One kind of page (`T`): what a query's rows decoded into.
pub(crate) struct PageCache<T> {
    enabled: bool,
    /// Hashed with foldhash, seeded per process: a key holds a query's SQL, and SipHash over it
    /// cost more than the rest of a lookup. A client can vary only its cursor, and a flood of
    /// colliding keys could fill at most the `MAX_ENTRIES` that a clear bounds anyway.
    entries: Mutex<Entries<T>>,
    /// Pages served from memory, since start.
    hits: AtomicU64,
    /// Of those, the pages served without a statement: checked against the versions read with
    /// the request's session.
    unread_hits: AtomicU64,
}

impl<T> PageCache<T> {
    pub(crate) fn new(enabled: bool) -> Self {
        PageCache {
            enabled,
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                bytes: 0,
            }),
            hits: AtomicU64::new(0),
            unread_hits: AtomicU64::new(0),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// The page `key` read at `versions`, if kept.
    pub(crate) fn get(&self, key: &PageKey, versions: Versions) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let page = entries
            .map
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

    /// Counts a hit ([`PageCache::get`]) that ran no statement.
    pub(crate) fn count_unread_hit(&self) {
        self.unread_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// Pages served from memory without a statement, since start.
    pub(crate) fn unread_hits(&self) -> u64 {
        self.unread_hits.load(Ordering::Relaxed)
    }

    /// Keeps `page`, read by `key` in a read-only transaction after reading `versions` in it.
    /// `bytes` estimates the memory it takes, with whatever it may keep later.
    pub(crate) fn put(&self, key: PageKey, versions: Versions, page: Arc<T>, bytes: usize) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = bytes + key.sql.len() + std::mem::size_of::<PageKey>();
        if let Some(old) = entries.map.remove(&key) {
            entries.bytes -= old.bytes;
        }
        if entries.map.len() >= MAX_ENTRIES || entries.bytes + bytes > MAX_BYTES {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.bytes += bytes;
        entries.map.insert(
            key,
            Entry {
                versions,
                page,
                bytes,
            },
        );
    }
}
