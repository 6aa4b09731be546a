//! P2 over HTTP, on SQLite and PostgreSQL: the MSP chooses which parts of a ticket and which
//! custom fields each portal role is shown; what a role is not shown is in none of its pages
//! and is not asked of it.

mod common;

use common::{CONSOLE, PORTAL, Response, TestApp, Who};
use portico_core::{FieldKind, TicketId};
use portico_store::system::SeedField;

async fn post(app: &TestApp, who: Who, path: &str, pairs: &[(&str, &str)]) -> Response {
    app.post_as(who, path, pairs).await
}

async fn get(app: &TestApp, who: Who, path: &str) -> Response {
    let host = if who.is_staff() { CONSOLE } else { PORTAL };
    let token = app.session_for(who).await;
    app.get(host, path).session(token.as_deref()).send().await
}

fn ticket_of(location: &str) -> TicketId {
    let id = location
        .strip_prefix("/tickets/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_default();
    TicketId::parse(id).unwrap_or_else(|| panic!("no ticket in {location:?}"))
}

/// The workspace form: a required device question and an internal-sounding cost centre.
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
                    help: "",
                    options: &["Laptop", "Printer"],
                },
                SeedField {
                    label: "Cost centre",
                    kind: FieldKind::Text,
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

#[tokio::test]
async fn each_portal_role_sees_only_what_the_msp_shows_it() {
    let app = TestApp::spawn().await;
    let (device, cost) = with_form(&app).await;
    let device_field = format!("field_{device}");
    let cost_field = format!("field_{cost}");
    let created = post(
        &app,
        Who::Member,
        "/tickets",
        &[
            ("title", "Docking station dead"),
            ("category", "Hardware"),
            ("priority", "high"),
            ("description", "No power light."),
            (device_field.as_str(), "Laptop"),
            (cost_field.as_str(), "CC-4711"),
        ],
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let ticket = ticket_of(created.location());
    let path = format!("/tickets/{ticket}");
    let changed = post(
        &app,
        Who::Owner,
        &format!("{path}/update"),
        &[
            ("status", "on_hold"),
            ("priority", "urgent"),
            ("assignee", ""),
        ],
    )
    .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    let viewer_before = get(&app, Who::Viewer, &path).await.body;
    assert!(viewer_before.contains("Urgent priority") && viewer_before.contains("CC-4711"));

    // Viewers: no priority, site, requester, changes or cost centre; members: no cost centre
    // and no priority; client admins: everything.
    let shown: [(&str, &[&str]); 7] = [
        ("priority", &["client_admin"]),
        ("site", &["client_admin", "member"]),
        ("requester", &["client_admin", "member"]),
        ("changes", &["client_admin", "member"]),
        ("category", &["client_admin", "member", "viewer"]),
        (cost.as_str(), &["client_admin"]),
        (device.as_str(), &["client_admin", "member", "viewer"]),
    ];
    let mut owned: Vec<(String, String)> = Vec::new();
    for (item, roles) in shown {
        owned.push(("item".into(), item.into()));
        for role in roles {
            owned.push((format!("show_{item}"), (*role).into()));
        }
    }
    let pairs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = post(&app, Who::Owner, "/settings/ticket-visibility", &pairs).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let settings = get(&app, Who::Owner, "/settings/ticket-visibility")
        .await
        .body;
    assert!(settings.contains("Cost centre") && settings.contains("Affected device"));

    let viewer = get(&app, Who::Viewer, &path).await.body;
    assert!(!viewer.contains("priority</span>"), "{viewer}");
    assert!(!viewer.contains("CC-4711") && !viewer.contains("Cost centre"));
    assert!(!viewer.contains("raised by") && !viewer.contains("Status changed"));
    assert!(viewer.contains("Affected device") && viewer.contains("Hardware"));
    let list = get(&app, Who::Viewer, "/tickets").await.body;
    assert!(list.contains("Docking station dead"));
    assert!(!list.contains(">Priority<") && !list.contains(">Urgent<") && !list.contains(">Site<"));

    let member = get(&app, Who::Member, &path).await.body;
    assert!(!member.contains("priority</span>") && !member.contains("CC-4711"));
    assert!(member.contains("raised by") && member.contains("Status changed"));
    // The member is not asked for what they are not shown: no priority, no cost centre; a
    // ticket they raise has normal priority whatever the request says.
    let form_page = get(&app, Who::Member, "/tickets/new").await.body;
    assert!(!form_page.contains("id=\"priority\"") && !form_page.contains("Cost centre"));
    let raised = post(
        &app,
        Who::Member,
        "/tickets",
        &[
            ("title", "Mouse double-clicks"),
            ("category", "Hardware"),
            ("priority", "urgent"),
            ("description", "Every click counts twice."),
            (device_field.as_str(), "Laptop"),
            (cost_field.as_str(), "SNEAKED-IN"),
        ],
    )
    .await;
    assert_eq!(raised.status, 303, "{}", raised.body);
    let second = ticket_of(raised.location());
    let desk = get(&app, Who::Owner, &format!("/tickets/{second}"))
        .await
        .body;
    assert!(
        desk.contains("<option value=\"normal\" selected>") && !desk.contains("SNEAKED-IN"),
        "{desk}"
    );

    let admin = get(&app, Who::ClientAdmin, &path).await.body;
    assert!(admin.contains("Urgent priority") && admin.contains("CC-4711"));
    let admin_list = get(&app, Who::ClientAdmin, "/tickets").await.body;
    assert!(admin_list.contains(">Priority<") && admin_list.contains(">Urgent<"));
    // The viewer's list, read again after the admin's, still hides it: the page kept for the
    // company is rendered per view.
    let list = get(&app, Who::Viewer, "/tickets").await.body;
    assert!(!list.contains(">Urgent<"));
}
