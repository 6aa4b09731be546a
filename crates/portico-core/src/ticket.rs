//! Ticket states and priorities.

use crate::roles::{plain_text, text_enum};

text_enum!(
    /// Where a ticket stands. Its label is the client's wording ("Awaiting your reply");
    /// the desk reads [`TicketStatus::desk_label`] ("Waiting on client").
    TicketStatus {
        New => "new", "New";
        Open => "open", "Open";
        AwaitingClient => "awaiting_client", "Awaiting your reply";
        OnHold => "on_hold", "On hold";
        Resolved => "resolved", "Resolved";
        Closed => "closed", "Closed";
    }
);

impl TicketStatus {
    /// The status as the service desk says it: the same words but for the one the client is
    /// asked to act on.
    pub fn desk_label(self) -> &'static str {
        match self {
            TicketStatus::AwaitingClient => "Waiting on client",
            other => other.label(),
        }
    }

    /// Statuses a ticket is still being worked in.
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

text_enum!(
    /// How urgent a ticket is.
    TicketPriority {
        Low => "low", "Low";
        Normal => "normal", "Normal";
        High => "high", "High";
        Urgent => "urgent", "Urgent";
    }
);

// Written into pages without escaping (see `TextEnum`).
plain_text!(TicketStatus, TicketPriority);
