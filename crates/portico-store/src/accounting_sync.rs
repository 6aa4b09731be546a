//! Connectors (I2) for the MSP's accounting tool (Xero): the invoices it issued a customer (a
//! contact mapped to a company) applied as idempotent upserts into the company's invoices, under
//! the tool's name and number, with their lines and the tool's own PDF. Only what changed is
//! written; the run is recorded as every connector's is. The Invoices section shows them to
//! billing readers only, as it shows Portico's own; they cannot be changed in Portico.

use std::collections::HashMap;

use portico_core::{InvoiceId, InvoiceStatus};

use crate::StoreError;
use crate::connector_sync::{DueTenant, RunReport, SyncCounts};
use crate::scoped::invoices::InvoiceLine;
use crate::sql::q;
use crate::system::SystemTx;

/// An invoice as the accounting tool reports it (sent, paid or void: drafts stay the MSP's).
#[derive(Debug, Clone)]
pub struct AccountingInvoice {
    pub external_id: String,
    pub number: String,
    pub status: InvoiceStatus,
    /// `YYYY-MM-DD`.
    pub issued_on: String,
    pub due_on: String,
    pub currency: String,
    pub subtotal_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub amount_due_cents: i64,
    /// The tool's reference, shown as the invoice's notes.
    pub reference: String,
    /// The tool's change stamp.
    pub updated: String,
    pub paid_at: Option<i64>,
    pub lines: Vec<InvoiceLine>,
}

/// Everything one accounting run read for a customer.
#[derive(Debug, Clone, Default)]
pub struct AccountingSnapshot {
    /// Invoices changed since the last run (all of them on the first).
    pub invoices: Vec<AccountingInvoice>,
    /// The tool's PDFs read this run, by the tool's invoice id: of invoices new or changed, and
    /// of ones still without one (a run reads a limited number; the rest come next run).
    pub documents: Vec<(String, Vec<u8>)>,
    /// Where the next incremental read starts.
    pub watermark: String,
}

struct StoredRow {
    id: String,
    external_id: String,
    external_updated: String,
    has_pdf: bool,
}
crate::sql::db_row!(StoredRow {
    id,
    external_id,
    external_updated,
    has_pdf
});

impl SystemTx {
    /// Takes the tool's invoice `external_id` out of whichever company it was shown to.
    async fn remove_tool_invoice_elsewhere(
        &mut self,
        due: &DueTenant,
        source: &str,
        external_id: &str,
    ) -> Result<(), StoreError> {
        let elsewhere: Option<(String, String)> = self
            .tx
            .optional(q!(
                "SELECT id, company_id FROM invoices WHERE workspace_id = $1 AND source = $2 \
                 AND external_id = $3",
                due.workspace_id,
                source,
                external_id
            ))
            .await?;
        let Some((id, company)) = elsewhere else {
            return Ok(());
        };
        for table in ["invoice_documents", "invoice_lines"] {
            self.tx
                .exec(q!(
                    &format!(
                        "DELETE FROM {table} WHERE workspace_id = $1 AND company_id = $2 \
                         AND invoice_id = $3"
                    ),
                    due.workspace_id,
                    &company,
                    &id
                ))
                .await?;
        }
        self.tx
            .exec(q!(
                "DELETE FROM invoices WHERE workspace_id = $1 AND company_id = $2 AND id = $3",
                due.workspace_id,
                &company,
                &id
            ))
            .await?;
        Ok(())
    }

    /// The invoices this tenant fed its company, with their change stamps.
    async fn stored_invoices(&mut self, due: &DueTenant) -> Result<Vec<StoredRow>, StoreError> {
        self.tx
            .all(q!(
                "SELECT i.id, i.external_id, i.external_updated, \
                 EXISTS (SELECT 1 FROM invoice_documents d WHERE d.invoice_id = i.id) AS has_pdf \
                 FROM invoices i WHERE i.workspace_id = $1 AND i.company_id = $2 \
                 AND i.connector_id = $3 AND i.external_tenant = $4",
                due.workspace_id,
                due.company_id,
                due.connector_id,
                &due.external_id
            ))
            .await
    }

    /// The customer's invoices already read: the tool's id → its change stamp then, and
    /// whether its PDF is kept (a run fetches PDFs only for what is new or changed).
    pub async fn accounting_stamps(
        &mut self,
        due: &DueTenant,
    ) -> Result<HashMap<String, (String, bool)>, StoreError> {
        let rows = self.stored_invoices(due).await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.external_id, (r.external_updated, r.has_pdf)))
            .collect())
    }

    /// Applies what an accounting run read. `None` (nothing written) when the claim `token`
    /// no longer holds the tenant.
    pub async fn apply_invoices(
        &mut self,
        store: &crate::Store,
        due: &DueTenant,
        token: &str,
        snapshot: &AccountingSnapshot,
        report: &RunReport,
    ) -> Result<Option<SyncCounts>, StoreError> {
        if !self.holds_claim(due, token).await? {
            return Ok(None);
        }
        let now = report.finished_at;
        let source = due.kind.as_str();
        let stored = self.stored_invoices(due).await?;
        let stored: HashMap<&str, &StoredRow> =
            stored.iter().map(|s| (s.external_id.as_str(), s)).collect();
        let mut counts = SyncCounts {
            seen: snapshot.invoices.len() as i64,
            ..SyncCounts::default()
        };
        for inv in &snapshot.invoices {
            let id = match stored.get(inv.external_id.as_str()) {
                Some(s) if s.external_updated == inv.updated => continue,
                Some(s) => {
                    counts.changed += 1;
                    let id = InvoiceId::from_stored(&s.id);
                    self.tx
                        .exec(q!(
                            "UPDATE invoices SET external_number = $1, status = $2, issued_on = $3, \
                             due_on = $4, currency = $5, subtotal_cents = $6, tax_cents = $7, \
                             total_cents = $8, amount_due_cents = $9, notes = $10, \
                             external_updated = $11, paid_at = $12, synced_at = $13, updated_at = $14 \
                             WHERE workspace_id = $15 AND company_id = $16 AND id = $17",
                            &inv.number,
                            inv.status.as_str(),
                            &inv.issued_on,
                            &inv.due_on,
                            &inv.currency,
                            inv.subtotal_cents,
                            inv.tax_cents,
                            inv.total_cents,
                            inv.amount_due_cents,
                            &inv.reference,
                            &inv.updated,
                            inv.paid_at,
                            now,
                            now,
                            due.workspace_id,
                            due.company_id,
                            id
                        ))
                        .await?;
                    self.tx
                        .exec(q!(
                            "DELETE FROM invoice_lines WHERE workspace_id = $1 AND company_id = $2 \
                             AND invoice_id = $3",
                            due.workspace_id,
                            due.company_id,
                            id
                        ))
                        .await?;
                    id
                }
                None => {
                    counts.added += 1;
                    // The tool moved it from another customer (a contact edited or merged): it
                    // leaves the company it was shown to before it comes here.
                    self.remove_tool_invoice_elsewhere(due, source, &inv.external_id)
                        .await?;
                    let id = InvoiceId::new();
                    self.tx
                        .exec(q!(
                            "INSERT INTO invoices (workspace_id, company_id, id, number, status, issued_on, \
                             due_on, currency, subtotal_cents, tax_cents, total_cents, notes, sent_at, \
                             paid_at, created_at, updated_at, source, connector_id, external_tenant, \
                             external_id, external_number, amount_due_cents, external_updated, synced_at) \
                             VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                             $15, $16, $17, $18, $19, $20, $21, $22, $23)",
                            due.workspace_id,
                            due.company_id,
                            id,
                            inv.status.as_str(),
                            &inv.issued_on,
                            &inv.due_on,
                            &inv.currency,
                            inv.subtotal_cents,
                            inv.tax_cents,
                            inv.total_cents,
                            &inv.reference,
                            now,
                            inv.paid_at,
                            now,
                            now,
                            source,
                            due.connector_id,
                            &due.external_id,
                            &inv.external_id,
                            &inv.number,
                            inv.amount_due_cents,
                            &inv.updated,
                            now
                        ))
                        .await?;
                    id
                }
            };
            for (position, line) in inv.lines.iter().enumerate() {
                self.tx
                    .exec(q!(
                        "INSERT INTO invoice_lines (workspace_id, company_id, invoice_id, position, \
                         description, quantity_milli, unit_cents, tax_basis_points, amount_cents, tax_cents) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        due.workspace_id,
                        due.company_id,
                        id,
                        position as i64,
                        &line.description,
                        line.quantity_milli,
                        line.unit_cents,
                        line.tax_basis_points,
                        line.amount_cents,
                        line.tax_cents
                    ))
                    .await?;
            }
        }
        // The PDFs read, onto their invoices (stored above or before).
        let ids: Vec<(String, String)> = self
            .tx
            .all(q!(
                "SELECT external_id, id FROM invoices WHERE workspace_id = $1 AND company_id = $2 \
                 AND connector_id = $3 AND external_tenant = $4",
                due.workspace_id,
                due.company_id,
                due.connector_id,
                &due.external_id
            ))
            .await?;
        let ids: HashMap<String, String> = ids.into_iter().collect();
        for (external_id, pdf) in &snapshot.documents {
            let Some(id) = ids.get(external_id) else {
                continue;
            };
            let id = InvoiceId::from_stored(id);
            // A PDF read on its own (the invoice unchanged) is a change of its own.
            if stored.contains_key(external_id.as_str())
                && !snapshot
                    .invoices
                    .iter()
                    .any(|i| &i.external_id == external_id)
            {
                counts.changed += 1;
            }
            self.tx
                .exec(q!(
                    "DELETE FROM invoice_documents WHERE workspace_id = $1 AND company_id = $2 \
                     AND invoice_id = $3",
                    due.workspace_id,
                    due.company_id,
                    id
                ))
                .await?;
            self.tx
                .exec(q!(
                    "INSERT INTO invoice_documents (workspace_id, company_id, invoice_id, content, \
                     fetched_at) VALUES ($1, $2, $3, $4, $5)",
                    due.workspace_id,
                    due.company_id,
                    id,
                    Some(pdf.clone()),
                    now
                ))
                .await?;
        }
        if !snapshot.watermark.is_empty() {
            self.tx
                .exec(q!(
                    "UPDATE connector_tenants SET alerts_watermark = $1 WHERE connector_id = $2 \
                     AND external_id = $3",
                    &snapshot.watermark,
                    due.connector_id,
                    &due.external_id
                ))
                .await?;
        }
        let summary = format!(
            "{} invoices read; {} added, {} changed",
            snapshot.invoices.len(),
            counts.added,
            counts.changed
        );
        self.run_succeeded(store, due, report, counts, &summary, &[])
            .await?;
        Ok(Some(counts))
    }
}
