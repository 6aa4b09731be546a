//! Two-step verification as the MSP manages it: whether it is required (of every staff member,
//! by an owner; of a company's portal users), who has it on, and resetting it for someone who
//! lost their phone. Each person turns their own on and off through the sign-in flows
//! ([`crate::AuthTx::mfa_status`] and the rest).

use portico_core::{Action, AuditAction, AuditTarget, CompanyId, PortalUserId, StaffUserId};

use crate::StoreError;
use crate::scoped::portal_settings::CompanyRequirement;
use crate::scoped::{ScopedTx, fence};
use crate::sql::Q;

/// The tables holding a person's second factor, each with its user columns.
const MFA_TABLES: [&fence::Tenant; 4] = [
    &fence::MFA_TOTP,
    &fence::MFA_RECOVERY_CODES,
    &fence::MFA_REMEMBERED_DEVICES,
    &fence::MFA_CHALLENGES,
];

impl ScopedTx<'_> {
    /// Whether every staff member must use two-step verification.
    pub async fn staff_mfa_required(&mut self) -> Result<bool, StoreError> {
        self.scope.may(Action::ManageStaff)?;
        let query = self.select("w.staff_mfa_required", &fence::WORKSPACES, "w");
        let (required,): (bool,) = self.tx.one(query).await?;
        Ok(required)
    }

    /// Requires (or stops requiring) two-step verification of every staff member: those
    /// without it set one up at their next sign-in.
    pub async fn set_staff_mfa_required(&mut self, required: bool) -> Result<(), StoreError> {
        self.scope.may(Action::ManageStaff)?;
        let query = self.update(&fence::WORKSPACES, |set| {
            set.sql("staff_mfa_required = ").arg(required);
        });
        self.tx.exec(query).await?;
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("staff_security", "", "Staff sign-in"),
            if required {
                "two-step verification required of all staff"
            } else {
                "two-step verification optional for staff"
            },
        )
        .await
    }

    /// Whether the company's portal users must use two-step verification.
    pub async fn portal_mfa_required(&mut self, company: CompanyId) -> Result<bool, StoreError> {
        self.company_requires(company, CompanyRequirement::TwoStepVerification)
            .await
    }

    /// Requires (or stops requiring) two-step verification of the company's portal users
    /// (and of users of other companies granted this one).
    pub async fn set_portal_mfa_required(
        &mut self,
        company: CompanyId,
        required: bool,
    ) -> Result<(), StoreError> {
        if self.portal_mfa_required(company).await? == required {
            return Ok(());
        }
        let detail = if required {
            "two-step verification required of portal users"
        } else {
            "two-step verification optional for portal users"
        };
        self.set_company_requires(
            company,
            CompanyRequirement::TwoStepVerification,
            required,
            detail,
        )
        .await
    }

    /// When a portal user of the company turned two-step verification on, if they have.
    pub async fn portal_user_mfa(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
    ) -> Result<Option<i64>, StoreError> {
        self.portal_user(company, user).await?;
        let mut query = self.select("t.confirmed_at", &fence::MFA_TOTP, "t");
        query
            .sql(" AND t.confirmed_at IS NOT NULL AND t.portal_user_id = ")
            .arg(user);
        let row: Option<(i64,)> = self.tx.optional(query).await?;
        Ok(row.map(|(at,)| at))
    }

    /// Removes a portal user's authenticator, recovery codes and remembered browsers (their
    /// phone was lost): they sign in with their password alone, or set a new one up if the
    /// company requires it.
    pub async fn reset_portal_user_mfa(
        &mut self,
        company: CompanyId,
        user: PortalUserId,
    ) -> Result<(), StoreError> {
        // Out of sight is missing before it is forbidden.
        let target = self.portal_user(company, user).await?;
        self.scope.may(Action::ResetPortalUserMfa)?;
        let removed = self
            .remove_second_factor(|q| {
                q.sql(" AND portal_user_id = ").arg(user);
            })
            .await?;
        if !removed {
            return Err(StoreError::Invalid(format!(
                "{} has not turned on two-step verification.",
                target.name
            )));
        }
        self.audit(
            AuditAction::MfaReset,
            Some(company),
            AuditTarget::new("portal_user", user, target.email),
            "authenticator, recovery codes and remembered browsers removed",
        )
        .await
    }

    /// Staff members with two-step verification on, with when they turned it on.
    pub async fn staff_mfa(&mut self) -> Result<Vec<(StaffUserId, i64)>, StoreError> {
        self.scope.may(Action::ManageStaff)?;
        let mut query = self.select("t.staff_user_id, t.confirmed_at", &fence::MFA_TOTP, "t");
        query.sql(" AND t.confirmed_at IS NOT NULL AND t.staff_user_id IS NOT NULL");
        let rows: Vec<(String, i64)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, at)| Some((StaffUserId::parse(&id)?, at)))
            .collect())
    }

    /// An owner resets a staff member's two-step verification (not their own: they turn it
    /// off from their security page).
    pub async fn reset_staff_mfa(&mut self, staff: StaffUserId) -> Result<(), StoreError> {
        let target = self.staff_user(staff).await?;
        if self.scope.actor() == portico_core::Actor::Staff(staff) {
            return Err(StoreError::Invalid(
                "Manage your own two-step verification from your security page.".into(),
            ));
        }
        let removed = self
            .remove_second_factor(|q| {
                q.sql(" AND staff_user_id = ").arg(staff);
            })
            .await?;
        if !removed {
            return Err(StoreError::Invalid(format!(
                "{} has not turned on two-step verification.",
                target.name
            )));
        }
        self.audit(
            AuditAction::MfaReset,
            None,
            AuditTarget::new("staff_user", staff, target.email),
            "authenticator, recovery codes and remembered browsers removed",
        )
        .await
    }

    /// Deletes one person's rows from every second-factor table; whether they had an
    /// authenticator.
    async fn remove_second_factor(&mut self, person: impl Fn(&mut Q)) -> Result<bool, StoreError> {
        let mut had = false;
        for table in MFA_TABLES {
            let mut delete = self.delete(table);
            person(&mut delete);
            let removed = self.tx.exec(delete).await?;
            if table.table == fence::MFA_TOTP.table {
                had = removed > 0;
            }
        }
        Ok(had)
    }
}
