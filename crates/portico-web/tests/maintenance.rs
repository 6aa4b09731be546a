//! Maintenance through HTTP: staff record it (a refused form keeps what was typed, assets are
//! named by name or serial), the portal shows planned windows ahead and the history behind, and a
//! site-restricted user sees their site's records and the company-wide ones only.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who};

#[tokio::test]
async fn staff_record_maintenance_and_the_portal_shows_it_within_the_readers_sites() {
    let app = TestApp::spawn().await;
    let tech = app.session_for(Who::TechnicianAssigned).await.unwrap();
    let csrf = app.csrf(Who::TechnicianAssigned, Some(&tech)).await;
    let company = app.fx.company_a;
    let site_a2 = app.fx.site_a2.to_string();
    let zone = portico_core::Zone::utc();
    let yesterday = zone.local_input(portico_store::now() - 24 * 3600);
    let next_week = zone.local_input(portico_store::now() + 7 * 24 * 3600);

    // Refused: an unknown asset and work "done" next week; everything typed comes back.
    let refused = app
        .post(CONSOLE, &format!("/companies/{company}/maintenance"))
        .session(Some(&tech))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Firmware on the printers"),
            ("kind", "updates"),
            ("outcome", "succeeded"),
            ("starts_at", next_week.as_str()),
            ("ends_at", ""),
            ("summary", "Both printers to 4.2"),
            ("sites", site_a2.as_str()),
            ("assets", "NO-SUCH-PRINTER"),
        ])
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"Firmware on the printers\""));
    assert!(refused.body.contains("Both printers to 4.2"));
    assert!(refused.body.contains("NO-SUCH-PRINTER"));
    assert!(refused.body.contains("id=\"assets-error\""));
    assert!(refused.body.contains("id=\"outcome-error\""));
    assert!(
        refused
            .body
            .contains(&format!("value=\"{site_a2}\" checked"))
    );

    // Recorded: done yesterday at site 2 on one asset (named by its serial), and a window
    // planned next week for the whole company.
    for (title, outcome, starts_at, sites, assets) in [
        (
            "Firmware on the printers",
            "partial",
            yesterday.as_str(),
            site_a2.as_str(),
            "SERIAL-A2",
        ),
        (
            "Server reboot window",
            "planned",
            next_week.as_str(),
            "",
            "",
        ),
    ] {
        let recorded = app
            .post(CONSOLE, &format!("/companies/{company}/maintenance"))
            .session(Some(&tech))
            .form(&[
                ("csrf", csrf.as_str()),
                ("title", title),
                ("kind", "updates"),
                ("outcome", outcome),
                ("starts_at", starts_at),
                ("ends_at", ""),
                ("summary", "Both printers to 4.2"),
                ("sites", sites),
                ("assets", assets),
            ])
            .send()
            .await;
        assert_eq!(recorded.status, 303, "{}", recorded.body);
    }

    // A member sees both: the window under Planned, the firmware in the history with its asset.
    let member = app.session_for(Who::Member).await.unwrap();
    let page = app
        .get(PORTAL, "/maintenance")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(page.status, 200);
    let planned = page.body.find("Server reboot window").unwrap();
    let history = page.body.find("id=\"history-heading\"").unwrap();
    let firmware = page.body.find("Firmware on the printers").unwrap();
    assert!(planned < history && history < firmware, "{}", page.body);
    assert!(page.body.contains("Completed with issues"));
    assert!(page.body.contains(&format!(
        "href=\"/assets/{}\">CANARY-ASSET-A2",
        app.fx.assets[1]
    )));

    // The asset's own page lists the maintenance that touched it.
    let asset_page = app
        .get(PORTAL, &format!("/assets/{}", app.fx.assets[1]))
        .session(Some(&member))
        .send()
        .await;
    assert!(asset_page.body.contains("Firmware on the printers"));

    // A user restricted to site 1 sees the company-wide window, not site 2's firmware.
    let restricted = app.session_for(Who::SiteRestricted).await.unwrap();
    let page = app
        .get(PORTAL, "/maintenance")
        .session(Some(&restricted))
        .send()
        .await;
    assert!(page.body.contains("Server reboot window"));
    assert!(!page.body.contains("Firmware on the printers"));
    assert!(!page.body.contains("CANARY-ASSET-A2"));

    // Filtering the history by kind, and a kind that does not exist.
    let patching = app
        .get(PORTAL, "/maintenance?kind=patching")
        .session(Some(&member))
        .send()
        .await;
    assert!(!patching.body.contains("Firmware on the printers"));
    assert!(patching.body.contains("CANARY-MAINT-A2"));
    let bad = app
        .get(PORTAL, "/maintenance?kind=sorcery")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(bad.status, 400);
}
