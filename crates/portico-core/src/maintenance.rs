//! Maintenance (P4): work done on a client's systems, or planned ahead.

use crate::roles::{plain_text, text_enum};

text_enum!(
    /// What kind of maintenance a record is.
    MaintenanceKind {
        Patching => "patching", "Patching run";
        Updates => "updates", "Updates";
        Scheduled => "scheduled", "Scheduled work";
        Other => "other", "Other";
    }
);

text_enum!(
    /// How maintenance went; `Planned` until it has happened.
    MaintenanceOutcome {
        Planned => "planned", "Planned";
        Succeeded => "succeeded", "Completed";
        Partial => "partial", "Completed with issues";
        Failed => "failed", "Failed";
        Cancelled => "cancelled", "Cancelled";
    }
);

plain_text!(MaintenanceKind, MaintenanceOutcome);

impl MaintenanceOutcome {
    /// The style a badge of this outcome takes (`ok`, `warn`, `bad`, or plain).
    pub fn tone(self) -> &'static str {
        match self {
            MaintenanceOutcome::Succeeded => "ok",
            MaintenanceOutcome::Partial => "warn",
            MaintenanceOutcome::Failed => "bad",
            MaintenanceOutcome::Planned | MaintenanceOutcome::Cancelled => "plain",
        }
    }
}
