//! Companies, sites, contacts and service plans (C1), fenced to the scope.

mod contacts;
mod edit;
mod read;
mod sites;

pub use contacts::ContactDraft;
pub use edit::{CompanyDraft, hours_text};
pub use read::{Billing, CompanySummary, Contact, Site};
pub use sites::SiteDraft;
