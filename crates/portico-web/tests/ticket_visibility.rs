//! P2 over HTTP, on SQLite and PostgreSQL: the MSP chooses which parts of a ticket and which
//! custom fields each portal role is shown; what a role is not shown is in none of its pages
//! and is not asked of it.

mod common;

use common::{TestApp, Who};
use portico_core::FieldKind;
use portico_store::system::SeedField;

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
    let created = app
        .post_as(
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
    let ticket = common::ticket_of(created.location());
    let path = format!("/tickets/{ticket}");
    let changed = app
        .post_as(
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
    let viewer_before = app.get_as(Who::Viewer, &path).await.body;
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
    let saved = app
        .post_as(Who::Owner, "/settings/ticket-visibility", &pairs)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let settings = app
        .get_as(Who::Owner, "/settings/ticket-visibility")
        .await
        .body;
    assert!(settings.contains("Cost centre") && settings.contains("Affected device"));

    let viewer = app.get_as(Who::Viewer, &path).await.body;
    assert!(!viewer.contains("priority</span>"), "{viewer}");
    assert!(!viewer.contains("CC-4711") && !viewer.contains("Cost centre"));
    assert!(!viewer.contains("raised by") && !viewer.contains("Status changed"));
    assert!(viewer.contains("Affected device") && viewer.contains("Hardware"));
    let list = app.get_as(Who::Viewer, "/tickets").await.body;
    assert!(list.contains("Docking station dead"));
    assert!(!list.contains(">Priority<") && !list.contains(">Urgent<") && !list.contains(">Site<"));

    let member = app.get_as(Who::Member, &path).await.body;
    assert!(!member.contains("priority</span>") && !member.contains("CC-4711"));
    assert!(member.contains("raised by") && member.contains("Status changed"));
    // The member is not asked for what they are not shown: no priority, no cost centre; a
    // ticket they raise has normal priority whatever the request says.
    let form_page = app.get_as(Who::Member, "/tickets/new").await.body;
    assert!(!form_page.contains("id=\"priority\"") && !form_page.contains("Cost centre"));
    let raised = app
        .post_as(
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
    let second = common::ticket_of(raised.location());
    let desk = app
        .get_as(Who::Owner, &format!("/tickets/{second}"))
        .await
        .body;
    assert!(
        desk.contains("<option value=\"normal\" selected>") && !desk.contains("SNEAKED-IN"),
        "{desk}"
    );

    let admin = app.get_as(Who::ClientAdmin, &path).await.body;
    assert!(admin.contains("Urgent priority") && admin.contains("CC-4711"));
    let admin_list = app.get_as(Who::ClientAdmin, "/tickets").await.body;
    assert!(admin_list.contains(">Priority<") && admin_list.contains(">Urgent<"));
    // The viewer's list, read again after the admin's, still hides it: the page kept for the
    // company is rendered per view.
    let list = app.get_as(Who::Viewer, "/tickets").await.body;
    assert!(!list.contains(">Urgent<"));
}

/// The designer's rows for the two fields of [`with_form`], in the order given, and a blank
/// label for a new field when `new` is set.
fn designer_rows<'a>(
    first: (&'a str, &'a str, &'a str, &'a str),
    second: (&'a str, &'a str, &'a str, &'a str),
    new: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![("categories", "Hardware\nSoftware")];
    for (n, (id, label, kind, options)) in [first, second].into_iter().enumerate() {
        let names: [&str; 5] = [
            ["id_0", "id_1"][n],
            ["label_0", "label_1"][n],
            ["kind_0", "kind_1"][n],
            ["options_0", "options_1"][n],
            ["0", "1"][n],
        ];
        pairs.extend([
            ("order", names[4]),
            (names[0], id),
            (names[1], label),
            (names[2], kind),
            (names[3], options),
        ]);
    }
    if let Some(label) = new {
        pairs.extend([("order", "2"), ("label_2", label), ("kind_2", "text")]);
    }
    pairs
}

#[tokio::test]
async fn the_designer_reorders_and_previews_and_hidden_fields_stay_hidden_after_a_save() {
    let app = TestApp::spawn().await;
    let (device, cost) = with_form(&app).await;
    // The cost centre is for client admins only.
    let hidden = app
        .post_as(
            Who::Owner,
            "/settings/ticket-visibility",
            &[
                ("item", cost.as_str()),
                (&format!("show_{cost}"), "client_admin"),
            ],
        )
        .await;
    assert_eq!(hidden.status, 303, "{}", hidden.body);
    let device_row = (
        device.as_str(),
        "Affected device",
        "select",
        "Laptop\nPrinter",
    );
    let cost_row = (cost.as_str(), "Cost centre", "text", "");

    // "Move up" on the second row shows the form again with the rows swapped, unsaved.
    let mut pairs = designer_rows(device_row, cost_row, None);
    pairs.push(("move", "1-up"));
    let moved = app
        .post_as(Who::Owner, "/settings/ticket-form", &pairs)
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let at = |body: &str, text: &str| body.find(text).unwrap_or_else(|| panic!("{text}"));
    assert!(
        at(&moved.body, "value=\"Cost centre\"") < at(&moved.body, "value=\"Affected device\"")
    );
    assert!(moved.body.contains("Save the form to keep the new order"));
    let saved_form = app.get_as(Who::Owner, "/settings/ticket-form").await.body;
    assert!(
        at(&saved_form, "value=\"Affected device\"") < at(&saved_form, "value=\"Cost centre\"")
    );

    // The preview, as a member: the unsaved new field and the device, not the cost centre.
    let mut pairs = designer_rows(cost_row, device_row, Some("Serial number"));
    pairs.extend([("intent", "preview"), ("preview_role", "member")]);
    let preview = app
        .post_as(Who::Owner, "/settings/ticket-form", &pairs)
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let body = &preview.body;
    assert!(body.contains("the form as a member sees it"), "{body}");
    assert!(body.contains(&format!("for=\"field_{device}\"")));
    assert!(body.contains("for=\"field_new-2\">Serial number"));
    assert!(!body.contains(&format!("for=\"field_{cost}\"")));
    let mut pairs = designer_rows(cost_row, device_row, None);
    pairs.extend([("intent", "preview"), ("preview_role", "client_admin")]);
    let as_admin = app
        .post_as(Who::Owner, "/settings/ticket-form", &pairs)
        .await
        .body;
    assert!(
        at(&as_admin, &format!("for=\"field_{cost}\""))
            < at(&as_admin, &format!("for=\"field_{device}\""))
    );
    assert!(
        app.get_as(Who::Member, "/tickets/new")
            .await
            .body
            .contains("Affected device")
    );
    let unchanged = app.get_as(Who::Owner, "/settings/ticket-form").await.body;
    assert!(!unchanged.contains("Serial number"));

    // Saved in the new order, the fields keep their ids: the cost centre is still hidden from
    // members, and the client admin is asked it first.
    let pairs = designer_rows(cost_row, device_row, None);
    let saved = app
        .post_as(Who::Owner, "/settings/ticket-form", &pairs)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let member_form = app.get_as(Who::Member, "/tickets/new").await.body;
    assert!(member_form.contains("Affected device"), "{member_form}");
    assert!(!member_form.contains("Cost centre"), "{member_form}");
    let admin_form = app.get_as(Who::ClientAdmin, "/tickets/new").await.body;
    assert!(at(&admin_form, "Cost centre") < at(&admin_form, "Affected device"));
    let designer = app.get_as(Who::Owner, "/settings/ticket-form").await.body;
    assert!(
        designer.contains(&format!("name=\"id_0\" value=\"{cost}\"")),
        "{designer}"
    );

    // An id that is not on the form (removed meanwhile in another tab) is refused, unsaved.
    let stale = designer_rows(
        ("no-such-field", "Cost centre", "text", ""),
        device_row,
        None,
    );
    let refused = app
        .post_as(Who::Owner, "/settings/ticket-form", &stale)
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("changed elsewhere"));
}
