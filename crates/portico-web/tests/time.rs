//! Time and work through HTTP: a refused log keeps what was typed on the ticket's page, logged
//! time appears on the ticket, on the staff member's month and on the client admin's Work page,
//! with the amount only where billing access is held.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who};

#[tokio::test]
async fn logged_time_reaches_the_ticket_my_time_and_the_client_admins_work_page() {
    let app = TestApp::spawn().await;
    let tech = app.session_for(Who::TechnicianAssigned).await.unwrap();
    let csrf = app.csrf(Who::TechnicianAssigned, Some(&tech)).await;
    let ticket = app.fx.ticket_a2;
    let today = portico_core::Zone::utc()
        .date_after(portico_store::now(), 0)
        .unwrap();
    let refused = app
        .post(CONSOLE, &format!("/tickets/{ticket}/time"))
        .session(Some(&tech))
        .form(&[
            ("csrf", csrf.as_str()),
            ("spent", "ages"),
            ("worked_on", today.as_str()),
            ("note", "Replaced the toner"),
        ])
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"ages\""));
    assert!(refused.body.contains("value=\"Replaced the toner\""));
    assert!(refused.body.contains("id=\"spent-error\""));
    for (spent, billable) in [("1:30", false), ("45", true)] {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("spent", spent),
            ("worked_on", today.as_str()),
            ("note", "Replaced the toner"),
        ];
        if billable {
            form.push(("billable", "1"));
        }
        let logged = app
            .post(CONSOLE, &format!("/tickets/{ticket}/time"))
            .session(Some(&tech))
            .form(&form)
            .send()
            .await;
        assert_eq!(logged.status, 303);
    }
    let page = app
        .get(CONSOLE, &format!("/tickets/{ticket}"))
        .session(Some(&tech))
        .send()
        .await;
    assert!(page.body.contains("2.25 h logged"), "{}", page.body);
    let mine = app
        .get(CONSOLE, "/my-time")
        .session(Some(&tech))
        .send()
        .await;
    assert!(mine.body.contains("CANARY-TICKET-A2"));
    assert!(mine.body.contains("2.25 h"));

    // The client admin (with billing access) sees the month with its amount: the fixture's
    // plan includes no hours, so all 2.25 h are billable, at company A's rate of 44.44.
    let admin = app.session_for(Who::ClientAdmin).await.unwrap();
    let work = app.get(PORTAL, "/work").session(Some(&admin)).send().await;
    assert_eq!(work.status, 200);
    assert!(work.body.contains("Replaced the toner"));
    assert!(work.body.contains("2.25 h"));
    assert!(work.body.contains("AUD 99.99"), "{}", work.body);
    // A member is not shown the company's plan usage at all.
    let member = app.session_for(Who::Member).await.unwrap();
    assert_eq!(
        app.get(PORTAL, "/work")
            .session(Some(&member))
            .send()
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(PORTAL, "/work?month=2026-13")
            .session(Some(&admin))
            .send()
            .await
            .status,
        400
    );
}
