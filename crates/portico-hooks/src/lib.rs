//! Webhooks out (I1). A change that is an event of the workspace (a ticket raised, changed or
//! resolved; a change request made or decided) records it in its own transaction; this crate
//! delivers it: fanned out to every enabled endpoint that takes it, signed per the Standard
//! Webhooks convention (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256 of
//! `id.timestamp.body`), POSTed with a timeout and no redirects, retried with growing pauses and
//! jitter, claimed by one instance at a time. Every attempt goes into the delivery log with the
//! response's status. A receiver answering 410 Gone, or failing without a single success for
//! [`DISABLE_AFTER_SECS`], has its endpoint switched off and the workspace's owners are told.
//!
//! Endpoints may not point at private, loopback or link-local addresses (the server's own
//! network) unless the operator allows it: names are resolved by a resolver that drops such
//! addresses, so a name cannot be pointed inside after the check.

mod signature;
mod target;

use std::time::{Duration, Instant};

use portico_store::webhook_delivery::{DueWebhook, NextStep, WebhookOutcome};
use portico_store::{Store, StoreError};
use tokio::sync::watch;

pub use signature::{sign, verify};
pub use target::{PublicOnly, check_literal, is_public};

/// Attempts before a delivery is given up (about a day and a half of retries).
pub const MAX_ATTEMPTS: i64 = 8;
/// The pauses after each failed attempt, in seconds, before jitter: the Standard Webhooks
/// schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
const RETRY_AFTER: [i64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
/// An endpoint failing without a success for this long is switched off.
pub const DISABLE_AFTER_SECS: i64 = 5 * 24 * 3600;
/// Deliveries kept in the log, in seconds.
pub const KEEP_SECS: i64 = 30 * 24 * 3600;
/// The longest one delivery may take, connection included.
const SEND_LIMIT: Duration = Duration::from_secs(10);
/// Deliveries claimed per round.
const BATCH: i64 = 10;
/// How long a claim holds its deliveries: the whole batch at the send limit, with room.
const LEASE_SECS: i64 = 300;
/// Events fanned out per round.
const FAN_OUT: i64 = 200;
/// Pause between rounds when nothing was due.
const POLL: Duration = Duration::from_secs(1);
/// How often the worker looks for endpoints to switch off and old deliveries to forget.
const UPKEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("webhook client: {0}")]
    Client(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The pause after failed attempt `attempts` (1-based), with up to a tenth added at random
/// so that many deliveries failing together do not all come back at once.
pub fn retry_delay_secs(attempts: i64) -> i64 {
    let base = RETRY_AFTER[(attempts - 1).clamp(0, RETRY_AFTER.len() as i64 - 1) as usize];
    base + (base as f64 * 0.1 * rand::random::<f64>()) as i64
}

/// Sends deliveries: an HTTP client that follows no redirect and, unless private addresses are
/// allowed, reaches public ones only.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(allow_private: bool) -> Result<Sender, HookError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(SEND_LIMIT)
            .connect_timeout(SEND_LIMIT)
            .user_agent(concat!("Portico-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            // A proxy would resolve names itself, past the resolver that keeps them public.
            builder = builder
                .dns_resolver(std::sync::Arc::new(target::PublicOnly))
                .no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| HookError::Client(e.to_string()))?;
        Ok(Sender {
            client,
            allow_private,
        })
    }

    /// POSTs one delivery, signed at `at`; the response's status, or why none came.
    async fn post(&self, due: &DueWebhook, at: i64) -> Result<u16, String> {
        let url = url::Url::parse(&due.url).map_err(|e| format!("bad address: {e}"))?;
        if !self.allow_private {
            target::check_literal(&url)?;
        }
        let signature =
            sign(&due.secret, &due.id, at, due.payload.as_bytes()).map_err(|e| e.to_string())?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &due.id)
            .header("webhook-timestamp", at.to_string())
            .header("webhook-signature", signature)
            .body(due.payload.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }
}

/// A transport error as the log shows it: the cause, without the URL's query.
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        format!("no answer within {} s", SEND_LIMIT.as_secs())
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind
    } else {
        format!("{kind}: {cause}")
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub fanned_out: usize,
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

impl Round {
    pub fn busy(&self) -> bool {
        self.fanned_out + self.delivered + self.retried + self.failed > 0
    }
}

/// Fans out recorded events and tries each delivery due at `now` once.
pub async fn deliver_due(store: &Store, sender: &Sender, now: i64) -> Result<Round, HookError> {
    deliver_due_until(store, sender, now, &|| false).await
}

/// [`deliver_due`], giving back the deliveries not yet started once `stop` says so.
pub async fn deliver_due_until(
    store: &Store,
    sender: &Sender,
    now: i64,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Round, HookError> {
    // Time runs from here: the fan-out and the claim count against the lease too.
    let started = Instant::now();
    let mut round = Round::default();
    let mut tx = store.system_unscoped().await?;
    round.fanned_out = tx.fan_out_webhook_events(FAN_OUT).await?;
    tx.commit().await?;

    let token = portico_core::MessageId::new().as_text();
    let lease_until = now + LEASE_SECS;
    let mut tx = store.system_unscoped().await?;
    let due = tx
        .claim_due_webhooks(store, now, lease_until, BATCH, &token)
        .await?;
    // The claim is committed before anything is sent, so that no other instance takes it.
    tx.commit().await?;
    let mut due = due.into_iter();
    while let Some(delivery) = due.next() {
        let at = now + started.elapsed().as_secs() as i64;
        if stop() || lease_until - at < SEND_LIMIT.as_secs() as i64 + 30 {
            let mut tx = store.system_unscoped().await?;
            for unsent in std::iter::once(delivery).chain(due.by_ref()) {
                tx.release_webhook(&unsent.id, &token).await?;
            }
            tx.commit().await?;
            break;
        }
        let sent = Instant::now();
        let answer = sender.post(&delivery, at).await;
        let duration_ms = sent.elapsed().as_millis() as i64;
        let (status, error, next) = match answer {
            Ok(status) if (200..300).contains(&status) => {
                (Some(status), String::new(), NextStep::Delivered)
            }
            Ok(410) => (
                Some(410),
                "the receiver answered 410 Gone: endpoint switched off".to_owned(),
                NextStep::EndpointGone,
            ),
            Ok(status) => (
                Some(status),
                format!("the receiver answered {status}"),
                retry_or_give_up(&delivery, at),
            ),
            Err(error) => (None, error, retry_or_give_up(&delivery, at)),
        };
        match next {
            NextStep::Delivered => round.delivered += 1,
            NextStep::RetryAt(_) => round.retried += 1,
            NextStep::GiveUp | NextStep::EndpointGone => round.failed += 1,
        }
        if next != NextStep::Delivered {
            tracing::warn!(target: "portico::webhooks", id = delivery.id, attempts = delivery.attempts, status, %error, "webhook not delivered");
        }
        let outcome = WebhookOutcome {
            at,
            status: status.map(i64::from),
            error,
            duration_ms,
            next,
        };
        let mut tx = store.system_unscoped().await?;
        let recorded = tx.webhook_attempted(&delivery, &token, &outcome).await?;
        let disabled = if recorded && next == NextStep::EndpointGone {
            tx.disable_webhook_endpoint(
                delivery.workspace_id,
                &delivery.endpoint_id,
                "The receiver answered 410 Gone: it no longer takes these events.",
            )
            .await?
        } else {
            Vec::new()
        };
        for endpoint in &disabled {
            tell_owners(&mut tx, endpoint).await?;
        }
        tx.commit().await?;
        if !recorded {
            tracing::warn!(target: "portico::webhooks", id = delivery.id, "the claim on a delivery ran out before its outcome was recorded");
        }
    }
    Ok(round)
}

fn retry_or_give_up(delivery: &DueWebhook, at: i64) -> NextStep {
    if delivery.attempts >= MAX_ATTEMPTS {
        NextStep::GiveUp
    } else {
        NextStep::RetryAt(at + retry_delay_secs(delivery.attempts))
    }
}

/// Switches off the endpoints failing since before `now - DISABLE_AFTER_SECS`, tells their
/// owners, and forgets deliveries older than [`KEEP_SECS`]. Returns the endpoints switched off.
pub async fn upkeep(store: &Store, now: i64) -> Result<usize, HookError> {
    let mut tx = store.system_unscoped().await?;
    let disabled = tx
        .disable_failing_webhook_endpoints(
            now - DISABLE_AFTER_SECS,
            &format!(
                "Every delivery failed for {} days: switched off.",
                DISABLE_AFTER_SECS / 86_400
            ),
        )
        .await?;
    for endpoint in &disabled {
        tell_owners(&mut tx, endpoint).await?;
    }
    tx.prune_webhook_deliveries(now - KEEP_SECS).await?;
    tx.commit().await?;
    Ok(disabled.len())
}

async fn tell_owners(
    tx: &mut portico_store::SystemTx,
    endpoint: &portico_store::webhook_delivery::DisabledEndpoint,
) -> Result<(), StoreError> {
    tracing::warn!(target: "portico::webhooks", url = endpoint.url, reason = endpoint.reason, "webhook endpoint switched off");
    tx.mail_owners(
        endpoint.workspace_id,
        "A webhook endpoint was switched off",
        &format!(
            "Portico stopped sending events to {url}.\n\n{reason}\n\nNothing more is sent to it \
             until an owner switches it on again (Console → Webhooks), where each delivery's \
             attempts and the receiver's answers are listed; deliveries given up can be sent \
             again from there.\n",
            url = endpoint.url,
            reason = endpoint.reason
        ),
    )
    .await
}

/// Delivers webhooks until `shutdown` turns true: a round at once while work keeps coming, a
/// pause when none was due, and the upkeep every minute.
pub async fn run(store: Store, sender: Sender, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(target: "portico::webhooks", "webhook delivery started");
    let mut last_upkeep: Option<Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        if last_upkeep.is_none_or(|at| at.elapsed() >= UPKEEP_EVERY) {
            last_upkeep = Some(Instant::now());
            if let Err(e) = upkeep(&store, portico_store::now()).await {
                tracing::error!(target: "portico::webhooks", error = %e, "webhook upkeep failed");
            }
        }
        let stopping = shutdown.clone();
        let stop = move || *stopping.borrow();
        let busy = match deliver_due_until(&store, &sender, portico_store::now(), &stop).await {
            Ok(round) => round.busy(),
            Err(e) => {
                tracing::error!(target: "portico::webhooks", error = %e, "webhook delivery round failed");
                false
            }
        };
        if !busy {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay_secs;

    #[test]
    fn retries_follow_the_schedule_with_at_most_a_tenth_more() {
        for (attempt, base) in [(1, 5), (2, 300), (3, 1800), (7, 36_000), (12, 36_000)] {
            let delay = retry_delay_secs(attempt);
            assert!(
                delay >= base && delay <= base + base / 10,
                "{attempt}: {delay}"
            );
        }
    }
}
