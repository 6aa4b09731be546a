//! The audit log's vocabulary (A4): what was done, to what, and from where. The store records
//! entries in hash chains (one per company, which the company's client admins read and verify,
//! and one for the workspace, the MSP's own); see `portico_store::audit`.

use std::net::IpAddr;

use crate::roles::{plain_text, text_enum};

text_enum!(
    /// Something an audit entry records. The stored names are part of the chain's hashed text:
    /// never rename one.
    AuditAction {
        SignIn => "sign_in", "Signed in";
        SignInFailed => "sign_in_failed", "Sign-in failed";
        SignOut => "sign_out", "Signed out";
        SessionEnded => "session_ended", "Ended a session";
        PasswordChanged => "password_changed", "Changed a password";
        PasswordResetRequested => "password_reset_requested", "Asked for a password reset";
        InvitationSent => "invitation_sent", "Sent an invitation";
        InvitationAccepted => "invitation_accepted", "Accepted an invitation";
        RecordViewed => "record_viewed", "Viewed";
        Downloaded => "downloaded", "Downloaded";
        Exported => "exported", "Exported";
        TicketCreated => "ticket_created", "Raised a ticket";
        TicketReplied => "ticket_replied", "Replied on a ticket";
        TicketNoteAdded => "ticket_note_added", "Added an internal note";
        TicketUpdated => "ticket_updated", "Changed a ticket";
        ChangeRequested => "change_requested", "Asked for a change";
        ChangeDecided => "change_decided", "Decided a change request";
        ChangeDone => "change_done", "Completed a change request";
        RecordCreated => "record_created", "Added";
        RecordUpdated => "record_updated", "Changed";
        RecordArchived => "record_archived", "Archived";
        AccessChanged => "access_changed", "Changed access";
        SettingsChanged => "settings_changed", "Changed settings";
        Imported => "imported", "Imported";
        AuditPruned => "audit_pruned", "Pruned the audit log";
        ViewAsStarted => "view_as_started", "Started viewing the portal as";
        ViewAsPage => "view_as_page", "Viewed the portal as";
        ViewAsEnded => "view_as_ended", "Stopped viewing the portal as";
        MfaEnabled => "mfa_enabled", "Turned on two-step verification";
        MfaDisabled => "mfa_disabled", "Turned off two-step verification";
        MfaReset => "mfa_reset", "Reset two-step verification";
        RecoveryCodesRenewed => "recovery_codes_renewed", "Made new recovery codes";
        DevicesForgotten => "devices_forgotten", "Forgot remembered browsers";
        ApiTokenCreated => "api_token_created", "Created an API token";
        ApiTokenRevoked => "api_token_revoked", "Revoked an API token";
        ApiTokenUsed => "api_token_used", "Used an API token";
        ConnectorSynced => "connector_synced", "Synced from a connector";
        ConnectorSyncFailed => "connector_sync_failed", "A connector sync failed";
    }
);
plain_text!(AuditAction);

impl AuditAction {
    /// Whether the entry belongs on the company's own chain, which its client admins read:
    /// everything done to or seen of their records, except the MSP's internal work (an internal
    /// note), which goes on the workspace's chain with the company named as concerned.
    pub fn shown_to_client(self) -> bool {
        // A failed sync's error is the MSP's to read (the vendor's words, its credentials).
        !matches!(
            self,
            AuditAction::TicketNoteAdded | AuditAction::ConnectorSyncFailed
        )
    }
}

/// A staff member viewing the portal as one of a company's portal users (C6): read-only, for a
/// reason they typed, until `ends_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewAs {
    pub staff_id: crate::StaffUserId,
    pub staff_name: String,
    pub reason: String,
    /// Unix seconds.
    pub ends_at: i64,
    /// Whether the staff member may see money themselves (an owner or billing staff): without
    /// it, invoices and billing fields stay hidden however much the viewed user may see.
    pub billing: bool,
    /// Whether the staff member may read the audit log themselves (an owner).
    pub audit: bool,
    /// Viewing as any user of this role (with the settings the viewer chose), not as one person.
    pub role: Option<crate::PortalRole>,
}

impl ViewAs {
    /// The longest a view lasts, in seconds.
    pub const MAX_SECS: i64 = 15 * 60;

    /// What the audit log names as viewed: the portal user, or the role viewed as.
    pub fn target(&self, viewed: crate::Actor, viewed_name: &str) -> AuditTarget {
        match (self.role, viewed) {
            (Some(role), _) => AuditTarget::new("portal_role", role.as_str(), viewed_name),
            (None, crate::Actor::Portal(id)) => AuditTarget::new("portal_user", id, viewed_name),
            (None, crate::Actor::Staff(id)) => AuditTarget::new("staff_user", id, viewed_name),
        }
    }
}

/// Where a request came from, as the web layer saw it: the client address (after trusted
/// proxies) and the browser's own description of itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<IpAddr>,
    pub user_agent: String,
}

impl Origin {
    /// The longest user agent kept: enough to tell browsers and devices apart, not a place to
    /// store whatever a client sends.
    pub const MAX_USER_AGENT: usize = 300;

    pub fn new(ip: Option<IpAddr>, user_agent: &str) -> Origin {
        let mut end = user_agent.len().min(Self::MAX_USER_AGENT);
        while !user_agent.is_char_boundary(end) {
            end -= 1;
        }
        Origin {
            ip,
            user_agent: user_agent[..end].to_owned(),
        }
    }
}

/// What an entry is about: a kind (`ticket`, `asset`, `invoice`, …), its id, and the label a
/// reader knows it by at the time (a ticket's number and subject, an asset's name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTarget {
    pub kind: &'static str,
    pub id: String,
    pub label: String,
}

impl AuditTarget {
    pub fn new(kind: &'static str, id: impl ToString, label: impl Into<String>) -> AuditTarget {
        AuditTarget {
            kind,
            id: id.to_string(),
            label: label.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_user_agent_is_cut_at_a_character_boundary() {
        let agent = "é".repeat(400);
        let origin = Origin::new(None, &agent);
        assert!(origin.user_agent.len() <= Origin::MAX_USER_AGENT);
        assert!(origin.user_agent.chars().all(|c| c == 'é'));
    }

    #[test]
    fn actions_round_trip_through_their_stored_names() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
        }
    }
}
