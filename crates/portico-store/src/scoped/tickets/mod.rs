//! Tickets and their messages, fenced to the scope: company, site restriction and own-tickets-
//! only all go into the SQL. Internal notes are only selected for scopes allowed to read them.
//!
//! One file per concern: the desk's lists and a ticket's summary (`list`), search (`search`),
//! a client's list and the pages kept of it (`page_cache`), one ticket's page (`detail`), live
//! stamps (`stamps`) and the overview's figures (`kpis`). Callers name everything through this
//! module.

mod detail;
mod kpis;
mod list;
mod page_cache;
mod search;
mod stamps;

pub use detail::{Attachment, AttachmentInfo, Rating, TicketDetail, TicketEvent, TicketMessage};
pub(crate) use kpis::KpiCache;
pub use kpis::TicketKpis;
pub use list::{AssigneeFilter, StatusFilter, TicketQuery, TicketSummary};
pub(crate) use page_cache::PortalPageCache;
pub use page_cache::{PortalPage, PortalTicket};
