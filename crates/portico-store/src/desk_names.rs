//! Names of companies, sites, clients and staff already read for the desk's lists, kept per
//! instance.
//!
//! The console queue names a different company, requester and assignee on almost every row:
//! reading them was a third of a queue page (about 850,000 instructions for 51 rows, each name
//! two B-tree searches on 36-byte text keys). Names change rarely, and every change to the
//! tables they come from (companies, sites, portal users, staff users) draws a new principal version
//! for the workspace in the same transaction (migration `principal_versions`). So names are
//! kept per workspace and per set of companies the reader may see (a technician assigned to
//! some companies is fenced from other companies' users, so such a reader never gets a name
//! kept for a wider scope), and used only while the workspace's principal version read in the
//! reader's own transaction is the one they were kept under. Staff only: the portal's pages are
//! kept whole (`ticket_pages.rs`), and nothing a portal scope reads is kept here.

use std::sync::{Arc, Mutex};

use foldhash::{HashMap, HashMapExt};
use portico_core::{CompanyId, PortalUserId, SiteId, StaffUserId};

/// Names kept at most across all keys; past that the cache starts over (it only saves work).
const MAX_NAMES: usize = 50_000;

/// Who may read the names: the workspace and the readers' companies (`*` for all).
#[derive(PartialEq, Eq, Hash, Clone)]
pub(crate) struct NamesKey {
    pub(crate) workspace: String,
    pub(crate) companies: String,
}

#[derive(Default)]
pub(crate) struct KeptNames {
    pub(crate) companies: HashMap<CompanyId, Arc<str>>,
    pub(crate) sites: HashMap<SiteId, Arc<str>>,
    pub(crate) requesters: HashMap<PortalUserId, Arc<str>>,
    pub(crate) assignees: HashMap<StaffUserId, Arc<str>>,
    /// The readers' companies are more than this many: too many for a picker, which is then not
    /// offered (`ScopedTx::company_picker`). Counting them walks as many index entries.
    pub(crate) companies_beyond: Option<i64>,
}

impl KeptNames {
    fn len(&self) -> usize {
        self.companies.len() + self.sites.len() + self.requesters.len() + self.assignees.len()
    }
}

struct Kept {
    version: i64,
    names: KeptNames,
}

pub(crate) struct DeskNames {
    enabled: bool,
    kept: Mutex<(HashMap<NamesKey, Kept>, usize)>,
}

impl DeskNames {
    pub(crate) fn new(enabled: bool) -> DeskNames {
        DeskNames {
            enabled,
            kept: Mutex::new((HashMap::new(), 0)),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Calls `f` with the names kept for `key` at `version` (none when the version moved on).
    pub(crate) fn read<R>(
        &self,
        key: &NamesKey,
        version: i64,
        f: impl FnOnce(&KeptNames) -> R,
    ) -> R {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        match kept.0.get(key).filter(|k| k.version == version) {
            Some(k) => f(&k.names),
            None => f(&KeptNames::default()),
        }
    }

    /// Keeps names read at `version` for `key`: names read under an older version are dropped.
    pub(crate) fn keep(&self, key: &NamesKey, version: i64, fresh: KeptNames) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let (map, count) = &mut *kept;
        if *count + fresh.len() > MAX_NAMES {
            map.clear();
            *count = 0;
        }
        let entry = map.entry(key.clone()).or_insert_with(|| Kept {
            version,
            names: KeptNames::default(),
        });
        if entry.version != version {
            *count -= entry.names.len();
            *entry = Kept {
                version,
                names: KeptNames::default(),
            };
        }
        let before = entry.names.len();
        entry.names.companies.extend(fresh.companies);
        entry.names.sites.extend(fresh.sites);
        entry.names.requesters.extend(fresh.requesters);
        entry.names.assignees.extend(fresh.assignees);
        if fresh.companies_beyond.is_some() {
            entry.names.companies_beyond = fresh.companies_beyond;
        }
        *count += entry.names.len() - before;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(companies: &str) -> NamesKey {
        NamesKey {
            workspace: "w".into(),
            companies: companies.into(),
        }
    }

    #[test]
    fn names_hold_for_their_version_and_their_readers_only() {
        let cache = DeskNames::new(true);
        let company = CompanyId::new();
        let mut fresh = KeptNames::default();
        fresh.companies.insert(company, Arc::from("Acme"));
        cache.keep(&key("*"), 7, fresh);
        let name = |k: &NamesKey, v: i64| cache.read(k, v, |n| n.companies.get(&company).cloned());
        assert_eq!(name(&key("*"), 7).as_deref(), Some("Acme"));
        // Another version (a rename, a new user) or a narrower reader: not kept.
        assert_eq!(name(&key("*"), 8), None);
        assert_eq!(name(&key("c1"), 7), None);
        // Keeping at a new version drops what the old one held.
        cache.keep(&key("*"), 8, KeptNames::default());
        assert_eq!(name(&key("*"), 7), None);
    }
}
