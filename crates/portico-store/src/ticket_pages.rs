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
//! read-only transaction as the page would be, before it, in the same snapshot (REPEATABLE READ on
//! PostgreSQL, a deferred `BEGIN` on SQLite), so a page read is kept under the versions of what
//! it shows. A client's list request may instead check a kept page
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

/// Pages kept at most, and by default the memory they may take by their own estimate
/// ([`PageCache::put`]). Past either, the pages used least recently are dropped until a quarter
/// of the room is free again. A client's list page of 26 rows, with its rendering compressed,
/// counts about 9 KiB with typical titles: the bytes bound the list pages, the count the
/// overview's small figures.
const MAX_ENTRIES: usize = 4_096;
const MAX_BYTES: usize = 24 * 1024 * 1024;

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
    /// When it was last kept or served, on [`Entries::clock`].
    used: u64,
}

struct Entries<T> {
    map: HashMap<PageKey, Entry<T>>,
    /// The estimated size of the pages in `map`.
    bytes: usize,
    /// Counts puts and hits: the order in which entries were last used.
    clock: u64,
}

impl<T> Entries<T> {
    /// Drops the entries used least recently until at most three quarters of either bound is
    /// taken. One pass finds the cut, so the work is spread over the quarter of puts that
    /// filled the room again.
    fn make_room(&mut self, max_bytes: usize) {
        let keep_entries = MAX_ENTRIES * 3 / 4;
        let keep_bytes = max_bytes * 3 / 4;
        let mut by_use: Vec<(u64, usize)> = self.map.values().map(|e| (e.used, e.bytes)).collect();
        by_use.sort_unstable_by_key(|&(used, _)| std::cmp::Reverse(used));
        // The oldest use that still fits, newest first.
        let (mut count, mut bytes, mut oldest_kept) = (0, 0, u64::MAX);
        for (used, size) in by_use {
            if count + 1 > keep_entries || bytes + size > keep_bytes {
                break;
            }
            count += 1;
            bytes += size;
            oldest_kept = used;
        }
        self.map.retain(|_, e| e.used >= oldest_kept);
        self.bytes = self.map.values().map(|e| e.bytes).sum();
    }
}

/// One kind of page (`T`): what a query's rows decoded into.
pub(crate) struct PageCache<T> {
    enabled: bool,
    /// The bound on the pages' estimated bytes.
    max_bytes: usize,
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
            max_bytes: MAX_BYTES,
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                bytes: 0,
                clock: 0,
            }),
            hits: AtomicU64::new(0),
            unread_hits: AtomicU64::new(0),
        }
    }

    /// The same, bound to `max_bytes` by the pages' estimate instead of the default.
    pub(crate) fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// The page `key` read at `versions`, if kept.
    pub(crate) fn get(&self, key: &PageKey, versions: Versions) -> Option<Arc<T>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.clock += 1;
        let now = entries.clock;
        let page = entries
            .map
            .get_mut(key)
            .filter(|e| e.versions == versions)
            .map(|e| {
                e.used = now;
                e.page.clone()
            });
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
        if entries.map.len() >= MAX_ENTRIES || entries.bytes + bytes > self.max_bytes {
            entries.make_room(self.max_bytes);
        }
        entries.bytes += bytes;
        entries.clock += 1;
        let used = entries.clock;
        entries.map.insert(
            key,
            Entry {
                versions,
                page,
                bytes,
                used,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> PageKey {
        PageKey {
            workspace: "w".into(),
            company: "c".into(),
            sql: "SELECT page".into(),
            args: vec![Arg::Int(n as i64)],
        }
    }

    #[test]
    fn a_full_cache_drops_the_pages_used_least_recently() {
        let cache = PageCache::new(true);
        for n in 0..MAX_ENTRIES {
            cache.put(key(n), [1, 1], Arc::new(n), 0);
        }
        // The first page is read again, so it is now the most recently used.
        assert_eq!(cache.get(&key(0), [1, 1]).as_deref(), Some(&0));
        cache.put(key(MAX_ENTRIES), [1, 1], Arc::new(MAX_ENTRIES), 0);
        assert_eq!(cache.get(&key(0), [1, 1]).as_deref(), Some(&0));
        assert_eq!(
            cache.get(&key(MAX_ENTRIES), [1, 1]).as_deref(),
            Some(&MAX_ENTRIES)
        );
        assert!(
            cache.get(&key(1), [1, 1]).is_none(),
            "the oldest went first"
        );
        assert!(cache.get(&key(MAX_ENTRIES - 1), [1, 1]).is_some());
        let kept = (0..=MAX_ENTRIES)
            .filter(|n| cache.get(&key(*n), [1, 1]).is_some())
            .count();
        assert_eq!(kept, MAX_ENTRIES * 3 / 4 + 1, "a quarter of the room freed");
    }

    #[test]
    fn the_byte_bound_holds_too() {
        let cache = PageCache::new(true).with_max_bytes(1_000_000);
        let size = 100_000;
        for n in 0..20 {
            cache.put(key(n), [1, 1], Arc::new(n), size);
        }
        let entries = cache.entries.lock().unwrap();
        assert!(entries.bytes <= 1_000_000);
        assert!(entries.map.contains_key(&key(19)));
        assert!(!entries.map.contains_key(&key(0)));
    }
}
