//! Which ticket mails a portal user receives, set by themselves.

use portico_core::{Action, Actor};

use crate::StoreError;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;

/// Which ticket mails a portal user receives (P16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationPreferences {
    pub ticket_updates: bool,
    pub ticket_resolved: bool,
    pub satisfaction_survey: bool,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        NotificationPreferences {
            ticket_updates: true,
            ticket_resolved: true,
            satisfaction_survey: true,
        }
    }
}

impl ScopedTx<'_> {
    /// The signed-in portal user's e-mail preferences.
    pub async fn notification_preferences(
        &mut self,
    ) -> Result<NotificationPreferences, StoreError> {
        self.scope.may(Action::ManageOwnPreferences)?;
        let Actor::Portal(user) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        // The fence keeps the acting user's own row.
        let mut query = self.select(
            "p.ticket_updates, p.ticket_resolved, p.satisfaction_survey",
            &fence::NOTIFICATION_PREFERENCES,
            "p",
        );
        query.sql(" AND p.portal_user_id = ").arg(user);
        let row: Option<(bool, bool, bool)> = self.tx.optional(query).await?;
        Ok(
            row.map_or_else(NotificationPreferences::default, |(u, r, s)| {
                NotificationPreferences {
                    ticket_updates: u,
                    ticket_resolved: r,
                    satisfaction_survey: s,
                }
            }),
        )
    }

    pub async fn set_notification_preferences(
        &mut self,
        prefs: NotificationPreferences,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageOwnPreferences)?;
        let Actor::Portal(user) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        self.tx
            .exec(q!(
                "INSERT INTO notification_preferences (workspace_id, portal_user_id, ticket_updates, ticket_resolved, \
                 satisfaction_survey) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (portal_user_id) DO UPDATE SET \
                 ticket_updates = excluded.ticket_updates, ticket_resolved = excluded.ticket_resolved, \
                 satisfaction_survey = excluded.satisfaction_survey",
                self.scope.workspace(),
                user,
                prefs.ticket_updates,
                prefs.ticket_resolved,
                prefs.satisfaction_survey
            ))
            .await?;
        Ok(())
    }
}
