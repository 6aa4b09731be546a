//! Outgoing mail, queued in the database until SMTP delivery exists.

use portico_core::{Action, CompanyId, WorkspaceId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::{Tx, q};
use crate::{StoreError, now};

/// A queued e-mail.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
}
crate::sql::db_row!(OutboxMail {
    id,
    to_address,
    subject,
    body,
    created_at
});

pub(crate) async fn push(
    tx: &mut Tx,
    workspace: WorkspaceId,
    company: Option<CompanyId>,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), StoreError> {
    // The body can carry a one-time link: it is logged only at debug level (demo mode turns that
    // on so the links can be followed without SMTP).
    tracing::info!(target: "portico::outbox", to, subject, "mail queued");
    tracing::debug!(target: "portico::outbox", to, "mail body\n{body}");
    tx.exec(q!(
        "INSERT INTO outbox (workspace_id, id, company_id, to_address, subject, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        workspace,
        uuid_text(),
        company,
        to,
        subject,
        body,
        now()
    ))
    .await?;
    Ok(())
}

fn uuid_text() -> String {
    portico_core::MessageId::new().as_text()
}

impl ScopedTx<'_> {
    /// The newest queued mail of the workspace.
    pub async fn outbox(&mut self, limit: i64) -> Result<Vec<OutboxMail>, StoreError> {
        self.scope.may(Action::ViewOutbox)?;
        let mut query = self.select(
            "o.id, o.to_address, o.subject, o.body, o.created_at",
            &fence::OUTBOX,
            "o",
        );
        query
            .sql(" ORDER BY o.created_at DESC, o.id DESC LIMIT ")
            .arg(limit);
        self.tx.all(query).await
    }

    /// Queues an e-mail about `company` (or the workspace) within this transaction.
    pub async fn queue_mail(
        &mut self,
        company: Option<CompanyId>,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        push(
            &mut self.tx,
            self.scope.workspace(),
            company,
            to,
            subject,
            body,
        )
        .await
    }
}
