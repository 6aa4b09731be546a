//! View as (C6): a staff member asks to open the portal as one of a company's portal users.
//! The request is checked and audited here, in the console's transaction; what it yields is a
//! single-use token, good for a minute, that the portal's host redeems for a read-only session
//! of the user (see `AuthTx::redeem_view_as`). A view may also be of a role rather than a person
//! ("what does a new member of Acme see?"): then the session stands for any user of that role
//! with the settings chosen.

use portico_core::{Action, AuditAction, AuditTarget, CompanyId, PortalRole, PortalUserId, ViewAs};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now, token};

/// How long the hand-over token may wait to be redeemed, in seconds.
pub const HANDOFF_SECS: i64 = 60;

/// The shortest and longest reason accepted, in characters.
pub const REASON_CHARS: (usize, usize) = (10, 500);

/// Whom a view shows: one portal user, or any user of a role with the settings chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewedAs {
    User(PortalUserId),
    Role {
        role: PortalRole,
        own_only: bool,
        billing: bool,
    },
}

impl ScopedTx<'_> {
    /// Checks that the acting staff member may view the portal of `company` as `viewed` and
    /// records why; returns the token the portal redeems.
    pub async fn start_view_as(
        &mut self,
        company: CompanyId,
        viewed: ViewedAs,
        reason: &str,
    ) -> Result<String, StoreError> {
        // Money only for a viewer who sees it themselves: the log and the banner must not claim
        // what the view will not show.
        let viewed = match viewed {
            ViewedAs::Role {
                role,
                own_only,
                billing,
            } => ViewedAs::Role {
                role,
                own_only,
                billing: billing && self.scope.billing(),
            },
            user => user,
        };
        // Out of sight is missing before it is forbidden.
        let (target, user) = match viewed {
            ViewedAs::User(user) => {
                let target = self.portal_user(company, user).await?;
                self.scope.may(Action::ViewAsPortalUser)?;
                if target.disabled || !target.activated {
                    return Err(StoreError::Invalid(format!(
                        "{} cannot sign in to the portal (disabled, or the invitation is not \
                         accepted yet), so there is nothing to view as them.",
                        target.name
                    )));
                }
                (
                    AuditTarget::new("portal_user", user, target.name),
                    Some(user),
                )
            }
            ViewedAs::Role {
                role,
                own_only,
                billing,
            } => {
                let summary = self.company(company).await?;
                self.scope.may(Action::ViewAsPortalUser)?;
                if !self.portal_enabled(company).await? {
                    return Err(StoreError::Invalid(format!(
                        "{}'s portal is switched off, so there is nothing to view.",
                        summary.name
                    )));
                }
                let name = crate::auth::role_view_name(role, own_only, billing);
                (AuditTarget::new("portal_role", role.as_str(), name), None)
            }
        };
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
                    target.label, REASON_CHARS.0, REASON_CHARS.1
                ),
            )]));
        }
        let (role, own_only, billing) = match viewed {
            ViewedAs::User(_) => (None, false, false),
            ViewedAs::Role {
                role,
                own_only,
                billing,
            } => (Some(role.as_str().to_owned()), own_only, billing),
        };
        let token = token::generate();
        let at = now();
        // The company is the scope's (the user or company was read through its fence above).
        self.tx
            .exec(q!(
                "INSERT INTO view_as_handoffs (token_hash, workspace_id, company_id, portal_user_id, \
                 role, own_only, billing_access, staff_user_id, staff_name, reason, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                token::hash(&token),
                self.scope.workspace(),
                company,
                user,
                role,
                own_only,
                billing,
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
            target,
            &format!("for at most {} minutes: {reason}", ViewAs::MAX_SECS / 60),
        )
        .await?;
        Ok(token)
    }

    /// Whether a company in scope has its portal switched on.
    async fn portal_enabled(&mut self, company: CompanyId) -> Result<bool, StoreError> {
        let mut query = self.select("c.portal_enabled", &fence::COMPANIES, "c");
        query.sql(" AND c.id = ").arg(company);
        let (enabled,): (bool,) = self.tx.one(query).await?;
        Ok(enabled)
    }
}
