//! Companies, sites, contacts and service plans (C1), fenced to the scope.

mod contacts;
pub(crate) mod edit;
mod read;
mod sites;

pub use contacts::ContactDraft;
pub use edit::{CompanyDraft, hours_text};
pub use read::{Billing, CompanySummary, Contact, Site};
pub use sites::SiteDraft;

use portico_core::CompanyId;

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};

impl ScopedTx<'_> {
    /// Archives (`archived`) or restores one record of a company: a site, a contact, an asset.
    /// The caller has read the record through its own fence and checked the action; this
    /// writes the date (a second archive keeps the first date).
    pub(crate) async fn set_record_archived(
        &mut self,
        table: &fence::Tenant,
        company: CompanyId,
        id: impl Into<crate::sql::Arg> + std::fmt::Display + Copy,
        archived: bool,
    ) -> Result<(), StoreError> {
        let at = archived.then(crate::now);
        let mut update = self.update(table, |set| {
            set.sql("archived_at = ").arg(at);
        });
        update
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(id)
            .sql(if archived {
                " AND archived_at IS NULL"
            } else {
                " AND archived_at IS NOT NULL"
            });
        self.tx.exec(update).await?;
        let kind = table.table.trim_end_matches('s');
        let (action, detail) = if archived {
            (portico_core::AuditAction::RecordArchived, "")
        } else {
            (portico_core::AuditAction::RecordUpdated, "restored")
        };
        self.audit(
            action,
            Some(company),
            portico_core::AuditTarget::new(kind, id, ""),
            detail,
        )
        .await
    }
}
