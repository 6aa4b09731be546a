//! Tenant data, always read and written through a [`ScopedTx`]: a transaction that carries the
//! caller's [`Scope`] and writes it into every query. This is the one place scope is enforced.

pub mod api_idempotency;
pub mod api_tokens;
pub mod assets;
pub mod audit_log;
pub mod backups;
pub mod branding;
pub mod breaches;
pub mod canned_responses;
pub mod change_requests;
pub mod companies;
pub mod company_grants;
pub mod compliance;
pub mod connectors;
pub mod domain_health;
pub(crate) mod fence;
pub mod imports;
pub mod invoices;
pub(crate) mod json_rows;
pub mod kept_uploads;
pub mod licences;
pub mod local_time;
pub mod maintenance;
pub mod outbox;
pub mod overview;
pub mod pentests;
pub mod portal_settings;
pub mod portal_users;
pub mod presence;
pub mod protection;
pub mod psa_links;
pub mod pushed_records;
pub mod record_history;
pub mod routing;
pub mod saved_views;
pub mod second_factor;
pub mod security_alerts;
pub mod sla;
pub mod sso;
pub mod staff;
pub mod ticket_form;
pub mod ticket_visibility;
pub mod ticket_workflow;
pub mod tickets;
pub mod time;
pub mod view_as;
pub mod webhooks;

use std::sync::Arc;

use portico_core::{Actor, CompanyId, CompanySet, Scope};

use crate::sql::{Fence, Tx};
use crate::{Store, StoreError};

/// A transaction fenced to one scope. Dropping it without [`ScopedTx::commit`] rolls back.
pub struct ScopedTx<'s> {
    pub(crate) tx: Tx,
    pub(crate) scope: &'s Scope,
    /// The row-level-security context of the transaction: the scope's companies, `*` for all.
    pub(crate) company_ids: String,
    /// Whether the transaction may write: pages read in one are never kept, since what they show
    /// may yet be rolled back.
    pub(crate) write: bool,
    pub(crate) ticket_pages: Arc<tickets::PortalPageCache>,
    pub(crate) ticket_kpis: Arc<tickets::KpiCache>,
    pub(crate) desk_names: Arc<crate::desk_names::DeskNames>,
    /// PostgreSQL: statements of the system role, for the few lookups the caller's own fence
    /// hides by design (a client's transaction sees no staff user, yet a ticket a client raises
    /// is routed to one) or makes slow (a full-text match; see `postgres_search`), each with
    /// the store's fence written into it. `None` on SQLite.
    pub(crate) system: Option<Tx>,
    pub(crate) audit: Arc<crate::audit::AuditLog>,
    /// The webhook events this transaction recorded, by record: a change that writes several
    /// audit entries (a reply that also moves the status) is one event.
    pub(crate) webhooks_emitted: Vec<(webhooks::WebhookEvent, String)>,
    /// The audit entries of this transaction's changes, appended to their chains by
    /// [`ScopedTx::commit`] just before it commits: on PostgreSQL an append locks its chain's
    /// head until the commit, and every audited change of the company waits for that lock, so
    /// it is taken last rather than held across the rest of the change.
    pub(crate) audited: Vec<crate::audit::Pending>,
    /// Companies a read-only transaction already found visible: a page whose parts each check
    /// the company (Security: domains, breaches, the alert preference) asks once, and a portal
    /// reader's own company from the start (see [`ScopedTx::begin`]).
    visible_companies: Vec<CompanyId>,
    /// The workspace's principal version as a read-only transaction first read it (the desk's
    /// kept names are checked against it): the queue asks for its names and its company picker.
    pub(crate) principal_version: Option<i64>,
    /// The versions a read-only transaction read for a company's kept pages and figures
    /// ([`crate::ticket_pages`]): its snapshot holds them for as long as it lasts, so the
    /// Overview's figures and recent tickets read them once, and nothing reads them again to
    /// confirm a page just read.
    pub(crate) page_versions: Option<(CompanyId, crate::ticket_pages::Versions)>,
}

impl<'s> ScopedTx<'s> {
    pub(crate) async fn begin(
        store: &Store,
        scope: &'s Scope,
        write: bool,
    ) -> Result<ScopedTx<'s>, StoreError> {
        // Viewing the portal as someone (C6) or a read-only API token changes nothing: the
        // store refuses every write, whatever a handler may have let through.
        if write && scope.is_read_only() {
            return Err(StoreError::Forbidden);
        }
        store.ensure_audit_recorder();
        let companies = match scope.companies() {
            CompanySet::All => "*".to_owned(),
            CompanySet::Only(ids) => ids
                .iter()
                .map(|c| c.as_text())
                .collect::<Vec<_>>()
                .join(","),
        };
        let fence = Fence {
            workspace: scope.workspace().as_text(),
            companies: companies.clone(),
            // A client admin who manages the company's users may also write their invitation
            // tokens and end their sessions (PostgreSQL's policies know this surface).
            surface: if !scope.is_portal() {
                "console"
            } else if scope.may(portico_core::Action::ManagePortalUsers).is_ok() {
                "portal_admin"
            } else {
                "portal"
            },
            principal: match scope.actor() {
                Actor::Staff(id) => id.as_text(),
                Actor::Portal(id) => id.as_text(),
            },
        };
        let tx = if write {
            store.begin_fenced(true, &fence).await?
        } else {
            store.begin_read_deferred(fence)
        };
        Ok(ScopedTx {
            tx,
            scope,
            company_ids: companies,
            write,
            ticket_pages: store.ticket_pages.clone(),
            ticket_kpis: store.ticket_kpis.clone(),
            desk_names: store.desk_names.clone(),
            system: store.system_statements(),
            audit: store.audit.clone(),
            webhooks_emitted: Vec::new(),
            audited: Vec::new(),
            visible_companies: match scope.companies() {
                // A portal reader's company was read from the companies table when its
                // principal was built (at the principal version the session's lookup read at
                // this request; any change to a company moves it), and companies are never
                // deleted. The query of `visible_company` would find the row of a company in
                // the scope's list: known visible, without a round trip. Only while nothing
                // is written (as below).
                CompanySet::Only(ids) if !write && scope.is_portal() => ids.clone(),
                _ => Vec::new(),
            },
            principal_version: None,
            page_versions: None,
        })
    }

    /// Appends the audit entries of the changes made, then commits: the entries and the changes
    /// they describe are kept together or not at all.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if !self.audited.is_empty() {
            crate::audit::append_all(&mut self.tx, &self.audit, &self.audited).await?;
        }
        self.tx.commit().await
    }

    pub fn scope(&self) -> &Scope {
        self.scope
    }

    /// Test hook: counts `SELECT COUNT(*) FROM <from>` in this transaction without the store's
    /// fence, so that only the database's own (PostgreSQL's row-level security, set up for
    /// this scope) stands between it and the rows.
    #[cfg(feature = "test-hooks")]
    pub async fn count_under_database_fence(&mut self, from: &str) -> Result<i64, StoreError> {
        self.tx
            .count(crate::sql::Q::with(
                &format!("SELECT COUNT(*) FROM {from}"),
                vec![],
            ))
            .await
    }

    /// Test hook: runs `sql` in this transaction as it is, with no fence of the store's, so
    /// that only the database's own (PostgreSQL's grants and policies, SQLite's triggers)
    /// stands between it and the rows.
    #[cfg(feature = "test-hooks")]
    pub async fn execute_under_database_fence(&mut self, sql: &str) -> Result<u64, StoreError> {
        self.tx.exec(crate::sql::Q::with(sql, vec![])).await
    }

    /// Confirms a company is inside the scope; `NotFound` otherwise (absent or foreign alike).
    pub async fn visible_company(&mut self, company: CompanyId) -> Result<(), StoreError> {
        if self.visible_companies.contains(&company) {
            return Ok(());
        }
        let mut query = self.select("COUNT(*)", &fence::COMPANIES, "c");
        query.sql(" AND c.id = ").arg(company);
        if self.tx.count(query).await? == 1 {
            // Only a transaction that changes nothing keeps the answer: a write may hide the
            // company later in the same transaction (archived, its portal switched off).
            if !self.write {
                self.visible_companies.push(company);
            }
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}

/// `text` for a `LIKE` pattern that matches it anywhere, its wildcards taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
