//! Files attached to a portal form that was refused, kept for their owner so that the form shown
//! again still carries them (nothing a user submitted is lost on a failure). Each kept file is
//! named in the form by a random token; the database holds its hash, under the portal user who
//! attached it, who alone can use it.

use portico_core::Actor;

use crate::scoped::ticket_workflow::NewAttachment;
use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now, token};

/// A kept file is forgotten after this long.
const KEPT_FOR_SECS: i64 = 24 * 3600;
/// At most this many kept files per person; older ones are forgotten first.
const MAX_KEPT: i64 = 50;

/// A kept file, with the token the form names it by.
#[derive(Debug, Clone)]
pub struct KeptUpload {
    pub token: String,
    pub file: NewAttachment,
}

impl ScopedTx<'_> {
    /// Keeps stored files for the signed-in portal user; returns each with its token.
    pub async fn keep_uploads(
        &mut self,
        files: &[NewAttachment],
    ) -> Result<Vec<KeptUpload>, StoreError> {
        let Actor::Portal(user) = self.scope.actor() else {
            return Err(StoreError::NotFound);
        };
        let at = now();
        // Forgotten: the expired, and the oldest beyond the limit.
        let mut expired = self.delete(&fence::KEPT_UPLOADS);
        expired.sql(" AND created_at < ").arg(at - KEPT_FOR_SECS);
        self.tx.exec(expired).await?;
        let mut kept = Vec::with_capacity(files.len());
        for file in files {
            let token = token::generate();
            self.tx
                .exec(q!(
                    "INSERT INTO kept_uploads (workspace_id, token_hash, portal_user_id, blob_key, file_name, \
                     content_type, size, inline, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    self.scope.workspace(),
                    token::hash(&token),
                    user,
                    file.blob_key.as_str(),
                    file.file_name.as_str(),
                    file.content_type.as_str(),
                    file.size,
                    file.inline,
                    at
                ))
                .await?;
            kept.push(KeptUpload {
                token,
                file: file.clone(),
            });
        }
        let mut overflow = self.delete(&fence::KEPT_UPLOADS);
        overflow.sql(" AND token_hash NOT IN (SELECT k.token_hash FROM kept_uploads k WHERE 1 = 1");
        self.fenced(&mut overflow, &fence::KEPT_UPLOADS, "k");
        overflow
            .sql(" ORDER BY k.created_at DESC LIMIT ")
            .arg(MAX_KEPT)
            .sql(")");
        self.tx.exec(overflow).await?;
        Ok(kept)
    }

    /// The signed-in portal user's kept files named by `tokens`, in that order; unknown,
    /// expired and other people's tokens are left out.
    pub async fn kept_uploads(&mut self, tokens: &[String]) -> Result<Vec<KeptUpload>, StoreError> {
        let mut found = Vec::new();
        for token in tokens.iter().take(MAX_KEPT as usize) {
            let mut query = self.select(
                "u.blob_key, u.file_name, u.content_type, u.size, u.inline",
                &fence::KEPT_UPLOADS,
                "u",
            );
            query
                .sql(" AND u.token_hash = ")
                .arg(token::hash(token))
                .sql(" AND u.created_at >= ")
                .arg(now() - KEPT_FOR_SECS);
            let row: Option<(String, String, String, i64, bool)> = self.tx.optional(query).await?;
            if let Some((blob_key, file_name, content_type, size, inline)) = row {
                found.push(KeptUpload {
                    token: token.clone(),
                    file: NewAttachment {
                        blob_key,
                        file_name,
                        content_type,
                        size,
                        inline,
                    },
                });
            }
        }
        Ok(found)
    }

    /// Forgets kept files once their form went through.
    pub async fn forget_kept_uploads(&mut self, tokens: &[String]) -> Result<(), StoreError> {
        for token in tokens {
            let mut delete = self.delete(&fence::KEPT_UPLOADS);
            delete.sql(" AND token_hash = ").arg(token::hash(token));
            self.tx.exec(delete).await?;
        }
        Ok(())
    }
}
