//! View as (C6): a staff member asks to open the portal as one of a company's portal users.
//! The request is checked and audited here, in the console's transaction; what it yields is a
//! single-use token, good for a minute, that the portal's host redeems for a read-only session
//! of the user (see `AuthTx::redeem_view_as`).

use portico_core::{Action, AuditAction, AuditTarget, CompanyId, PortalUserId, ViewAs};

use crate::scoped::ScopedTx;
use crate::sql::q;
use crate::{StoreError, now, token};

/// How long the hand-over token may wait to be redeemed, in seconds.
pub const HANDOFF_SECS: i64 = 60;

/// The shortest and longest reason accepted, in characters.
pub const REASON_CHARS: (usize, usize) = (10, 500);

impl ScopedTx<'_> {
    /// Checks that the acting staff member may view the portal as `user` of `company` and
    /// records why; returns the token the portal redeems.
    pub async fn start_view_as(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
        reason: &str,
    ) -> Result<String, StoreError> {
        // Out of sight is missing before it is forbidden.
        let target = self.portal_user(company, user).await?;
        self.scope.may(Action::ViewAsPortalUser)?;
        let portico_core::Actor::Staff(staff) = self.scope.actor() else {
            return Err(StoreError::Forbidden);
        };
        let reason = reason.trim();
        let chars = reason.chars().count();
        if chars < REASON_CHARS.0 || chars > REASON_CHARS.1 || reason.chars().any(char::is_control)
        {
            return Err(StoreError::InvalidFields(vec![(
                "reason".to_owned(),
                format!(
                    "Say why you are viewing the portal as {} ({} to {} characters): the client \
                     reads it in their audit log.",
                    target.name, REASON_CHARS.0, REASON_CHARS.1
                ),
            )]));
        }
        if target.disabled || !target.activated {
            return Err(StoreError::Invalid(format!(
                "{} cannot sign in to the portal (disabled, or the invitation is not accepted \
                 yet), so there is nothing to view as them.",
                target.name
            )));
        }
        let token = token::generate();
        let at = now();
        // The company is the scope's (the user was read through its fence above).
        self.tx
            .exec(q!(
                "INSERT INTO view_as_handoffs (token_hash, workspace_id, company_id, portal_user_id, \
                 staff_user_id, staff_name, reason, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                token::hash(&token),
                self.scope.workspace(),
                company,
                user,
                staff,
                self.scope.actor_name(),
                reason,
                at,
                at + HANDOFF_SECS
            ))
            .await?;
        self.audit(
            AuditAction::ViewAsStarted,
            Some(company),
            AuditTarget::new("portal_user", user, target.name.clone()),
            &format!("for at most {} minutes: {reason}", ViewAs::MAX_SECS / 60),
        )
        .await?;
        Ok(token)
    }
}
