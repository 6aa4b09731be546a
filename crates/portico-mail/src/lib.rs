//! Mail delivery. Every mail is queued in the database's outbox in the same transaction as the
//! change it tells of; this crate sends it over SMTP: claimed by one instance at a time (so that
//! several instances never send a mail twice), dressed in the workspace's brand (an HTML part
//! with its name, colour and logo, and the plain text beside it), retried with growing pauses
//! and given up after [`MAX_ATTEMPTS`] or at a permanent refusal, the outcome kept on the
//! console's outbox page. Without SMTP configured the outbox is only recorded (the demo).

mod compose;
mod config;

use std::collections::HashMap;
use std::time::Duration;

use lettre::{AsyncTransport, Message};
use portico_core::WorkspaceId;
use portico_store::delivery::{DueMail, MailBrand};
use portico_store::{Store, StoreError};
use tokio::sync::watch;

pub use compose::compose;
pub use config::{MailConfig, Security};

/// Attempts before a mail is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// Mail not delivered within this many seconds is given up: its links (resets, invitations)
/// would be stale by then, and its news old.
pub const MAX_AGE_SECS: i64 = 3 * 24 * 3600;
/// Mails claimed per round: few, so that a slow server cannot outlast the lease.
const BATCH: i64 = 5;
/// The longest one mail may take to send, every SMTP exchange included.
const SEND_LIMIT: Duration = Duration::from_secs(60);
/// How long a claim holds its mails: a whole batch at the send limit, with room to spare. A
/// mail is given back rather than started when its lease could run out before it is done.
const LEASE_SECS: i64 = 600;
/// Pause between rounds when nothing was due.
const POLL: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The pause before attempt `attempts + 1`: a minute, doubling, at most an hour.
pub fn retry_delay_secs(attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 6) as u32;
    (60 * 2i64.pow(doublings)).min(3600)
}

/// An SMTP connection as configured.
#[derive(Clone)]
pub struct Mailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    config: MailConfig,
}

impl Mailer {
    pub fn new(config: MailConfig) -> Result<Mailer, MailError> {
        let transport = config.transport()?;
        Ok(Mailer { transport, config })
    }

    pub fn config(&self) -> &MailConfig {
        &self.config
    }
}

/// What one round of delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

impl Round {
    pub fn claimed(&self) -> usize {
        self.sent + self.retried + self.failed
    }
}

/// Claims the mail due at `now` and tries to send each once.
pub async fn deliver_due(store: &Store, mailer: &Mailer, now: i64) -> Result<Round, MailError> {
    deliver_due_until(store, mailer, now, &|| false).await
}

/// [`deliver_due`], giving back the mails not yet started once `stop` says so, so that a
/// stopping instance never leaves a mail sent but unrecorded for long, nor holds mail it will
/// not send.
pub async fn deliver_due_until(
    store: &Store,
    mailer: &Mailer,
    now: i64,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Round, MailError> {
    let token = portico_core::MessageId::new().as_text();
    let lease_until = now + LEASE_SECS;
    let mut tx = store.system_unscoped().await?;
    let due = tx.claim_due_mail(now, lease_until, BATCH, &token).await?;
    // The claim is committed before anything is sent, so that no other instance takes it.
    tx.commit().await?;
    let started = std::time::Instant::now();
    let mut round = Round::default();
    let mut brands: HashMap<WorkspaceId, MailBrand> = HashMap::new();
    let mut due = due.into_iter();
    while let Some(mail) = due.next() {
        // Time as it goes on within the round (from `now`, which tests move on).
        let at = now + started.elapsed().as_secs() as i64;
        let lease_left = lease_until - at;
        if stop() || lease_left < SEND_LIMIT.as_secs() as i64 + 30 {
            let mut tx = store.system_unscoped().await?;
            for unsent in std::iter::once(mail).chain(due.by_ref()) {
                tx.release_mail(&unsent.id, &token).await?;
            }
            tx.commit().await?;
            break;
        }
        let outcome = if at - mail.created_at > MAX_AGE_SECS {
            Err((
                format!(
                    "not delivered within {} days; not sent",
                    MAX_AGE_SECS / 86_400
                ),
                true,
            ))
        } else {
            send(store, mailer, &mut brands, &mail).await
        };
        let mut tx = store.system_unscoped().await?;
        let recorded = match outcome {
            Ok(()) => {
                round.sent += 1;
                tx.mail_sent(&mail.id, &token, portico_store::now()).await?
            }
            Err((error, permanent)) => {
                let last = permanent || mail.attempts >= MAX_ATTEMPTS;
                let retry_at = (!last).then(|| at + retry_delay_secs(mail.attempts));
                tracing::warn!(
                    target: "portico::mail",
                    id = mail.id,
                    attempts = mail.attempts,
                    given_up = last,
                    %error,
                    "mail not delivered"
                );
                if last {
                    round.failed += 1;
                } else {
                    round.retried += 1;
                }
                tx.mail_attempt_failed(&mail.id, &token, &error, retry_at)
                    .await?
            }
        };
        tx.commit().await?;
        if !recorded {
            tracing::warn!(target: "portico::mail", id = mail.id, "the claim on a mail ran out before its outcome was recorded");
        }
    }
    Ok(round)
}

/// Sends one mail; on failure, the error and whether retrying is pointless.
async fn send(
    store: &Store,
    mailer: &Mailer,
    brands: &mut HashMap<WorkspaceId, MailBrand>,
    mail: &DueMail,
) -> Result<(), (String, bool)> {
    let brand = match brands.get(&mail.workspace_id) {
        Some(brand) => brand.clone(),
        None => {
            let brand = load_brand(store, mail.workspace_id)
                .await
                .map_err(|e| (e.to_string(), false))?;
            brands.insert(mail.workspace_id, brand.clone());
            brand
        }
    };
    let message: Message =
        compose(&brand, mailer.config(), mail).map_err(|e| (e.to_string(), true))?;
    match tokio::time::timeout(SEND_LIMIT, mailer.transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err((e.to_string(), e.is_permanent())),
        Err(_) => Err((
            format!("no answer within {} s", SEND_LIMIT.as_secs()),
            false,
        )),
    }
}

async fn load_brand(store: &Store, workspace: WorkspaceId) -> Result<MailBrand, StoreError> {
    let mut tx = store.system_unscoped().await?;
    let brand = tx.mail_brand(workspace).await?;
    tx.commit().await?;
    Ok(brand)
}

/// Delivers mail until `shutdown` turns true: a round at once while mail keeps coming, a pause
/// when none was due.
pub async fn run(store: Store, mailer: Mailer, mut shutdown: watch::Receiver<bool>) {
    tracing::info!(target: "portico::mail", server = %mailer.config().describe(), "mail delivery started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let stopping = shutdown.clone();
        let stop = move || *stopping.borrow();
        let busy = match deliver_due_until(&store, &mailer, portico_store::now(), &stop).await {
            Ok(round) => round.claimed() > 0,
            Err(e) => {
                tracing::error!(target: "portico::mail", error = %e, "mail delivery round failed");
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
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let delays: Vec<i64> = (1..=9).map(retry_delay_secs).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
