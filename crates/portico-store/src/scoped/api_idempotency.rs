//! Idempotency keys of the REST API (I1): a POST sent with `Idempotency-Key` is carried out
//! once per token and key. The answer is kept in the transaction of the change it describes,
//! so a retry after a lost response replays it, and a rolled-back change leaves no key behind.

use portico_core::{ApiTokenId, CompanyId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// How long an answer is kept for its key.
pub const KEPT_FOR_SECS: i64 = 24 * 3600;

/// The longest key accepted (a UUID is 36 characters).
pub const MAX_KEY_LEN: usize = 255;

/// The answer first given to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    /// Of the method, path and body the key was first sent with.
    pub request_hash: String,
    pub status: u16,
    pub location: String,
    pub body: String,
}

struct AnswerRow {
    request_hash: String,
    status: i64,
    location: String,
    body: String,
}
crate::sql::db_row!(AnswerRow {
    request_hash,
    status,
    location,
    body
});

impl ScopedTx<'_> {
    /// The answer kept for `key` of `token`, if it was used within the last day.
    pub async fn idempotent_answer(
        &mut self,
        token: ApiTokenId,
        key: &str,
    ) -> Result<Option<KeptAnswer>, StoreError> {
        let mut query = self.select(
            "k.request_hash, k.status, k.location, k.body",
            &fence::API_IDEMPOTENCY_KEYS,
            "k",
        );
        query
            .sql(" AND k.token_id = ")
            .arg(token)
            .sql(" AND k.idempotency_key = ")
            .arg(key)
            .sql(" AND k.created_at > ")
            .arg(now() - KEPT_FOR_SECS)
            .sql(" AND k.status > 0");
        let row: Option<AnswerRow> = self.tx.optional(query).await?;
        Ok(row.map(|r| KeptAnswer {
            request_hash: r.request_hash,
            status: u16::try_from(r.status).unwrap_or(500),
            location: r.location,
            body: r.body,
        }))
    }

    /// Claims `key` for `token` before the change it guards, under the company of the record
    /// it changes, and lets go of the workspace's keys older than a day. A concurrent request
    /// with the same key waits here (PostgreSQL) or behind the single writer (SQLite) until the
    /// first commits, and then fails with a conflict instead of doing the work again.
    pub async fn reserve_idempotency_key(
        &mut self,
        token: ApiTokenId,
        company: Option<CompanyId>,
        key: &str,
        request_hash: &str,
    ) -> Result<(), StoreError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(StoreError::Invalid(format!(
                "an idempotency key has 1 to {MAX_KEY_LEN} characters"
            )));
        }
        let at = now();
        let mut stale = self.delete(&fence::API_IDEMPOTENCY_KEYS);
        stale.sql(" AND created_at <= ").arg(at - KEPT_FOR_SECS);
        self.tx.exec(stale).await?;
        let workspace = self.scope.workspace();
        self.tx
            .exec(q!(
                "INSERT INTO api_idempotency_keys (workspace_id, token_id, idempotency_key, company_id, \
                 request_hash, status, location, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, '', '', $6)",
                workspace,
                token,
                key,
                company,
                request_hash,
                at
            ))
            .await
            .map(|_| ())
            .map_err(|e| {
                if e.is_unique_violation() {
                    StoreError::Conflict("request with this idempotency key")
                } else {
                    e
                }
            })
    }

    /// Keeps the answer to `key` of `token`, claimed before the change
    /// ([`ScopedTx::reserve_idempotency_key`]), in the same transaction.
    pub async fn keep_idempotent_answer(
        &mut self,
        token: ApiTokenId,
        key: &str,
        answer: &KeptAnswer,
    ) -> Result<(), StoreError> {
        let mut query = self.update(&fence::API_IDEMPOTENCY_KEYS, |q| {
            q.sql("status = ")
                .arg(i64::from(answer.status))
                .sql(", location = ")
                .arg(answer.location.as_str())
                .sql(", body = ")
                .arg(answer.body.as_str());
        });
        query
            .sql(" AND token_id = ")
            .arg(token)
            .sql(" AND idempotency_key = ")
            .arg(key)
            .sql(" AND request_hash = ")
            .arg(answer.request_hash.as_str());
        match self.tx.exec(query).await? {
            1 => Ok(()),
            _ => Err(StoreError::Corrupt(
                "an idempotency key answered without being claimed".into(),
            )),
        }
    }
}
