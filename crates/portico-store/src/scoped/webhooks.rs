//! Webhooks out (I1), the workspace's side: owners subscribe URLs to its events, read every
//! delivery and attempt, and redeliver by hand; a change that is such an event records it in
//! its own transaction ([`ScopedTx::emit_webhook`]), so a rolled-back change sends nothing. The
//! delivery worker's side (fan-out, signing, retries) is [`crate::webhook_delivery`].

use std::net::IpAddr;

use portico_core::{Action, AuditAction, AuditTarget, CompanyId, WebhookEndpointId};
use serde_json::json;

use crate::scoped::{ScopedTx, fence};
use crate::sql::q;
use crate::{StoreError, now};

/// An event an endpoint may take. The names are the `type` of the payloads sent: never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    TicketCreated,
    TicketUpdated,
    TicketResolved,
    ChangeRequestCreated,
    ChangeRequestDecided,
    ConnectorSyncFailed,
}

impl WebhookEvent {
    pub const ALL: &'static [WebhookEvent] = &[
        WebhookEvent::TicketCreated,
        WebhookEvent::TicketUpdated,
        WebhookEvent::TicketResolved,
        WebhookEvent::ChangeRequestCreated,
        WebhookEvent::ChangeRequestDecided,
        WebhookEvent::ConnectorSyncFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::TicketCreated => "ticket.created",
            WebhookEvent::TicketUpdated => "ticket.updated",
            WebhookEvent::TicketResolved => "ticket.resolved",
            WebhookEvent::ChangeRequestCreated => "change_request.created",
            WebhookEvent::ChangeRequestDecided => "change_request.decided",
            WebhookEvent::ConnectorSyncFailed => "connector.sync_failed",
        }
    }

    pub fn parse(text: &str) -> Option<WebhookEvent> {
        Self::ALL.iter().copied().find(|e| e.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::TicketCreated => "A ticket is raised",
            WebhookEvent::TicketUpdated => "A ticket changes (a reply, a note, its status, …)",
            WebhookEvent::TicketResolved => "A ticket is resolved",
            WebhookEvent::ChangeRequestCreated => "A change request is made",
            WebhookEvent::ChangeRequestDecided => "A change request is approved or declined",
            WebhookEvent::ConnectorSyncFailed => "A connector's sync of a company fails",
        }
    }

    /// The event an audited change is, if any: every ticket and change-request change passes
    /// through the audit log, so none can be left out.
    pub(crate) fn of_audited(action: AuditAction, target_kind: &str) -> Option<WebhookEvent> {
        match (action, target_kind) {
            (AuditAction::TicketCreated, "ticket") => Some(WebhookEvent::TicketCreated),
            (
                AuditAction::TicketReplied
                | AuditAction::TicketNoteAdded
                | AuditAction::TicketUpdated,
                "ticket",
            ) => Some(WebhookEvent::TicketUpdated),
            (AuditAction::ChangeRequested, "change_request") => {
                Some(WebhookEvent::ChangeRequestCreated)
            }
            (AuditAction::ChangeDecided, "change_request") => {
                Some(WebhookEvent::ChangeRequestDecided)
            }
            _ => None,
        }
    }
}

/// Every signing secret begins so (the Standard Webhooks convention): the rest is base64.
pub const SECRET_PREFIX: &str = "whsec_";

/// An endpoint as the owners' list shows it (never its secret).
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
    pub disabled_reason: String,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    /// Deliveries not yet delivered nor given up.
    pub pending: i64,
}

struct EndpointRow {
    id: String,
    url: String,
    description: String,
    events: String,
    enabled: bool,
    disabled_reason: String,
    failing_since: Option<i64>,
    created_at: i64,
    pending: i64,
}
crate::sql::db_row!(EndpointRow {
    id,
    url,
    description,
    events,
    enabled,
    disabled_reason,
    failing_since,
    created_at,
    pending
});

impl EndpointRow {
    fn into_endpoint(self) -> WebhookEndpoint {
        WebhookEndpoint {
            events: parse_events(&self.events),
            id: WebhookEndpointId::from_stored(&self.id),
            url: self.url,
            description: self.description,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since,
            created_at: self.created_at,
            pending: self.pending,
        }
    }
}

pub(crate) fn parse_events(text: &str) -> Vec<WebhookEvent> {
    text.split_whitespace()
        .filter_map(WebhookEvent::parse)
        .collect()
}

/// One delivery of an event to an endpoint, with its attempts.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    pub id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

struct DeliveryRow {
    id: String,
    event_type: String,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_status: Option<i64>,
    last_error: String,
    created_at: i64,
    delivered_at: Option<i64>,
}
crate::sql::db_row!(DeliveryRow {
    id,
    event_type,
    state,
    attempts,
    next_attempt_at,
    last_status,
    last_error,
    created_at,
    delivered_at
});

/// One attempt at a delivery, as the log shows it.
#[derive(Debug, Clone)]
pub struct WebhookAttempt {
    pub delivery_id: String,
    pub attempt: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub error: String,
    pub duration_ms: i64,
}
crate::sql::db_row!(WebhookAttempt {
    delivery_id,
    attempt,
    at,
    status,
    error,
    duration_ms
});

/// A new endpoint as an owner typed it.
pub struct NewWebhookEndpoint<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub events: Vec<WebhookEvent>,
}

/// Endpoints a workspace may have: each event is copied to each, and one worker sends them.
pub const MAX_ENDPOINTS: usize = 20;

/// Deliveries shown per endpoint page.
pub const DELIVERIES_SHOWN: i64 = 50;

/// The context a secret is sealed for: its workspace and endpoint.
pub(crate) fn secret_context(workspace: &str, endpoint: &str) -> String {
    format!("webhook:{workspace}:{endpoint}")
}

/// Checks an endpoint's URL: absolute http(s), no credentials, no fragment; https unless the
/// host is a loopback address (a receiver on the same machine). Where it may point (a private
/// address) is checked again at every delivery, where names are resolved.
pub fn check_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|_| "Enter the endpoint's full address, starting with https://.".to_owned())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => return Err("The address names no host.".to_owned()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(
                "The address must start with https:// (payloads are signed, not encrypted)."
                    .to_owned(),
            );
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Leave credentials out of the address: the signature proves who sends.".to_owned(),
        );
    }
    if url.fragment().is_some() {
        return Err("The address may not have a #fragment.".to_owned());
    }
    if text.trim().len() > 2000 {
        return Err("The address is too long (at most 2,000 characters).".to_owned());
    }
    Ok(url)
}

/// A new signing secret: `whsec_` and 24 random bytes in base64 (192 bits).
fn new_secret() -> String {
    use base64::Engine as _;
    let bytes: [u8; 24] = rand::random();
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

impl ScopedTx<'_> {
    /// The workspace's endpoints, newest first, with how many deliveries each has waiting.
    pub async fn webhook_endpoints(&mut self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.scope.may(Action::ManageWebhooks)?;
        let mut query = self.select(
            "e.id, e.url, e.description, e.events, e.enabled, e.disabled_reason, e.failing_since, \
             e.created_at, (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.workspace_id = e.workspace_id \
             AND d.endpoint_id = e.id AND d.state IN ('queued', 'sending')) AS pending",
            &fence::WEBHOOK_ENDPOINTS,
            "e",
        );
        query.sql(" ORDER BY e.created_at DESC, e.id DESC");
        let rows: Vec<EndpointRow> = self.tx.all(query).await?;
        Ok(rows.into_iter().map(EndpointRow::into_endpoint).collect())
    }

    /// One endpoint of the workspace.
    pub async fn webhook_endpoint(
        &mut self,
        id: WebhookEndpointId,
    ) -> Result<WebhookEndpoint, StoreError> {
        self.webhook_endpoints()
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Subscribes a URL to events and returns the endpoint's id and its signing secret: the
    /// only time the secret is ever shown.
    pub async fn create_webhook_endpoint(
        &mut self,
        new: &NewWebhookEndpoint<'_>,
    ) -> Result<(WebhookEndpointId, String), StoreError> {
        self.scope.may(Action::ManageWebhooks)?;
        let portico_core::Actor::Staff(owner) = self.scope.actor() else {
            return Err(StoreError::Forbidden);
        };
        let mut errors = Vec::new();
        let url = match check_url(new.url) {
            Ok(url) => Some(url),
            Err(message) => {
                errors.push(("url".to_owned(), message));
                None
            }
        };
        let description = new.description.trim();
        if description.chars().count() > 200 || description.chars().any(char::is_control) {
            errors.push((
                "description".to_owned(),
                "Describe the endpoint in at most 200 characters, on one line.".to_owned(),
            ));
        }
        if self.webhook_endpoints().await?.len() >= MAX_ENDPOINTS {
            errors.push((
                "url".to_owned(),
                format!(
                    "A workspace has at most {MAX_ENDPOINTS} endpoints: remove one first (one \
                     endpoint can take every event)."
                ),
            ));
        }
        if new.events.is_empty() {
            errors.push((
                "events".to_owned(),
                "Choose at least one event to send.".to_owned(),
            ));
        }
        let (Some(url), true) = (url, errors.is_empty()) else {
            return Err(StoreError::InvalidFields(errors));
        };
        let id = WebhookEndpointId::new();
        let secret = new_secret();
        let workspace = self.scope.workspace();
        let sealed = self.audit.sealer().seal(
            &secret_context(&workspace.as_text(), &id.as_text()),
            secret.as_bytes(),
        );
        let events = events_text(&new.events);
        self.tx
            .exec(q!(
                "INSERT INTO webhook_endpoints (id, workspace_id, url, description, events, secret_sealed, \
                 created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                id,
                workspace,
                url.as_str(),
                description,
                &events,
                sealed,
                owner,
                now()
            ))
            .await?;
        self.refresh_webhook_subscriptions().await?;
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("webhook_endpoint", id, url.as_str()),
            &format!("webhook endpoint added for {events}"),
        )
        .await?;
        Ok((id, secret))
    }

    /// Switches an endpoint on or off. Switched on again, it starts afresh: its failures are
    /// forgotten, and deliveries given up while it was failing stay given up (redeliver them by
    /// hand).
    pub async fn set_webhook_endpoint_enabled(
        &mut self,
        id: WebhookEndpointId,
        enabled: bool,
    ) -> Result<(), StoreError> {
        let endpoint = self.webhook_endpoint(id).await?;
        let mut query = self.update(&fence::WEBHOOK_ENDPOINTS, |set| {
            set.sql("enabled = ")
                .arg(enabled)
                .sql(", disabled_reason = '', failing_since = NULL");
        });
        query.sql(" AND id = ").arg(id);
        self.tx.exec(query).await?;
        self.refresh_webhook_subscriptions().await?;
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("webhook_endpoint", id, endpoint.url),
            if enabled {
                "webhook endpoint switched on"
            } else {
                "webhook endpoint switched off"
            },
        )
        .await
    }

    /// Removes an endpoint with its deliveries and their log.
    pub async fn delete_webhook_endpoint(
        &mut self,
        id: WebhookEndpointId,
    ) -> Result<(), StoreError> {
        let endpoint = self.webhook_endpoint(id).await?;
        // The log first: the attempts' own fence holds only the workspace.
        let mut attempts = self.delete(&fence::WEBHOOK_ATTEMPTS);
        attempts
            .sql(" AND delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ")
            .arg(id)
            .sql(")");
        self.tx.exec(attempts).await?;
        let mut deliveries = self.delete(&fence::WEBHOOK_DELIVERIES);
        deliveries.sql(" AND endpoint_id = ").arg(id);
        self.tx.exec(deliveries).await?;
        let mut query = self.delete(&fence::WEBHOOK_ENDPOINTS);
        query.sql(" AND id = ").arg(id);
        self.tx.exec(query).await?;
        self.refresh_webhook_subscriptions().await?;
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("webhook_endpoint", id, endpoint.url),
            "webhook endpoint removed",
        )
        .await
    }

    /// An endpoint's latest deliveries, newest first, and the attempts of each.
    pub async fn webhook_deliveries(
        &mut self,
        endpoint: WebhookEndpointId,
    ) -> Result<Vec<(WebhookDelivery, Vec<WebhookAttempt>)>, StoreError> {
        self.webhook_endpoint(endpoint).await?;
        let mut query = self.select(
            "d.id, d.event_type, d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error, \
             d.created_at, d.delivered_at",
            &fence::WEBHOOK_DELIVERIES,
            "d",
        );
        query
            .sql(" AND d.endpoint_id = ")
            .arg(endpoint)
            .sql(" ORDER BY d.created_at DESC, d.id DESC LIMIT ")
            .arg(DELIVERIES_SHOWN);
        let rows: Vec<DeliveryRow> = self.tx.all(query).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut query = self.select(
            "a.delivery_id, a.attempt, a.at, a.status, a.error, a.duration_ms",
            &fence::WEBHOOK_ATTEMPTS,
            "a",
        );
        query
            .sql(" AND ")
            .in_list("a.delivery_id", &ids)
            .sql(" ORDER BY a.attempt");
        let attempts: Vec<WebhookAttempt> = self.tx.all(query).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mine = attempts
                    .iter()
                    .filter(|a| a.delivery_id == r.id)
                    .cloned()
                    .collect();
                (
                    WebhookDelivery {
                        id: r.id,
                        event_type: r.event_type,
                        state: r.state,
                        attempts: r.attempts,
                        next_attempt_at: r.next_attempt_at,
                        last_status: r.last_status,
                        last_error: r.last_error,
                        created_at: r.created_at,
                        delivered_at: r.delivered_at,
                    },
                    mine,
                )
            })
            .collect())
    }

    /// Sends a delivery again, as soon as the worker comes to it: the same id and payload, so
    /// that a receiver that did get it can tell. A delivery being sent is left to finish.
    pub async fn redeliver_webhook(
        &mut self,
        endpoint: WebhookEndpointId,
        delivery: &str,
    ) -> Result<(), StoreError> {
        let found = self.webhook_endpoint(endpoint).await?;
        let mut query = self.update(&fence::WEBHOOK_DELIVERIES, |set| {
            set.sql("state = 'queued', next_attempt_at = ").arg(now());
        });
        query
            .sql(" AND endpoint_id = ")
            .arg(endpoint)
            .sql(" AND id = ")
            .arg(delivery)
            .sql(" AND state <> 'sending'");
        if self.tx.exec(query).await? == 0 {
            return Err(StoreError::NotFound);
        }
        self.audit(
            AuditAction::SettingsChanged,
            None,
            AuditTarget::new("webhook_endpoint", endpoint, found.url),
            &format!("webhook delivery {delivery} sent again by hand"),
        )
        .await
    }

    /// Keeps the workspace's list of events some enabled endpoint takes, which changes consult
    /// before recording an event (a workspace without webhooks pays one read, no write).
    async fn refresh_webhook_subscriptions(&mut self) -> Result<(), StoreError> {
        let mut query = self.select("e.events", &fence::WEBHOOK_ENDPOINTS, "e");
        query.sql(" AND e.enabled");
        let rows: Vec<(String,)> = self.tx.all(query).await?;
        let mut update = self.update(&fence::WORKSPACES, |set| {
            set.sql("webhook_events = ").arg(taken_events(&rows));
        });
        update.sql(" AND id = ").arg(self.scope.workspace());
        self.tx.exec(update).await?;
        Ok(())
    }

    /// Records that this transaction's change is `event` (when some endpoint takes it): the
    /// payload is written now, from the record as the change left it, and sent after commit.
    pub(crate) async fn emit_webhook(
        &mut self,
        event: WebhookEvent,
        company: Option<CompanyId>,
        target: &AuditTarget,
        action: AuditAction,
        detail: &str,
    ) -> Result<(), StoreError> {
        let key = (event, target.id.clone());
        if self.webhooks_emitted.contains(&key) {
            return Ok(());
        }
        self.webhooks_emitted.push(key);
        let (subscribed,): (String,) = self
            .tx
            .one(q!(
                "SELECT webhook_events FROM workspaces WHERE id = $1",
                self.scope.workspace()
            ))
            .await?;
        if !subscribed.split_whitespace().any(|e| e == event.as_str()) {
            return Ok(());
        }
        let record = match event {
            WebhookEvent::TicketCreated
            | WebhookEvent::TicketUpdated
            | WebhookEvent::TicketResolved => self.ticket_payload(&target.id).await?,
            WebhookEvent::ChangeRequestCreated | WebhookEvent::ChangeRequestDecided => {
                self.change_request_payload(&target.id).await?
            }
            // Sent by the connector worker (`crate::webhook_delivery`), never for a change.
            WebhookEvent::ConnectorSyncFailed => return Ok(()),
        };
        let by = match self.scope.actor() {
            portico_core::Actor::Staff(_) => "staff",
            portico_core::Actor::Portal(_) => "client",
        };
        let payload = json!({
            "type": event.as_str(),
            "timestamp": rfc3339(now()),
            "data": {
                "object": record,
                "change": {
                    "action": action.as_str(),
                    "summary": detail,
                    "by": { "kind": by, "name": self.scope.actor_name() },
                },
            },
        });
        self.tx
            .exec(q!(
                "INSERT INTO webhook_events (id, workspace_id, company_id, type, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                // Time-ordered (UUIDv7, monotonic within the process): events of one
                // transaction are sent in the order they happened.
                format!("evt_{}", portico_core::MessageId::new()),
                self.scope.workspace(),
                company,
                event.as_str(),
                payload.to_string(),
                now()
            ))
            .await?;
        Ok(())
    }

    /// A ticket as a payload carries it: what identifies and summarises it, never a message.
    async fn ticket_payload(&mut self, id: &str) -> Result<serde_json::Value, StoreError> {
        let mut ticket = self
            .ticket_summary(portico_core::TicketId::from_stored(id))
            .await?;
        // The payload goes to the MSP's own endpoints, so it names who works the ticket
        // whoever made the change. A client's transaction sees no staff on PostgreSQL (the
        // row-level policy), so there the name is read as the system role, inside the fence.
        if let (None, Some(assignee)) = (&ticket.assignee_name, ticket.assignee_id) {
            let mut query = self.select("a.name", &fence::STAFF_USERS, "a");
            query.sql(" AND a.id = ").arg(assignee);
            if let Some(system) = &mut self.system {
                let name: Option<(String,)> = system.optional(query).await?;
                ticket.assignee_name = name.map(|(name,)| name);
            }
        }
        Ok(json!({
            "object": "ticket",
            "id": ticket.id.to_string(),
            "number": ticket.number,
            "title": ticket.title,
            "status": ticket.status.as_str(),
            "priority": ticket.priority.as_str(),
            "category": ticket.category,
            "requester": ticket.requester_name,
            "assignee": ticket.assignee_name,
            "company": { "id": ticket.company_id.to_string(), "name": ticket.company_name },
        }))
    }

    /// A change request as a payload carries it.
    async fn change_request_payload(&mut self, id: &str) -> Result<serde_json::Value, StoreError> {
        let change = self
            .changed_request(portico_core::ChangeRequestId::from_stored(id))
            .await?;
        Ok(json!({
            "object": "change_request",
            "id": change.id.to_string(),
            "kind": change.kind.as_str(),
            "title": change.title,
            "status": change.status.as_str(),
            "about": change.target_label,
            "requested_by": change.requester_name,
            "company": { "id": change.company_id.to_string(), "name": change.company_name },
        }))
    }
}

/// The events some endpoint takes, from the enabled endpoints' lists: each once, in order.
pub(crate) fn taken_events(endpoints: &[(String,)]) -> String {
    let mut events: Vec<WebhookEvent> = endpoints
        .iter()
        .flat_map(|(text,)| parse_events(text))
        .collect();
    events.sort_by_key(|e| e.as_str());
    events.dedup();
    events_text(&events)
}

fn events_text(events: &[WebhookEvent]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Unix seconds as RFC 3339 in UTC (the payload's `timestamp`).
pub(crate) fn rfc3339(at: i64) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
