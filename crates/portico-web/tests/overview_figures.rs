//! The Overview's figures beyond tickets: devices and warranties for those with Assets,
//! included hours for client admins (the Work section), the next planned maintenance window;
//! each counted within the reader's fence, and gone with its section.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who};

fn figure(body: &str, caption: &str) -> Option<String> {
    let at = body.find(&format!("<span class=\"caption\">{caption}"))?;
    let before = &body[..at];
    let start = before.rfind("<span class=\"figure\">")? + "<span class=\"figure\">".len();
    Some(before[start..].trim_end_matches("</span>").to_owned())
}

#[tokio::test]
async fn the_overview_counts_what_each_reader_may_see_and_only_with_its_section_on() {
    let app = TestApp::spawn().await;
    let admin = app.session_for(Who::ClientAdmin).await.unwrap();
    let page = app.get(PORTAL, "/").session(Some(&admin)).send().await;
    assert_eq!(page.status, 200);
    // Company A's three assets (at its two sites and at none); no warranty ends soon.
    assert_eq!(figure(&page.body, "Devices").as_deref(), Some("3"));
    assert_eq!(
        figure(&page.body, "Warranties ending").as_deref(),
        Some("0")
    );
    assert!(
        page.body.contains("included work this month"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Next planned maintenance"));
    assert!(page.body.contains("CANARY-MAINT-A1"));
    // The member's and the admin's own request, both still open.
    assert_eq!(
        figure(&page.body, "Open change requests").as_deref(),
        Some("2")
    );
    // What the connector read: one of ten licences assigned.
    assert_eq!(
        figure(&page.body, "Licences in use").as_deref(),
        Some("1 / 10")
    );

    // A user restricted to site 1 counts site 1's asset only, and is not shown plan usage.
    let restricted = app.session_for(Who::SiteRestricted).await.unwrap();
    let page = app.get(PORTAL, "/").session(Some(&restricted)).send().await;
    assert_eq!(figure(&page.body, "Devices").as_deref(), Some("1"));
    assert!(!page.body.contains("included"));
    // Neither request is theirs.
    assert_eq!(
        figure(&page.body, "Open change requests").as_deref(),
        Some("0")
    );

    // Company A's own choice of fields without the warranty: its devices are still counted,
    // its warranties no longer; following the workspace again, they are back.
    let owner = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, owner.as_deref()).await;
    let fields = format!("/companies/{}/asset-fields", app.fx.company_a);
    for (choice, shown) in [("own", "serial"), ("workspace", "")] {
        let saved = app
            .post(CONSOLE, &fields)
            .session(owner.as_deref())
            .form(&[
                ("csrf", csrf.as_str()),
                ("choice", choice),
                ("shown", "model"),
                ("shown", shown),
            ])
            .send()
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
        let page = app.get(PORTAL, "/").session(Some(&admin)).send().await;
        assert_eq!(figure(&page.body, "Devices").as_deref(), Some("3"));
        let warranties = figure(&page.body, "Warranties ending");
        assert_eq!(warranties.is_some(), choice == "workspace", "{choice}");
    }

    // With Assets and Maintenance switched off for the company, their figures go.
    let mut tx = app.store().system_unscoped().await.unwrap();
    for section in [
        portico_core::Section::Assets,
        portico_core::Section::Maintenance,
        portico_core::Section::Licences,
    ] {
        tx.set_company_section(app.fx.ws1, app.fx.company_a, section, Some(false), None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let admin = app.session_for(Who::ClientAdmin).await.unwrap();
    let page = app.get(PORTAL, "/").session(Some(&admin)).send().await;
    assert_eq!(figure(&page.body, "Devices"), None);
    assert_eq!(figure(&page.body, "Licences in use"), None);
    assert!(!page.body.contains("Next planned maintenance"));
}
