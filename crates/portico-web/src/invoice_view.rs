//! What both surfaces' Invoices pages share: the list, the invoice itself, and its PDF.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portico_core::InvoiceStatus;
use portico_store::scoped::invoices::{Invoice, InvoiceFilter, InvoicePage};

use crate::AppState;
use crate::auth::Auth;
use crate::error::WebError;
use crate::render::money;

#[derive(serde::Deserialize, Default)]
pub(crate) struct InvoiceQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<i64>,
}

impl InvoiceQuery {
    pub(crate) fn filter(&self) -> Result<InvoiceFilter, WebError> {
        let status = match self.status.as_str() {
            "" => None,
            text => Some(
                InvoiceStatus::parse(text)
                    .ok_or_else(|| WebError::BadRequest("That status does not exist.".into()))?,
            ),
        };
        Ok(InvoiceFilter {
            status,
            page: self.page.unwrap_or(0).max(0),
            ..Default::default()
        })
    }
}

/// `2026-12-03` → `3 Dec 2026`.
pub(crate) fn date_text(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => match (m.parse::<usize>(), d.parse::<u32>()) {
            (Ok(m @ 1..=12), Ok(d)) => format!("{d} {} {y}", MONTHS[m - 1]),
            _ => date.to_owned(),
        },
        _ => date.to_owned(),
    }
}

/// Thousandths as a decimal without trailing zeros: 1500 → `1.5`.
pub(crate) fn quantity_text(milli: &i64) -> String {
    let sign = if *milli < 0 { "-" } else { "" };
    let milli = milli.unsigned_abs();
    let text = format!("{}.{:03}", milli / 1000, milli % 1000);
    format!("{sign}{}", text.trim_end_matches('0').trim_end_matches('.'))
}

/// Basis points as a percentage: 1000 → `10%`, 750 → `7.5%`.
pub(crate) fn rate_text(basis_points: &i64) -> String {
    let sign = if *basis_points < 0 { "-" } else { "" };
    let basis_points = basis_points.unsigned_abs();
    let text = format!("{}.{:02}", basis_points / 100, basis_points % 100);
    format!(
        "{sign}{}%",
        text.trim_end_matches('0').trim_end_matches('.')
    )
}

/// A company's invoices, for both surfaces.
#[derive(Template)]
#[template(path = "partials/invoice_list.html")]
pub(crate) struct InvoiceListView {
    /// The list's address without its query; an invoice is at `{base}/{id}`.
    pub base: String,
    pub page: InvoicePage,
    pub filter: InvoiceFilter,
    /// Whether drafts exist for this reader (the console).
    pub shows_drafts: bool,
}

impl InvoiceListView {
    fn statuses(&self) -> Vec<InvoiceStatus> {
        InvoiceStatus::ALL
            .iter()
            .copied()
            .filter(|s| self.shows_drafts || *s != InvoiceStatus::Draft)
            .collect()
    }

    fn chosen(&self, status: &InvoiceStatus) -> bool {
        self.filter.status == Some(*status)
    }

    fn page_query(&self, delta: i64) -> String {
        let mut query = format!("?page={}", (self.filter.page + delta).max(0));
        if let Some(status) = self.filter.status {
            query.push_str("&status=");
            query.push_str(status.as_str());
        }
        query
    }
}

/// One invoice's lines and totals, for both surfaces.
#[derive(Template)]
#[template(path = "partials/invoice_detail.html")]
pub(crate) struct InvoiceDetailView {
    pub invoice: Invoice,
    pub pdf_href: String,
}

/// The invoice as a PDF in the workspace's brand, laid out off the async threads.
pub(crate) async fn pdf(
    state: &AppState,
    auth: &Auth,
    invoice: Invoice,
) -> Result<Response, WebError> {
    // An invoice the accounting tool issued is downloaded as the tool made it.
    let tool_pdf = if invoice.summary.issued_by.is_some() {
        let mut tx = state.store.scoped(&auth.scope).await?;
        let document = tx
            .invoice_document(invoice.summary.company_id, invoice.summary.id)
            .await?;
        tx.commit().await?;
        document
    } else {
        None
    };
    let number = invoice.summary.number_text();
    let bytes = match tool_pdf {
        Some(bytes) => bytes,
        None => render(state, auth, &invoice).await?,
    };
    crate::audited::downloaded(
        state,
        auth,
        invoice.summary.company_id,
        portico_core::AuditTarget::new(
            "invoice",
            invoice.summary.id,
            format!("Invoice {number} (PDF)"),
        ),
    )?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    // A file name of letters, digits and dashes only: the tool's number is its own text.
    let file_name: String = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}.pdf\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// Portico's own layout of an invoice, in the workspace's brand, off the async threads.
async fn render(state: &AppState, auth: &Auth, invoice: &Invoice) -> Result<Vec<u8>, WebError> {
    let logo = state
        .store
        .public()
        .await?
        .logo(auth.site.workspace_id)
        .await?
        .map(|(mime, data)| {
            let format = if mime == "image/svg+xml" {
                portico_pdf::LogoFormat::Svg
            } else {
                portico_pdf::LogoFormat::Png
            };
            (data, format)
        });
    let brand = portico_pdf::Brand {
        name: auth.site.branding.name.clone(),
        primary_color: auth.site.branding.primary_color.clone(),
        logo,
    };
    let summary = &invoice.summary;
    let currency = summary.currency.as_str();
    let number = summary.number_text();
    let mut bill_to = vec![summary.company_name.clone()];
    bill_to.extend(
        invoice
            .bill_to_address
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned),
    );
    let text = portico_pdf::InvoiceText {
        heading: match summary.status {
            InvoiceStatus::Void => "Void invoice".into(),
            InvoiceStatus::Draft => "Draft invoice".into(),
            _ => "Invoice".into(),
        },
        number: number.clone(),
        status: summary.status.label().into(),
        issued_on: date_text(&summary.issued_on),
        due_on: date_text(&summary.due_on),
        bill_to,
        currency: currency.to_owned(),
        lines: invoice
            .lines
            .iter()
            .map(|l| portico_pdf::LineText {
                description: l.description.clone(),
                quantity: quantity_text(&l.quantity_milli),
                unit: money(&l.unit_cents, currency),
                tax: rate_text(&l.tax_basis_points),
                amount: money(&l.amount_cents, currency),
            })
            .collect(),
        subtotal: money(&summary.subtotal_cents, currency),
        tax: money(&summary.tax_cents, currency),
        total: money(&summary.total_cents, currency),
        notes: invoice.notes.clone(),
    };
    // Laying out a document takes a core for a moment: at most two at once, so that a burst of
    // downloads queues here rather than starving the pages.
    static LAYOUT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _permit = LAYOUT
        .acquire()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || portico_pdf::invoice_pdf(&brand, &text))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_for_people() {
        assert_eq!(quantity_text(&1500), "1.5");
        assert_eq!(quantity_text(&2000), "2");
        assert_eq!(quantity_text(&250), "0.25");
        assert_eq!(rate_text(&1000), "10%");
        assert_eq!(rate_text(&750), "7.5%");
        assert_eq!(rate_text(&0), "0%");
        assert_eq!(quantity_text(&-1500), "-1.5");
        assert_eq!(rate_text(&-750), "-7.5%");
        assert_eq!(date_text("2026-12-03"), "3 Dec 2026");
    }
}
