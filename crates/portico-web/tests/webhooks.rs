//! Webhooks out (I1) end to end: an owner subscribes a receiver (a real HTTP server on
//! 127.0.0.1), a client's change becomes a signed delivery that the Standard Webhooks check
//! accepts, failures are retried with the same id and kept in the delivery log, a receiver
//! answering 410 or failing for days gets its endpoint switched off with a mail to the owners,
//! a delivery is sent again by hand, a rolled-back change sends nothing, and private addresses
//! are refused unless allowed. On SQLite, and on PostgreSQL when PORTICO_TEST_POSTGRES_URL is set.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use common::{CONSOLE, TestApp, Who};
use portico_hooks::{DISABLE_AFTER_SECS, Sender, deliver_due, upkeep, verify};
use portico_store::now;

/// What the receiver got, and the statuses it answers with in turn (then 200).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    /// Starts the receiver on loopback; returns its URL.
    async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let me = me.clone();
                async move {
                    me.got.lock().unwrap().push((headers, body));
                    let status = me.answers.lock().unwrap().pop_front().unwrap_or(200);
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://127.0.0.1:{port}/hook")
    }

    fn got(&self) -> Vec<(HeaderMap, String)> {
        self.got.lock().unwrap().clone()
    }
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Subscribes `url` to `events` as the owner; returns the secret the page shows once.
async fn subscribe(app: &TestApp, url: &str, events: &[&str]) -> String {
    let mut form = vec![("url", url), ("description", "Team chat")];
    form.extend(events.iter().map(|e| ("events", *e)));
    let created = app.post_as(Who::Owner, "/settings/webhooks", &form).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        created.headers.get("cache-control").unwrap(),
        "no-store",
        "the page with the secret is not kept"
    );
    let at = created.body.find("whsec_").expect("the secret, shown once");
    let rest = &created.body[at..];
    rest[..rest.find('<').unwrap()].to_owned()
}

/// The member replies on their own ticket (a `ticket.updated` event).
async fn member_replies(app: &TestApp, body: &str) {
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let reply = app
        .post_as(
            Who::Member,
            &format!("/tickets/{ticket}/replies"),
            &[("body", body)],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
}

fn endpoint_id(page: &str) -> String {
    let at = page.find("/settings/webhooks/log?endpoint=").unwrap();
    let rest = &page[at + "/settings/webhooks/log?endpoint=".len()..];
    rest[..36].to_owned()
}

#[tokio::test]
async fn a_clients_reply_reaches_the_receiver_signed_and_retried_until_it_answers() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    // Refused, keeping what was typed: no event chosen, an address that is not https.
    let refused = app
        .post_as(
            Who::Owner,
            "/settings/webhooks",
            &[("url", "ftp://example.com/x"), ("description", "Kept")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"ftp://example.com/x\""));
    assert!(refused.body.contains("value=\"Kept\""));
    assert!(refused.body.contains("Choose at least one event"));
    assert!(refused.body.contains("must start with https://"));
    let secret = subscribe(&app, &url, &["ticket.updated", "ticket.resolved"]).await;
    // Nobody else manages them.
    for who in [Who::TechnicianAssigned, Who::Billing] {
        assert_eq!(app.get_as(who, "/settings/webhooks").await.status, 403);
    }
    let list = app.get_as(Who::Owner, "/settings/webhooks").await;
    assert!(list.body.contains(&url));
    assert!(
        !list.body.contains(&secret),
        "the secret is shown once only"
    );
    let endpoint = endpoint_id(&list.body);

    // A client's reply to a ticket a technician works, and the receiver answering 500 first.
    receiver.answers.lock().unwrap().push_back(500);
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.assign_ticket(app.fx.ws1, ticket, app.fx.staff(Who::TechnicianAssigned))
        .await
        .unwrap();
    sys.commit().await.unwrap();
    let reply = app
        .post_as(
            Who::Member,
            &format!("/tickets/{ticket}/replies"),
            &[("body", "WEBHOOK-REPLY-TEXT: the printer is on fire")],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let sender = Sender::new(true).unwrap();
    let t0 = now();
    let round = deliver_due(app.store(), &sender, t0).await.unwrap();
    assert_eq!((round.fanned_out, round.retried), (1, 1), "{round:?}");
    // Not due again before its pause.
    let round = deliver_due(app.store(), &sender, t0 + 1).await.unwrap();
    assert_eq!(round.delivered + round.retried, 0);
    let round = deliver_due(app.store(), &sender, t0 + 10).await.unwrap();
    assert_eq!(round.delivered, 1, "{round:?}");

    let got = receiver.got();
    assert_eq!(got.len(), 2);
    let (headers, body) = &got[1];
    let id = header(headers, "webhook-id");
    assert_eq!(
        id,
        header(&got[0].0, "webhook-id"),
        "the same id at every attempt"
    );
    let timestamp: i64 = header(headers, "webhook-timestamp").parse().unwrap();
    assert!((timestamp - (t0 + 10)).abs() <= 2);
    assert!(verify(
        &secret,
        &id,
        timestamp,
        body.as_bytes(),
        &header(headers, "webhook-signature")
    ));
    assert!(!verify(
        &secret,
        &id,
        timestamp + 1,
        body.as_bytes(),
        &header(headers, "webhook-signature")
    ));
    assert_eq!(header(headers, "content-type"), "application/json");
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["type"], "ticket.updated");
    assert_eq!(payload["data"]["object"]["id"], ticket.to_string());
    assert_eq!(payload["data"]["change"]["action"], "ticket_replied");
    assert_eq!(payload["data"]["change"]["by"]["kind"], "client");
    // The payload is the MSP's: it names who works the ticket, though a client made the change.
    assert_eq!(payload["data"]["object"]["assignee"], "tech-a@msp.test");
    // What was written stays in Portico: a payload names the change, never a message.
    assert!(!body.contains("WEBHOOK-REPLY-TEXT"));

    // The delivery log shows both attempts and their answers.
    let log = app
        .get_as(
            Who::Owner,
            &format!("/settings/webhooks/log?endpoint={endpoint}"),
        )
        .await;
    assert_eq!(log.status, 200);
    assert!(log.body.contains("<strong>500</strong>"));
    assert!(log.body.contains("<strong>200</strong>"));
    assert!(log.body.contains("Delivered"));

    // Sent again by hand: the same id once more.
    let again = app
        .post_as(
            Who::Owner,
            "/settings/webhooks/redeliver",
            &[("endpoint", &endpoint), ("delivery", &id)],
        )
        .await;
    assert_eq!(again.status, 303);
    deliver_due(app.store(), &sender, now() + 20).await.unwrap();
    let got = receiver.got();
    assert_eq!(got.len(), 3);
    assert_eq!(header(&got[2].0, "webhook-id"), id);

    // Resolving is one resolved event beside the update (the endpoint takes both).
    let resolved = app
        .post_as(Who::Member, &format!("/tickets/{ticket}/resolve"), &[])
        .await;
    assert_eq!(resolved.status, 303, "{}", resolved.body);
    deliver_due(app.store(), &sender, now() + 30).await.unwrap();
    let types: Vec<String> = receiver.got()[3..]
        .iter()
        .map(|(_, b)| serde_json::from_str::<serde_json::Value>(b).unwrap()["type"].to_string())
        .collect();
    assert_eq!(types, ["\"ticket.updated\"", "\"ticket.resolved\""]);

    // An unknown endpoint is not found.
    let missing = app
        .get_as(
            Who::Owner,
            &format!(
                "/settings/webhooks/log?endpoint={}",
                portico_core::WebhookEndpointId::new()
            ),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn a_refused_change_and_an_event_not_taken_send_nothing() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    subscribe(&app, &url, &["ticket.created"]).await;
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    // An empty reply is refused (rolled back); a reply is an update, which this endpoint does
    // not take.
    let empty = app
        .post_as(
            Who::Member,
            &format!("/tickets/{ticket}/replies"),
            &[("body", "")],
        )
        .await;
    assert_eq!(empty.status, 422);
    let reply = app
        .post_as(
            Who::Member,
            &format!("/tickets/{ticket}/replies"),
            &[("body", "Any news?")],
        )
        .await;
    assert_eq!(reply.status, 303);
    let sender = Sender::new(true).unwrap();
    let round = deliver_due(app.store(), &sender, now()).await.unwrap();
    assert_eq!(round.fanned_out, 0);
    assert!(receiver.got().is_empty());
}

#[tokio::test]
async fn a_gone_or_failing_receiver_is_switched_off_and_the_owners_told() {
    let app = TestApp::spawn().await;
    let gone = Receiver::default();
    let gone_url = gone.start().await;
    gone.answers.lock().unwrap().push_back(410);
    subscribe(&app, &gone_url, &["ticket.updated"]).await;
    let failing = Receiver::default();
    let failing_url = failing.start().await;
    failing
        .answers
        .lock()
        .unwrap()
        .extend(std::iter::repeat_n(503, 20));
    subscribe(&app, &failing_url, &["ticket.updated"]).await;

    member_replies(&app, "Hello?").await;
    let sender = Sender::new(true).unwrap();
    let t0 = now();
    let round = deliver_due(app.store(), &sender, t0).await.unwrap();
    assert_eq!(round.fanned_out, 2);
    assert_eq!((round.failed, round.retried), (1, 1), "{round:?}");
    let page = app.get_as(Who::Owner, "/settings/webhooks").await;
    assert!(page.body.contains("410 Gone"), "{}", page.body);
    assert!(page.body.contains("failing since"));
    let mail = {
        let mut sys = app.store().system_unscoped().await.unwrap();
        let mail = sys.latest_mail_to("owner@msp.test").await.unwrap();
        sys.commit().await.unwrap();
        mail.unwrap()
    };
    assert!(mail.contains(&gone_url), "{mail}");

    // Failing for days without one success: switched off at the upkeep, the owners told.
    assert_eq!(upkeep(app.store(), t0 + 3600).await.unwrap(), 0);
    assert_eq!(
        upkeep(app.store(), t0 + DISABLE_AFTER_SECS + 60)
            .await
            .unwrap(),
        1
    );
    let page = app.get_as(Who::Owner, "/settings/webhooks").await;
    assert!(page.body.contains("Every delivery failed for 5 days"));
    // Switched off, nothing more is sent to it, however long.
    let before = failing.got().len();
    deliver_due(app.store(), &sender, t0 + 30 * 86_400)
        .await
        .unwrap();
    assert_eq!(failing.got().len(), before);
    // Switched on again by an owner, it starts afresh.
    let endpoint = {
        let at = page.body.find(&failing_url).unwrap();
        endpoint_id(&page.body[at - 120..])
    };
    let on = app
        .post_as(
            Who::Owner,
            "/settings/webhooks/switch",
            &[("endpoint", &endpoint), ("enabled", "1")],
        )
        .await;
    assert_eq!(on.status, 303);
    let page = app.get_as(Who::Owner, "/settings/webhooks").await;
    assert!(!page.body.contains("Every delivery failed for 5 days"));
    // Removed with its log.
    let removed = app
        .post_as(
            Who::Owner,
            "/settings/webhooks/delete",
            &[("endpoint", &endpoint)],
        )
        .await;
    assert_eq!(removed.status, 303);
    let page = app.get_as(Who::Owner, "/settings/webhooks").await;
    assert!(!page.body.contains(&failing_url));
    let _ = CONSOLE;
}

#[tokio::test]
async fn a_private_address_is_refused_unless_allowed() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    subscribe(&app, &url, &["ticket.updated"]).await;
    member_replies(&app, "Hello?").await;
    let strict = Sender::new(false).unwrap();
    let round = deliver_due(app.store(), &strict, now()).await.unwrap();
    assert_eq!(round.retried, 1);
    assert!(receiver.got().is_empty());
    let page = app.get_as(Who::Owner, "/settings/webhooks").await;
    let log = app
        .get_as(
            Who::Owner,
            &format!(
                "/settings/webhooks/log?endpoint={}",
                endpoint_id(&page.body)
            ),
        )
        .await;
    assert!(
        log.body.contains("private or reserved address"),
        "{}",
        log.body
    );
}

#[tokio::test]
async fn change_requests_made_and_decided_are_events() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    subscribe(
        &app,
        &url,
        &["change_request.created", "change_request.decided"],
    )
    .await;
    let asset = app.fx.assets[0].to_string();
    let raised = app
        .post_as(
            Who::ClientAdmin,
            "/changes",
            &[
                ("kind", "update"),
                ("target", "asset"),
                ("target_id", &asset),
                ("title", "Move the laptop to Dana"),
                ("details", "Dana starts Monday."),
            ],
        )
        .await;
    assert_eq!(raised.status, 303, "{}", raised.body);
    let change = raised.location()["/changes/".len()..][..36].to_owned();
    let decided = app
        .post_as(
            Who::TechnicianAssigned,
            &format!("/changes/{change}/decision"),
            &[("decision", "approve"), ("note", "")],
        )
        .await;
    assert_eq!(decided.status, 303, "{}", decided.body);
    let sender = Sender::new(true).unwrap();
    let round = deliver_due(app.store(), &sender, now()).await.unwrap();
    assert_eq!(round.delivered, 2, "{round:?}");
    let payloads: Vec<serde_json::Value> = receiver
        .got()
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(payloads[0]["type"], "change_request.created");
    assert_eq!(payloads[0]["data"]["object"]["id"], change);
    assert_eq!(
        payloads[0]["data"]["object"]["title"],
        "Move the laptop to Dana"
    );
    assert_eq!(payloads[1]["type"], "change_request.decided");
    assert_eq!(payloads[1]["data"]["object"]["status"], "approved");
    assert_eq!(payloads[1]["data"]["change"]["by"]["kind"], "staff");
}

#[tokio::test]
async fn a_workspace_has_at_most_twenty_endpoints() {
    let app = TestApp::spawn().await;
    for n in 0..portico_store::scoped::webhooks::MAX_ENDPOINTS {
        subscribe(
            &app,
            &format!("https://hooks{n}.example.com/portico"),
            &["ticket.created"],
        )
        .await;
    }
    let refused = app
        .post_as(
            Who::Owner,
            "/settings/webhooks",
            &[
                ("url", "https://one-more.example.com/portico"),
                ("events", "ticket.created"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("at most 20 endpoints"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("value=\"https://one-more.example.com/portico\"")
    );
}
