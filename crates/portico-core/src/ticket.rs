//! Ticket states and priorities.

use crate::roles::{plain_text, text_enum};

text_enum!(
    /// Where a ticket stands. `AwaitingClient` is the state the portal calls "awaiting you".
    TicketStatus {
        New => "new", "New";
        Open => "open", "Open";
        AwaitingClient => "awaiting_client", "Awaiting you";
        OnHold => "on_hold", "On hold";
        Resolved => "resolved", "Resolved";
        Closed => "closed", "Closed";
    }
);

impl TicketStatus {
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
