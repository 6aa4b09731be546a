//! Staff users and their company assignments (C9).

use portico_core::{Action, Actor, CompanyId, StaffRole, StaffUserId};

use crate::auth::{OneTimePurpose, SessionUser, issue_token};
use crate::scoped::portal_users::{INVITE_TTL_SECS, valid_email};
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

#[derive(Debug, Clone)]
pub struct StaffUser {
    pub id: StaffUserId,
    pub email: String,
    pub name: String,
    pub role: StaffRole,
    pub disabled: bool,
    pub assigned: Vec<CompanyId>,
}

/// Which of the desk's mails a staff user receives; everything until they choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffNotifications {
    /// A client raises a ticket assigned to them or, unassigned, for a company they look after.
    pub new_portal_tickets: bool,
    /// A client replies to, resolves or reopens a ticket assigned to them.
    pub client_activity: bool,
}

impl Default for StaffNotifications {
    fn default() -> Self {
        StaffNotifications {
            new_portal_tickets: true,
            client_activity: true,
        }
    }
}

struct Row {
    id: String,
    email: String,
    name: String,
    role: String,
    disabled: bool,
    assigned: Option<String>,
}
crate::sql::db_row!(Row {
    id,
    email,
    name,
    role,
    disabled,
    assigned
});

impl ScopedTx<'_> {
    /// The signed-in staff user's own choice of desk mail.
    pub async fn my_notifications(&mut self) -> Result<StaffNotifications, StoreError> {
        let Actor::Staff(_) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        // The fence keeps the acting staff user's own row.
        let query = self.select(
            "p.new_portal_tickets, p.client_activity",
            &fence::STAFF_NOTIFICATION_PREFERENCES,
            "p",
        );
        let row: Option<(bool, bool)> = self.tx.optional(query).await?;
        Ok(row
            .map(|(new_portal_tickets, client_activity)| StaffNotifications {
                new_portal_tickets,
                client_activity,
            })
            .unwrap_or_default())
    }

    /// Saves the signed-in staff user's own choice of desk mail.
    pub async fn set_my_notifications(
        &mut self,
        prefs: StaffNotifications,
    ) -> Result<(), StoreError> {
        let Actor::Staff(me) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        self.tx
            .exec(q!(
                "INSERT INTO staff_notification_preferences (workspace_id, staff_user_id, new_portal_tickets, \
                 client_activity) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, staff_user_id) DO UPDATE SET \
                 new_portal_tickets = excluded.new_portal_tickets, client_activity = excluded.client_activity",
                self.scope.workspace(),
                me,
                prefs.new_portal_tickets,
                prefs.client_activity
            ))
            .await?;
        Ok(())
    }

    /// Every staff user of the workspace.
    pub async fn staff_users(&mut self) -> Result<Vec<StaffUser>, StoreError> {
        self.scope.may(Action::ManageStaff)?;
        let agg = if self.tx.is_postgres() {
            "string_agg(a.company_id, ',')"
        } else {
            "group_concat(a.company_id, ',')"
        };
        let mut query = self.select_joined(
            &format!("u.id, u.email, u.name, u.role, u.disabled, {agg} AS assigned"),
            &fence::STAFF_USERS,
            "u",
            " LEFT JOIN staff_assignments a ON a.workspace_id = u.workspace_id AND a.staff_user_id = u.id",
        );
        query.sql(" GROUP BY u.id, u.email, u.name, u.role, u.disabled ORDER BY u.name");
        let rows: Vec<Row> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(StaffUser {
                    id: StaffUserId::parse(&r.id)?,
                    email: r.email,
                    name: r.name,
                    role: StaffRole::parse(&r.role)?,
                    disabled: r.disabled,
                    assigned: r
                        .assigned
                        .unwrap_or_default()
                        .split(',')
                        .filter_map(CompanyId::parse)
                        .collect(),
                })
            })
            .collect())
    }

    /// One staff user of the workspace; `NotFound` for anyone else's.
    pub async fn staff_user(&mut self, id: StaffUserId) -> Result<StaffUser, StoreError> {
        self.staff_users()
            .await?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Adds a staff user and returns their invitation token.
    pub async fn add_staff_user(
        &mut self,
        name: &str,
        email: &str,
        role: StaffRole,
    ) -> Result<(StaffUserId, String), StoreError> {
        self.scope.may(Action::ManageStaff)?;
        if name.trim().is_empty()
            || name.chars().count() > 120
            || name.chars().any(char::is_control)
        {
            return Err(StoreError::Invalid(
                "Enter a name of at most 120 characters.".into(),
            ));
        }
        if !valid_email(email) {
            return Err(StoreError::Invalid("Enter a valid e-mail address.".into()));
        }
        let id = StaffUserId::new();
        let inserted = self
            .tx
            .exec(q!(
                "INSERT INTO staff_users (workspace_id, id, email, name, role, password_hash, disabled, created_at) \
                 VALUES ($1, $2, $3, $4, $5, NULL, FALSE, $6)",
                self.scope.workspace(),
                id,
                email.trim().to_lowercase(),
                name.trim(),
                role.as_str(),
                now()
            ))
            .await;
        match inserted {
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict("staff e-mail address"));
            }
            other => other?,
        };
        let token = issue_token(
            &mut self.tx,
            self.scope.workspace(),
            OneTimePurpose::Invite,
            SessionUser::Staff(id),
            INVITE_TTL_SECS,
        )
        .await?;
        self.audit(
            portico_core::AuditAction::AccessChanged,
            None,
            portico_core::AuditTarget::new("staff_user", id, email.trim()),
            &format!("added as {}; invitation sent", role.label()),
        )
        .await?;
        Ok((id, token))
    }

    /// Sets a staff user's role, company assignments and whether they are disabled.
    pub async fn update_staff_user(
        &mut self,
        id: StaffUserId,
        role: StaffRole,
        assigned: &[CompanyId],
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageStaff)?;
        if !self.staff_users().await?.iter().any(|u| u.id == id) {
            return Err(StoreError::NotFound);
        }
        if let portico_core::Actor::Staff(me) = self.scope.actor()
            && me == id
            && (role != StaffRole::Owner || disabled)
        {
            return Err(StoreError::Invalid(
                "You cannot demote or disable yourself.".into(),
            ));
        }
        for company in assigned {
            self.visible_company(*company)
                .await
                .map_err(|_| StoreError::Invalid("Choose companies of this workspace.".into()))?;
        }
        let mut query = self.update(&fence::STAFF_USERS, |set| {
            set.sql("role = ")
                .arg(role.as_str())
                .sql(", disabled = ")
                .arg(disabled);
        });
        query.sql(" AND id = ").arg(id);
        self.tx.exec(query).await?;
        let mut unassign = self.delete(&fence::STAFF_ASSIGNMENTS);
        unassign.sql(" AND staff_user_id = ").arg(id);
        self.tx.exec(unassign).await?;
        for company in assigned {
            self.tx
                .exec(q!(
                    "INSERT INTO staff_assignments (workspace_id, staff_user_id, company_id) VALUES ($1, $2, $3)",
                    self.scope.workspace(),
                    id,
                    *company
                ))
                .await?;
        }
        self.revoke_invitations_of(id, role, assigned, disabled)
            .await?;
        if disabled {
            let mut sessions = self.delete(&fence::SESSIONS);
            sessions.sql(" AND staff_user_id = ").arg(id);
            self.tx.exec(sessions).await?;
        }
        self.audit(
            portico_core::AuditAction::AccessChanged,
            None,
            portico_core::AuditTarget::new("staff_user", id, ""),
            &format!(
                "role {}, {} companies assigned{}",
                role.label(),
                assigned.len(),
                if disabled { ", disabled" } else { "" }
            ),
        )
        .await?;
        Ok(())
    }

    /// Revokes the invitations a staff user issued that nobody has accepted yet, for companies
    /// they can no longer manage portal users of (all of them once disabled): an account they
    /// invited must not be theirs to take up after they lost the company.
    async fn revoke_invitations_of(
        &mut self,
        staff: StaffUserId,
        role: StaffRole,
        assigned: &[CompanyId],
        disabled: bool,
    ) -> Result<(), StoreError> {
        // Reset links too: one asked for before the revocation must not take the account up.
        let mut query = self.delete(&fence::ONE_TIME_TOKENS);
        query.sql(
            " AND used_at IS NULL AND portal_user_id IN \
             (SELECT u.id FROM portal_users u WHERE u.password_hash IS NULL",
        );
        self.fenced(&mut query, &fence::PORTAL_USERS, "u");
        query.sql(" AND u.invited_by = ").arg(staff);
        match (disabled, role) {
            (false, StaffRole::Owner) => return Ok(()),
            (false, StaffRole::Technician) if !assigned.is_empty() => {
                query.sql(" AND NOT (");
                query.in_list("u.company_id", assigned);
                query.sql(")");
            }
            _ => {}
        }
        query.sql(")");
        self.tx.exec(query).await?;
        Ok(())
    }
}
