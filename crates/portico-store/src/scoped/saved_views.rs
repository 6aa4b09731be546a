//! A staff user's saved queue views: named filter combinations, private to their owner.

use portico_core::{Action, Actor};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// The queue filters a view may keep; anything else in a submitted query is dropped.
const VIEW_KEYS: &[&str] = &["status", "company", "priority", "assignee", "sla", "q"];
const MAX_VIEWS: i64 = 30;

#[derive(Debug, Clone)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    /// The queue's query string, e.g. `status=open&assignee=me`.
    pub query: String,
}

impl ScopedTx<'_> {
    fn staff_actor(&self) -> Result<portico_core::StaffUserId, StoreError> {
        match self.scope.actor() {
            Actor::Staff(id) => Ok(id),
            Actor::Portal(_) => Err(StoreError::NotFound),
        }
    }

    /// The caller's saved views, by name.
    pub async fn saved_views(&mut self) -> Result<Vec<SavedView>, StoreError> {
        self.scope.may(Action::ViewTickets)?;
        // Staff only; the fence keeps the caller's own views.
        self.staff_actor()?;
        let mut query = self.select("v.id, v.name, v.query", &fence::SAVED_VIEWS, "v");
        query.sql(" ORDER BY v.name");
        let rows: Vec<(String, String, String)> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, query)| SavedView { id, name, query })
            .collect())
    }

    /// Saves the queue filters in `pairs` under `name`; only known filter keys are kept.
    pub async fn save_view(
        &mut self,
        name: &str,
        pairs: &[(String, String)],
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ViewTickets)?;
        let me = self.staff_actor()?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "Name the view (one line, at most 60 characters).".into(),
            ));
        }
        let mut query = String::new();
        for (key, value) in pairs {
            if VIEW_KEYS.contains(&key.as_str()) && !value.is_empty() && value.len() <= 200 {
                if !query.is_empty() {
                    query.push('&');
                }
                query.push_str(key);
                query.push('=');
                query.extend(value.bytes().flat_map(|b| {
                    let safe = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
                    if safe {
                        vec![b as char]
                    } else {
                        format!("%{b:02X}").chars().collect()
                    }
                }));
            }
        }
        let count = self
            .tx
            .count(self.select("COUNT(*)", &fence::SAVED_VIEWS, "v"))
            .await?;
        if count >= MAX_VIEWS {
            return Err(StoreError::Invalid(format!(
                "You can keep at most {MAX_VIEWS} views; delete one first."
            )));
        }
        self.tx
            .exec(q!(
                "INSERT INTO saved_views (workspace_id, staff_user_id, id, name, query, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                self.scope.workspace(),
                me,
                portico_core::MessageId::new().as_text(),
                name,
                query,
                now()
            ))
            .await?;
        Ok(())
    }

    /// Deletes one of the caller's views; another user's view is not found.
    pub async fn delete_view(&mut self, id: &str) -> Result<(), StoreError> {
        self.scope.may(Action::ViewTickets)?;
        // Staff only; the fence keeps the caller's own views.
        self.staff_actor()?;
        let mut delete = self.delete(&fence::SAVED_VIEWS);
        delete.sql(" AND id = ").arg(id);
        let removed = self.tx.exec(delete).await?;
        if removed == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }
}
