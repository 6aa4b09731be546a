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

text_enum!(
    /// The parts of a ticket the MSP may hide from a portal role (besides each custom field).
    TicketItem {
        Priority => "priority", "Priority";
        Category => "category", "Category";
        Site => "site", "Site";
        Requester => "requester", "Who raised it";
        Changes => "changes", "Status and priority changes on the timeline";
    }
);

/// What of a ticket one portal reader sees: the MSP hides parts (and custom fields) from
/// portal roles, and the store leaves hidden ones out of what it hands such a reader. Staff
/// see everything ([`TicketView::everything`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct TicketView {
    /// [`TicketItem`]s hidden, one bit each, in the order of [`TicketItem::ALL`].
    hidden_items: u8,
    /// Ids of custom fields hidden, sorted.
    hidden_fields: Vec<String>,
}

impl TicketView {
    pub fn everything() -> TicketView {
        TicketView::default()
    }

    fn bit(item: TicketItem) -> u8 {
        let index = TicketItem::ALL
            .iter()
            .position(|i| *i == item)
            .unwrap_or_default();
        1 << index
    }

    pub fn hide(&mut self, item: TicketItem) {
        self.hidden_items |= TicketView::bit(item);
    }

    pub fn hide_field(&mut self, field_id: &str) {
        if let Err(at) = self
            .hidden_fields
            .binary_search_by(|f| f.as_str().cmp(field_id))
        {
            self.hidden_fields.insert(at, field_id.to_owned());
        }
    }

    pub fn shows(&self, item: TicketItem) -> bool {
        self.hidden_items & TicketView::bit(item) == 0
    }

    pub fn shows_field(&self, field_id: &str) -> bool {
        self.hidden_fields
            .binary_search_by(|f| f.as_str().cmp(field_id))
            .is_err()
    }

    /// Whether anything at all is hidden.
    pub fn hides_anything(&self) -> bool {
        self.hidden_items != 0 || !self.hidden_fields.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_hides_exactly_what_it_was_told() {
        let mut view = TicketView::everything();
        assert!(!view.hides_anything());
        view.hide(TicketItem::Priority);
        view.hide_field("f2");
        view.hide_field("f1");
        view.hide_field("f2");
        assert!(!view.shows(TicketItem::Priority) && view.shows(TicketItem::Site));
        assert!(!view.shows_field("f1") && !view.shows_field("f2") && view.shows_field("f3"));
        let mut same = TicketView::everything();
        same.hide_field("f1");
        same.hide_field("f2");
        same.hide(TicketItem::Priority);
        assert_eq!(view, same);
    }
}
