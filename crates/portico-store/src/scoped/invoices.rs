//! Invoices (P9): what the MSP billed a company, with lines, tax and totals. Only principals with
//! the billing entitlement read them, on both surfaces; drafts are the MSP's own until sent (the
//! fence hides them from every portal read). Owners and billing staff draft, send, and mark them
//! paid or void; nothing is deleted.

use portico_core::{Action, CompanyId, InvoiceId, InvoiceStatus, Zone, parse_date};

use crate::scoped::{ScopedTx, fence};
use crate::sql::{Q, q};
use crate::{StoreError, now};

/// Invoices a list page shows.
pub const INVOICE_PAGE: i64 = 50;
/// Lines one invoice may hold.
pub const MAX_LINES: usize = 500;
const MAX_DESCRIPTION: usize = 300;
const MAX_NOTES: usize = 2_000;
/// The largest amount a line may come to: a hundred million, in cents.
const MAX_CENTS: i64 = 10_000_000_000;

/// An invoice as a list shows it.
#[derive(Debug, Clone)]
pub struct InvoiceSummary {
    pub id: InvoiceId,
    pub company_id: CompanyId,
    pub company_name: String,
    /// `None` while a draft.
    pub number: Option<i64>,
    /// As of the reader's today: a sent invoice past its due date is overdue.
    pub status: InvoiceStatus,
    /// `YYYY-MM-DD`.
    pub issued_on: String,
    pub due_on: String,
    pub currency: String,
    pub subtotal_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    /// The accounting tool that issued it (`Xero`); `None` for Portico's own.
    pub issued_by: Option<&'static str>,
    /// The tool's own number for one it issued.
    pub external_number: String,
    /// What is still owed, as the tool reports it (part-payments); `None` for Portico's own.
    pub amount_due_cents: Option<i64>,
}

impl InvoiceSummary {
    /// `INV-01042`, the tool's own number, or `Draft`.
    pub fn number_text(&self) -> String {
        match self.number {
            Some(n) => portico_core::invoice_number(n),
            None if self.issued_by.is_some() => self.external_number.clone(),
            None => "Draft".to_owned(),
        }
    }
}

/// One line of an invoice.
#[derive(Debug, Clone)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity_milli: i64,
    pub unit_cents: i64,
    pub tax_basis_points: i64,
    pub amount_cents: i64,
    pub tax_cents: i64,
}

/// An invoice with its lines.
#[derive(Debug, Clone)]
pub struct Invoice {
    pub summary: InvoiceSummary,
    pub notes: String,
    pub lines: Vec<InvoiceLine>,
    /// The company's address for the "bill to" block: its first site's.
    pub bill_to_address: String,
}

/// Which invoices a list shows.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub status: Option<InvoiceStatus>,
    /// Pages of [`INVOICE_PAGE`], from 0.
    pub page: i64,
    /// Keyset paging instead (the API): up to this many invoices (at most 201) after `after`.
    pub limit: Option<i64>,
    /// The issue date and id a page before ended at.
    pub after: Option<(String, InvoiceId)>,
}

#[derive(Debug, Clone, Default)]
pub struct InvoicePage {
    pub invoices: Vec<InvoiceSummary>,
    pub more: bool,
}

/// One line as the form submits it.
#[derive(Debug, Clone, Default)]
pub struct LineDraft {
    pub description: String,
    /// `1`, `1.5`, `0.25`.
    pub quantity: String,
    /// `120`, `1,250.00`.
    pub unit_price: String,
    /// Percent: `10`, `10%`, `7.5`.
    pub tax_rate: String,
}

/// What the invoice form submits.
#[derive(Debug, Clone, Default)]
pub struct InvoiceDraft {
    pub issued_on: String,
    pub due_on: String,
    pub notes: String,
    pub lines: Vec<LineDraft>,
}

/// A change of an invoice's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    /// A draft is sent: it takes the workspace's next number and reaches the portal.
    Send,
    MarkPaid,
    /// A paid invoice marked paid by mistake.
    MarkUnpaid,
    /// Cancelled once sent, kept with its number.
    Void,
    /// A draft thrown away: it never left the MSP, so it is deleted.
    Discard,
}

impl InvoiceAction {
    pub fn parse(text: &str) -> Option<InvoiceAction> {
        match text {
            "send" => Some(InvoiceAction::Send),
            "paid" => Some(InvoiceAction::MarkPaid),
            "unpaid" => Some(InvoiceAction::MarkUnpaid),
            "void" => Some(InvoiceAction::Void),
            "discard" => Some(InvoiceAction::Discard),
            _ => None,
        }
    }
}

/// `1,234.5` → 123450 (cents) and `1.5` → 1500 (thousandths): a non-negative decimal with at
/// most `places` decimal places, scaled by 10^places.
pub fn parse_decimal(text: &str, places: u32) -> Option<i64> {
    let text: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '$' | '%'))
        .collect();
    if text.is_empty() {
        return None;
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > places as usize
        || whole.len() > 12
    {
        return None;
    }
    let scale = 10i64.pow(places);
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<i64>().ok()? * 10i64.pow(places - fraction.len() as u32)
    };
    whole.checked_mul(scale)?.checked_add(fraction)
}

/// `a * b / divisor` for non-negative figures, rounded half up; `None` beyond `i64`.
fn scaled(a: i64, b: i64, divisor: i64) -> Option<i64> {
    let product = a as i128 * b as i128;
    let half = divisor as i128 / 2;
    i64::try_from((product + half) / divisor as i128).ok()
}

struct SummaryRow {
    id: String,
    company_id: String,
    company_name: String,
    number: Option<i64>,
    status: String,
    issued_on: String,
    due_on: String,
    currency: String,
    subtotal_cents: i64,
    tax_cents: i64,
    total_cents: i64,
    notes: String,
    source: String,
    external_number: String,
    amount_due_cents: Option<i64>,
}
crate::sql::db_row!(SummaryRow {
    id,
    company_id,
    company_name,
    number,
    status,
    issued_on,
    due_on,
    currency,
    subtotal_cents,
    tax_cents,
    total_cents,
    notes,
    source,
    external_number,
    amount_due_cents
});

impl SummaryRow {
    fn into_summary(self, today: &str) -> (InvoiceSummary, String) {
        let stored = InvoiceStatus::parse(&self.status).unwrap_or(InvoiceStatus::Draft);
        let status = if stored == InvoiceStatus::Sent && self.due_on.as_str() < today {
            InvoiceStatus::Overdue
        } else {
            stored
        };
        (
            InvoiceSummary {
                id: InvoiceId::from_stored(&self.id),
                company_id: CompanyId::from_stored(&self.company_id),
                company_name: self.company_name,
                number: self.number,
                status,
                issued_on: self.issued_on,
                due_on: self.due_on,
                currency: self.currency,
                subtotal_cents: self.subtotal_cents,
                tax_cents: self.tax_cents,
                total_cents: self.total_cents,
                issued_by: crate::scoped::connectors::ConnectorKind::parse(&self.source)
                    .map(|k| k.label()),
                external_number: self.external_number,
                amount_due_cents: self.amount_due_cents,
            },
            self.notes,
        )
    }
}

struct LineRow {
    description: String,
    quantity_milli: i64,
    unit_cents: i64,
    tax_basis_points: i64,
    amount_cents: i64,
    tax_cents: i64,
}
crate::sql::db_row!(LineRow {
    description,
    quantity_milli,
    unit_cents,
    tax_basis_points,
    amount_cents,
    tax_cents
});

const SUMMARY_COLUMNS: &str = "i.id, i.company_id, c.name AS company_name, i.number, i.status, i.issued_on, i.due_on, \
     i.currency, i.subtotal_cents, i.tax_cents, i.total_cents, i.notes, i.source, i.external_number, \
     i.amount_due_cents";
const COMPANY_JOIN: &str =
    " JOIN companies c ON c.workspace_id = i.workspace_id AND c.id = i.company_id";

/// An invoice the accounting tool issued is the tool's: changed there, read here.
fn refuse_issued_elsewhere(invoice: &InvoiceSummary) -> Result<(), StoreError> {
    match invoice.issued_by {
        Some(tool) => Err(StoreError::Invalid(format!(
            "This invoice was issued in {tool}: change it there; Portico shows it as {tool} reports it."
        ))),
        None => Ok(()),
    }
}

/// A checked draft: lines with their amounts, and the totals.
struct Checked {
    issued_on: String,
    due_on: String,
    notes: String,
    lines: Vec<InvoiceLine>,
    subtotal_cents: i64,
    tax_cents: i64,
}

fn check(draft: &InvoiceDraft) -> Result<Checked, StoreError> {
    let mut refusals: Vec<(String, String)> = Vec::new();
    let issued_on = parse_date(&draft.issued_on);
    if issued_on.is_none() {
        refusals.push((
            "issued_on".into(),
            "Enter the invoice date, such as 2026-12-03.".into(),
        ));
    }
    let due_on = parse_date(&draft.due_on);
    match (&issued_on, &due_on) {
        (_, None) => refusals.push((
            "due_on".into(),
            "Enter the due date, such as 2026-12-17.".into(),
        )),
        (Some(issued), Some(due)) if due < issued => refusals.push((
            "due_on".into(),
            "The invoice cannot fall due before its date.".into(),
        )),
        _ => {}
    }
    let notes = draft.notes.trim();
    let allowed = |c: char| !c.is_control() || matches!(c, '\n' | '\r' | '\t');
    if notes.chars().count() > MAX_NOTES || !notes.chars().all(allowed) {
        refusals.push((
            "notes".into(),
            format!("Keep the notes to at most {MAX_NOTES} characters."),
        ));
    }
    let mut lines = Vec::new();
    let mut line_errors = Vec::new();
    let filled: Vec<(usize, &LineDraft)> = draft
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            !(l.description.trim().is_empty()
                && l.quantity.trim().is_empty()
                && l.unit_price.trim().is_empty())
        })
        .collect();
    if filled.is_empty() {
        refusals.push(("lines".into(), "Add at least one line.".into()));
    }
    if filled.len() > MAX_LINES {
        refusals.push((
            "lines".into(),
            format!("An invoice holds at most {MAX_LINES} lines."),
        ));
    }
    for (n, line) in filled {
        let row = n + 1;
        let description = line.description.trim();
        if description.is_empty()
            || description.chars().count() > MAX_DESCRIPTION
            || description.chars().any(char::is_control)
        {
            line_errors.push(format!(
                "Line {row}: describe it (one line, at most {MAX_DESCRIPTION} characters)."
            ));
            continue;
        }
        let quantity = parse_decimal(&line.quantity, 3).filter(|q| *q > 0);
        let unit = parse_decimal(&line.unit_price, 2);
        let tax = if line.tax_rate.trim().is_empty() {
            Some(0)
        } else {
            parse_decimal(&line.tax_rate, 2).filter(|t| *t <= 10_000)
        };
        let (Some(quantity), Some(unit), Some(tax)) = (quantity, unit, tax) else {
            line_errors.push(format!(
                "Line {row}: enter a quantity above 0 (such as 1.5), a unit price (such as 120.00) \
                 and a tax rate from 0 to 100 %."
            ));
            continue;
        };
        let amount = scaled(quantity, unit, 1_000).filter(|a| (0..=MAX_CENTS).contains(a));
        let (Some(amount), Some(line_tax)) = (amount, amount.and_then(|a| scaled(a, tax, 10_000)))
        else {
            line_errors.push(format!("Line {row}: the amount is too large."));
            continue;
        };
        lines.push(InvoiceLine {
            description: description.to_owned(),
            quantity_milli: quantity,
            unit_cents: unit,
            tax_basis_points: tax,
            amount_cents: amount,
            tax_cents: line_tax,
        });
    }
    if !line_errors.is_empty() {
        refusals.push(("lines".into(), line_errors.join(" ")));
    }
    // Each line is at most MAX_CENTS (and its tax at most as much again): 500 lines sum far
    // below i64's limit.
    match (issued_on, due_on) {
        (Some(issued_on), Some(due_on)) if refusals.is_empty() => Ok(Checked {
            subtotal_cents: lines.iter().map(|l| l.amount_cents).sum(),
            tax_cents: lines.iter().map(|l| l.tax_cents).sum(),
            issued_on,
            due_on,
            notes: notes.to_owned(),
            lines,
        }),
        _ => Err(StoreError::InvalidFields(refusals)),
    }
}

impl ScopedTx<'_> {
    /// Invoices are read by billing-entitled principals only: on the portal through the
    /// Invoices section (a hidden section is not found), on the console by owners and billing
    /// staff.
    fn may_read_invoices(&self) -> Result<(), StoreError> {
        self.scope.may(Action::ViewInvoices)?;
        if !self.scope.billing() {
            return Err(StoreError::Forbidden);
        }
        Ok(())
    }

    /// Today on the reader's calendar, for "overdue".
    fn today(zone: &Zone) -> String {
        zone.date_after(now(), 0).unwrap_or_default()
    }

    /// A company's invoices, latest first.
    pub async fn invoices(
        &mut self,
        company: CompanyId,
        filter: &InvoiceFilter,
        zone: &Zone,
    ) -> Result<InvoicePage, StoreError> {
        if !self.scope.is_portal() {
            self.visible_company(company).await?;
        }
        self.may_read_invoices()?;
        let today = Self::today(zone);
        let mut query = self.select_joined(SUMMARY_COLUMNS, &fence::INVOICES, "i", COMPANY_JOIN);
        query.sql(" AND i.company_id = ").arg(company);
        match filter.status {
            None => {}
            Some(InvoiceStatus::Overdue) => {
                query
                    .sql(" AND i.status = 'sent' AND i.due_on < ")
                    .arg(today.as_str());
            }
            Some(InvoiceStatus::Sent) => {
                query
                    .sql(" AND i.status = 'sent' AND i.due_on >= ")
                    .arg(today.as_str());
            }
            Some(status) => {
                query.sql(" AND i.status = ").arg(status.as_str());
            }
        }
        if let Some((issued, id)) = &filter.after {
            let (d, i) = (query.placeholder(issued.as_str()), query.placeholder(*id));
            query.sql(&format!(
                " AND (i.issued_on < {d} OR (i.issued_on = {d} AND i.id < {i}))"
            ));
        }
        query.sql(" ORDER BY i.issued_on DESC, i.id DESC LIMIT ");
        let page = match filter.limit {
            Some(limit) => {
                query.arg(limit.clamp(1, 201));
                limit.clamp(1, 201)
            }
            None => {
                query
                    .arg(INVOICE_PAGE + 1)
                    .offset(filter.page.clamp(0, 100_000) * INVOICE_PAGE);
                INVOICE_PAGE
            }
        };
        let mut rows: Vec<SummaryRow> = self.tx.all(query).await?;
        let more = rows.len() as i64 > page;
        if filter.limit.is_none() {
            rows.truncate(INVOICE_PAGE as usize);
        }
        Ok(InvoicePage {
            invoices: rows.into_iter().map(|r| r.into_summary(&today).0).collect(),
            more,
        })
    }

    /// One invoice of a company with its lines.
    pub async fn invoice(
        &mut self,
        company: CompanyId,
        id: InvoiceId,
        zone: &Zone,
    ) -> Result<Invoice, StoreError> {
        if !self.scope.is_portal() {
            self.visible_company(company).await?;
        }
        self.may_read_invoices()?;
        let mut query = self.select_joined(SUMMARY_COLUMNS, &fence::INVOICES, "i", COMPANY_JOIN);
        query
            .sql(" AND i.company_id = ")
            .arg(company)
            .sql(" AND i.id = ")
            .arg(id);
        let row: SummaryRow = self.tx.optional(query).await?.ok_or(StoreError::NotFound)?;
        let (summary, notes) = row.into_summary(&Self::today(zone));
        // The lines of the invoice just read through its fence.
        let mut query = self.select(
            "l.description, l.quantity_milli, l.unit_cents, l.tax_basis_points, l.amount_cents, l.tax_cents",
            &fence::INVOICE_LINES,
            "l",
        );
        query
            .sql(" AND l.company_id = ")
            .arg(company)
            .sql(" AND l.invoice_id = ")
            .arg(id)
            .sql(" ORDER BY l.position");
        let lines: Vec<LineRow> = self.tx.all(query).await?;
        let mut query = self.select("s.address", &fence::SITES, "s");
        query
            .sql(" AND s.company_id = ")
            .arg(company)
            .sql(" AND s.archived_at IS NULL AND s.address <> '' ORDER BY s.name LIMIT 1");
        // An own-tickets-only reader is shown no site anywhere, its address included.
        let address: Option<(String,)> = if self.scope.requester().is_some() {
            None
        } else {
            self.tx.optional(query).await?
        };
        Ok(Invoice {
            summary,
            notes,
            lines: lines
                .into_iter()
                .map(|l| InvoiceLine {
                    description: l.description,
                    quantity_milli: l.quantity_milli,
                    unit_cents: l.unit_cents,
                    tax_basis_points: l.tax_basis_points,
                    amount_cents: l.amount_cents,
                    tax_cents: l.tax_cents,
                })
                .collect(),
            bill_to_address: address.map(|(a,)| a).unwrap_or_default(),
        })
    }

    fn may_manage_invoices(&self) -> Result<(), StoreError> {
        self.scope.may(Action::ManageInvoices)?;
        if !self.scope.billing() {
            return Err(StoreError::Forbidden);
        }
        Ok(())
    }

    /// Drafts an invoice to a company that takes work, in its plan's currency.
    pub async fn create_invoice(
        &mut self,
        company: CompanyId,
        draft: &InvoiceDraft,
    ) -> Result<InvoiceId, StoreError> {
        let summary = self.company(company).await?;
        self.may_manage_invoices()?;
        self.company_taking_work(company).await?;
        let currency = summary
            .billing
            .map(|b| b.currency)
            .ok_or(StoreError::Forbidden)?;
        let checked = check(draft)?;
        let id = InvoiceId::new();
        let at = now();
        self.tx
            .exec(q!(
                "INSERT INTO invoices (workspace_id, company_id, id, number, status, issued_on, due_on, currency, \
                 subtotal_cents, tax_cents, total_cents, notes, created_at, updated_at) \
                 VALUES ($1, $2, $3, NULL, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                self.scope.workspace(),
                company,
                id,
                checked.issued_on.as_str(),
                checked.due_on.as_str(),
                currency.as_str(),
                checked.subtotal_cents,
                checked.tax_cents,
                checked.subtotal_cents + checked.tax_cents,
                checked.notes.as_str(),
                at
            ))
            .await?;
        self.store_lines(company, id, &checked.lines).await?;
        // A draft is the MSP's own until sent: recorded on the workspace's chain.
        self.audit_on(
            false,
            portico_core::AuditAction::RecordCreated,
            Some(company),
            portico_core::AuditTarget::new("invoice", id, "Draft invoice"),
            "",
        )
        .await?;
        Ok(id)
    }

    /// The accounting tool's own PDF of invoice `id`, when the tool issued it and it was read.
    pub async fn invoice_document(
        &mut self,
        company: CompanyId,
        id: InvoiceId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        // Through the invoice's own read: the same fence, billing rule and draft rule.
        self.invoice(company, id, &Zone::utc()).await?;
        let mut query = self.select("d.content", &fence::INVOICE_DOCUMENTS, "d");
        query.sql(" AND d.invoice_id = ").arg(id);
        let row: Option<(Vec<u8>,)> = self.tx.optional(query).await?;
        Ok(row.map(|(content,)| content))
    }

    /// Changes a draft; a sent invoice is changed only by voiding it and drafting another.
    pub async fn update_invoice(
        &mut self,
        company: CompanyId,
        id: InvoiceId,
        draft: &InvoiceDraft,
    ) -> Result<(), StoreError> {
        let stored = self.invoice(company, id, &Zone::utc()).await?;
        self.may_manage_invoices()?;
        refuse_issued_elsewhere(&stored.summary)?;
        if stored.summary.status != InvoiceStatus::Draft {
            return Err(StoreError::Invalid(
                "A sent invoice cannot be changed: void it and draft another.".into(),
            ));
        }
        let checked = check(draft)?;
        let mut update = self.update(&fence::INVOICES, |set| {
            set.sql("issued_on = ")
                .arg(checked.issued_on.as_str())
                .sql(", due_on = ")
                .arg(checked.due_on.as_str())
                .sql(", notes = ")
                .arg(checked.notes.as_str())
                .sql(", subtotal_cents = ")
                .arg(checked.subtotal_cents)
                .sql(", tax_cents = ")
                .arg(checked.tax_cents)
                .sql(", total_cents = ")
                .arg(checked.subtotal_cents + checked.tax_cents)
                .sql(", updated_at = ")
                .arg(now());
        });
        update
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(id)
            .sql(" AND status = 'draft'");
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::NotFound);
        }
        let mut delete = self.delete(&fence::INVOICE_LINES);
        delete
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND invoice_id = ")
            .arg(id);
        self.tx.exec(delete).await?;
        self.store_lines(company, id, &checked.lines).await?;
        self.audit_on(
            stored.summary.status != InvoiceStatus::Draft,
            portico_core::AuditAction::RecordUpdated,
            Some(company),
            portico_core::AuditTarget::new(
                "invoice",
                id,
                format!("Invoice {}", stored.summary.number_text()),
            ),
            "",
        )
        .await
    }

    async fn store_lines(
        &mut self,
        company: CompanyId,
        id: InvoiceId,
        lines: &[InvoiceLine],
    ) -> Result<(), StoreError> {
        for (position, line) in lines.iter().enumerate() {
            self.tx
                .exec(q!(
                    "INSERT INTO invoice_lines (workspace_id, company_id, invoice_id, position, description, quantity_milli, \
                     unit_cents, tax_basis_points, amount_cents, tax_cents) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    self.scope.workspace(),
                    company,
                    id,
                    position as i64,
                    line.description.as_str(),
                    line.quantity_milli,
                    line.unit_cents,
                    line.tax_basis_points,
                    line.amount_cents,
                    line.tax_cents
                ))
                .await?;
        }
        Ok(())
    }

    /// Sends, marks paid or unpaid, or voids an invoice, where its status allows.
    pub async fn set_invoice_status(
        &mut self,
        company: CompanyId,
        id: InvoiceId,
        action: InvoiceAction,
    ) -> Result<(), StoreError> {
        let stored = self.invoice(company, id, &Zone::utc()).await?;
        self.may_manage_invoices()?;
        refuse_issued_elsewhere(&stored.summary)?;
        let status = stored.summary.status;
        let open = matches!(status, InvoiceStatus::Sent | InvoiceStatus::Overdue);
        let allowed = match action {
            InvoiceAction::Send => status == InvoiceStatus::Draft,
            InvoiceAction::MarkPaid => open,
            InvoiceAction::MarkUnpaid => status == InvoiceStatus::Paid,
            InvoiceAction::Void => open,
            InvoiceAction::Discard => status == InvoiceStatus::Draft,
        };
        if !allowed {
            return Err(StoreError::Invalid(format!(
                "The invoice is {}: that cannot be done to it.",
                status.label().to_lowercase()
            )));
        }
        if action == InvoiceAction::Discard {
            return self.discard_draft(company, id).await;
        }
        let at = now();
        let number = match (action, stored.summary.number) {
            (InvoiceAction::Send, None) => Some(self.next_invoice_number().await?),
            (_, number) => number,
        };
        let update_status = |set: &mut Q| {
            let stored = match action {
                InvoiceAction::Send | InvoiceAction::MarkUnpaid => "sent",
                InvoiceAction::MarkPaid => "paid",
                InvoiceAction::Void | InvoiceAction::Discard => "void",
            };
            set.sql("status = ")
                .arg(stored)
                .sql(", number = ")
                .arg(number)
                .sql(", updated_at = ")
                .arg(at);
            match action {
                InvoiceAction::Send => {
                    set.sql(", sent_at = ").arg(at);
                }
                InvoiceAction::MarkPaid => {
                    set.sql(", paid_at = ").arg(at);
                }
                InvoiceAction::MarkUnpaid => {
                    set.sql(", paid_at = NULL");
                }
                InvoiceAction::Void | InvoiceAction::Discard => {}
            }
        };
        let mut update = self.update(&fence::INVOICES, update_status);
        update
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(id)
            // As read above: a concurrent change (PostgreSQL) makes this one change nothing.
            .sql(match status {
                InvoiceStatus::Draft => " AND status = 'draft'",
                InvoiceStatus::Sent | InvoiceStatus::Overdue => " AND status = 'sent'",
                InvoiceStatus::Paid => " AND status = 'paid'",
                InvoiceStatus::Void => " AND status = 'void'",
            });
        if self.tx.exec(update).await? != 1 {
            return Err(StoreError::Invalid(
                "The invoice was changed meanwhile: look at it again.".into(),
            ));
        }
        self.audit_on(
            stored.summary.status != InvoiceStatus::Draft || action == InvoiceAction::Send,
            portico_core::AuditAction::RecordUpdated,
            Some(company),
            portico_core::AuditTarget::new(
                "invoice",
                id,
                format!("Invoice {}", stored.summary.number_text()),
            ),
            &format!("{action:?}"),
        )
        .await
    }

    /// Deletes a draft and its lines: it never reached the client.
    async fn discard_draft(&mut self, company: CompanyId, id: InvoiceId) -> Result<(), StoreError> {
        let mut lines = self.delete(&fence::INVOICE_LINES);
        lines
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND invoice_id = ")
            .arg(id)
            .sql(" AND EXISTS (SELECT 1 FROM invoices d WHERE d.id = invoice_lines.invoice_id AND d.status = 'draft')");
        self.tx.exec(lines).await?;
        let mut delete = self.delete(&fence::INVOICES);
        delete
            .sql(" AND company_id = ")
            .arg(company)
            .sql(" AND id = ")
            .arg(id)
            .sql(" AND status = 'draft'");
        match self.tx.exec(delete).await? {
            1 => Ok(()),
            _ => Err(StoreError::Invalid(
                "The invoice was changed meanwhile: look at it again.".into(),
            )),
        }
    }

    /// The workspace's next invoice number, from 1001. The counter row's lock (PostgreSQL) or
    /// the write lock (SQLite) makes concurrent sends take turns, the first one included.
    async fn next_invoice_number(&mut self) -> Result<i64, StoreError> {
        let (number,): (i64,) = self
            .tx
            .one(q!(
                "INSERT INTO invoice_counters (workspace_id, last_number) VALUES ($1, 1001) \
                 ON CONFLICT (workspace_id) DO UPDATE SET last_number = invoice_counters.last_number + 1 \
                 RETURNING last_number",
                self.scope.workspace()
            ))
            .await?;
        Ok(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_as_people_write_them() {
        assert_eq!(parse_decimal("1,250.5", 2), Some(125_050));
        assert_eq!(parse_decimal("$120", 2), Some(12_000));
        assert_eq!(parse_decimal(".25", 3), Some(250));
        assert_eq!(parse_decimal("10%", 2), Some(1_000));
        assert_eq!(parse_decimal("1.005", 2), None);
        assert_eq!(parse_decimal("-3", 2), None);
        assert_eq!(parse_decimal("1e3", 2), None);
        assert_eq!(parse_decimal(".", 2), None);
        assert_eq!(parse_decimal("", 2), None);
    }

    #[test]
    fn a_line_comes_to_its_quantity_times_its_price_with_its_tax_rounded_to_the_cent() {
        let checked = check(&InvoiceDraft {
            issued_on: "2026-12-01".into(),
            due_on: "2026-12-15".into(),
            notes: String::new(),
            lines: vec![
                LineDraft {
                    description: "Support hours".into(),
                    quantity: "1.5".into(),
                    unit_price: "133.33".into(),
                    tax_rate: "10".into(),
                },
                LineDraft::default(),
            ],
        })
        .unwrap();
        assert_eq!(checked.lines.len(), 1);
        assert_eq!(checked.lines[0].amount_cents, 20_000); // 199.995 → 200.00
        assert_eq!(checked.tax_cents, 2_000);
        // A line beyond the largest amount is refused, not wrapped around.
        let huge = check(&InvoiceDraft {
            issued_on: "2026-12-01".into(),
            due_on: "2026-12-15".into(),
            notes: String::new(),
            lines: vec![LineDraft {
                description: "Too much".into(),
                quantity: "100000000".into(),
                unit_price: "999999999999".into(),
                tax_rate: "100".into(),
            }],
        });
        assert!(matches!(huge, Err(StoreError::InvalidFields(_))));
        assert!(matches!(
            check(&InvoiceDraft {
                issued_on: "2026-12-10".into(),
                due_on: "2026-12-01".into(),
                ..InvoiceDraft::default()
            }),
            Err(StoreError::InvalidFields(f)) if f.iter().any(|(k, _)| k == "due_on") && f.iter().any(|(k, _)| k == "lines")
        ));
    }
}
