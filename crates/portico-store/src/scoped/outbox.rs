//! Outgoing mail, queued in the database in the transaction of the change it tells of, and
//! delivered over SMTP by the delivery worker (`portico-mail`); without SMTP it stays here to read.

use portico_core::notice::{Notice, Wording};
use portico_core::{Action, CompanyId, WorkspaceId};

use crate::scoped::{ScopedTx, fence};
use crate::sql::{Tx, q};
use crate::{StoreError, now};

/// A queued e-mail and how its delivery went.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    /// `queued`, `sending`, `sent`, `failed`, or `recorded` (kept before delivery existed).
    pub state: String,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}
crate::sql::db_row!(OutboxMail {
    id,
    to_address,
    subject,
    body,
    created_at,
    state,
    attempts,
    sent_at,
    last_error
});

/// The delivery states a listing can be narrowed to.
/// `recorded` is mail kept before delivery existed, never sent.
pub const MAIL_STATES: &[&str] = &["queued", "sending", "sent", "failed", "recorded"];

/// Which mails the outbox page lists.
#[derive(Debug, Clone, Default)]
pub struct OutboxQuery {
    /// Words that must appear in the address or the subject.
    pub search: String,
    /// One of [`MAIL_STATES`], or any.
    pub state: Option<String>,
    /// Keyset paging: mails older than this one (created, id).
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// Queues a mail its sender worded (sign-in links, invitations).
pub(crate) async fn push(
    tx: &mut Tx,
    workspace: WorkspaceId,
    company: Option<CompanyId>,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<(), StoreError> {
    insert(tx, workspace, company, to, subject, body, None).await
}

/// Queues a ticket notice in its words ([`Notice::wording`]), kept with its kind. Worded now,
/// not at delivery: the outbox page lists and searches mail by subject, and without SMTP mail
/// is only ever read there.
pub(crate) async fn push_notice(
    tx: &mut Tx,
    workspace: WorkspaceId,
    company: Option<CompanyId>,
    to: &str,
    notice: &Notice,
) -> Result<(), StoreError> {
    let Wording { subject, body } = notice.wording();
    insert(
        tx,
        workspace,
        company,
        to,
        &subject,
        &body,
        Some(notice.kind()),
    )
    .await
}

async fn insert(
    tx: &mut Tx,
    workspace: WorkspaceId,
    company: Option<CompanyId>,
    to: &str,
    subject: &str,
    body: &str,
    notice_kind: Option<&str>,
) -> Result<(), StoreError> {
    // The body can carry a one-time link: it is logged only at debug level (demo mode turns that
    // on so the links can be followed without SMTP).
    tracing::info!(target: "portico::outbox", to, subject, notice_kind, "mail queued");
    tracing::debug!(target: "portico::outbox", to, "mail body\n{body}");
    tx.exec(q!(
        "INSERT INTO outbox (workspace_id, id, company_id, to_address, subject, body, created_at, notice_kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        workspace,
        uuid_text(),
        company,
        to,
        subject,
        body,
        now(),
        notice_kind.map(str::to_owned)
    ))
    .await?;
    Ok(())
}

fn uuid_text() -> String {
    portico_core::MessageId::new().as_text()
}

impl ScopedTx<'_> {
    /// The workspace's mail, newest first, as `filter` narrows it.
    pub async fn outbox(&mut self, filter: &OutboxQuery) -> Result<Vec<OutboxMail>, StoreError> {
        self.scope.may(Action::ViewOutbox)?;
        let mut query = self.select(
            "o.id, o.to_address, o.subject, o.body, o.created_at, o.state, o.attempts, o.sent_at, o.last_error",
            &fence::OUTBOX,
            "o",
        );
        if let Some(state) = filter.state.as_deref() {
            if !MAIL_STATES.contains(&state) {
                return Err(StoreError::Invalid("Choose a delivery state.".into()));
            }
            query.sql(" AND o.state = ").arg(state);
        }
        for word in filter.search.split_whitespace().take(8) {
            let mut pattern = String::from("%");
            for c in word.to_lowercase().chars().take(100) {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            let p = query.placeholder(pattern);
            query.sql(&format!(
                " AND (LOWER(o.to_address) LIKE {p} ESCAPE '\\' OR LOWER(o.subject) LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some((created, id)) = &filter.before {
            let (c, i) = (query.placeholder(*created), query.placeholder(id.as_str()));
            query.sql(&format!(
                " AND (o.created_at < {c} OR (o.created_at = {c} AND o.id < {i}))"
            ));
        }
        query
            .sql(" ORDER BY o.created_at DESC, o.id DESC LIMIT ")
            .arg(filter.limit.clamp(1, 200));
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
