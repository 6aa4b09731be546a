//! Change requests (P14, C7): what a client asks the MSP to change. Nothing changes until staff
//! carry it out; purchases first need the company's purchase approver.

use crate::roles::{plain_text, text_enum};

text_enum!(
    /// What kind of change is asked for.
    ChangeKind {
        Update => "update", "Change details";
        Add => "add", "Add";
        Remove => "remove", "Remove or retire";
        Purchase => "purchase", "Purchase";
        Other => "other", "Something else";
    }
);

text_enum!(
    /// What a request is about.
    ChangeTarget {
        Asset => "asset", "Asset";
        Contact => "contact", "Contact";
        PortalUser => "portal_user", "Portal user";
        DirectoryUser => "directory_user", "Microsoft 365 user";
        General => "general", "General";
    }
);

text_enum!(
    /// Where a request stands.
    ChangeStatus {
        AwaitingApproval => "awaiting_approval", "Awaiting purchase approval";
        Declined => "declined", "Declined by the approver";
        Open => "open", "With the MSP";
        Approved => "approved", "Approved";
        Rejected => "rejected", "Rejected";
        Done => "done", "Done";
    }
);

plain_text!(ChangeKind, ChangeTarget, ChangeStatus);

impl ChangeStatus {
    /// Still to be acted on by someone.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ChangeStatus::AwaitingApproval | ChangeStatus::Open | ChangeStatus::Approved
        )
    }

    /// The style a badge of this status takes (`ok`, `warn`, `bad`, or plain).
    pub fn tone(self) -> &'static str {
        match self {
            ChangeStatus::Done => "ok",
            ChangeStatus::AwaitingApproval | ChangeStatus::Open | ChangeStatus::Approved => "warn",
            ChangeStatus::Rejected | ChangeStatus::Declined => "bad",
        }
    }
}
