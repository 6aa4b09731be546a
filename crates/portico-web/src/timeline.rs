//! A ticket's messages and changes as one timeline, for both surfaces' ticket pages.

use portico_store::scoped::tickets::{AttachmentInfo, TicketDetail};

/// One line of a ticket's timeline: a message or a change.
pub(crate) struct TimelineEntry {
    pub at: i64,
    pub author: String,
    pub from_staff: bool,
    pub internal: bool,
    /// The message text, empty for a change.
    pub body: String,
    /// The change, empty for a message.
    pub change: String,
    pub files: Vec<AttachmentInfo>,
}

/// Messages and changes in time order (a change made with a message follows it), changes in
/// the desk's words for staff (`desk`) and the client's otherwise.
pub(crate) fn timeline(detail: &TicketDetail, desk: bool) -> Vec<TimelineEntry> {
    let mut entries: Vec<TimelineEntry> = detail
        .messages
        .iter()
        .map(|m| TimelineEntry {
            at: m.created_at,
            author: m.author_name.clone(),
            from_staff: m.from_staff,
            internal: m.internal,
            body: m.body.clone(),
            change: String::new(),
            files: m.attachments.clone(),
        })
        .chain(detail.events.iter().map(|e| TimelineEntry {
            at: e.created_at,
            author: e.actor_name.clone(),
            from_staff: false,
            internal: !e.public,
            body: String::new(),
            change: e.describe(desk),
            files: Vec::new(),
        }))
        .collect();
    // Stable: equal times keep messages before changes.
    entries.sort_by_key(|e| e.at);
    entries
}
