//! Local time over HTTP, on SQLite and PostgreSQL: the zones people read times in (their own,
//! their company's, the workspace's), service levels counted in business hours with a
//! company's own calendar, and clocks that stand still while a ticket awaits the client.

mod common;

use common::{TestApp, Who};
use portico_core::{Scope, TicketId};
use portico_store::SurfaceKind;
use portico_store::scoped::tickets::TicketSummary;

/// The ticket as the owner's desk reads it, with its service levels.
async fn desk_view(app: &TestApp, ticket: TicketId) -> TicketSummary {
    let token = app.session_for(Who::Owner).await.unwrap();
    let mut auth = app.store().auth_read(app.fx.ws1).await.unwrap();
    let owner = auth
        .resolve_session(&token, SurfaceKind::Console, 3600)
        .await
        .unwrap()
        .unwrap();
    auth.commit().await.unwrap();
    let scope = Scope::of(&owner.principal);
    let mut tx = app.store().scoped(&scope).await.unwrap();
    let detail = tx.ticket(ticket).await.unwrap();
    tx.commit().await.unwrap();
    detail.ticket
}

async fn raise(app: &TestApp, title: &str) -> TicketId {
    let created = app
        .post_as(
            Who::Member,
            "/tickets",
            &[
                ("title", title),
                ("priority", "high"),
                ("description", "Since this morning."),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    common::ticket_of(created.location())
}

/// Weekday (Monday 0) and minute of the day of `secs` on `zone`'s wall clock.
fn local(zone: &str, secs: i64) -> (i8, i32) {
    let zoned = jiff::Timestamp::from_second(secs)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get(zone).unwrap());
    (
        zoned.weekday().to_monday_zero_offset(),
        i32::from(zoned.hour()) * 60 + i32::from(zoned.minute()),
    )
}

const WEEKDAYS_9_TO_5: [(&str, &str); 15] = [
    ("open_0", "on"),
    ("opens_0", "09:00"),
    ("closes_0", "17:00"),
    ("open_1", "on"),
    ("opens_1", "09:00"),
    ("closes_1", "17:00"),
    ("open_2", "on"),
    ("opens_2", "09:00"),
    ("closes_2", "17:00"),
    ("open_3", "on"),
    ("opens_3", "09:00"),
    ("closes_3", "17:00"),
    ("open_4", "on"),
    ("opens_4", "09:00"),
    ("closes_4", "17:00"),
];

#[tokio::test]
async fn targets_count_business_hours_and_a_company_may_keep_its_own() {
    let app = TestApp::spawn().await;
    let mut form: Vec<(&str, &str)> = vec![
        ("time_zone", "Europe/London"),
        ("counting", "business"),
        ("first_high", "1"),
        ("resolve_high", "8"),
        ("holidays", "2026-12-25 Christmas Day"),
    ];
    form.extend(WEEKDAYS_9_TO_5);
    // A closing time before the opening one is refused, naming the day, keeping the form.
    let mut wrong = form.clone();
    wrong.push(("open_5", "on"));
    wrong.push(("opens_5", "12:00"));
    wrong.push(("closes_5", "10:00"));
    let refused = app.post_as(Who::Owner, "/settings/sla", &wrong).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Saturday: the opening time must be before")
    );
    assert!(refused.body.contains("2026-12-25 Christmas Day"));
    let saved = app.post_as(Who::Owner, "/settings/sla", &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = app.get_as(Who::Owner, "/settings/sla").await;
    assert!(
        page.body
            .contains("<option selected>Europe/London</option>")
    );
    assert!(page.body.contains("value=\"8\""));

    // The due times fall inside London's opening hours, eight working hours on.
    let ticket = raise(&app, "Laptop will not boot").await;
    let seen = desk_view(&app, ticket).await;
    let due = seen.sla.resolution_due.expect("a resolution target");
    let (day, minute) = local("Europe/London", due);
    assert!(
        day < 5 && (9 * 60..=17 * 60).contains(&minute),
        "{day} {minute}"
    );
    assert!(due - seen.created_at >= 8 * 3600);
    let first = seen
        .sla
        .first_response_due
        .expect("a first-response target");
    let (day, minute) = local("Europe/London", first);
    assert!(
        day < 5 && (9 * 60..=17 * 60).contains(&minute),
        "{day} {minute}"
    );

    // Company A is served on Saturday mornings only, in Auckland.
    let company = app.fx.company_a;
    let own: Vec<(&str, &str)> = vec![
        ("time_zone", "Pacific/Auckland"),
        ("hours", "own"),
        ("open_5", "on"),
        ("opens_5", "10:00"),
        ("closes_5", "12:00"),
    ];
    let refused = app
        .post_as(
            Who::Owner,
            &format!("/companies/{company}/hours"),
            &[("time_zone", "Atlantis/Capital"), ("hours", "workspace")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("is not a time zone"));
    let saved = app
        .post_as(Who::Owner, &format!("/companies/{company}/hours"), &own)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // The open ticket's due times moved to the company's calendar at once.
    let moved = desk_view(&app, ticket).await;
    let (day, minute) = local("Pacific/Auckland", moved.sla.resolution_due.unwrap());
    assert!(
        day == 5 && (10 * 60..=12 * 60).contains(&minute),
        "{day} {minute}"
    );
    let next = raise(&app, "Second screen flickers").await;
    let (day, _) = local(
        "Pacific/Auckland",
        desk_view(&app, next).await.sla.first_response_due.unwrap(),
    );
    assert_eq!(day, 5);
    // Only the owner sets hours: a technician of the company is refused.
    let page = app
        .get_as(
            Who::TechnicianAssigned,
            &format!("/companies/{company}/hours"),
        )
        .await;
    assert_eq!(page.status, 403);
}

#[tokio::test]
async fn the_clocks_stand_still_while_the_client_is_awaited() {
    let app = TestApp::spawn().await;
    let saved = app
        .post_as(
            Who::Owner,
            "/settings/sla",
            &[
                ("time_zone", "UTC"),
                ("counting", "around"),
                ("first_high", "1"),
                ("resolve_high", "8"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let ticket = raise(&app, "VPN drops every hour").await;
    let before = desk_view(&app, ticket).await;
    assert_eq!(
        before.sla.resolution_due,
        Some(before.created_at + 8 * 3600)
    );
    let path = format!("/tickets/{ticket}");
    let asked = app
        .post_as(
            Who::Owner,
            &format!("{path}/replies"),
            &[
                ("kind", "reply"),
                ("body", "Which VPN client version do you run?"),
                ("status", "awaiting_client"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let paused = desk_view(&app, ticket).await;
    assert!(paused.sla.paused && !paused.sla.breached);
    assert!(
        app.get_as(Who::Owner, &path)
            .await
            .body
            .contains("Clock paused")
    );
    // Two hours pass while the client looks it up, ten hours past the resolution target:
    // still not breached, since the clock stands still.
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.backdate_sla_pause(ticket, 2 * 3600).await.unwrap();
    tx.commit().await.unwrap();
    let answered = app
        .post_as(
            Who::Member,
            &format!("{path}/replies"),
            &[("body", "Version 5.2, on Windows.")],
        )
        .await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    let resumed = desk_view(&app, ticket).await;
    assert!(!resumed.sla.paused);
    let moved = resumed.sla.resolution_due.unwrap() - before.sla.resolution_due.unwrap();
    assert!(
        (2 * 3600..2 * 3600 + 60).contains(&moved),
        "moved by {moved}"
    );
    // The first response came before the pause: its due time stays.
    assert_eq!(
        resumed.sla.first_response_due,
        before.sla.first_response_due
    );
}

#[tokio::test]
async fn times_read_in_the_persons_zone_else_the_companys_else_the_workspaces() {
    let app = TestApp::spawn().await;
    let ticket = raise(&app, "Calendar invites arrive late").await;
    let path = format!("/tickets/{ticket}");
    // The workspace's zone (UTC, the default) first.
    assert!(app.get_as(Who::Member, &path).await.body.contains(" UTC"));
    // The company's zone for its people.
    let saved = app
        .post_as(
            Who::Owner,
            &format!("/companies/{}/hours", app.fx.company_a),
            &[("time_zone", "Asia/Tokyo"), ("hours", "workspace")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(app.get_as(Who::Member, &path).await.body.contains(" JST"));
    // Staff read the workspace's until they choose their own.
    assert!(app.get_as(Who::Owner, &path).await.body.contains(" UTC"));
    let chose = app
        .post_as(
            Who::Owner,
            "/settings/time-zone",
            &[("time_zone", "America/New_York")],
        )
        .await;
    assert_eq!(chose.status, 303);
    let page = app.get_as(Who::Owner, &path).await.body;
    assert!(page.contains(" EST") || page.contains(" EDT"), "{page}");
    // A client's own choice wins over the company's.
    let chose = app
        .post_as(
            Who::Member,
            "/profile/time-zone",
            &[("time_zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(chose.status, 303);
    let page = app.get_as(Who::Member, &path).await.body;
    assert!(page.contains(" CET") || page.contains(" CEST"), "{page}");
    let profile = app.get_as(Who::Member, "/profile").await.body;
    assert!(profile.contains("<option selected>Europe/Berlin</option>"));
    assert!(profile.contains("Asia/Tokyo (the default)"));
    // The list page kept for the company renders in each reader's zone.
    let list = app.get_as(Who::Member, "/tickets").await.body;
    assert!(list.contains(" CET") || list.contains(" CEST"));
    let colleague = app.get_as(Who::ClientAdmin, "/tickets").await.body;
    assert!(colleague.contains(" JST"), "{colleague}");
    // A name that is not a zone is refused and changes nothing.
    let refused = app
        .post_as(
            Who::Member,
            "/profile/time-zone",
            &[("time_zone", "Mars/Olympus")],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("is not a time zone"));
    let page = app.get_as(Who::Member, &path).await.body;
    assert!(page.contains(" CET") || page.contains(" CEST"));
}
