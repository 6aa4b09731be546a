//! CSV import (I3, C5): what a file can bring in, and the columns each kind reads. A row is
//! matched to an existing record by a stable key, so importing the same file twice changes
//! nothing the second time.

use crate::roles::{plain_text, text_enum};

text_enum!(
    /// What one file imports.
    ImportKind {
        Companies => "companies", "Companies";
        Sites => "sites", "Sites";
        Contacts => "contacts", "Contacts";
        Assets => "assets", "Assets";
        PortalUsers => "portal_users", "Portal users";
    }
);

plain_text!(ImportKind);

/// One column a kind reads: its header, whether a row must fill it, and what it holds.
#[derive(Debug, Clone, Copy)]
pub struct ImportColumn {
    pub header: &'static str,
    pub required: bool,
    pub help: &'static str,
}

const fn column(header: &'static str, required: bool, help: &'static str) -> ImportColumn {
    ImportColumn {
        header,
        required,
        help,
    }
}

const COMPANIES_COLUMNS: &[ImportColumn] = &[
    column("name", true, "The company's name: the row's key."),
    column("plan", true, "The service plan's name."),
    column(
        "included_hours",
        false,
        "Hours of work included each month, such as 10 or 7.5.",
    ),
    column(
        "currency",
        false,
        "Three letters, such as AUD (billing access only).",
    ),
    column(
        "monthly_fee",
        false,
        "Such as 1500.00 (billing access only).",
    ),
    column(
        "hourly_rate",
        false,
        "Beyond the included hours, such as 150.00 (billing access only).",
    ),
];

const SITES_COLUMNS: &[ImportColumn] = &[
    column("company", true, "The company's name, as in Portico."),
    column(
        "name",
        true,
        "The site's name: with the company, the row's key.",
    ),
    column("address", false, "The site's address."),
];

const CONTACTS_COLUMNS: &[ImportColumn] = &[
    column("company", true, "The company's name, as in Portico."),
    column("name", true, "The contact's name."),
    column(
        "email",
        false,
        "With the company, the row's key (else the name is).",
    ),
    column("phone", false, "Digits, spaces and + - ( )."),
    column("title", false, "Job title."),
    column(
        "roles",
        false,
        "Separated by semicolons: primary; backup; purchase approver; billing; technical.",
    ),
];

const ASSETS_COLUMNS: &[ImportColumn] = &[
    column("company", true, "The company's name, as in Portico."),
    column("name", true, "The device's name."),
    column(
        "type",
        true,
        "workstation, laptop, server, network, printer, phone, tablet or other.",
    ),
    column("site", false, "The name of one of the company's sites."),
    column("manufacturer", false, ""),
    column("model", false, ""),
    column(
        "serial",
        false,
        "With the company, the row's key (else the name is).",
    ),
    column("os", false, "Operating system."),
    column("warranty_end", false, "A date such as 2027-06-30."),
    column("purchase_date", false, "A date such as 2024-06-30."),
    column("assigned_user", false, "Who uses it."),
    column("notes", false, ""),
];

const PORTAL_USERS_COLUMNS: &[ImportColumn] = &[
    column("company", true, "The company's name, as in Portico."),
    column("name", true, "The person's name."),
    column(
        "email",
        true,
        "The address they sign in with: the row's key. New addresses are invited by e-mail.",
    ),
    column(
        "role",
        false,
        "viewer, member or client admin (member when empty).",
    ),
    column(
        "sites",
        false,
        "Site names separated by semicolons; empty: every site.",
    ),
    column(
        "own_only",
        false,
        "yes: they see only the tickets they raise.",
    ),
    column(
        "billing_access",
        false,
        "yes: they see the plan, rates and invoices (billing access only).",
    ),
];

impl ImportKind {
    /// The columns the kind reads, in the order its template lists them (assets also read a
    /// column per field the workspace added, by the field's label).
    pub fn columns(self) -> &'static [ImportColumn] {
        match self {
            ImportKind::Companies => COMPANIES_COLUMNS,
            ImportKind::Sites => SITES_COLUMNS,
            ImportKind::Contacts => CONTACTS_COLUMNS,
            ImportKind::Assets => ASSETS_COLUMNS,
            ImportKind::PortalUsers => PORTAL_USERS_COLUMNS,
        }
    }
}
