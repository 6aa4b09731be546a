//! Tickets end to end over HTTP: raising one through the MSP's form, the desk's reply and
//! internal note, resolve, rating, reopen, cc and e-mail preferences, on SQLite and PostgreSQL.

mod common;

use common::{CONSOLE, PORTAL, Response, TestApp, Who};
use portico_core::{FieldKind, TicketId};
use portico_store::system::SeedField;

/// Posts a form as `who` (signed in on the right surface) with a valid CSRF token.
async fn post(app: &TestApp, who: Who, path: &str, pairs: &[(&str, &str)]) -> Response {
    app.post_as(who, path, pairs).await
}

async fn get(app: &TestApp, who: Who, path: &str) -> Response {
    let host = if who.is_staff() { CONSOLE } else { PORTAL };
    let token = app.session_for(who).await;
    app.get(host, path).session(token.as_deref()).send().await
}

async fn mails_to(app: &TestApp, address: &str) -> Vec<(String, String)> {
    let mut tx = app.store().system_unscoped().await.unwrap();
    let mails = tx.mails_to(address).await.unwrap();
    tx.commit().await.unwrap();
    mails
}

/// Gives workspace one a form with a category list and two custom fields; returns their ids.
async fn with_form(app: &TestApp) -> (String, String) {
    let mut tx = app.store().system_unscoped().await.unwrap();
    let ids = tx
        .set_ticket_form(
            app.fx.ws1,
            None,
            &["Hardware", "Software"],
            &[
                SeedField {
                    label: "Affected device",
                    kind: FieldKind::Select,
                    required: true,
                    help: "Which device is it?",
                    options: &["Laptop", "Printer"],
                },
                SeedField {
                    label: "Noticed on",
                    kind: FieldKind::Date,
                    required: false,
                    help: "",
                    options: &[],
                },
            ],
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (ids[0].clone(), ids[1].clone())
}

fn ticket_of(location: &str) -> TicketId {
    let id = location
        .strip_prefix("/tickets/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_default();
    TicketId::parse(id).unwrap_or_else(|| panic!("no ticket in {location:?}"))
}

#[tokio::test]
async fn a_member_raises_a_ticket_the_desk_answers_and_the_member_resolves_and_rates_it() {
    let app = TestApp::spawn().await;
    let (device, noticed) = with_form(&app).await;
    let device_field = format!("field_{device}");
    let noticed_field = format!("field_{noticed}");

    let form = get(&app, Who::Member, "/tickets/new").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Affected device") && form.body.contains("Which device is it?"));

    // A required custom field left empty: refused, and what was typed is still there.
    let refused = post(
        &app,
        Who::Member,
        "/tickets",
        &[
            ("title", "Printer jams on every page"),
            ("category", "Hardware"),
            ("priority", "high"),
            ("description", "It started this morning."),
            (noticed_field.as_str(), "2026-11-20"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Affected device is required."));
    assert!(
        refused
            .body
            .contains("value=\"Printer jams on every page\"")
    );
    assert!(refused.body.contains("It started this morning."));
    assert!(refused.body.contains("value=\"2026-11-20\""));

    let created = post(
        &app,
        Who::Member,
        "/tickets",
        &[
            ("title", "Printer jams on every page"),
            ("category", "Hardware"),
            ("priority", "high"),
            ("description", "It started this morning."),
            (device_field.as_str(), "Printer"),
            (noticed_field.as_str(), "2026-11-20"),
        ],
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let ticket = ticket_of(created.location());
    let path = format!("/tickets/{ticket}");
    let page = get(&app, Who::Member, &path).await;
    assert!(page.body.contains("Printer jams on every page"));
    assert!(page.body.contains("Affected device") && page.body.contains("Printer"));

    // The desk: in the queue, assigned, answered publicly and noted internally.
    let queue = get(&app, Who::TechnicianAssigned, "/tickets?status=open").await;
    assert!(queue.body.contains("Printer jams on every page"));
    let tech = app.fx.staff(Who::TechnicianAssigned).to_string();
    let assigned = post(
        &app,
        Who::Owner,
        &format!("{path}/update"),
        &[
            ("status", "open"),
            ("priority", "urgent"),
            ("assignee", &tech),
        ],
    )
    .await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    assert!(
        mails_to(&app, "tech-a@msp.test")
            .await
            .iter()
            .any(|(s, _)| s.contains("Assigned to you"))
    );
    let mine = get(&app, Who::TechnicianAssigned, "/tickets?assignee=me").await;
    assert!(mine.body.contains("Printer jams on every page"));
    let replied = post(
        &app,
        Who::TechnicianAssigned,
        &format!("{path}/replies"),
        &[
            ("kind", "reply"),
            ("body", "PUBLIC-ANSWER: a new drum is on its way."),
            ("status", "awaiting_client"),
        ],
    )
    .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let noted = post(
        &app,
        Who::TechnicianAssigned,
        &format!("{path}/replies"),
        &[
            ("kind", "note"),
            ("body", "SECRET-NOTE: client is on the old contract."),
        ],
    )
    .await;
    assert_eq!(noted.status, 303);

    let page = get(&app, Who::Member, &path).await;
    assert!(page.body.contains("PUBLIC-ANSWER"));
    assert!(!page.body.contains("SECRET-NOTE"));
    // Each audience reads the status in its own words.
    assert!(page.body.contains("Awaiting your reply"));
    assert!(!page.body.contains("Waiting on client"));
    let staff_page = get(&app, Who::TechnicianAssigned, &path).await;
    assert!(staff_page.body.contains("Waiting on client"));
    assert!(!staff_page.body.contains("Awaiting your reply"));
    assert!(staff_page.body.contains("SECRET-NOTE"));
    assert!(
        staff_page
            .body
            .contains("Internal note — not visible to the client")
    );
    let member_mail = mails_to(&app, "member@a.test").await;
    assert!(member_mail.iter().any(|(_, b)| b.contains("PUBLIC-ANSWER")));
    for address in [
        "member@a.test",
        "admin@a.test",
        "tech-a@msp.test",
        "owner@msp.test",
    ] {
        assert!(
            mails_to(&app, address)
                .await
                .iter()
                .all(|(_, b)| !b.contains("SECRET-NOTE")),
            "an internal note was mailed to {address}"
        );
    }

    // The client answers: back to open, and the assignee hears of it.
    let answered = post(
        &app,
        Who::Member,
        &format!("{path}/replies"),
        &[("body", "CLIENT-ANSWER: thanks, it arrived.")],
    )
    .await;
    assert_eq!(answered.status, 303);
    assert!(
        get(&app, Who::Member, &path)
            .await
            .body
            .contains("status-open")
    );
    assert!(
        mails_to(&app, "tech-a@msp.test")
            .await
            .iter()
            .any(|(_, b)| b.contains("CLIENT-ANSWER"))
    );

    // Rating is offered only once resolved.
    let early = post(
        &app,
        Who::Member,
        &format!("{path}/rating"),
        &[("rating", "5")],
    )
    .await;
    assert_eq!(early.status, 422);
    assert_eq!(
        post(&app, Who::Member, &format!("{path}/resolve"), &[])
            .await
            .status,
        303
    );
    let rated = post(
        &app,
        Who::Member,
        &format!("{path}/rating"),
        &[("rating", "4"), ("comment", "Quick and friendly.")],
    )
    .await;
    assert_eq!(rated.status, 303);
    let page = get(&app, Who::Member, &path).await;
    assert!(page.body.contains("4 out of 5") && page.body.contains("Quick and friendly."));
    assert!(page.body.contains("Your rating: <strong>4"));
    let staff = get(&app, Who::Owner, &path).await;
    assert!(
        staff
            .body
            .contains("Client rating by member@a.test: <strong>4 out of 5")
    );
    // A colleague reads whose rating it is, and their own rating form starts empty.
    let colleague = get(&app, Who::ClientAdmin, &path).await;
    assert!(colleague.body.contains("member@a.test’s rating: <strong>4"));
    assert!(!colleague.body.contains("Your rating: <strong>"));
    assert!(!colleague.body.contains(" checked>"));

    // Reopened within the window; after it, refused with a reason.
    assert_eq!(
        post(&app, Who::Member, &format!("{path}/reopen"), &[])
            .await
            .status,
        303
    );
    assert!(
        get(&app, Who::Member, &path)
            .await
            .body
            .contains("status-open")
    );
    assert_eq!(
        post(&app, Who::Member, &format!("{path}/resolve"), &[])
            .await
            .status,
        303
    );
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.backdate_resolution(ticket, 8 * 24 * 3600).await.unwrap();
    tx.commit().await.unwrap();
    let late = post(&app, Who::Member, &format!("{path}/reopen"), &[]).await;
    assert_eq!(late.status, 422);
    assert!(late.body.contains("Raise a new ticket instead"));
}

#[tokio::test]
async fn a_viewer_sees_tickets_but_every_change_is_refused_with_403() {
    let app = TestApp::spawn().await;
    let ticket = app.fx.ticket_a1_other;
    let path = format!("/tickets/{ticket}");
    let page = get(&app, Who::Viewer, &path).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Send reply"));
    assert_eq!(get(&app, Who::Viewer, "/tickets/new").await.status, 403);
    for (action, pairs) in [
        ("replies", vec![("body", "hello")]),
        ("resolve", vec![]),
        ("rating", vec![("rating", "5")]),
        ("cc", vec![]),
    ] {
        let response = post(&app, Who::Viewer, &format!("{path}/{action}"), &pairs).await;
        assert_eq!(response.status, 403, "{action}");
        assert!(response.body.contains("permission"), "{action}");
    }
    let raised = post(
        &app,
        Who::Viewer,
        "/tickets",
        &[("title", "x"), ("description", "y"), ("priority", "low")],
    )
    .await;
    assert_eq!(raised.status, 403);
}

#[tokio::test]
async fn a_company_override_form_replaces_the_workspace_fields() {
    let app = TestApp::spawn().await;
    with_form(&app).await;
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.set_ticket_form(
        app.fx.ws1,
        Some(app.fx.company_a),
        &[],
        &[SeedField {
            label: "Cost centre",
            kind: FieldKind::Text,
            required: true,
            help: "",
            options: &[],
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let form = get(&app, Who::Member, "/tickets/new").await;
    assert!(form.body.contains("Cost centre"));
    assert!(!form.body.contains("Affected device"));
    let refused = post(
        &app,
        Who::Member,
        "/tickets",
        &[
            ("title", "T"),
            ("description", "D"),
            ("priority", "low"),
            ("category", "Software"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Cost centre is required."));
}

#[tokio::test]
async fn copied_colleagues_are_mailed_and_preferences_are_honoured() {
    let app = TestApp::spawn().await;
    let ticket = app
        .fx
        .own_ticket(Who::Member)
        .expect("the member has a ticket");
    let path = format!("/tickets/{ticket}");
    let own_only = app.fx.portal(Who::OwnTicketsOnly).to_string();
    // The own-tickets-only colleague cannot see the ticket until copied on it.
    assert_eq!(get(&app, Who::OwnTicketsOnly, &path).await.status, 404);
    let copied = post(
        &app,
        Who::Member,
        &format!("{path}/cc"),
        &[("cc", &own_only)],
    )
    .await;
    assert_eq!(copied.status, 303);
    assert_eq!(get(&app, Who::OwnTicketsOnly, &path).await.status, 200);
    // Another company's user cannot be copied.
    let foreign = app.fx.user_b.to_string();
    let refused = post(
        &app,
        Who::Member,
        &format!("{path}/cc"),
        &[("cc", &foreign)],
    )
    .await;
    assert_eq!(refused.status, 422);

    // The member turns ticket updates off; the copied colleague keeps them.
    let saved = post(
        &app,
        Who::Member,
        "/preferences",
        &[("ticket_resolved", "1"), ("satisfaction_survey", "1")],
    )
    .await;
    assert_eq!(saved.status, 303);
    let prefs = get(&app, Who::Member, "/preferences").await;
    assert!(
        prefs
            .body
            .contains("name=\"ticket_resolved\" value=\"1\" checked")
    );
    assert!(
        !prefs
            .body
            .contains("name=\"ticket_updates\" value=\"1\" checked")
    );
    let before = mails_to(&app, "member@a.test").await.len();
    let replied = post(
        &app,
        Who::Owner,
        &format!("{path}/replies"),
        &[("kind", "reply"), ("body", "UPDATE-FOR-ALL")],
    )
    .await;
    assert_eq!(replied.status, 303);
    assert_eq!(mails_to(&app, "member@a.test").await.len(), before);
    assert!(
        mails_to(&app, "own@a.test")
            .await
            .iter()
            .any(|(_, b)| b.contains("UPDATE-FOR-ALL"))
    );
    // Resolution mails still reach the member, with the survey link.
    let resolved = post(
        &app,
        Who::Owner,
        &format!("{path}/update"),
        &[
            ("status", "resolved"),
            ("priority", "normal"),
            ("assignee", ""),
        ],
    )
    .await;
    assert_eq!(resolved.status, 303, "{}", resolved.body);
    let mails = mails_to(&app, "member@a.test").await;
    // One mail for the event: the resolution, with the rating request in it.
    let resolution: Vec<_> = mails[before..].iter().collect();
    assert_eq!(resolution.len(), 1, "{resolution:?}");
    let (subject, body) = resolution[0];
    assert!(
        subject.starts_with("[#") && subject.contains("] Resolved:"),
        "{subject}"
    );
    assert!(body.contains("How did we do?") && body.contains(&path));

    // A reply that also changes the status is one mail, which says both.
    let reopened = post(&app, Who::Member, &format!("{path}/reopen"), &[]).await;
    assert_eq!(reopened.status, 303);
    let before = mails_to(&app, "own@a.test").await.len();
    let replied = post(
        &app,
        Who::Owner,
        &format!("{path}/replies"),
        &[
            ("kind", "reply"),
            ("body", "WAITING-ON-YOU"),
            ("status", "awaiting_client"),
        ],
    )
    .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let mails = mails_to(&app, "own@a.test").await;
    assert_eq!(mails.len(), before + 1, "{:?}", &mails[before..]);
    let (subject, body) = &mails[before];
    assert!(subject.contains("] Awaiting"), "{subject}");
    assert!(body.contains("WAITING-ON-YOU") && body.contains("status of your ticket is now"));
}

#[tokio::test]
async fn technicians_are_only_assigned_tickets_of_their_companies() {
    let app = TestApp::spawn().await;
    let path = format!("/tickets/{}", app.fx.ticket_a1_other);
    let other = app.fx.staff(Who::TechnicianNotAssigned).to_string();
    let refused = post(
        &app,
        Who::Owner,
        &format!("{path}/update"),
        &[
            ("status", "open"),
            ("priority", "normal"),
            ("assignee", &other),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("is not assigned to"));
    // And a technician never reaches another company's ticket at all.
    let foreign = format!("/tickets/{}", app.fx.ticket_b);
    let response = post(
        &app,
        Who::TechnicianAssigned,
        &format!("{foreign}/replies"),
        &[("kind", "reply"), ("body", "hello")],
    )
    .await;
    assert_eq!(response.status, 404);
}

#[tokio::test]
async fn search_finds_public_text_only_inside_the_scope() {
    let app = TestApp::spawn().await;
    let canary_of = |id| {
        app.fx
            .tickets
            .iter()
            .find(|t| t.id == id)
            .unwrap()
            .canary
            .clone()
    };
    let other = canary_of(app.fx.ticket_a1_other);
    let foreign = canary_of(app.fx.ticket_b);
    let search = |who, q: String| {
        let app = &app;
        async move {
            let path = format!("/tickets?status=all&q={}", q.to_lowercase());
            get(app, who, &path).await
        }
    };
    // Title and public reply are found, case-insensitively; the internal note is not.
    let found = search(Who::Member, other.clone()).await;
    assert!(
        found
            .body
            .contains(&format!("/tickets/{}", app.fx.ticket_a1_other))
    );
    let by_reply = search(Who::Member, format!("{other}-REPLY")).await;
    assert!(
        by_reply
            .body
            .contains(&format!("/tickets/{}", app.fx.ticket_a1_other))
    );
    let by_note = search(Who::Member, format!("{other}-NOTE")).await;
    assert!(by_note.body.contains("No tickets match"));
    // Fenced like the list: own-only users and other companies find nothing of it.
    let own_only = search(Who::OwnTicketsOnly, other.clone()).await;
    assert!(own_only.body.contains("No tickets match"));
    let elsewhere = search(Who::Member, foreign).await;
    assert!(elsewhere.body.contains("No tickets match"));
    // A site-restricted user finds its site's tickets, and nothing of another site's that its
    // colleagues find.
    let other_site = canary_of(app.fx.ticket_a2);
    let own_site = search(Who::SiteRestricted, other.clone()).await;
    assert!(
        own_site
            .body
            .contains(&format!("/tickets/{}", app.fx.ticket_a1_other))
    );
    let by_member = search(Who::Member, other_site.clone()).await;
    assert!(
        by_member
            .body
            .contains(&format!("/tickets/{}", app.fx.ticket_a2))
    );
    let site_fenced = search(Who::SiteRestricted, other_site).await;
    assert!(site_fenced.body.contains("No tickets match"));
    assert!(
        !site_fenced
            .body
            .contains(&format!("/tickets/{}", app.fx.ticket_a2))
    );
    // LIKE wildcards are searched for literally.
    let wildcard = search(Who::Member, "%25".into()).await;
    assert!(wildcard.body.contains("No tickets match"));
}

/// Search is the database's full-text index: stemmed words and prefixes, every word required,
/// best match first (a title outranks a reply), internal notes for staff only, and pages of
/// results that walk every match once.
#[tokio::test]
async fn search_is_full_text_stemmed_prefixed_and_ranked() {
    let app = TestApp::spawn().await;
    let now = portico_store::now();
    let mut tx = app.store().system_unscoped().await.unwrap();
    let mut add = async |title: &str, reply: &str, note: &str, age: i64| {
        let id = tx
            .add_ticket(
                app.fx.ws1,
                &portico_store::system::SeedTicket {
                    company: app.fx.company_a,
                    site: Some(app.fx.site_a1),
                    requester: Some(app.fx.portal(Who::Member)),
                    title,
                    status: portico_core::TicketStatus::Open,
                    priority: portico_core::TicketPriority::Normal,
                    created_at: now - age,
                },
            )
            .await
            .unwrap();
        for (body, internal) in [(reply, false), (note, true)] {
            tx.add_message(
                app.fx.ws1,
                app.fx.company_a,
                id,
                None,
                None,
                "Someone",
                body,
                internal,
                now - age + 10,
            )
            .await
            .unwrap();
        }
        id
    };
    // The reply-only match is the most recently updated, yet ranks below the title match.
    let by_reply = add(
        "Monitor flickers",
        "The office printers jam every morning.",
        "",
        100,
    )
    .await;
    let by_title = add(
        "Printer jammed on level 3",
        "It started after the move.",
        "",
        5000,
    )
    .await;
    let by_note = add(
        "Mailbox full",
        "Please help.",
        "Zanzibar licence renewal pending.",
        3000,
    )
    .await;
    for i in 0..30 {
        add(
            &format!("Quokka request {i:02}"),
            "Nothing else.",
            "",
            6000 + i,
        )
        .await;
    }
    tx.commit().await.unwrap();
    let find = async |who, q: &str| {
        get(&app, who, &format!("/tickets?status=all&q={q}"))
            .await
            .body
    };
    let position = |body: &str, id: &portico_core::TicketId| body.find(&format!("/tickets/{id}"));
    // "printer" and "printers" stem alike: both tickets match, the title first.
    let page = find(Who::Member, "printer").await;
    let (title_at, reply_at) = (position(&page, &by_title), position(&page, &by_reply));
    assert!(
        title_at.is_some() && reply_at.is_some() && title_at < reply_at,
        "title match first: {title_at:?} {reply_at:?}"
    );
    // A prefix as typed; every word required.
    assert!(position(&find(Who::Member, "flick").await, &by_reply).is_some());
    assert!(position(&find(Who::Member, "printer+morning").await, &by_reply).is_some());
    assert!(position(&find(Who::Member, "printer+morning").await, &by_title).is_none());
    // Internal notes: found by staff, never by the client.
    assert!(position(&find(Who::Member, "zanzibar").await, &by_note).is_none());
    assert!(position(&find(Who::Owner, "zanzibar").await, &by_note).is_some());
    assert!(position(&find(Who::TechnicianAssigned, "zanzibar").await, &by_note).is_some());
    assert!(
        position(
            &find(Who::TechnicianNotAssigned, "zanzibar").await,
            &by_note
        )
        .is_none()
    );
    // Characters of the query syntax are separators, never syntax.
    let odd = get(
        &app,
        Who::Member,
        "/tickets?status=all&q=%22printer%22*+OR+(NEAR",
    )
    .await;
    assert_eq!(odd.status, 200);
    // Thirty matches walk by pages, each once.
    let mut seen = Vec::new();
    let mut path = "/tickets?status=all&q=quokka".to_owned();
    for _ in 0..10 {
        let page = get(&app, Who::Member, &path).await;
        assert_eq!(page.status, 200);
        for part in page.body.split("Quokka request ").skip(1) {
            seen.push(part[..2].to_owned());
        }
        let Some(next) = page
            .body
            .split("href=\"")
            .find_map(|h| h.split('"').next().filter(|h| h.contains("after=")))
        else {
            break;
        };
        path = next.replace("&amp;", "&").replace("&#38;", "&");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (30, 30), "{seen:?}");
}

/// A portal submission sends the client a receipt with the number and the target response
/// time, and alerts the company's technicians (not another company's), each as their own
/// notification settings say.
#[tokio::test]
async fn a_portal_ticket_is_acknowledged_and_alerts_the_companys_technicians() {
    let app = TestApp::spawn().await;
    let saved = post(
        &app,
        Who::Owner,
        "/settings/sla",
        &[
            ("time_zone", "UTC"),
            ("counting", "around"),
            ("first_normal", "4"),
            ("resolve_normal", "48"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let raise = async |title: &str| {
        let created = post(
            &app,
            Who::Member,
            "/tickets",
            &[
                ("title", title),
                ("priority", "normal"),
                ("description", "It stopped this morning."),
            ],
        )
        .await;
        assert_eq!(created.status, 303, "{}", created.body);
    };
    raise("Scanner jammed").await;
    let receipts = mails_to(&app, "member@a.test").await;
    let receipt = receipts
        .iter()
        .find(|(s, _)| s.contains("We have your request: Scanner jammed"))
        .unwrap_or_else(|| panic!("no receipt: {receipts:?}"));
    assert!(receipt.0.starts_with("[#"), "{}", receipt.0);
    assert!(receipt.1.contains("within 4 hours"), "{}", receipt.1);
    let alerted = |mails: Vec<(String, String)>, title: &str| {
        mails
            .iter()
            .any(|(s, b)| s.contains("New ticket from") && s.contains(title) && b.contains(title))
    };
    assert!(alerted(
        mails_to(&app, "tech-a@msp.test").await,
        "Scanner jammed"
    ));
    assert!(!alerted(
        mails_to(&app, "tech-b@msp.test").await,
        "Scanner jammed"
    ));
    assert!(!alerted(
        mails_to(&app, "sales@msp.test").await,
        "Scanner jammed"
    ));
    // The technician turns new-ticket mail off: the next ticket reaches nobody at the desk.
    let page = get(&app, Who::TechnicianAssigned, "/settings/notifications").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("name=\"new_portal_tickets\" value=\"1\" checked")
    );
    let off = post(
        &app,
        Who::TechnicianAssigned,
        "/settings/notifications",
        &[("client_activity", "1")],
    )
    .await;
    assert_eq!(off.status, 303);
    let page = get(&app, Who::TechnicianAssigned, "/settings/notifications").await;
    assert!(
        !page
            .body
            .contains("name=\"new_portal_tickets\" value=\"1\" checked")
    );
    assert!(
        page.body
            .contains("name=\"client_activity\" value=\"1\" checked")
    );
    raise("Keyboard missing keys").await;
    assert!(!alerted(
        mails_to(&app, "tech-a@msp.test").await,
        "Keyboard missing keys"
    ));
    assert!(
        mails_to(&app, "member@a.test")
            .await
            .iter()
            .any(|(s, _)| s.contains("We have your request: Keyboard missing keys"))
    );
}

/// Staff log a ticket for a client who phoned: the client is the requester and sees it in the
/// portal, gets its receipt, and the assignee is told; a refused form reports every problem
/// and keeps what was typed.
#[tokio::test]
async fn staff_log_a_ticket_for_a_client_who_phoned() {
    let app = TestApp::spawn().await;
    let company = app.fx.company_a;
    let form = get(
        &app,
        Who::TechnicianAssigned,
        &format!("/companies/{company}/tickets/new"),
    )
    .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("member@a.test"), "{}", form.body);
    let path = format!("/companies/{company}/tickets");
    let refused = post(
        &app,
        Who::TechnicianAssigned,
        &path,
        &[("title", "Laptop will not boot"), ("priority", "high")],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Choose who the ticket is for."));
    assert!(refused.body.contains("The description cannot be empty."));
    assert!(refused.body.contains("value=\"Laptop will not boot\""));
    // Someone of another company is not one of this company's people.
    let foreign = app.fx.user_b.to_string();
    let member = app.fx.portal(Who::Member).to_string();
    let tech = app.fx.staff(Who::TechnicianAssigned).to_string();
    let description = "Called at 9:10: the laptop shows a black screen after the logo.";
    let refused = post(
        &app,
        Who::TechnicianAssigned,
        &path,
        &[
            ("requester", foreign.as_str()),
            ("title", "Laptop will not boot"),
            ("priority", "high"),
            ("description", description),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Choose one of the company"));
    let logged = post(
        &app,
        Who::Owner,
        &path,
        &[
            ("requester", member.as_str()),
            ("title", "Laptop will not boot"),
            ("priority", "high"),
            ("assignee", tech.as_str()),
            ("description", description),
        ],
    )
    .await;
    assert_eq!(logged.status, 303, "{}", logged.body);
    let ticket = ticket_of(logged.location());
    let seen = get(&app, Who::Member, &format!("/tickets/{ticket}")).await;
    assert_eq!(seen.status, 200);
    assert!(seen.body.contains("Laptop will not boot") && seen.body.contains("black screen"));
    assert!(
        mails_to(&app, "member@a.test")
            .await
            .iter()
            .any(|(s, _)| s.contains("We have your request: Laptop will not boot"))
    );
    assert!(
        mails_to(&app, "tech-a@msp.test")
            .await
            .iter()
            .any(
                |(s, b)| s.contains("New ticket for you: Laptop will not boot")
                    && b.contains("logged")
            )
    );
    // Sales see the company but do not work its tickets.
    let sales = get(
        &app,
        Who::Sales,
        &format!("/companies/{company}/tickets/new"),
    )
    .await;
    assert_eq!(sales.status, 403);
}

/// Owners write canned responses; whoever answers a ticket inserts one, its placeholders filled
/// in from the ticket, and can change it before sending.
#[tokio::test]
async fn canned_responses_are_inserted_with_the_tickets_details() {
    let app = TestApp::spawn().await;
    let refused = post(
        &app,
        Who::Owner,
        "/settings/canned-responses",
        &[
            ("action", "save"),
            ("title", "Printer fixed"),
            ("body", "  "),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("Write the response")
            && refused.body.contains("value=\"Printer fixed\"")
    );
    let added = post(
        &app,
        Who::Owner,
        "/settings/canned-responses",
        &[
            ("action", "save"),
            ("title", "Printer fixed"),
            (
                "body",
                "Hello {client_first_name}, ticket {ticket_number} ({ticket_title}) is fixed. {unknown} - {my_name}",
            ),
        ],
    )
    .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let twice = post(
        &app,
        Who::Owner,
        "/settings/canned-responses",
        &[
            ("action", "save"),
            ("title", "Printer fixed"),
            ("body", "Again"),
        ],
    )
    .await;
    assert_eq!(twice.status, 422);
    assert!(
        twice
            .body
            .contains("Another canned response has that name.")
    );
    let listed = get(&app, Who::Owner, "/settings/canned-responses").await;
    let id = listed
        .body
        .split("name=\"id\" value=\"")
        .skip(1)
        .filter_map(|p| p.split('"').next())
        .find(|v| !v.is_empty())
        .expect("the saved response's form")
        .to_owned();
    // Technicians use them, never write them.
    let tech = post(
        &app,
        Who::TechnicianAssigned,
        "/settings/canned-responses",
        &[("action", "save"), ("title", "Mine"), ("body", "x")],
    )
    .await;
    assert_eq!(tech.status, 403);
    let ticket = app.fx.ticket_a1_other;
    let page = get(&app, Who::TechnicianAssigned, &format!("/tickets/{ticket}")).await;
    assert!(
        page.body.contains("Start from a canned response") && page.body.contains("Printer fixed")
    );
    let page = get(
        &app,
        Who::TechnicianAssigned,
        &format!("/tickets/{ticket}?canned={id}"),
    )
    .await;
    assert_eq!(page.status, 200);
    let reply = page
        .body
        .split("name=\"body\"")
        .nth(1)
        .and_then(|t| t.split('>').nth(1))
        .and_then(|t| t.split("</textarea").next())
        .unwrap_or_default()
        .to_owned();
    assert!(reply.starts_with("Hello "), "{reply}");
    assert!(
        reply.contains("ticket #1") && reply.contains("is fixed. {unknown} - "),
        "{reply}"
    );
    assert!(
        !reply.contains("{ticket_number}") && !reply.contains("{my_name}"),
        "{reply}"
    );
    // Deleted, it is gone from the ticket page.
    let deleted = post(
        &app,
        Who::Owner,
        "/settings/canned-responses",
        &[("action", "delete"), ("id", id.as_str())],
    )
    .await;
    assert_eq!(deleted.status, 303);
    let page = get(&app, Who::TechnicianAssigned, &format!("/tickets/{ticket}")).await;
    assert!(!page.body.contains("Start from a canned response"));
}

/// The console opens on the signed-in staff member's work: their open tickets, what is late
/// or due soon, new unassigned tickets and what waits on a client; sales staff, who answer no
/// tickets, land on the company list.
#[tokio::test]
async fn the_console_opens_on_the_staff_members_work() {
    let app = TestApp::spawn().await;
    let sla = post(
        &app,
        Who::Owner,
        "/settings/sla",
        &[
            ("time_zone", "UTC"),
            ("counting", "around"),
            ("first_high", "1"),
            ("resolve_high", "10"),
        ],
    )
    .await;
    assert_eq!(sla.status, 303);
    let now = portico_store::now();
    let tech = app.fx.staff(Who::TechnicianAssigned);
    let mut tx = app.store().system_unscoped().await.unwrap();
    let mut add = async |title: &str, status, age: i64| {
        tx.add_ticket(
            app.fx.ws1,
            &portico_store::system::SeedTicket {
                company: app.fx.company_a,
                site: Some(app.fx.site_a1),
                requester: Some(app.fx.portal(Who::Member)),
                title,
                status,
                priority: portico_core::TicketPriority::High,
                created_at: now - age,
            },
        )
        .await
        .unwrap()
    };
    use portico_core::TicketStatus::*;
    let fresh = add("Fresh from the portal", New, 60).await;
    let late = add("Long forgotten", Open, 7200).await;
    let waiting = add("Waiting for photos", AwaitingClient, 300).await;
    let mine = add("Mine to do", Open, 120).await;
    tx.assign_ticket(app.fx.ws1, waiting, tech).await.unwrap();
    tx.assign_ticket(app.fx.ws1, mine, tech).await.unwrap();
    tx.plan_service_levels(app.fx.ws1).await.unwrap();
    tx.commit().await.unwrap();
    let page = get(&app, Who::TechnicianAssigned, "/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let panel = |title: &str| {
        page.body
            .split(title)
            .nth(1)
            .and_then(|rest| rest.split("</section>").next())
            .unwrap_or_default()
            .to_owned()
    };
    let has = |panel: &str, id: portico_core::TicketId| panel.contains(&format!("/tickets/{id}"));
    assert!(has(&panel("Assigned to me"), mine) && !has(&panel("Assigned to me"), fresh));
    assert!(has(&panel("Late or due within 4 hours"), late));
    assert!(has(&panel("New and unassigned"), fresh) && !has(&panel("New and unassigned"), mine));
    assert!(has(&panel("Waiting on the client"), waiting));
    // A technician of another company sees none of these.
    let other = get(&app, Who::TechnicianNotAssigned, "/").await;
    assert_eq!(other.status, 200);
    assert!(!other.body.contains(&format!("/tickets/{fresh}")));
    let sales = get(&app, Who::Sales, "/").await;
    assert_eq!(sales.status, 303);
    assert_eq!(sales.location(), "/companies");
}

#[tokio::test]
async fn keyset_pages_walk_the_whole_list_once() {
    let app = TestApp::spawn().await;
    let now = portico_store::now();
    let mut tx = app.store().system_unscoped().await.unwrap();
    for i in 0..60 {
        tx.add_ticket(
            app.fx.ws1,
            &portico_store::system::SeedTicket {
                company: app.fx.company_a,
                site: Some(app.fx.site_a1),
                requester: Some(app.fx.portal(Who::Member)),
                title: &format!("Paged ticket {i:02}"),
                status: portico_core::TicketStatus::Open,
                priority: portico_core::TicketPriority::Low,
                // Several share a second, so the id has to break ties.
                created_at: now - 10_000 + i / 3,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut seen = Vec::new();
    let mut path = "/tickets?status=all".to_owned();
    for _ in 0..10 {
        let page = get(&app, Who::Member, &path).await;
        assert_eq!(page.status, 200);
        for part in page.body.split("Paged ticket ").skip(1) {
            seen.push(part[..2].to_owned());
        }
        let Some(next) = page
            .body
            .split("href=\"")
            .find_map(|h| h.split('"').next().filter(|h| h.contains("after=")))
        else {
            break;
        };
        path = next.replace("&amp;", "&").replace("&#38;", "&");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 60, "each ticket once: {seen:?}");
    assert_eq!(unique.len(), 60);
    let bad = get(&app, Who::Member, "/tickets?after=nonsense").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn service_levels_flag_late_tickets_in_the_queue() {
    let app = TestApp::spawn().await;
    let refused = post(
        &app,
        Who::Owner,
        "/settings/sla",
        &[
            ("time_zone", "UTC"),
            ("counting", "around"),
            ("first_urgent", "0.5"),
            ("resolve_urgent", "ten"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("is not a number of hours") && refused.body.contains("value=\"0.5\"")
    );
    let saved = post(
        &app,
        Who::Owner,
        "/settings/sla",
        &[
            ("time_zone", "UTC"),
            ("counting", "around"),
            ("first_urgent", "0.5"),
            ("resolve_urgent", "4"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303);
    let now = portico_store::now();
    let mut tx = app.store().system_unscoped().await.unwrap();
    for (title, age) in [("LATE-URGENT", 3600), ("FRESH-URGENT", 60)] {
        tx.add_ticket(
            app.fx.ws1,
            &portico_store::system::SeedTicket {
                company: app.fx.company_a,
                site: Some(app.fx.site_a1),
                requester: Some(app.fx.portal(Who::Member)),
                title,
                status: portico_core::TicketStatus::Open,
                priority: portico_core::TicketPriority::Urgent,
                created_at: now - age,
            },
        )
        .await
        .unwrap();
    }
    tx.plan_service_levels(app.fx.ws1).await.unwrap();
    tx.commit().await.unwrap();
    let breached = get(&app, Who::Owner, "/tickets?status=open&sla=breached").await;
    assert!(breached.body.contains("LATE-URGENT"));
    assert!(!breached.body.contains("FRESH-URGENT"));
    assert!(breached.body.contains("SLA breached"));
    let all = get(&app, Who::TechnicianAssigned, "/tickets?status=open").await;
    assert!(all.body.contains("LATE-URGENT") && all.body.contains("FRESH-URGENT"));

    // Due times are the desk's: the same tickets read in a portal scope carry no SLA status.
    let token = app.session_for(Who::Member).await.unwrap();
    let mut auth = app.store().auth_read(app.fx.ws1).await.unwrap();
    let member = auth
        .resolve_session(&token, portico_store::SurfaceKind::Portal, 3600)
        .await
        .unwrap()
        .unwrap();
    auth.commit().await.unwrap();
    let scope = portico_core::Scope::of(&member.principal);
    let mut tx = app.store().scoped(&scope).await.unwrap();
    let listed = tx
        .tickets(&portico_store::scoped::tickets::TicketQuery {
            status: portico_store::scoped::tickets::StatusFilter::Open,
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let late = listed.iter().find(|t| t.title == "LATE-URGENT").unwrap();
    assert_eq!(late.sla, portico_store::scoped::sla::SlaStatus::default());
    let one = tx.ticket(late.id).await.unwrap();
    assert_eq!(
        one.ticket.sla,
        portico_store::scoped::sla::SlaStatus::default()
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_owner_designs_the_form_and_clients_get_it_at_once() {
    let app = TestApp::spawn().await;
    // A choice field without options is refused, and what was typed stays.
    let refused = post(
        &app,
        Who::Owner,
        "/settings/ticket-form",
        &[
            ("order", "0"),
            ("categories", "Email\nPhones"),
            ("label_0", "Handset model"),
            ("kind_0", "select"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("needs between 1 and"));
    assert!(
        refused.body.contains("value=\"Handset model\"") && refused.body.contains("Email\nPhones")
    );
    let saved = post(
        &app,
        Who::Owner,
        "/settings/ticket-form",
        &[
            ("order", "0"),
            ("order", "1"),
            ("categories", "Email\nPhones"),
            ("label_0", "Handset model"),
            ("kind_0", "select"),
            ("required_0", "1"),
            ("options_0", "Yealink T54\nPolycom VVX"),
            ("label_1", ""),
            ("kind_1", "text"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let form = get(&app, Who::Member, "/tickets/new").await;
    assert!(form.body.contains("Handset model") && form.body.contains("Polycom VVX"));
    assert!(
        form.body
            .contains("<option value=\"Phones\">Phones</option>")
    );
    // A technician may not open the designer.
    assert_eq!(
        get(&app, Who::TechnicianAssigned, "/settings/ticket-form")
            .await
            .status,
        403
    );
    // An override for company A replaces the fields for its users only.
    let company = app.fx.company_a.to_string();
    let override_saved = post(
        &app,
        Who::Owner,
        "/settings/ticket-form",
        &[
            ("company", &company),
            ("order", "0"),
            ("label_0", "Room number"),
            ("kind_0", "number"),
        ],
    )
    .await;
    assert_eq!(override_saved.status, 303);
    let form = get(&app, Who::Member, "/tickets/new").await;
    assert!(form.body.contains("Room number") && !form.body.contains("Handset model"));
    // Saving the override with no fields removes it.
    let cleared = post(
        &app,
        Who::Owner,
        "/settings/ticket-form",
        &[
            ("company", &company),
            ("order", "0"),
            ("label_0", "Room number"),
            ("kind_0", "number"),
            ("remove_0", "1"),
        ],
    )
    .await;
    assert_eq!(cleared.status, 303);
    let form = get(&app, Who::Member, "/tickets/new").await;
    assert!(form.body.contains("Handset model") && !form.body.contains("Room number"));
}

#[tokio::test]
async fn routing_rules_assign_and_prioritise_portal_tickets_in_order() {
    let app = TestApp::spawn().await;
    // The form's categories, which rules pick from.
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.set_ticket_form(app.fx.ws1, None, &["Hardware", "Printing"], &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let tech = app.fx.staff(Who::TechnicianAssigned).to_string();
    let other_tech = app.fx.staff(Who::TechnicianNotAssigned).to_string();
    let company_a = app.fx.company_a.to_string();
    let company_b = app.fx.company_b.to_string();
    // A technician is named only in rules for companies assigned to them: a rule for every
    // company, or for another one, would silently assign nobody, so it is refused when saved.
    for (company, reason) in [
        ("", "works only the companies assigned to them"),
        (company_b.as_str(), "is not assigned to this company"),
    ] {
        let refused = post(
            &app,
            Who::Owner,
            "/settings/routing",
            &[
                ("action", "add"),
                ("position", "5"),
                ("name", "Misrouted"),
                ("company", company),
                ("assignee", tech.as_str()),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains(reason), "{}", refused.body);
        assert!(refused.body.contains("value=\"Misrouted\""));
    }
    for (position, name, company, keywords, assignee, priority, category) in [
        (
            "10",
            "B's printers",
            company_b.as_str(),
            "printer",
            other_tech.as_str(),
            "low",
            "",
        ),
        (
            "20",
            "Printers",
            company_a.as_str(),
            "printer, toner",
            tech.as_str(),
            "urgent",
            "Printing",
        ),
        ("30", "Everything else", "", "", "", "low", ""),
    ] {
        let added = post(
            &app,
            Who::Owner,
            "/settings/routing",
            &[
                ("action", "add"),
                ("position", position),
                ("name", name),
                ("company", company),
                ("keywords", keywords),
                ("assignee", assignee),
                ("priority", priority),
                ("set_category", category),
            ],
        )
        .await;
        assert_eq!(added.status, 303, "{}", added.body);
    }
    let raise = |title: &'static str| {
        let app = &app;
        async move {
            let created = post(
                app,
                Who::Member,
                "/tickets",
                &[
                    ("title", title),
                    ("category", "Hardware"),
                    ("priority", "normal"),
                    ("description", "Please help"),
                ],
            )
            .await;
            assert_eq!(created.status, 303, "{}", created.body);
            ticket_of(created.location())
        }
    };
    let printer = raise("The PRINTER is offline").await;
    let page = get(&app, Who::Owner, &format!("/tickets/{printer}")).await;
    assert!(page.body.contains("assigned to"), "{}", page.body);
    assert!(page.body.contains("Urgent") && page.body.contains("Printing"));
    assert!(
        mails_to(&app, "tech-a@msp.test")
            .await
            .iter()
            .any(|(s, b)| s.contains("The PRINTER is offline") && b.contains("Printers"))
    );
    // The catch-all only lowers the priority: nobody is assigned.
    let other = raise("Monitor flickers").await;
    let page = get(&app, Who::Owner, &format!("/tickets/{other}")).await;
    assert!(page.body.contains("unassigned") && page.body.contains("Low"));
    // A rule without anything to set is refused, the form kept.
    let refused = post(
        &app,
        Who::Owner,
        "/settings/routing",
        &[
            ("action", "add"),
            ("name", "Does nothing"),
            ("keywords", "x"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"Does nothing\""));
    // A category must be one of the form's.
    let refused = post(
        &app,
        Who::Owner,
        "/settings/routing",
        &[
            ("action", "add"),
            ("name", "Typo"),
            ("priority", "low"),
            ("set_category", "Printers"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("form&#39;s categories")
            || refused.body.contains("form's categories")
    );

    // Rules can be changed in place and moved in the order.
    let page = get(&app, Who::Owner, "/settings/routing").await;
    let ids: Vec<String> = page
        .body
        .match_indices("name=\"rule\" value=\"")
        .map(|(at, m)| {
            page.body[at + m.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut order: Vec<String> = Vec::new();
    for id in ids {
        if !order.contains(&id) {
            order.push(id);
        }
    }
    assert_eq!(order.len(), 3, "{order:?}");
    let edit = get(
        &app,
        Who::Owner,
        &format!("/settings/routing?edit={}", order[2]),
    )
    .await;
    assert!(
        edit.body.contains("Change the rule “Everything else”"),
        "{}",
        edit.body
    );
    let saved = post(
        &app,
        Who::Owner,
        "/settings/routing",
        &[
            ("action", "update"),
            ("rule", &order[2]),
            ("name", "Everything else, urgently"),
            ("position", "30"),
            ("priority", "urgent"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let moved = post(
        &app,
        Who::Owner,
        "/settings/routing",
        &[("action", "up"), ("rule", &order[2])],
    )
    .await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    let page = get(&app, Who::Owner, "/settings/routing").await;
    let position = |name: &str| page.body.find(name).unwrap_or_else(|| panic!("{name}"));
    assert!(position("Everything else, urgently") < position(">Printers<"));
    assert!(position("s printers<") < position("Everything else, urgently"));
    // Another workspace's rule, or none, is not found.
    let foreign = post(
        &app,
        Who::Owner,
        "/settings/routing",
        &[("action", "up"), ("rule", "no-such-rule")],
    )
    .await;
    assert_eq!(foreign.status, 404);
}

#[tokio::test]
async fn merging_moves_the_conversation_and_closes_the_duplicate() {
    let app = TestApp::spawn().await;
    let source = app.fx.ticket_a1_other;
    let target = app.fx.own_ticket(Who::Member).unwrap();
    let source_canary = app
        .fx
        .tickets
        .iter()
        .find(|t| t.id == source)
        .unwrap()
        .canary
        .clone();
    // Not across companies.
    let foreign = post(
        &app,
        Who::Owner,
        &format!("/tickets/{source}/merge"),
        &[("into", &app.fx.ticket_b.to_string())],
    )
    .await;
    assert_eq!(foreign.status, 422);
    assert!(foreign.body.contains("different companies"));
    let merged = post(
        &app,
        Who::Owner,
        &format!("/tickets/{source}/merge"),
        &[("into", &target.to_string())],
    )
    .await;
    assert_eq!(merged.status, 303, "{}", merged.body);
    assert_eq!(merged.location(), format!("/tickets/{target}?done=merged"));
    let page = get(&app, Who::Member, &format!("/tickets/{target}")).await;
    assert!(page.body.contains(&format!("{source_canary}-REPLY")));
    assert!(!page.body.contains(&format!("{source_canary}-NOTE")));
    let old = get(&app, Who::Member, &format!("/tickets/{source}")).await;
    assert!(old.body.contains("status-closed") && old.body.contains("merged into"));
    // The other ticket's requester now follows the merged one.
    let requester = app
        .fx
        .tickets
        .iter()
        .find(|t| t.id == source)
        .unwrap()
        .requester;
    let staff = get(&app, Who::Owner, &format!("/tickets/{target}")).await;
    assert!(staff.body.contains("Copied:"), "{requester}");
}

#[tokio::test]
async fn a_refused_ticket_form_reports_every_problem_at_once_beside_its_field() {
    let app = TestApp::spawn().await;
    let (device, _) = with_form(&app).await;
    let device_field = format!("field_{device}");
    let refused = post(
        &app,
        Who::Member,
        "/tickets",
        &[
            ("title", "   "),
            ("category", "Not a category"),
            ("priority", "normal"),
            ("description", "Kept text"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422);
    let body = &refused.body;
    // Three problems, listed together and each linked to its field…
    assert!(body.contains("3 things need fixing"), "{body}");
    assert!(body.contains("<a href=\"#title\">The title cannot be empty.</a>"));
    assert!(body.contains("<a href=\"#category\">Choose a category.</a>"));
    assert!(body.contains(&format!("<a href=\"#{device_field}\">")));
    // …said again beside each field, which is marked invalid and described by it.
    assert!(body.contains(r#"id="title-error""#));
    assert!(body.contains(r#"aria-invalid="true" aria-describedby="title-error""#));
    assert!(body.contains(r#"aria-invalid="true" aria-describedby="category-error""#));
    assert!(body.contains(&format!(
        r#"aria-invalid="true" aria-describedby="{device_field}-error help_{device}""#
    )));
    // The first refused field takes the focus; what was typed stays.
    assert!(body.contains(r#"aria-describedby="title-error" autofocus"#));
    assert_eq!(body.matches(" autofocus").count(), 1);
    assert!(body.contains(">Kept text</textarea>"));
    assert!(!body.contains(r#"aria-describedby="description-error""#));
}

#[tokio::test]
async fn tickets_get_short_numbers_shown_everywhere_and_found_by_search() {
    let app = TestApp::spawn().await;
    let raise = |title: &'static str| {
        let app = &app;
        async move {
            let created = post(
                app,
                Who::Member,
                "/tickets",
                &[
                    ("title", title),
                    ("priority", "normal"),
                    ("description", "Please help"),
                ],
            )
            .await;
            assert_eq!(created.status, 303, "{}", created.body);
            created.location().to_owned()
        }
    };
    // The confirmation page, `/tickets/<id>?done=created`.
    let first = raise("Scanner jams").await;
    let second = raise("Projector dim").await;
    let page = get(&app, Who::Member, &first).await;
    let number = |body: &str| -> i64 {
        let at = body
            .find("Ticket #")
            .expect("the confirmation names the number")
            + 8;
        body[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let n1 = number(&page.body);
    let n2 = number(&get(&app, Who::Member, &second).await.body);
    // The fixture's tickets came first: numbers go on from theirs, one by one.
    assert!(n1 > 1000, "{n1}");
    assert_eq!(n2, n1 + 1);
    assert!(page.body.contains(&format!("#{n1}</span> Scanner jams")));
    // On the lists of both surfaces, and found by its number with or without the #.
    let list = get(&app, Who::Member, "/tickets?status=all").await;
    assert!(list.body.contains(&format!("#{n2}</span> Projector dim")));
    for query in [format!("%23{n1}"), n1.to_string()] {
        let found = get(&app, Who::Member, &format!("/tickets?status=all&q={query}")).await;
        assert!(found.body.contains("Scanner jams"), "{query}");
        assert!(!found.body.contains("Projector dim"), "{query}");
        let queue = get(&app, Who::Owner, &format!("/tickets?status=all&q={query}")).await;
        assert!(
            queue.body.contains(&format!("#{n1}</span> Scanner jams")),
            "{query}"
        );
        assert!(!queue.body.contains("Projector dim"));
    }
    // And in the subject of every mail about it.
    let replied = post(
        &app,
        Who::Owner,
        &format!("{}/replies", first.split('?').next().unwrap()),
        &[("kind", "reply"), ("body", "On it.")],
    )
    .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let mails = mails_to(&app, "member@a.test").await;
    assert!(
        mails
            .iter()
            .any(|(s, _)| s == &format!("[#{n1}] Re: Scanner jams")),
        "{mails:?}"
    );
}

#[tokio::test]
async fn a_merge_that_would_show_an_own_tickets_member_a_colleagues_ticket_is_refused() {
    let app = TestApp::spawn().await;
    let own = app.fx.own_ticket(Who::OwnTicketsOnly).unwrap();
    let colleague = app.fx.own_ticket(Who::Member).unwrap();
    // Either way round, one of them would read a ticket they were never part of.
    for (source, target) in [(own, colleague), (colleague, own)] {
        let refused = post(
            &app,
            Who::Owner,
            &format!("/tickets/{source}/merge"),
            &[("into", &target.to_string())],
        )
        .await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("seen by different people"));
    }
    // Nothing moved: the own-tickets member still cannot open the colleague's ticket, and
    // neither ticket was closed.
    let page = get(&app, Who::OwnTicketsOnly, &format!("/tickets/{colleague}")).await;
    assert_eq!(page.status, 404);
    let page = get(&app, Who::OwnTicketsOnly, &format!("/tickets/{own}")).await;
    assert!(!page.body.contains("status-closed"));
    assert!(!page.body.contains("CANARY-TICKET-Member"));
    // Once the own-tickets member is copied on the colleague's ticket, both audiences agree.
    let own_user = app.fx.portal(Who::OwnTicketsOnly).to_string();
    let copied = post(
        &app,
        Who::Member,
        &format!("/tickets/{colleague}/cc"),
        &[("cc", &own_user)],
    )
    .await;
    assert_eq!(copied.status, 303, "{}", copied.body);
    let merged = post(
        &app,
        Who::Owner,
        &format!("/tickets/{own}/merge"),
        &[("into", &colleague.to_string())],
    )
    .await;
    assert_eq!(merged.status, 303, "{}", merged.body);
}

#[tokio::test]
async fn nobody_is_copied_or_mailed_about_a_ticket_they_may_not_read() {
    let app = TestApp::spawn().await;
    // A site-restricted colleague cannot be copied on another site's ticket…
    let other_site = format!("/tickets/{}", app.fx.ticket_a2);
    let restricted = app.fx.portal(Who::SiteRestricted).to_string();
    let page = get(&app, Who::Member, &other_site).await;
    assert!(!page.body.contains(&format!("value=\"{restricted}\"")));
    let refused = post(
        &app,
        Who::Member,
        &format!("{other_site}/cc"),
        &[("cc", &restricted)],
    )
    .await;
    assert_eq!(refused.status, 422);
    // …but is offered on a ticket of their own site.
    let same_site = format!("/tickets/{}", app.fx.own_ticket(Who::Member).unwrap());
    let page = get(&app, Who::Member, &same_site).await;
    assert!(page.body.contains(&format!("value=\"{restricted}\"")));
    // …and a requester who lost access (their company's portal switched off) gets no mail.
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let before = mails_to(&app, "member@a.test").await.len();
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.set_company_portal_enabled(app.fx.company_a, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let replied = post(
        &app,
        Who::Owner,
        &format!("/tickets/{ticket}/replies"),
        &[("kind", "reply"), ("body", "Anyone there?")],
    )
    .await;
    assert_eq!(replied.status, 303);
    assert_eq!(mails_to(&app, "member@a.test").await.len(), before);
}

#[tokio::test]
async fn staff_keep_their_own_saved_queue_views() {
    let app = TestApp::spawn().await;
    let saved = post(
        &app,
        Who::TechnicianAssigned,
        "/tickets/views",
        &[
            ("action", "save"),
            ("name", "My urgent"),
            ("f_status", "open"),
            ("f_priority", "urgent"),
            ("f_assignee", "me"),
            ("f_bogus", "dropped"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303);
    let queue = get(&app, Who::TechnicianAssigned, "/tickets").await;
    assert!(queue.body.contains("My urgent"));
    assert!(
        queue
            .body
            .contains("status=open&amp;priority=urgent&amp;assignee=me")
            || queue
                .body
                .contains("status=open&#38;priority=urgent&#38;assignee=me"),
        "{}",
        queue.body
    );
    assert!(!queue.body.contains("bogus"));
    // Views are private: the owner does not see the technician's.
    let owner_queue = get(&app, Who::Owner, "/tickets").await;
    assert!(!owner_queue.body.contains("My urgent"));
    let nameless = post(
        &app,
        Who::TechnicianAssigned,
        "/tickets/views",
        &[("action", "save")],
    )
    .await;
    assert_eq!(nameless.status, 422);
}

/// Past 300 companies the queue offers no company picker (nobody picks from thousands) and
/// names only the company it is filtered to; it still lists every company's tickets.
#[tokio::test]
async fn the_queue_of_an_msp_with_hundreds_of_clients_has_no_picker_of_them() {
    let app = TestApp::spawn().await;
    let mut tx = app.store().system_unscoped().await.unwrap();
    for n in 0..300 {
        tx.add_company(
            app.fx.ws1,
            &format!("Extra client {n:03}"),
            "Managed",
            None,
            None,
            "AUD",
            true,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let queue = get(&app, Who::Owner, "/tickets?status=all").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(!queue.body.contains("Extra client 000"));
    assert!(queue.body.contains("CANARY-TICKET-A2"));
    let filtered = get(
        &app,
        Who::Owner,
        &format!("/tickets?status=all&company={}", app.fx.company_a),
    )
    .await;
    assert_eq!(filtered.status, 200, "{}", filtered.body);
    assert!(
        filtered
            .body
            .contains(&format!("<option value=\"{}\" selected", app.fx.company_a))
    );
    assert!(filtered.body.contains("CANARY-TICKET-A2"));
    // The form designer opens a company's own form from the company's page.
    let company_page = get(
        &app,
        Who::Owner,
        &format!("/companies/{}", app.fx.company_a),
    )
    .await;
    let link = format!("/settings/ticket-form?company={}", app.fx.company_a);
    assert!(company_page.body.contains(&link));
    let designer = get(&app, Who::Owner, &link).await;
    assert_eq!(designer.status, 200, "{}", designer.body);
    assert!(
        designer
            .body
            .contains(&format!("<option value=\"{}\" selected", app.fx.company_a))
    );
    assert!(!designer.body.contains("Extra client 000"));
    let workspace_form = get(&app, Who::Owner, "/settings/ticket-form").await.body;
    assert!(workspace_form.contains("opens from its page"));
}

/// Seeds `count` tickets of company A's member, the `n`th `(title, status)` of `ticket(n)`, each a
/// second newer than the one before.
async fn seed_member_tickets(
    app: &TestApp,
    count: i64,
    ticket: impl Fn(i64) -> (String, portico_core::TicketStatus),
) {
    let mut tx = app.store().system_unscoped().await.unwrap();
    let start = portico_store::now() - 100_000;
    for n in 0..count {
        let (title, status) = ticket(n);
        tx.add_ticket(
            app.fx.ws1,
            &portico_store::system::SeedTicket {
                company: app.fx.company_a,
                site: Some(app.fx.site_a1),
                requester: Some(app.fx.portal(Who::Member)),
                title: &title,
                status,
                priority: portico_core::TicketPriority::Normal,
                created_at: start + n,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

/// A word in more tickets than a search ranks (1,000): the newest of them come first, and the
/// oldest are past the cap.
#[tokio::test]
async fn a_search_matching_more_than_its_cap_shows_the_newest() {
    let app = TestApp::spawn().await;
    seed_member_tickets(&app, 1_005, |n| {
        (
            format!("Zebraphone {n:04} will not ring"),
            portico_core::TicketStatus::New,
        )
    })
    .await;
    let found = get(&app, Who::Owner, "/tickets?status=all&q=zebraphone").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(found.body.contains("Zebraphone 1004"), "{}", found.body);
    assert!(!found.body.contains("Zebraphone 0000"));
    let portal = app.session_for(Who::Member).await;
    let page = app
        .get(PORTAL, "/tickets?status=all&q=zebra")
        .session(portal.as_deref())
        .send()
        .await;
    assert!(page.body.contains("Zebraphone 1004") && !page.body.contains("Zebraphone 0000"));
}

/// A search reads its best matches first and all of them when the fence leaves that page short:
/// here the 30 oldest of 300 matches are closed, so a search of closed tickets reads past 270
/// newer open ones. Its pages are those of the full ordering, on both surfaces.
#[tokio::test]
async fn a_search_whose_best_matches_are_fenced_out_still_fills_its_pages() {
    use portico_core::TicketStatus;
    let app = TestApp::spawn().await;
    seed_member_tickets(&app, 300, |n| {
        let status = if n < 30 {
            TicketStatus::Resolved
        } else {
            TicketStatus::Open
        };
        (format!("Kettlewire {n:04} trips the breaker"), status)
    })
    .await;
    let shown = |body: &str| -> Vec<u32> {
        body.match_indices("Kettlewire ")
            .filter_map(|(at, _)| body.get(at + 11..at + 15)?.parse().ok())
            .collect()
    };
    let portal = app.session_for(Who::Member).await;
    let first = app
        .get(PORTAL, "/tickets?status=closed&q=kettlewire")
        .session(portal.as_deref())
        .send()
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    // Newest first: 29 down to 5, then 4 down to 0 on the next page.
    assert_eq!(shown(&first.body), (5..30).rev().collect::<Vec<_>>());
    let second = app
        .get(PORTAL, "/tickets?status=closed&q=kettlewire&after=p25")
        .session(portal.as_deref())
        .send()
        .await;
    assert_eq!(shown(&second.body), (0..5).rev().collect::<Vec<_>>());
    // The desk's list, a wider page of the same ordering.
    let desk = get(&app, Who::Owner, "/tickets?status=closed&q=kettlewire").await;
    assert_eq!(desk.status, 200, "{}", desk.body);
    assert_eq!(shown(&desk.body), (0..30).rev().collect::<Vec<_>>());
    // Open ones, the first matches read: the newest open first.
    let open = app
        .get(PORTAL, "/tickets?status=open&q=kettlewire")
        .session(portal.as_deref())
        .send()
        .await;
    assert_eq!(shown(&open.body), (275..300).rev().collect::<Vec<_>>());
}
