//! The audit log through HTTP: what staff and clients do reaches the log with who, what, when
//! and from where; a client admin reads their company's chain — including which of the MSP's
//! staff opened their records — and nothing of another company's or the MSP's internal work;
//! the proof bundle they download checks on its own; a rolled-back change leaves no entry.

mod common;

use common::{CONSOLE, PASSWORD, PORTAL, TestApp, Who};
use portico_store::scoped::audit_log::ProofBundle;

/// The rows of the log as `who` reads it (the page without its filter form).
async fn log_as(app: &TestApp, who: Who, query: &str) -> String {
    app.store().flush_audit().await.unwrap();
    let response = app.get_as(who, &format!("/audit{query}")).await;
    assert_eq!(response.status, 200, "{query}");
    let body = response.body;
    let start = body.find("class=\"list-count\"").expect("the list");
    body[start..].to_owned()
}

#[tokio::test]
async fn a_client_admin_sees_who_opened_and_changed_their_records() {
    let app = TestApp::spawn().await;
    let ticket = app.fx.tickets[0].id;
    // The MSP's technician opens the ticket; the member replies; the technician adds an
    // internal note (the MSP's own).
    let opened = app
        .get_as(Who::TechnicianAssigned, &format!("/tickets/{ticket}"))
        .await;
    assert_eq!(opened.status, 200);
    let reply = app
        .post_as(
            Who::Member,
            &format!("/tickets/{ticket}/replies"),
            &[("body", "AUDIT-REPLY")],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let note = app
        .post_as(
            Who::TechnicianAssigned,
            &format!("/tickets/{ticket}/replies"),
            &[("body", "AUDIT-NOTE"), ("kind", "note")],
        )
        .await;
    assert_eq!(note.status, 303, "{}", note.body);
    // A sign-in that fails on the member's account.
    let failed = app
        .sign_in(PORTAL, "member@a.test", "not the password")
        .await;
    assert_eq!(failed.status, 401);

    let page = log_as(&app, Who::ClientAdmin, "").await;
    assert!(page.contains("Viewed"), "{page}");
    assert!(page.contains("MSP staff"));
    assert!(page.contains("Replied on a ticket"));
    assert!(page.contains("Sign-in failed"));
    assert!(
        !page.contains("Added an internal note"),
        "the MSP's internal work is on the workspace's chain"
    );
    // The filters narrow it.
    let failures = log_as(&app, Who::ClientAdmin, "?action=sign_in_failed").await;
    assert!(failures.contains("Sign-in failed"));
    assert!(!failures.contains("Replied on a ticket"));

    // The owner sees the internal note, on the workspace's chain, and every company.
    let owner = log_as(&app, Who::Owner, "").await;
    assert!(owner.contains("Added an internal note"));
    assert!(owner.contains("internal"));

    // The CSV holds the entries.
    let csv = app.get_as(Who::ClientAdmin, "/audit.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with("Time (UTC),Who,Name,Action"));
    assert!(csv.body.contains("Replied on a ticket"));

    // The proof bundle checks out against the workspace's key, and not once edited.
    let bundle = app.get_as(Who::ClientAdmin, "/audit/bundle.json").await;
    assert_eq!(bundle.status, 200);
    let bundle: ProofBundle = serde_json::from_str(&bundle.body).unwrap();
    let key = hex::encode(
        app.store()
            .audit_log()
            .key()
            .verifying_key(&app.fx.ws1.as_text())
            .as_bytes(),
    );
    assert!(bundle.entries.len() >= 3);
    assert_eq!(bundle.verify(Some(&key)), Ok(bundle.entries.len() as u64));
    assert!(
        bundle
            .entries
            .iter()
            .all(|e| e.chain == app.fx.company_a.as_text())
    );
    let mut edited = bundle.clone();
    edited.entries[0].actor_name = "Someone else".into();
    assert!(edited.verify(Some(&key)).is_err());

    // The whole log verifies.
    let mut tx = app.store().system_unscoped().await.unwrap();
    let report = tx
        .verify_audit(app.store().audit_log(), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn sign_ins_and_sign_outs_are_recorded() {
    let app = TestApp::spawn().await;
    // Signed in through the form, from a browser that names itself.
    let form = app.get(PORTAL, "/login").send().await;
    let form_token = form.cookie("portico_form").unwrap();
    let ok = app
        .post(PORTAL, "/login")
        .cookie("portico_form", &form_token)
        .header("user-agent", "AuditAgent/1.0 Firefox/140.0")
        .form(&[
            ("form_token", &form_token),
            ("email", "admin@a.test"),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await;
    assert_eq!(ok.status, 303);
    let page = log_as(&app, Who::ClientAdmin, "?action=sign_in").await;
    assert!(page.contains("Signed in"));
    assert!(page.contains("admin@a.test"));
    assert!(page.contains("Firefox"), "the device is named");
    let csv = app
        .get_as(Who::ClientAdmin, "/audit.csv?action=sign_in")
        .await;
    assert!(csv.body.contains("AuditAgent/1.0 Firefox/140.0"));
    let console = app.sign_in(CONSOLE, "nobody@msp.test", "wrong").await;
    assert_eq!(console.status, 401);
    let owner = log_as(&app, Who::Owner, "?action=sign_in_failed").await;
    assert!(owner.contains("nobody@msp.test"));
    assert!(owner.contains("Not signed in"));
    // Dates that are not dates are refused, and change nothing.
    let bad = app.get_as(Who::Owner, "/audit?from=yesterday").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_refused_change_leaves_no_entry() {
    let app = TestApp::spawn().await;
    let ticket = app.fx.tickets[0].id;
    // An empty reply is refused: the ticket and the log stay as they were.
    let refused = app
        .post_as(
            Who::Member,
            &format!("/tickets/{ticket}/replies"),
            &[("body", "")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let page = log_as(&app, Who::Owner, "?action=ticket_replied").await;
    assert!(page.contains("No entries match"), "{page}");
}

#[tokio::test]
async fn a_portal_user_sees_recent_sign_ins_and_ends_one_session() {
    let app = TestApp::spawn().await;
    let failed = app.sign_in(PORTAL, "member@a.test", "wrong password").await;
    assert_eq!(failed.status, 401);
    // Two browsers signed in.
    let first = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    let other = app.sign_in(PORTAL, "member@a.test", PASSWORD).await;
    let first = first.cookie("portico_portal").unwrap();
    let other = other.cookie("portico_portal").unwrap();
    let profile = app
        .get(PORTAL, "/profile")
        .session(Some(&first))
        .send()
        .await;
    assert_eq!(profile.status, 200);
    let recent = &profile.body[profile.body.find("Recent sign-ins").unwrap()..];
    assert!(recent.contains("Signed in"));
    assert!(recent.contains("<strong>Failed</strong>"));
    // The other session's end button names it by its hash.
    let sessions = &profile.body[profile.body.find("Where you are signed in").unwrap()..];
    let marker = "name=\"session\" value=\"";
    let start = sessions.find(marker).unwrap() + marker.len();
    let hash = &sessions[start..start + 64];
    let csrf = profile.hidden("csrf");
    let ended = app
        .post(PORTAL, "/profile/sessions/end")
        .session(Some(&first))
        .form(&[("csrf", &csrf), ("session", hash)])
        .send()
        .await;
    assert_eq!(ended.status, 303);
    let gone = app
        .get(PORTAL, "/profile")
        .session(Some(&other))
        .send()
        .await;
    assert_eq!(gone.status, 303, "the ended session signs in again");
    // Once more: it has ended already.
    let again = app
        .post(PORTAL, "/profile/sessions/end")
        .session(Some(&first))
        .form(&[("csrf", &csrf), ("session", hash)])
        .send()
        .await;
    assert_eq!(again.status, 400);
    let log = log_as(&app, Who::ClientAdmin, "?action=session_ended").await;
    assert!(log.contains("Ended a session"));
}

#[tokio::test]
async fn staff_view_the_portal_as_a_user_read_only_and_every_page_is_on_the_record() {
    let app = TestApp::spawn().await;
    let member = app.fx.portal(Who::Member);
    let path = format!("/companies/{}/users/{member}/view-as", app.fx.company_a);
    // A reason is required: refused, the form keeps what was typed.
    let short = app
        .post_as(Who::TechnicianAssigned, &path, &[("reason", "because")])
        .await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains(">because</textarea>"));
    let started = app
        .post_as(
            Who::TechnicianAssigned,
            &path,
            &[("reason", "Ticket 1042: cannot find the invoice")],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.location().to_owned();
    let handoff = &location[location.find("/view-as?token=").expect("a portal link")..];
    let opened = app.get(PORTAL, handoff).send().await;
    assert_eq!(opened.status, 303);
    let session = opened.cookie("portico_portal").unwrap();
    // The hand-over works once.
    assert_eq!(app.get(PORTAL, handoff).send().await.status, 400);

    let page = app
        .get(PORTAL, "/tickets")
        .session(Some(&session))
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Viewing the portal as"));
    assert!(page.body.contains("Ticket 1042: cannot find the invoice"));
    // Nothing can be changed.
    let ticket = app.fx.own_ticket(Who::Member).unwrap();
    let csrf = page.hidden("csrf");
    let reply = app
        .post(PORTAL, &format!("/tickets/{ticket}/replies"))
        .session(Some(&session))
        .form(&[("csrf", &csrf), ("body", "VIEW-AS-REPLY")])
        .send()
        .await;
    assert_eq!(reply.status, 403);
    let seen = app
        .get(PORTAL, &format!("/tickets/{ticket}"))
        .session(Some(&session))
        .send()
        .await;
    assert_eq!(seen.status, 200);
    assert!(!seen.body.contains("VIEW-AS-REPLY"));
    // Ended by the viewer.
    let ended = app
        .post(PORTAL, "/view-as/end")
        .session(Some(&session))
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(ended.status, 303);
    assert_eq!(ended.location(), "/login?done=view-ended");
    assert_eq!(
        app.get(PORTAL, "/tickets")
            .session(Some(&session))
            .send()
            .await
            .status,
        303,
        "the view's session is over"
    );

    // The client admin reads all of it.
    let log = log_as(&app, Who::ClientAdmin, "").await;
    assert!(log.contains("Started viewing the portal as"));
    assert!(log.contains("Ticket 1042: cannot find the invoice"));
    assert!(log.contains("Viewed the portal as"));
    assert!(log.contains(&format!("/tickets/{ticket}")));
    assert!(log.contains("Stopped viewing the portal as"));
    assert!(log.contains("(as member@a.test)") || log.contains("(as "));
}

/// Opens the portal as `user` for `staff`, returning the view's session token.
async fn view_as(app: &TestApp, staff: Who, user: Who) -> String {
    let path = format!(
        "/companies/{}/users/{}/view-as",
        app.fx.company_a,
        app.fx.portal(user)
    );
    let started = app
        .post_as(staff, &path, &[("reason", "Checking what the client sees")])
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.location().to_owned();
    let handoff = &location[location.find("/view-as?token=").unwrap()..];
    let opened = app.get(PORTAL, handoff).send().await;
    opened.cookie("portico_portal").unwrap()
}

#[tokio::test]
async fn a_view_shows_no_more_than_the_viewer_may_see_and_ends_with_their_access() {
    let app = TestApp::spawn().await;
    // A technician viewing as the client admin (who has billing access) sees neither the
    // invoices nor the audit log: they may see neither in the console.
    let session = view_as(&app, Who::TechnicianAssigned, Who::ClientAdmin).await;
    let home = app
        .get(PORTAL, "/tickets")
        .session(Some(&session))
        .send()
        .await;
    assert_eq!(home.status, 200);
    assert!(!home.body.contains("href=\"/invoices\""));
    assert!(!home.body.contains("href=\"/audit\""));
    for path in ["/invoices", "/invoices.csv", "/audit", "/audit/bundle.json"] {
        let page = app.get(PORTAL, path).session(Some(&session)).send().await;
        assert_eq!(page.status, 404, "{path}");
    }
    // Signing out would be recorded as the client's own: refused, the view ends instead.
    let csrf = home.hidden("csrf");
    let out = app
        .post(PORTAL, "/logout")
        .session(Some(&session))
        .form(&[("csrf", &csrf)])
        .send()
        .await;
    assert_eq!(out.status, 403);
    // The owner's view shows both.
    let owner = view_as(&app, Who::Owner, Who::ClientAdmin).await;
    let invoices = app
        .get(PORTAL, "/invoices")
        .session(Some(&owner))
        .send()
        .await;
    assert_eq!(invoices.status, 200);
    // The technician loses the company: their view ends at once.
    let unassigned = app
        .post_as(
            Who::Owner,
            &format!("/staff/{}", app.fx.staff(Who::TechnicianAssigned)),
            &[("role", "technician")],
        )
        .await;
    assert_eq!(unassigned.status, 303, "{}", unassigned.body);
    let gone = app
        .get(PORTAL, "/tickets")
        .session(Some(&session))
        .send()
        .await;
    assert_eq!(gone.status, 303);
}

/// Opens the portal of company A as a role for `staff`, returning the view's session token.
async fn view_as_role(app: &TestApp, staff: Who, form: &[(&str, &str)]) -> String {
    let path = format!("/companies/{}/view-as", app.fx.company_a);
    let mut fields = vec![("reason", "What does a new user of this role see?")];
    fields.extend_from_slice(form);
    let started = app.post_as(staff, &path, &fields).await;
    assert_eq!(started.status, 303, "{}", started.body);
    let location = started.location().to_owned();
    let handoff = &location[location.find("/view-as?token=").unwrap()..];
    let opened = app.get(PORTAL, handoff).send().await;
    assert_eq!(opened.status, 303);
    opened.cookie("portico_portal").unwrap()
}

#[tokio::test]
async fn staff_view_the_portal_as_a_role_with_the_settings_chosen() {
    let app = TestApp::spawn().await;
    let path = format!("/companies/{}/view-as", app.fx.company_a);
    // Refused without a reason or a role, keeping what was typed; forbidden to sales; a company
    // out of sight is missing.
    let no_reason = app
        .post_as(
            Who::TechnicianAssigned,
            &path,
            &[("role", "viewer"), ("own_only", "1"), ("reason", "why")],
        )
        .await;
    assert_eq!(no_reason.status, 422);
    assert!(no_reason.body.contains(">why</textarea>"));
    assert!(no_reason.body.contains("value=\"viewer\" selected"));
    assert!(
        no_reason
            .body
            .contains("name=\"own_only\" value=\"1\" checked")
    );
    let no_role = app
        .post_as(
            Who::TechnicianAssigned,
            &path,
            &[("role", "superuser"), ("reason", "A long enough reason")],
        )
        .await;
    assert_eq!(no_role.status, 422);
    let sales = app
        .post_as(
            Who::Sales,
            &path,
            &[("role", "member"), ("reason", "A long enough reason")],
        )
        .await;
    assert_eq!(sales.status, 403);
    let elsewhere = app
        .post_as(
            Who::TechnicianNotAssigned,
            &path,
            &[("role", "member"), ("reason", "A long enough reason")],
        )
        .await;
    assert_eq!(elsewhere.status, 404);

    let a_tickets: Vec<&common::FixtureTicket> = app
        .fx
        .tickets
        .iter()
        .filter(|t| t.company == app.fx.company_a)
        .collect();
    assert!(!a_tickets.is_empty());
    let b_ticket = app
        .fx
        .tickets
        .iter()
        .find(|t| t.company == app.fx.company_b)
        .unwrap();

    // Any member sees the company's tickets, never another company's, and changes nothing.
    let member = view_as_role(&app, Who::TechnicianAssigned, &[("role", "member")]).await;
    let list = app
        .get(PORTAL, "/tickets")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Viewing the portal as any Member of"));
    assert!(list.body.contains(&a_tickets[0].canary), "{}", list.body);
    assert!(!list.body.contains(&b_ticket.canary));
    let opened = app
        .get(PORTAL, &format!("/tickets/{}", a_tickets[0].id))
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(opened.status, 200);
    let foreign = app
        .get(PORTAL, &format!("/tickets/{}", b_ticket.id))
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(foreign.status, 404);
    let csrf = list.hidden("csrf");
    let create = app
        .post(PORTAL, "/tickets")
        .session(Some(&member))
        .form(&[("csrf", csrf.as_str()), ("subject", "VIEW-AS-ROLE")])
        .send()
        .await;
    assert_eq!(create.status, 403);
    // Every page its navigation offers opens (no person behind it is needed to read).
    let hrefs: Vec<String> = list
        .body
        .split("<nav class=\"mainnav\"")
        .nth(1)
        .unwrap()
        .split("</nav>")
        .next()
        .unwrap()
        .split("href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect();
    assert!(hrefs.len() > 3, "{hrefs:?}");
    // No one's account: no personal pages offered.
    assert!(
        !hrefs.iter().any(|h| h == "/profile" || h == "/preferences"),
        "{hrefs:?}"
    );
    for href in &hrefs {
        let page = app.get(PORTAL, href).session(Some(&member)).send().await;
        assert_eq!(page.status, 200, "{href}");
    }

    // With "own tickets only", a new member has requested nothing yet.
    let own_only = view_as_role(
        &app,
        Who::TechnicianAssigned,
        &[("role", "member"), ("own_only", "1")],
    )
    .await;
    let list = app
        .get(PORTAL, "/tickets")
        .session(Some(&own_only))
        .send()
        .await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("own tickets only"));
    for ticket in &a_tickets {
        assert!(!list.body.contains(&ticket.canary));
    }

    // Money only when chosen and when the viewer may see it themselves.
    let tech_billing = view_as_role(
        &app,
        Who::TechnicianAssigned,
        &[("role", "client_admin"), ("billing", "1")],
    )
    .await;
    let invoices = app
        .get(PORTAL, "/invoices")
        .session(Some(&tech_billing))
        .send()
        .await;
    assert_eq!(invoices.status, 404);
    let owner_billing = view_as_role(
        &app,
        Who::Owner,
        &[("role", "client_admin"), ("billing", "1")],
    )
    .await;
    let invoices = app
        .get(PORTAL, "/invoices")
        .session(Some(&owner_billing))
        .send()
        .await;
    assert_eq!(invoices.status, 200);
    let owner_plain = view_as_role(&app, Who::Owner, &[("role", "client_admin")]).await;
    let invoices = app
        .get(PORTAL, "/invoices")
        .session(Some(&owner_plain))
        .send()
        .await;
    assert_eq!(invoices.status, 404);

    // The client admin reads who viewed as which role, why, and every page.
    let log = log_as(&app, Who::ClientAdmin, "").await;
    assert!(log.contains("Started viewing the portal as"));
    assert!(log.contains("any Member (own tickets only)"));
    assert!(log.contains("What does a new user of this role see?"));
    assert!(log.contains(&format!("/tickets/{}", a_tickets[0].id)));

    // A company whose portal is off has nothing to view.
    common::save_portal_settings(&app, app.fx.company_a, &[], &[]).await;
    let off = app
        .post_as(
            Who::Owner,
            &path,
            &[("role", "member"), ("reason", "A long enough reason")],
        )
        .await;
    assert_eq!(off.status, 422);
    assert!(off.body.contains("switched off"));
}
