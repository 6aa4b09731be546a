//! Random, non-sequential identifiers. Every id is a UUIDv7 rendered as lowercase hyphenated text,
//! which is also how both databases store it, so an id read from a URL can be compared as text.

use std::fmt;
use std::str::FromStr;

/// A record id. Its text is always the canonical hyphenated lowercase hex of a UUID, so it can
/// be written into HTML and URLs as it is. Sealed: only this module's id types are ids.
pub trait Id: fmt::Display + Copy + sealed::Sealed {
    /// The id's text, encoded into `buf` (no formatter machinery: pages write dozens).
    fn encode(self, buf: &mut [u8; ID_TEXT_LEN]) -> &str;
}

/// The length of an id's text.
pub const ID_TEXT_LEN: usize = 36;

mod sealed {
    pub trait Sealed {}
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh random id (time-ordered, so indexes stay compact).
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Parses an id from untrusted text; `None` for anything malformed.
            pub fn parse(text: &str) -> Option<Self> {
                Self::parse_ascii(text.as_bytes())
            }

            /// Like [`Self::parse`], from bytes (a database row's text, without a UTF-8 check
            /// first: anything but ASCII hex and hyphens is refused anyway).
            pub fn parse_ascii(text: &[u8]) -> Option<Self> {
                // Only the hyphenated form (36 characters) is accepted; uuid's parser also takes
                // upper-case hex, which the store compares as text and so never finds.
                if text.len() != 36 {
                    return None;
                }
                uuid::Uuid::try_parse_ascii(text).ok().map(Self)
            }

            /// Rebuilds an id from a value the store wrote itself.
            pub fn from_stored(text: &str) -> Self {
                Self::parse(text).unwrap_or(Self(uuid::Uuid::nil()))
            }

            pub fn as_text(&self) -> String {
                self.encode(&mut [0; ID_TEXT_LEN]).to_owned()
            }
        }

        impl sealed::Sealed for $name {}
        impl Id for $name {
            fn encode(self, buf: &mut [u8; ID_TEXT_LEN]) -> &str {
                self.0.hyphenated().encode_lower(buf)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Encoded into a stack buffer and written whole: a page writes hundreds of ids,
                // and uuid's formatter pads and writes them piece by piece.
                f.write_str(self.encode(&mut [0; ID_TEXT_LEN]))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = MalformedId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or(MalformedId)
            }
        }
    };
}

/// Text that is not a well-formed id. Callers answer it exactly like a missing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed id")]
pub struct MalformedId;

id_type!(
    /// One MSP and everything it owns.
    WorkspaceId
);
id_type!(
    /// One entry of the audit log.
    AuditEntryId
);
id_type!(
    /// One of an MSP's clients.
    CompanyId
);
id_type!(
    /// A location of a company.
    SiteId
);
id_type!(
    /// A person on a company's contact roster.
    ContactId
);
id_type!(
    /// A member of the MSP's staff, signing in to the console.
    StaffUserId
);
id_type!(
    /// A client's user, signing in to the portal.
    PortalUserId
);
id_type!(
    /// A ticket.
    TicketId
);
id_type!(
    /// A reply or internal note on a ticket.
    MessageId
);
id_type!(
    /// A canned response: a reply staff reuse, with placeholders.
    CannedResponseId
);
id_type!(
    /// A device or other thing the MSP looks after for a company.
    AssetId
);
id_type!(
    /// A field of assets a workspace defines beyond the built-in ones.
    AssetFieldId
);
id_type!(
    /// A piece of maintenance done, or planned, on a company's systems.
    MaintenanceId
);
id_type!(
    /// An invoice to a company.
    InvoiceId
);
id_type!(
    /// A change a client asked the MSP to make.
    ChangeRequestId
);

id_type!(
    /// One edit of a contact, an asset or a portal user (its changed fields share it).
    RecordEditId
);

id_type!(
    /// A CSV file uploaded for import, kept between its preview and its application.
    ImportId
);

id_type!(
    /// An API token of a workspace.
    ApiTokenId
);

id_type!(
    /// A URL a workspace sends its events to (a webhook endpoint).
    WebhookEndpointId
);

id_type!(
    /// One vendor account a workspace's records are fed from (a connector).
    ConnectorId
);

id_type!(
    /// A penetration test staff recorded for a company.
    PentestId
);

id_type!(
    /// A judgement staff recorded on one requirement of a compliance framework for a company.
    AttestationId
);

id_type!(
    /// A compliance assessment: a framework's scorecard for a company as staff recorded it.
    AssessmentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_malformed_text() {
        let id = TicketId::new();
        assert_eq!(TicketId::parse(&id.to_string()), Some(id));
        assert_eq!(TicketId::parse("not-an-id"), None);
        assert!(TicketId::parse(&id.to_string().to_uppercase()).is_some());
        assert_eq!(TicketId::parse(&id.to_string().replace('-', "")), None);
    }

    #[test]
    fn fresh_ids_are_not_sequential_numbers() {
        let a = CompanyId::new();
        let b = CompanyId::new();
        assert_ne!(a, b);
        assert!(a.to_string().parse::<u64>().is_err());
    }
}
