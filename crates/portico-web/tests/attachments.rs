//! Ticket attachments over HTTP: streamed in under limits, sniffed, kept out of reach of other
//! companies and of the portal when on internal notes, and always sent as downloads unless
//! they are raster images.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who};

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

async fn reply_with_file(
    app: &TestApp,
    who: Who,
    ticket: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> common::Response {
    let host = if who.is_staff() { CONSOLE } else { PORTAL };
    let token = app.session_for(who).await;
    let csrf = app.csrf(who, token.as_deref()).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    app.post(host, &format!("/tickets/{ticket}/replies"))
        .session(token.as_deref())
        .multipart(&all, Some(("attachments", file.0, file.1)))
        .send()
        .await
}

/// The href of the attachment link called `name` on a ticket page.
fn link_to(body: &str, name: &str) -> String {
    let end = body
        .find(&format!(">{name}</a>"))
        .expect("attachment listed");
    let start = body[..end].rfind("href=\"").expect("link") + 6;
    body[start..end].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_reply_carries_files_that_download_safely_and_only_in_scope() {
    let app = TestApp::spawn().await;
    let ticket = app.fx.own_ticket(Who::Member).unwrap().to_string();
    let html = b"<html><script>alert(1)</script></html>";
    let sent = reply_with_file(
        &app,
        Who::Member,
        &ticket,
        &[("body", "Here is the error page")],
        ("error page.png", html),
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let sent = reply_with_file(
        &app,
        Who::Member,
        &ticket,
        &[("body", "And a screenshot")],
        ("screen.png", PNG),
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);

    let token = app.session_for(Who::Member).await;
    let page = app
        .get(PORTAL, &format!("/tickets/{ticket}"))
        .session(token.as_deref())
        .send()
        .await;
    // HTML named .png is sniffed as what it is and never rendered.
    let html_link = link_to(&page.body, "error page.png");
    let download = app
        .get(PORTAL, &html_link)
        .session(token.as_deref())
        .send()
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.headers["content-type"], "application/octet-stream");
    assert!(
        download.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(download.headers["x-content-type-options"], "nosniff");
    assert!(
        download.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(download.body.as_bytes(), html);
    // A real PNG may be shown inline.
    let png_link = link_to(&page.body, "screen.png");
    let image = app
        .get(PORTAL, &png_link)
        .session(token.as_deref())
        .send()
        .await;
    assert_eq!(image.headers["content-type"], "image/png");
    assert!(
        image.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );

    // Staff of the company see it too; another company's staff and users do not.
    let owner = app.session_for(Who::Owner).await;
    assert_eq!(
        app.get(CONSOLE, &png_link)
            .session(owner.as_deref())
            .send()
            .await
            .status,
        200
    );
    let other_tech = app.session_for(Who::TechnicianNotAssigned).await;
    let response = app
        .get(CONSOLE, &png_link)
        .session(other_tech.as_deref())
        .send()
        .await;
    assert_eq!(response.status, 404);
    let own_only = app.session_for(Who::OwnTicketsOnly).await;
    let response = app
        .get(PORTAL, &png_link)
        .session(own_only.as_deref())
        .send()
        .await;
    assert_eq!(response.status, 404);
    // The same attachment id under another ticket's path is not found either.
    let other_ticket = app.fx.ticket_a2.to_string();
    let moved = png_link.replace(&ticket, &other_ticket);
    let response = app
        .get(PORTAL, &moved)
        .session(token.as_deref())
        .send()
        .await;
    assert_eq!(response.status, 404);
}

#[tokio::test]
async fn files_on_internal_notes_never_reach_the_portal() {
    let app = TestApp::spawn().await;
    let ticket = app.fx.own_ticket(Who::Member).unwrap().to_string();
    let sent = reply_with_file(
        &app,
        Who::Owner,
        &ticket,
        &[("kind", "note"), ("body", "Licence key attached")],
        ("licence-key.txt", b"SECRET-KEY-123"),
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let owner = app.session_for(Who::Owner).await;
    let staff_page = app
        .get(CONSOLE, &format!("/tickets/{ticket}"))
        .session(owner.as_deref())
        .send()
        .await;
    let link = link_to(&staff_page.body, "licence-key.txt");
    let member = app.session_for(Who::Member).await;
    let page = app
        .get(PORTAL, &format!("/tickets/{ticket}"))
        .session(member.as_deref())
        .send()
        .await;
    assert!(!page.body.contains("licence-key.txt"));
    let response = app
        .get(PORTAL, &link)
        .session(member.as_deref())
        .send()
        .await;
    assert_eq!(response.status, 404);
}

#[tokio::test]
async fn an_oversized_file_is_refused_and_the_message_is_kept() {
    let mut app = TestApp::spawn().await;
    app.router = portico_web::app(
        app.store().clone(),
        app.blobs.clone(),
        portico_web::WebConfig {
            attachment_limits: portico_files::Limits {
                max_file_bytes: 1024,
                max_request_bytes: 4096,
                max_files: 2,
            },
            ..Default::default()
        },
    );
    let ticket = app.fx.own_ticket(Who::Member).unwrap().to_string();
    let big = vec![b'a'; 5000];
    let refused = reply_with_file(
        &app,
        Who::Member,
        &ticket,
        &[("body", "KEEP-THIS-TEXT")],
        ("big.log", &big),
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Each file may be at most"));
    assert!(refused.body.contains("KEEP-THIS-TEXT"));
    let token = app.session_for(Who::Member).await;
    let page = app
        .get(PORTAL, &format!("/tickets/{ticket}"))
        .session(token.as_deref())
        .send()
        .await;
    assert!(!page.body.contains("big.log"));
    // Nothing was stored: the spool is empty and no blob was written.
    let stored: Vec<_> = walk(&app.files);
    assert!(stored.iter().all(|p| !p.ends_with(".log")), "{stored:?}");
    assert!(
        stored
            .iter()
            .all(|p| std::fs::read(p).map(|b| b != big).unwrap_or(true)),
        "the refused file was kept"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_viewer_cannot_store_files_and_gets_403() {
    let app = TestApp::spawn().await;
    let ticket = app.fx.ticket_a1_other.to_string();
    let refused = reply_with_file(
        &app,
        Who::Viewer,
        &ticket,
        &[("body", "let me in")],
        ("viewer.txt", b"VIEWER-FILE-CONTENT"),
    )
    .await;
    assert_eq!(refused.status, 403);
    let stored = walk(&app.files);
    assert!(
        stored.iter().all(|p| std::fs::read(p)
            .map(|b| b != b"VIEWER-FILE-CONTENT")
            .unwrap_or(true)),
        "a viewer's file was written: {stored:?}"
    );
}

/// A new ticket refused for a missing title keeps the file that came with it: the form shown
/// again lists it, and the corrected form raises the ticket with it, without choosing it again.
/// The token that names a kept file is its owner's alone.
#[tokio::test]
async fn files_of_a_refused_ticket_form_are_kept_for_the_next_try() {
    let app = TestApp::spawn().await;
    let token = app.session_for(Who::Member).await;
    let csrf = app.csrf(Who::Member, token.as_deref()).await;
    let refused = app
        .post(PORTAL, "/tickets")
        .session(token.as_deref())
        .multipart(
            &[
                ("csrf", &csrf),
                ("title", ""),
                ("priority", "normal"),
                ("description", "See the screenshot"),
            ],
            Some(("attachments", "screen.png", PNG)),
        )
        .send()
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("Files already attached") && refused.body.contains("screen.png"));
    let kept = refused
        .body
        .split("name=\"kept\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("the kept file's token")
        .to_owned();
    // Someone else, even of the same company, cannot use the token.
    let other = app.session_for(Who::ClientAdmin).await;
    let other_csrf = app.csrf(Who::ClientAdmin, other.as_deref()).await;
    let stolen = app
        .post(PORTAL, "/tickets")
        .session(other.as_deref())
        .multipart(
            &[
                ("csrf", &other_csrf),
                ("title", "Not mine"),
                ("priority", "normal"),
                ("description", "x"),
                ("kept", &kept),
            ],
            None,
        )
        .send()
        .await;
    assert_eq!(stolen.status, 303);
    let page = app
        .get(PORTAL, stolen.location())
        .session(other.as_deref())
        .send()
        .await;
    assert!(
        !page.body.contains("screen.png"),
        "another user's kept file was attached"
    );
    let raised = app
        .post(PORTAL, "/tickets")
        .session(token.as_deref())
        .multipart(
            &[
                ("csrf", &csrf),
                ("title", "Error on start-up"),
                ("priority", "normal"),
                ("description", "See the screenshot"),
                ("kept", &kept),
            ],
            None,
        )
        .send()
        .await;
    assert_eq!(raised.status, 303, "{}", raised.body);
    let page = app
        .get(PORTAL, raised.location())
        .session(token.as_deref())
        .send()
        .await;
    assert!(page.body.contains("screen.png"), "{}", page.body);
    let download = link_to(&page.body, "screen.png");
    let file = app
        .get(PORTAL, &download)
        .session(token.as_deref())
        .send()
        .await;
    assert_eq!(file.status, 200);
    // Used once: the same token attaches nothing to another ticket.
    let again = app
        .post(PORTAL, "/tickets")
        .session(token.as_deref())
        .multipart(
            &[
                ("csrf", &csrf),
                ("title", "Second"),
                ("priority", "normal"),
                ("description", "x"),
                ("kept", &kept),
            ],
            None,
        )
        .send()
        .await;
    let page = app
        .get(PORTAL, again.location())
        .session(token.as_deref())
        .send()
        .await;
    assert!(!page.body.contains("screen.png"));
}
