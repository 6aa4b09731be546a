//! Webhooks out (I1), the delivery side: events fanned out into deliveries, due deliveries
//! claimed by one instance at a time, and each attempt's outcome recorded in the delivery log.
//! System work (the delivery worker, `portico-hooks`), across workspaces.

use portico_core::WorkspaceId;

use crate::StoreError;
use crate::scoped::webhooks::{parse_events, secret_context, taken_events};
use crate::sql::{Q, q};
use crate::system::SystemTx;

/// A delivery claimed for sending, with what signing and sending it needs.
#[derive(Debug, Clone)]
pub struct DueWebhook {
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub endpoint_id: String,
    pub url: String,
    pub secret: String,
    pub event_type: String,
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub created_at: i64,
}

struct DueRow {
    id: String,
    workspace_id: String,
    endpoint_id: String,
    url: String,
    secret_sealed: String,
    event_type: String,
    payload: String,
    attempts: i64,
    created_at: i64,
}
crate::sql::db_row!(DueRow {
    id,
    workspace_id,
    endpoint_id,
    url,
    secret_sealed,
    event_type,
    payload,
    attempts,
    created_at
});

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct WebhookOutcome {
    pub at: i64,
    /// The response's status, when one came.
    pub status: Option<i64>,
    pub error: String,
    pub duration_ms: i64,
    pub next: NextStep,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(i64),
    GiveUp,
    /// The receiver answered 410 Gone: the endpoint is switched off, the delivery given up.
    EndpointGone,
}

/// An endpoint switched off by the worker, for the mail to its workspace's owners.
#[derive(Debug, Clone)]
pub struct DisabledEndpoint {
    pub workspace_id: WorkspaceId,
    pub url: String,
    pub reason: String,
}

struct EventRow {
    id: String,
    workspace_id: String,
    event_type: String,
    payload: String,
    created_at: i64,
}
crate::sql::db_row!(EventRow {
    id,
    workspace_id,
    event_type,
    payload,
    created_at
});

impl SystemTx {
    /// Turns up to `limit` recorded events into deliveries, one for each enabled endpoint of the
    /// event's workspace that takes its type, and removes them. Returns the deliveries made.
    pub async fn fan_out_webhook_events(&mut self, limit: i64) -> Result<usize, StoreError> {
        let mut query = Q::new(
            "SELECT id, workspace_id, type AS event_type, payload, created_at FROM webhook_events \
             ORDER BY created_at, id LIMIT ",
        );
        query.arg(limit.clamp(1, 500));
        if self.tx.is_postgres() {
            query.sql(" FOR UPDATE SKIP LOCKED");
        }
        let events: Vec<EventRow> = self.tx.all(query).await?;
        let mut made = 0;
        for event in events {
            let endpoints: Vec<(String, String)> = self
                .tx
                .all(q!(
                    "SELECT id, events FROM webhook_endpoints WHERE workspace_id = $1 AND enabled \
                     ORDER BY created_at, id",
                    &event.workspace_id
                ))
                .await?;
            for (endpoint, events) in endpoints {
                if !parse_events(&events)
                    .iter()
                    .any(|e| e.as_str() == event.event_type)
                {
                    continue;
                }
                self.tx
                    .exec(q!(
                        "INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_type, payload, \
                         state, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'queued', $6, $6)",
                        // Time-ordered like the events, so that one endpoint's deliveries of
                        // one second go out in order.
                        format!("msg_{}", portico_core::MessageId::new()),
                        &event.workspace_id,
                        &endpoint,
                        &event.event_type,
                        &event.payload,
                        event.created_at
                    ))
                    .await?;
                made += 1;
            }
            self.tx
                .exec(q!("DELETE FROM webhook_events WHERE id = $1", &event.id))
                .await?;
        }
        Ok(made)
    }

    /// Claims up to `limit` deliveries due at `now` until `lease_until`, under `token`, as
    /// [`SystemTx::claim_due_mail`] does for mail: never the same delivery to two instances.
    /// Each comes with its endpoint's secret, opened with the store's key.
    pub async fn claim_due_webhooks(
        &mut self,
        store: &crate::Store,
        now: i64,
        lease_until: i64,
        limit: i64,
        token: &str,
    ) -> Result<Vec<DueWebhook>, StoreError> {
        let mut query = Q::new(
            "UPDATE webhook_deliveries SET state = 'sending', attempts = attempts + 1, claim_token = ",
        );
        query.arg(token).sql(", claimed_until = ").arg(lease_until);
        let now = query.placeholder(now);
        query.sql(&format!(
            " WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e \
             ON e.workspace_id = d.workspace_id AND e.id = d.endpoint_id \
             WHERE e.enabled AND ((d.state = 'queued' AND d.next_attempt_at <= {now}) \
             OR (d.state = 'sending' AND d.claimed_until < {now})) ORDER BY d.next_attempt_at, d.id LIMIT "
        ));
        query.arg(limit.clamp(1, 100));
        if self.tx.is_postgres() {
            query.sql(" FOR UPDATE OF d SKIP LOCKED");
        }
        query.sql(") RETURNING id");
        let claimed: Vec<(String,)> = self.tx.all(query).await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = claimed.into_iter().map(|(id,)| id).collect();
        let mut query = Q::new(
            "SELECT d.id, d.workspace_id, d.endpoint_id, e.url, e.secret_sealed, d.event_type, d.payload, \
             d.attempts, d.created_at FROM webhook_deliveries d JOIN webhook_endpoints e \
             ON e.workspace_id = d.workspace_id AND e.id = d.endpoint_id WHERE ",
        );
        query
            .in_list("d.id", &ids)
            .sql(" ORDER BY d.next_attempt_at, d.id");
        let rows: Vec<DueRow> = self.tx.all(query).await?;
        let sealer = store.audit_log().sealer();
        rows.into_iter()
            .map(|r| {
                let secret = sealer.open(
                    &secret_context(&r.workspace_id, &r.endpoint_id),
                    &r.secret_sealed,
                )?;
                Ok(DueWebhook {
                    secret: String::from_utf8(secret)
                        .map_err(|_| StoreError::Corrupt("a webhook secret is not text".into()))?,
                    id: r.id,
                    workspace_id: WorkspaceId::from_stored(&r.workspace_id),
                    endpoint_id: r.endpoint_id,
                    url: r.url,
                    event_type: r.event_type,
                    payload: r.payload,
                    attempts: r.attempts,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// Records an attempt in the log and its consequence for the delivery and its endpoint;
    /// false (and nothing recorded) when the claim `token` no longer holds the delivery.
    pub async fn webhook_attempted(
        &mut self,
        due: &DueWebhook,
        token: &str,
        outcome: &WebhookOutcome,
    ) -> Result<bool, StoreError> {
        let error: String = outcome.error.chars().take(500).collect();
        let (state, next, delivered) = match outcome.next {
            NextStep::Delivered => ("delivered", None, Some(outcome.at)),
            NextStep::RetryAt(at) => ("queued", Some(at), None),
            NextStep::GiveUp | NextStep::EndpointGone => ("failed", None, None),
        };
        let changed = self
            .tx
            .exec(q!(
                "UPDATE webhook_deliveries SET state = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 claimed_until = NULL, claim_token = NULL, last_status = $3, last_error = $4, \
                 delivered_at = $5 WHERE id = $6 AND state = 'sending' AND claim_token = $7",
                state,
                next,
                outcome.status,
                &error,
                delivered,
                &due.id,
                token
            ))
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        self.tx
            .exec(q!(
                "INSERT INTO webhook_attempts (delivery_id, workspace_id, attempt, at, status, error, duration_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &due.id,
                due.workspace_id,
                due.attempts,
                outcome.at,
                outcome.status,
                &error,
                outcome.duration_ms
            ))
            .await?;
        // An endpoint's run of failures ends at its first success.
        let endpoint = if outcome.next == NextStep::Delivered {
            q!(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE workspace_id = $1 AND id = $2",
                due.workspace_id,
                &due.endpoint_id
            )
        } else {
            q!(
                "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) \
                 WHERE workspace_id = $2 AND id = $3",
                outcome.at,
                due.workspace_id,
                &due.endpoint_id
            )
        };
        self.tx.exec(endpoint).await?;
        Ok(true)
    }

    /// Switches off the endpoints that have failed without a single success since `failing_before`
    /// (and `gone`, one that answered 410), with the reason shown on the console; returns them,
    /// for the mail to their owners.
    pub async fn disable_failing_webhook_endpoints(
        &mut self,
        failing_before: i64,
        reason: &str,
    ) -> Result<Vec<DisabledEndpoint>, StoreError> {
        let rows: Vec<(String, String, String)> = self
            .tx
            .all(q!(
                "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $1 \
                 WHERE enabled AND failing_since IS NOT NULL AND failing_since < $2 \
                 RETURNING workspace_id, id, url",
                reason,
                failing_before
            ))
            .await?;
        self.after_disabling(rows, reason).await
    }

    /// Switches off one endpoint (its receiver answered 410 Gone).
    pub async fn disable_webhook_endpoint(
        &mut self,
        workspace: WorkspaceId,
        endpoint: &str,
        reason: &str,
    ) -> Result<Vec<DisabledEndpoint>, StoreError> {
        let rows: Vec<(String, String, String)> = self
            .tx
            .all(q!(
                "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $1 \
                 WHERE enabled AND workspace_id = $2 AND id = $3 RETURNING workspace_id, id, url",
                reason,
                workspace,
                endpoint
            ))
            .await?;
        self.after_disabling(rows, reason).await
    }

    /// The workspaces' lists of events taken, without the endpoints just switched off.
    async fn after_disabling(
        &mut self,
        rows: Vec<(String, String, String)>,
        reason: &str,
    ) -> Result<Vec<DisabledEndpoint>, StoreError> {
        let mut workspaces: Vec<&str> = rows.iter().map(|(w, _, _)| w.as_str()).collect();
        workspaces.sort_unstable();
        workspaces.dedup();
        for workspace in workspaces {
            let taken: Vec<(String,)> = self
                .tx
                .all(q!(
                    "SELECT events FROM webhook_endpoints WHERE workspace_id = $1 AND enabled",
                    workspace
                ))
                .await?;
            self.tx
                .exec(q!(
                    "UPDATE workspaces SET webhook_events = $1 WHERE id = $2",
                    taken_events(&taken),
                    workspace
                ))
                .await?;
        }
        Ok(rows
            .into_iter()
            .map(|(workspace, _, url)| DisabledEndpoint {
                workspace_id: WorkspaceId::from_stored(&workspace),
                url,
                reason: reason.to_owned(),
            })
            .collect())
    }

    /// Gives a claimed delivery back unsent (a stopping instance): queued as it was, the
    /// attempt not counted.
    pub async fn release_webhook(&mut self, id: &str, token: &str) -> Result<(), StoreError> {
        self.tx
            .exec(q!(
                "UPDATE webhook_deliveries SET state = 'queued', attempts = attempts - 1, claimed_until = NULL, \
                 claim_token = NULL WHERE id = $1 AND state = 'sending' AND claim_token = $2",
                id,
                token
            ))
            .await?;
        Ok(())
    }

    /// Queues a mail to each enabled owner of `workspace`, worded by the caller.
    pub async fn mail_owners(
        &mut self,
        workspace: WorkspaceId,
        subject: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let owners: Vec<(String,)> = self
            .tx
            .all(q!(
                "SELECT email FROM staff_users WHERE workspace_id = $1 AND role = 'owner' AND NOT disabled \
                 ORDER BY email",
                workspace
            ))
            .await?;
        for (email,) in owners {
            crate::scoped::outbox::push(&mut self.tx, workspace, None, &email, subject, body)
                .await?;
        }
        Ok(())
    }

    /// Forgets deliveries (and their attempts) made before `before` and not being sent: the log
    /// keeps a window, not everything ever sent (nor what waits for an endpoint switched off).
    pub async fn prune_webhook_deliveries(&mut self, before: i64) -> Result<u64, StoreError> {
        self.tx
            .exec(q!(
                "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries \
                 WHERE state <> 'sending' AND created_at < $1)",
                before
            ))
            .await?;
        self.tx
            .exec(q!(
                "DELETE FROM webhook_deliveries WHERE state <> 'sending' AND created_at < $1",
                before
            ))
            .await
    }
}

/// Records a `connector.sync_failed` event for the workspace's endpoints taking it, in the
/// transaction that records the failed run.
pub(crate) async fn emit_connector_sync_failed(
    tx: &mut crate::sql::Tx,
    due: &crate::connector_sync::DueTenant,
    error: &str,
    failures_in_a_row: i64,
    at: i64,
) -> Result<(), StoreError> {
    use crate::scoped::webhooks::WebhookEvent;
    let event = WebhookEvent::ConnectorSyncFailed;
    let (subscribed,): (String,) = tx
        .one(q!(
            "SELECT webhook_events FROM workspaces WHERE id = $1",
            due.workspace_id
        ))
        .await?;
    if !subscribed.split_whitespace().any(|e| e == event.as_str()) {
        return Ok(());
    }
    let payload = serde_json::json!({
        "type": event.as_str(),
        "timestamp": crate::scoped::webhooks::rfc3339(at),
        "data": {
            "object": {
                "connector": { "id": due.connector_id.as_text(), "name": due.connector_name, "kind": due.kind.as_str() },
                "tenant": { "id": due.external_id, "name": due.tenant_name },
                "company": { "id": due.company_id.as_text() },
            },
            "error": error,
            "failures_in_a_row": failures_in_a_row,
            "started_by": due.started_by,
        },
    });
    tx.exec(q!(
        "INSERT INTO webhook_events (id, workspace_id, company_id, type, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        format!("evt_{}", portico_core::MessageId::new()),
        due.workspace_id,
        due.company_id,
        event.as_str(),
        payload.to_string(),
        at
    ))
    .await?;
    Ok(())
}
