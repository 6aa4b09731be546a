//! Which workspace and surface a hostname serves, with its branding: read on every request, so
//! held in memory for a few seconds instead of costing a database transaction each time.
//!
//! Hostnames are configured from the command line before an instance serves them; only the
//! branding changes at run time. A change made through this instance is seen at once (the
//! handler forgets the workspace's entries); other instances see it within the time to live.
//! Only found hosts are kept, so Host headers a client makes up cannot fill the cache.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use portico_core::WorkspaceId;

use crate::Site;

/// More distinct hostnames than one instance serves; past it the cache starts afresh.
const MAX_ENTRIES: usize = 4096;

#[derive(Clone)]
pub(crate) struct HostCache {
    ttl: Duration,
    entries: Arc<RwLock<HashMap<String, (Instant, Site)>>>,
}

impl HostCache {
    /// A cache keeping each binding for `ttl`; zero keeps nothing.
    pub(crate) fn new(ttl: Duration) -> HostCache {
        HostCache {
            ttl,
            entries: Arc::default(),
        }
    }

    /// The binding of `host` if it was read less than the time to live ago.
    pub(crate) fn get(&self, host: &str) -> Option<Site> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(host)
            .filter(|(read, _)| read.elapsed() < self.ttl)
            .map(|(_, site)| site.clone())
    }

    pub(crate) fn put(&self, host: &str, site: &Site) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(host) {
            entries.clear();
        }
        entries.insert(host.to_owned(), (Instant::now(), site.clone()));
    }

    /// Drops every hostname of `workspace`, after its branding changed.
    pub(crate) fn forget(&self, workspace: WorkspaceId) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (_, site)| site.workspace_id != workspace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portico_store::{Branding, HostBinding, SurfaceKind};

    fn binding(workspace: WorkspaceId, name: &str) -> Site {
        Site::of(HostBinding {
            workspace_id: workspace,
            surface: SurfaceKind::Portal,
            branding: Branding {
                name: name.into(),
                primary_color: "#000000".into(),
                secondary_color: "#ffffff".into(),
                welcome_text: String::new(),
                has_logo: false,
            },
        })
    }

    #[test]
    fn keeps_a_binding_for_its_time_to_live_and_forgets_on_change() {
        let cache = HostCache::new(Duration::from_millis(200));
        let (one, two) = (WorkspaceId::new(), WorkspaceId::new());
        assert!(cache.get("a.example").is_none());
        cache.put("a.example", &binding(one, "One"));
        cache.put("b.example", &binding(two, "Two"));
        assert_eq!(cache.get("a.example").unwrap().branding.name, "One");
        cache.forget(one);
        assert!(cache.get("a.example").is_none());
        assert_eq!(cache.get("b.example").unwrap().branding.name, "Two");
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.get("b.example").is_none(), "expired");
    }

    #[test]
    fn zero_time_to_live_keeps_nothing() {
        let cache = HostCache::new(Duration::ZERO);
        cache.put("a.example", &binding(WorkspaceId::new(), "One"));
        assert!(cache.get("a.example").is_none());
    }
}
