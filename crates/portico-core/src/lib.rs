//! The language of Portico's domain. No I/O lives here: the store and the web layer both speak
//! these types, and the one function that turns a [`Principal`] into a [`Scope`] is here.

pub mod asset;
pub mod audit;
pub mod change_request;
pub mod compliance;
pub mod ids;
pub mod import;
pub mod invoice;
pub mod local_time;
pub mod maintenance;
pub mod notice;
pub mod policy;
pub mod principal;
pub mod roles;
pub mod scope;
pub mod section;
pub mod ticket;
pub mod ticket_form;

pub use asset::{AssetField, AssetKind};
pub use audit::{AuditAction, AuditTarget, Origin, ViewAs};
pub use change_request::{ChangeKind, ChangeStatus, ChangeTarget};
pub use ids::*;
pub use import::{ImportColumn, ImportKind};
pub use invoice::{InvoiceStatus, invoice_number};
pub use local_time::{BusinessHours, Calendar, Zone, parse_date};
pub use maintenance::{MaintenanceKind, MaintenanceOutcome};
pub use notice::{Notice, TicketRef};
pub use policy::{Action, Denied, SectionAccess};
pub use principal::{PortalGrant, PortalPrincipal, Principal, StaffPrincipal};
pub use roles::{ContactRole, PortalRole, StaffRole, TextEnum};
pub use scope::{Actor, CompanySet, Scope, Surface};
pub use section::{SECTIONS, Section, SectionAudience, SectionSpec};
pub use ticket::{TicketItem, TicketPriority, TicketStatus, TicketView};
pub use ticket_form::{FieldKind, FormField, option_lines};
