//! Invoices (P9): what the MSP billed a company.

use crate::roles::{plain_text, text_enum};

text_enum!(
    /// Where an invoice stands. `Overdue` is never stored: it is a sent invoice past its due
    /// date, as its reader's calendar has it.
    InvoiceStatus {
        Draft => "draft", "Draft";
        Sent => "sent", "Sent";
        Overdue => "overdue", "Overdue";
        Paid => "paid", "Paid";
        Void => "void", "Void";
    }
);

plain_text!(InvoiceStatus);

impl InvoiceStatus {
    /// The style a badge of this status takes (`ok`, `warn`, `bad`, or plain).
    pub fn tone(self) -> &'static str {
        match self {
            InvoiceStatus::Paid => "ok",
            InvoiceStatus::Sent => "warn",
            InvoiceStatus::Overdue => "bad",
            InvoiceStatus::Draft | InvoiceStatus::Void => "plain",
        }
    }
}

/// An invoice's number as people quote it (`INV-01042`).
pub fn invoice_number(number: i64) -> String {
    format!("INV-{number:05}")
}
