//! E-mail domain health (P5) as both surfaces show it: each domain's verdict and findings from
//! its last check, read from the report the worker kept.

use portico_domains::{Finding, Level, kept_findings};
use portico_store::scoped::domain_health::DomainHealth;

/// A domain as a page shows it.
pub(crate) struct DomainView {
    pub(crate) domain: String,
    pub(crate) selectors: String,
    pub(crate) worst: Option<Level>,
    pub(crate) checked_at: Option<i64>,
    pub(crate) pending: bool,
    pub(crate) findings: Vec<Finding>,
    pub(crate) breaches_checked_at: Option<i64>,
    pub(crate) breach_error: String,
}

impl DomainView {
    pub(crate) fn of(h: DomainHealth) -> DomainView {
        DomainView {
            selectors: h.dkim_selectors.join(" "),
            worst: h.worst.as_deref().and_then(Level::parse),
            findings: h.report.as_deref().map(kept_findings).unwrap_or_default(),
            checked_at: h.checked_at,
            pending: h.pending,
            breaches_checked_at: h.breaches_checked_at,
            breach_error: h.breach_error,
            domain: h.domain,
        }
    }

    /// The badge's style.
    pub(crate) fn tone(&self) -> &'static str {
        self.worst.map(tone).unwrap_or("")
    }

    pub(crate) fn label(&self) -> &'static str {
        self.worst.map(Level::label).unwrap_or("Not checked yet")
    }
}

/// The style a badge of `level` takes.
pub(crate) fn tone(level: Level) -> &'static str {
    match level {
        Level::Good => "on",
        Level::Warn => "warn",
        Level::Bad => "bad",
        Level::Unknown => "",
    }
}

/// The domains, worst first, each's findings worst first.
pub(crate) fn views(health: Vec<DomainHealth>) -> Vec<DomainView> {
    let mut views: Vec<DomainView> = health.into_iter().map(DomainView::of).collect();
    for v in &mut views {
        v.findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    }
    views.sort_by(|a, b| b.worst.cmp(&a.worst).then_with(|| a.domain.cmp(&b.domain)));
    views
}
