//! The mail queue's delivery side: due mail claimed by one instance at a time, and each
//! attempt's outcome recorded. System work (the delivery worker), across workspaces.

use portico_core::WorkspaceId;

use crate::StoreError;
use crate::sql::{Q, q};
use crate::system::SystemTx;

/// A queued mail claimed for delivery.
#[derive(Debug, Clone)]
pub struct DueMail {
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub created_at: i64,
}

struct DueRow {
    id: String,
    workspace_id: String,
    to_address: String,
    subject: String,
    body: String,
    attempts: i64,
    created_at: i64,
}
crate::sql::db_row!(DueRow {
    id,
    workspace_id,
    to_address,
    subject,
    body,
    attempts,
    created_at
});

/// What a workspace's mail is dressed in.
#[derive(Debug, Clone)]
pub struct MailBrand {
    pub name: String,
    pub primary_color: String,
    /// The logo, when it is a PNG (SVG does not show in most mail readers).
    pub logo_png: Option<Vec<u8>>,
}

impl SystemTx {
    /// Claims up to `limit` mails due at `now` until `lease_until`, under `token`: queued ones
    /// whose next attempt has come, and ones whose lease ran out (an instance stopped while
    /// sending). Two instances never hold the same mail: PostgreSQL skips rows another claim
    /// has locked, and SQLite serialises writers. Commit before sending, so that the lease is
    /// seen; outcomes are recorded only under the same token, so a claim that outlived its
    /// lease cannot overwrite the next one's.
    pub async fn claim_due_mail(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
        token: &str,
    ) -> Result<Vec<DueMail>, StoreError> {
        let mut query =
            Q::new("UPDATE outbox SET state = 'sending', attempts = attempts + 1, claim_token = ");
        query.arg(token).sql(", claimed_until = ").arg(lease_until);
        let now = query.placeholder(now);
        query.sql(&format!(
            " WHERE id IN (SELECT id FROM outbox WHERE (state = 'queued' AND next_attempt_at <= {now}) \
             OR (state = 'sending' AND claimed_until < {now}) ORDER BY created_at, id LIMIT "
        ));
        query.arg(limit.clamp(1, 100));
        if self.tx.is_postgres() {
            query.sql(" FOR UPDATE SKIP LOCKED");
        }
        query.sql(") RETURNING id, workspace_id, to_address, subject, body, attempts, created_at");
        let rows: Vec<DueRow> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|r| DueMail {
                id: r.id,
                workspace_id: WorkspaceId::from_stored(&r.workspace_id),
                to_address: r.to_address,
                subject: r.subject,
                body: r.body,
                attempts: r.attempts,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Records a delivered mail; false when the claim `token` no longer holds it.
    pub async fn mail_sent(&mut self, id: &str, token: &str, at: i64) -> Result<bool, StoreError> {
        let changed = self
            .tx
            .exec(q!(
                "UPDATE outbox SET state = 'sent', sent_at = $1, claimed_until = NULL, claim_token = NULL, \
                 last_error = NULL WHERE id = $2 AND state = 'sending' AND claim_token = $3",
                at,
                id,
                token
            ))
            .await?;
        Ok(changed == 1)
    }

    /// Records a failed attempt: tried again from `retry_at`, or failed for good with `None`;
    /// false when the claim `token` no longer holds the mail.
    pub async fn mail_attempt_failed(
        &mut self,
        id: &str,
        token: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let error: String = error.chars().take(500).collect();
        let (state, next) = match retry_at {
            Some(at) => ("queued", Some(at)),
            None => ("failed", None),
        };
        let changed = self
            .tx
            .exec(q!(
                "UPDATE outbox SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 claimed_until = NULL, claim_token = NULL, last_error = $3 \
                 WHERE id = $4 AND state = 'sending' AND claim_token = $5",
                state,
                next,
                error,
                id,
                token
            ))
            .await?;
        Ok(changed == 1)
    }

    /// Gives a claimed mail back unsent (a stopping instance, a lease too short for it): queued
    /// as it was, the attempt not counted.
    pub async fn release_mail(&mut self, id: &str, token: &str) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE outbox SET state = 'queued', attempts = attempts - 1, claimed_until = NULL, \
                 claim_token = NULL WHERE id = $1 AND state = 'sending' AND claim_token = $2",
                id,
                token
            ))
            .await?;
        Ok(())
    }

    /// The name, colour and logo a workspace's mail carries.
    pub async fn mail_brand(&mut self, workspace: WorkspaceId) -> Result<MailBrand, StoreError> {
        let (name, primary_color, logo_mime, logo_data): (
            String,
            String,
            Option<String>,
            Option<Vec<u8>>,
        ) = self
            .tx
            .one(q!(
                "SELECT name, primary_color, logo_mime, logo_data FROM workspaces WHERE id = $1",
                workspace
            ))
            .await?;
        Ok(MailBrand {
            name,
            primary_color,
            logo_png: logo_data.filter(|_| logo_mime.as_deref() == Some("image/png")),
        })
    }
}

/// A mail's delivery as tests inspect it.
#[cfg(feature = "test-hooks")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

#[cfg(feature = "test-hooks")]
impl SystemTx {
    /// The delivery state of every mail to `address`, oldest first.
    pub async fn delivery_states(
        &mut self,
        address: &str,
    ) -> Result<Vec<DeliveryState>, StoreError> {
        let rows: Vec<(String, i64, i64, Option<String>)> = self
            .tx
            .all(q!(
                "SELECT state, attempts, next_attempt_at, last_error FROM outbox WHERE to_address = $1 \
                 ORDER BY created_at, id",
                address
            ))
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(state, attempts, next_attempt_at, last_error)| DeliveryState {
                    state,
                    attempts,
                    next_attempt_at,
                    last_error,
                },
            )
            .collect())
    }
}
