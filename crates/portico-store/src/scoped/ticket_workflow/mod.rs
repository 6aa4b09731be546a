//! Changing tickets: raising one through the submission form, public replies and internal
//! notes, resolve and reopen, ratings, cc, and the desk's status, priority and assignment
//! changes. Every write first reads the ticket through the scope's fence, so a foreign ticket is
//! `NotFound` before anything is checked; every mail goes to the outbox in the same transaction.
//!
//! One file per step of a ticket's life: `raise`, `reply`, `desk_changes`, `merge`,
//! `resolution` (resolve, reopen, rate) and `cc`; with what they share: `writes` (the rows every
//! change writes), `assignees` (who may work a company's tickets), `notifications` (who is
//! told; [`portico_core::notice`] words it) and `preferences` (which mails a portal user wants).
//! Callers name everything through this module, which also holds the few checks several steps
//! share.

mod assignees;
mod cc;
mod desk_changes;
mod merge;
mod notifications;
mod preferences;
mod raise;
mod reply;
mod resolution;
mod tool_sync;
mod writes;

pub use desk_changes::TicketChange;
pub use preferences::NotificationPreferences;
pub use raise::{LoggedTicket, NewTicket};
pub use tool_sync::ToolAuthor;
pub use writes::NewAttachment;

use crate::StoreError;

const MAX_BODY: usize = 20_000;

/// Where links in mails point: base URLs built from the workspace's configured hostnames.
#[derive(Debug, Clone)]
pub struct Links {
    pub portal: String,
    pub console: String,
}

/// A condition on portal users `u`: they could open ticket `ticket` (a placeholder) themselves
/// right now. Their home company or a current grant, the company's portal enabled, and a site
/// restriction (home company only) that includes the ticket's site. Mail and cc use it, so that
/// nobody hears of a ticket they may not read.
pub(in crate::scoped) fn reads_ticket(ticket: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM tickets tk JOIN companies c ON c.workspace_id = tk.workspace_id \
         AND c.id = tk.company_id WHERE tk.id = {ticket} AND {})",
        reads_ticket_row("tk", "c")
    )
}

/// [`reads_ticket`] for a statement that already holds the ticket's row (`ticket`, an alias of
/// `tickets`) and its company's (`company`): the ticket page lists the colleagues who could be
/// copied, and looking the two up again for each of them cost PostgreSQL about a tenth of the
/// page's transaction (its statement alone under `pgbench`: 8,676 → 9,501 a second). Like
/// [`reads_ticket`], it reads the users as `u`: whatever `u` is nearest in the statement.
pub(in crate::scoped) fn reads_ticket_row(ticket: &str, company: &str) -> String {
    format!(
        "{company}.portal_enabled AND {ticket}.workspace_id = u.workspace_id AND ( \
           (u.company_id = {ticket}.company_id AND ( \
              NOT EXISTS (SELECT 1 FROM portal_user_sites ps WHERE ps.workspace_id = u.workspace_id AND ps.portal_user_id = u.id) \
              OR EXISTS (SELECT 1 FROM portal_user_sites ps WHERE ps.workspace_id = u.workspace_id AND ps.portal_user_id = u.id \
                         AND ps.site_id = {ticket}.site_id))) \
           OR EXISTS (SELECT 1 FROM portal_user_companies g WHERE g.workspace_id = u.workspace_id AND g.portal_user_id = u.id \
                      AND g.company_id = {ticket}.company_id))"
    )
}

/// Trims and checks free text: present, not too long, no control characters beyond line breaks
/// and tabs when `multiline`.
fn clean_text(text: &str, max: usize, multiline: bool, what: &str) -> Result<String, StoreError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(StoreError::Invalid(format!("{what} cannot be empty.")));
    }
    if text.chars().count() > max {
        return Err(StoreError::Invalid(format!(
            "{what} is longer than {max} characters."
        )));
    }
    let allowed = |c: char| !c.is_control() || (multiline && matches!(c, '\n' | '\r' | '\t'));
    if !text.chars().all(allowed) {
        return Err(StoreError::Invalid(format!(
            "{what} contains characters that cannot be stored."
        )));
    }
    Ok(text.to_owned())
}
