//! Live pages: the event stream of a ticket says `changed` when staff reply or change the
//! status, stays quiet for internal notes, and ends when the session does; the desk's queue
//! and ticket pages hear of client activity and of colleagues writing a reply.

mod common;

use std::time::Duration;

use axum::body::Body;
use common::{CONSOLE, PORTAL, TestApp, Who};
use http_body_util::BodyExt;

/// The next SSE event name on the stream, or `None` if nothing arrives for a while.
async fn next_event(body: &mut Body, wait: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut text = String::new();
    loop {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .ok()??
            .ok()?;
        if let Some(data) = frame.data_ref() {
            text.push_str(&String::from_utf8_lossy(data));
            if let Some(line) = text.lines().find_map(|l| l.strip_prefix("event: ")) {
                return Some(line.trim().to_owned());
            }
        }
    }
}

async fn fast_app() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.router = portico_web::app(
        app.store().clone(),
        app.blobs.clone(),
        portico_web::WebConfig {
            live_poll: Duration::from_millis(50),
            ..Default::default()
        },
    );
    app
}

async fn staff_post(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> u16 {
    let token = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, token.as_deref()).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(pairs);
    app.post(CONSOLE, path)
        .session(token.as_deref())
        .form(&all)
        .send()
        .await
        .status
}

#[tokio::test]
async fn a_ticket_page_hears_of_staff_replies_but_not_of_internal_notes() {
    let app = fast_app().await;
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let member = app.session_for(Who::Member).await;
    let (status, mut stream) = app
        .get(PORTAL, &format!("/tickets/{ticket}/events"))
        .session(member.as_deref())
        .stream()
        .await;
    assert_eq!(status, 200);
    let path = format!("/tickets/{ticket}/replies");
    // An internal note changes nothing the member sees: the stream stays quiet.
    assert_eq!(
        staff_post(&app, &path, &[("kind", "note"), ("body", "quiet")]).await,
        303
    );
    assert_eq!(
        next_event(&mut stream, Duration::from_millis(600)).await,
        None
    );
    assert_eq!(
        staff_post(&app, &path, &[("kind", "reply"), ("body", "hello")]).await,
        303
    );
    assert_eq!(
        next_event(&mut stream, Duration::from_secs(10))
            .await
            .as_deref(),
        Some("changed")
    );
    // And the list's stream hears of status changes.
    let (status, mut list) = app
        .get(PORTAL, "/tickets/events")
        .session(member.as_deref())
        .stream()
        .await;
    assert_eq!(status, 200);
    let update = format!("/tickets/{ticket}/update");
    let changed = staff_post(
        &app,
        &update,
        &[
            ("status", "awaiting_client"),
            ("priority", "normal"),
            ("assignee", ""),
        ],
    )
    .await;
    assert_eq!(changed, 303);
    assert_eq!(
        next_event(&mut list, Duration::from_secs(10))
            .await
            .as_deref(),
        Some("changed")
    );
}

#[tokio::test]
async fn the_stream_ends_when_the_session_does_and_is_fenced_like_the_page() {
    let app = fast_app().await;
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let member = app.session_for(Who::Member).await;
    // Another company's ticket: not found, like its page.
    let (status, _) = app
        .get(PORTAL, &format!("/tickets/{}/events", app.fx.ticket_b))
        .session(member.as_deref())
        .stream()
        .await;
    assert_eq!(status, 404);
    let (status, mut stream) = app
        .get(PORTAL, &format!("/tickets/{ticket}/events"))
        .session(member.as_deref())
        .stream()
        .await;
    assert_eq!(status, 200);
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.expire_session(member.as_deref().unwrap()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        next_event(&mut stream, Duration::from_secs(10))
            .await
            .as_deref(),
        Some("ended")
    );
    // After `ended`, the stream closes.
    let rest = tokio::time::timeout(Duration::from_secs(10), stream.collect())
        .await
        .expect("the stream closes");
    assert!(rest.is_ok());
}

#[tokio::test]
async fn a_session_may_hold_only_a_few_streams_and_closing_one_frees_it() {
    let app = fast_app().await;
    let member = app.session_for(Who::Member).await;
    let mut open = Vec::new();
    for _ in 0..8 {
        let (status, body) = app
            .get(PORTAL, "/tickets/events")
            .session(member.as_deref())
            .stream()
            .await;
        assert_eq!(status, 200);
        open.push(body);
    }
    let (status, _) = app
        .get(PORTAL, "/tickets/events")
        .session(member.as_deref())
        .stream()
        .await;
    assert_eq!(status, 429);
    drop(open.pop());
    let (status, _) = app
        .get(PORTAL, "/tickets/events")
        .session(member.as_deref())
        .stream()
        .await;
    assert_eq!(status, 200);
}

/// The desk's pages are live too: the queue hears of a client's new ticket, a ticket page of
/// the client's reply; and a colleague writing a reply is shown on the ticket (and heard of),
/// never to the client, and no longer once the reply is sent.
#[tokio::test]
async fn the_desk_hears_of_client_activity_and_of_colleagues_replying() {
    let app = fast_app().await;
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let owner = app.session_for(Who::Owner).await;
    let (status, mut queue) = app
        .get(CONSOLE, "/tickets/events")
        .session(owner.as_deref())
        .stream()
        .await;
    assert_eq!(status, 200);
    let (status, mut page) = app
        .get(CONSOLE, &format!("/tickets/{ticket}/events"))
        .session(owner.as_deref())
        .stream()
        .await;
    assert_eq!(status, 200);
    let member = app
        .post_as(
            Who::Member,
            &format!("/tickets/{ticket}/replies"),
            &[("body", "Any news?")],
        )
        .await;
    assert_eq!(member.status, 303, "{}", member.body);
    for stream in [&mut queue, &mut page] {
        assert_eq!(
            next_event(stream, Duration::from_secs(10)).await.as_deref(),
            Some("changed")
        );
    }

    // The technician starts a reply: the owner's page hears of it and names them.
    let marked = app
        .post_as(
            Who::TechnicianAssigned,
            &format!("/tickets/{ticket}/replying"),
            &[],
        )
        .await;
    assert_eq!(marked.status, 204);
    assert_eq!(
        next_event(&mut page, Duration::from_secs(10))
            .await
            .as_deref(),
        Some("changed")
    );
    let path = format!("/tickets/{ticket}");
    let seen = app
        .get(CONSOLE, &path)
        .session(owner.as_deref())
        .send()
        .await;
    assert!(
        seen.body.contains("tech-a@msp.test is writing a reply."),
        "{}",
        seen.body
    );
    // Not to the technician themselves, and never to the client.
    let tech = app.session_for(Who::TechnicianAssigned).await;
    let own = app
        .get(CONSOLE, &path)
        .session(tech.as_deref())
        .send()
        .await;
    assert!(!own.body.contains("is writing a reply."));
    let member = app.session_for(Who::Member).await;
    let client = app
        .get(PORTAL, &path)
        .session(member.as_deref())
        .send()
        .await;
    assert_eq!(client.status, 200);
    assert!(!client.body.contains("writing a reply"));
    // Sent: the mark is gone.
    let sent = app
        .post_as(
            Who::TechnicianAssigned,
            &format!("/tickets/{ticket}/replies"),
            &[("kind", "reply"), ("body", "On it.")],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let seen = app
        .get(CONSOLE, &path)
        .session(owner.as_deref())
        .send()
        .await;
    assert!(!seen.body.contains("is writing a reply."));
}
