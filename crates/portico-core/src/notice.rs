//! What someone must be told about a ticket, as facts ([`Notice`]), and the words of the mail
//! that tells them ([`Notice::wording`]). The store decides who is told and queues the notice
//! with its words in the change's own transaction; it writes no sentence itself.
//!
//! The words are written here, below the store, rather than in `portico-mail`, because they
//! are needed when the mail is queued: the console's outbox lists and searches mail by subject
//! (in SQL), and without SMTP (the demo) mail is never delivered, only read there. The mail
//! crate sits above the store and delivers what was queued.

use crate::{TicketPriority, TicketStatus};

/// The ticket a notice is about, as its mail names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRef {
    /// The workspace's short number, shown as `#1042`.
    pub number: i64,
    pub title: String,
    /// The ticket's page on the recipient's side (console or portal).
    pub link: String,
}

/// A ticket mail, by what happened. `actor` is the name of whoever acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// To the assignee of a ticket staff logged for a client.
    TicketLogged {
        ticket: TicketRef,
        actor: String,
        priority: TicketPriority,
        description: String,
    },
    /// To the staff who hear of a ticket a client raised; `routing_rule` names the rule that
    /// assigned it to the recipient, if one did.
    TicketRaised {
        ticket: TicketRef,
        actor: String,
        company: String,
        priority: TicketPriority,
        description: String,
        routing_rule: Option<String>,
    },
    /// The client's receipt for a ticket raised by them or for them, with when to expect a
    /// first response (the workspace's target for its priority), if there is a target.
    TicketReceived {
        ticket: TicketRef,
        requester: String,
        priority: TicketPriority,
        first_response_minutes: Option<i64>,
    },
    /// To the assignee: the client replied.
    ClientReplied {
        ticket: TicketRef,
        actor: String,
        company: String,
        reply: String,
    },
    /// To the client: the desk replied, perhaps setting a new status with it.
    DeskReplied {
        ticket: TicketRef,
        actor: String,
        reply: String,
        status: Option<TicketStatus>,
        asks_for_rating: bool,
    },
    /// To the new assignee.
    TicketAssigned {
        ticket: TicketRef,
        actor: String,
        company: String,
    },
    /// To the client: the desk resolved their ticket.
    TicketResolved {
        ticket: TicketRef,
        asks_for_rating: bool,
    },
    /// To the client: their ticket's status changed (to anything but resolved).
    StatusChanged {
        ticket: TicketRef,
        status: TicketStatus,
    },
    /// To the assignee: the client marked the ticket resolved.
    ResolvedByClient {
        ticket: TicketRef,
        actor: String,
        company: String,
    },
    /// To the assignee: the client reopened the ticket.
    ReopenedByClient {
        ticket: TicketRef,
        actor: String,
        company: String,
    },
    /// To a client who wants no news of the resolution itself, only to be asked for a rating.
    RatingRequest { ticket: TicketRef },
}

/// A notice in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wording {
    pub subject: String,
    pub body: String,
}

impl Notice {
    /// The notice's name, kept with the queued mail.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::TicketLogged { .. } => "ticket_logged",
            Notice::TicketRaised { .. } => "ticket_raised",
            Notice::TicketReceived { .. } => "ticket_received",
            Notice::ClientReplied { .. } => "client_replied",
            Notice::DeskReplied { .. } => "desk_replied",
            Notice::TicketAssigned { .. } => "ticket_assigned",
            Notice::TicketResolved { .. } => "ticket_resolved",
            Notice::StatusChanged { .. } => "status_changed",
            Notice::ResolvedByClient { .. } => "resolved_by_client",
            Notice::ReopenedByClient { .. } => "reopened_by_client",
            Notice::RatingRequest { .. } => "rating_request",
        }
    }

    /// The ticket the notice is about.
    pub fn ticket(&self) -> &TicketRef {
        match self {
            Notice::TicketLogged { ticket, .. }
            | Notice::TicketRaised { ticket, .. }
            | Notice::TicketReceived { ticket, .. }
            | Notice::ClientReplied { ticket, .. }
            | Notice::DeskReplied { ticket, .. }
            | Notice::TicketAssigned { ticket, .. }
            | Notice::TicketResolved { ticket, .. }
            | Notice::StatusChanged { ticket, .. }
            | Notice::ResolvedByClient { ticket, .. }
            | Notice::ReopenedByClient { ticket, .. }
            | Notice::RatingRequest { ticket } => ticket,
        }
    }

    /// The same notice asking for a rating too, where it can carry the request (the news of a
    /// resolution: one mail per event); any other notice unchanged.
    pub fn asking_for_rating(mut self) -> Notice {
        if let Notice::DeskReplied {
            asks_for_rating, ..
        }
        | Notice::TicketResolved {
            asks_for_rating, ..
        } = &mut self
        {
            *asks_for_rating = true;
        }
        self
    }

    pub fn wording(&self) -> Wording {
        let (subject, body) = match self {
            Notice::TicketLogged {
                ticket,
                actor,
                priority,
                description,
            } => {
                let TicketRef {
                    number,
                    title,
                    link,
                } = ticket;
                (
                    format!("[#{number}] New ticket for you: {title}"),
                    format!(
                        "{actor} logged \"{title}\" for a client and assigned it to you, {} priority.\n\n{description}\n\nOpen it: {link}\n",
                        priority.label().to_lowercase(),
                    ),
                )
            }
            Notice::TicketRaised {
                ticket,
                actor,
                company,
                priority,
                description,
                routing_rule,
            } => {
                let TicketRef {
                    number,
                    title,
                    link,
                } = ticket;
                let (subject, reason) = match routing_rule {
                    Some(rule) => (
                        format!("[#{number}] New ticket for you: {title}"),
                        format!(" The routing rule \"{rule}\" assigned it to you."),
                    ),
                    None => (
                        format!("[#{number}] New ticket from {company}: {title}"),
                        String::new(),
                    ),
                };
                (
                    subject,
                    format!(
                        "{actor} ({company}) raised \"{title}\", {} priority.{reason}\n\n{description}\n\nOpen it: {link}\n",
                        priority.label().to_lowercase(),
                    ),
                )
            }
            Notice::TicketReceived {
                ticket,
                requester,
                priority,
                first_response_minutes,
            } => {
                let TicketRef {
                    number,
                    title,
                    link,
                } = ticket;
                let expect = match first_response_minutes {
                    Some(minutes) => {
                        format!("We aim to respond within {}.", describe_minutes(*minutes))
                    }
                    None => "We will be in touch as soon as we can.".to_owned(),
                };
                (
                    format!("[#{number}] We have your request: {title}"),
                    format!(
                        "Hello {requester},\n\nThank you. We have your request \"{title}\" as ticket #{number}, {} priority. {expect}\n\nFollow it or add to it here: {link}\n",
                        priority.label().to_lowercase(),
                    ),
                )
            }
            Notice::ClientReplied {
                ticket,
                actor,
                company,
                reply,
            } => (
                format!(
                    "[#{}] New reply from {actor}: {}",
                    ticket.number, ticket.title
                ),
                format!(
                    "{actor} replied on \"{}\" ({company}):\n\n{reply}\n\nOpen the ticket: {}\n",
                    ticket.title, ticket.link
                ),
            ),
            Notice::DeskReplied {
                ticket,
                actor,
                reply,
                status,
                asks_for_rating,
            } => {
                let subject = match status {
                    Some(status) => {
                        format!("[#{}] {}: {}", ticket.number, status.label(), ticket.title)
                    }
                    None => format!("[#{}] Re: {}", ticket.number, ticket.title),
                };
                let status_line = status
                    .map(|s| format!("The status of your ticket is now: {}.\n\n", s.label()))
                    .unwrap_or_default();
                let body = format!(
                    "{actor} replied to your ticket \"{}\":\n\n{reply}\n\n{status_line}View or answer it: {}\n",
                    ticket.title, ticket.link
                );
                (subject, with_rating_request(body, *asks_for_rating, ticket))
            }
            Notice::TicketAssigned {
                ticket,
                actor,
                company,
            } => (
                format!("[#{}] Assigned to you: {}", ticket.number, ticket.title),
                format!(
                    "{actor} assigned you the ticket \"{}\" ({company}).\n\nOpen it: {}\n",
                    ticket.title, ticket.link
                ),
            ),
            Notice::TicketResolved {
                ticket,
                asks_for_rating,
            } => {
                let body = format!(
                    "Your ticket \"{}\" has been resolved.\n\nIf it is not fixed, you can reopen it here: {}\n",
                    ticket.title, ticket.link
                );
                (
                    format!("[#{}] Resolved: {}", ticket.number, ticket.title),
                    with_rating_request(body, *asks_for_rating, ticket),
                )
            }
            Notice::StatusChanged { ticket, status } => (
                format!("[#{}] {}: {}", ticket.number, status.label(), ticket.title),
                format!(
                    "The status of your ticket \"{}\" is now: {}.\n\nView it: {}\n",
                    ticket.title,
                    status.label(),
                    ticket.link
                ),
            ),
            Notice::ResolvedByClient {
                ticket,
                actor,
                company,
            } => (
                format!(
                    "[#{}] Resolved by the client: {}",
                    ticket.number, ticket.title
                ),
                format!(
                    "{actor} marked \"{}\" ({company}) as resolved.\n\nOpen it: {}\n",
                    ticket.title, ticket.link
                ),
            ),
            Notice::ReopenedByClient {
                ticket,
                actor,
                company,
            } => (
                format!(
                    "[#{}] Reopened by the client: {}",
                    ticket.number, ticket.title
                ),
                format!(
                    "{actor} reopened \"{}\" ({company}).\n\nOpen it: {}\n",
                    ticket.title, ticket.link
                ),
            ),
            Notice::RatingRequest { ticket } => (
                format!("[#{}] How did we do? {}", ticket.number, ticket.title),
                format!(
                    "Your ticket \"{}\" was resolved. Please rate our help from 1 to 5 on the ticket's page:\n\n{}\n",
                    ticket.title, ticket.link
                ),
            ),
        };
        Wording { subject, body }
    }
}

/// `body`, with the request for a rating after it when `asked`.
fn with_rating_request(body: String, asked: bool, ticket: &TicketRef) -> String {
    if asked {
        format!(
            "{body}\nHow did we do? Please rate our help from 1 to 5 on the ticket's page:\n\n{}\n",
            ticket.link
        )
    } else {
        body
    }
}

/// A service-level target as a person says it: "30 minutes", "4 hours", "2 days".
fn describe_minutes(minutes: i64) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if minutes % (24 * 60) == 0 && minutes >= 24 * 60 {
        plural(minutes / (24 * 60), "day")
    } else if minutes % 60 == 0 && minutes >= 60 {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> TicketRef {
        TicketRef {
            number: 1042,
            title: "Printer offline".to_owned(),
            link: "https://portal.test/tickets/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_owned(),
        }
    }

    #[test]
    fn targets_are_said_in_the_largest_whole_unit() {
        let said: Vec<String> = [30, 60, 90, 240, 1440, 2880]
            .into_iter()
            .map(describe_minutes)
            .collect();
        assert_eq!(
            said,
            [
                "30 minutes",
                "1 hour",
                "90 minutes",
                "4 hours",
                "1 day",
                "2 days"
            ]
        );
    }

    #[test]
    fn a_resolution_carries_the_rating_request_and_other_news_does_not() {
        let resolved = Notice::TicketResolved {
            ticket: ticket(),
            asks_for_rating: false,
        }
        .asking_for_rating()
        .wording();
        assert_eq!(resolved.subject, "[#1042] Resolved: Printer offline");
        assert!(resolved.body.ends_with(
            "Please rate our help from 1 to 5 on the ticket's page:\n\nhttps://portal.test/tickets/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\n"
        ));
        let changed = Notice::StatusChanged {
            ticket: ticket(),
            status: TicketStatus::AwaitingClient,
        };
        assert_eq!(changed.clone().asking_for_rating(), changed);
    }

    #[test]
    fn a_desk_reply_names_a_status_set_with_it() {
        let reply = |status| {
            Notice::DeskReplied {
                ticket: ticket(),
                actor: "Dana".to_owned(),
                reply: "Try it now.".to_owned(),
                status,
                asks_for_rating: false,
            }
            .wording()
        };
        assert_eq!(reply(None).subject, "[#1042] Re: Printer offline");
        let resolved = reply(Some(TicketStatus::Resolved));
        assert!(resolved.subject.starts_with("[#1042] "));
        assert!(resolved.body.contains("The status of your ticket is now: "));
    }
}
