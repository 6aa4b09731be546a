//! Assets through HTTP: the portal's list filters and pages, "Report an issue" raises a ticket
//! linked to its asset on both surfaces, an asset the reporter may not see cannot be attached,
//! and the console's form refuses bad dates field by field.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who, ticket_of};

#[tokio::test]
async fn reporting_an_issue_on_an_asset_links_the_ticket_to_it_on_both_surfaces() {
    let app = TestApp::spawn().await;
    let member = app.session_for(Who::Member).await.unwrap();
    let csrf = app.csrf(Who::Member, Some(&member)).await;
    let asset = app.fx.assets[0];
    let page = app
        .get(PORTAL, &format!("/assets/{asset}"))
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("/tickets/new?asset={asset}")));
    assert!(
        page.body.contains("SERIAL-A1"),
        "serials are shown by default"
    );
    assert!(!page.body.contains("CANARY-ASSETNOTE-A1"), "notes are not");

    let form = app
        .get(PORTAL, &format!("/tickets/new?asset={asset}"))
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("value=\"Problem with CANARY-ASSET-A1\""));
    assert!(
        form.body
            .contains(&format!("name=\"asset\" value=\"{asset}\""))
    );
    // Another company's asset cannot be reported on, nor attached by hand.
    let foreign = app.fx.assets[3];
    let refused = app
        .get(PORTAL, &format!("/tickets/new?asset={foreign}"))
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(refused.status, 404);
    let smuggled = app
        .post(PORTAL, "/tickets")
        .session(Some(&member))
        .multipart(
            &[
                ("csrf", &csrf),
                ("title", "Someone else's laptop"),
                ("priority", "normal"),
                ("description", "It is broken."),
                ("asset", &foreign.to_string()),
            ],
            None,
        )
        .send()
        .await;
    assert_eq!(smuggled.status, 422);
    assert!(smuggled.body.contains("not one of this company"));

    let raised = app
        .post(PORTAL, "/tickets")
        .session(Some(&member))
        .multipart(
            &[
                ("csrf", &csrf),
                ("title", "Problem with CANARY-ASSET-A1"),
                ("priority", "normal"),
                ("description", "The battery is swelling."),
                ("site", &app.fx.site_a1.to_string()),
                ("asset", &asset.to_string()),
            ],
            None,
        )
        .send()
        .await;
    assert_eq!(raised.status, 303, "{}", raised.body);
    let ticket = ticket_of(raised.location());
    let portal_page = app
        .get(PORTAL, &format!("/tickets/{ticket}"))
        .session(Some(&member))
        .send()
        .await;
    assert!(
        portal_page
            .body
            .contains(&format!("href=\"/assets/{asset}\""))
    );
    let owner = app.session_for(Who::Owner).await.unwrap();
    let console_page = app
        .get(CONSOLE, &format!("/tickets/{ticket}"))
        .session(Some(&owner))
        .send()
        .await;
    assert!(
        console_page.body.contains(&format!(
            "href=\"/companies/{}/assets/{asset}\"",
            app.fx.company_a
        )),
        "{}: {}",
        console_page.status,
        console_page.body
    );
}

#[tokio::test]
async fn the_portal_list_filters_searches_and_refuses_nonsense() {
    let app = TestApp::spawn().await;
    let viewer = app.session_for(Who::Viewer).await.unwrap();
    let get = async |path: &str| app.get(PORTAL, path).session(Some(&viewer)).send().await;
    let all = get("/assets").await;
    assert_eq!(all.status, 200);
    assert!(all.body.contains("1–3 of 3 assets"));
    let at_a2 = get(&format!("/assets?site={}", app.fx.site_a2)).await;
    assert!(at_a2.body.contains("CANARY-ASSET-A2") && !at_a2.body.contains("CANARY-ASSET-A1"));
    let searched = get("/assets?q=serial-a0").await;
    assert!(searched.body.contains("CANARY-ASSET-A0"));
    assert!(searched.body.contains("1–1 of 1 asset"));
    let none = get("/assets?kind=printer").await;
    assert!(none.body.contains("No assets match."));
    for bad in [
        "/assets?kind=toaster",
        "/assets?sort=price",
        "/assets?page=0",
        "/assets?warranty=7",
        "/assets?site=nowhere",
    ] {
        assert_eq!(get(bad).await.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn the_console_asset_form_refuses_bad_dates_and_keeps_the_rest() {
    let app = TestApp::spawn().await;
    let tech = app.session_for(Who::TechnicianAssigned).await.unwrap();
    let csrf = app.csrf(Who::TechnicianAssigned, Some(&tech)).await;
    let company = app.fx.company_a;
    // A warranty some months ahead, whenever the test runs.
    let warranty = portico_core::Zone::utc()
        .date_after(portico_store::now(), 100)
        .unwrap();
    let refused = app
        .post(CONSOLE, &format!("/companies/{company}/assets"))
        .session(Some(&tech))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Reception PC"),
            ("kind", "workstation"),
            ("serial", "XYZ-1"),
            ("warranty_end", "2027-02-30"),
            ("purchased_on", "last year"),
        ])
        .send()
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("value=\"Reception PC\""));
    assert!(refused.body.contains("id=\"warranty_end-error\""));
    assert!(refused.body.contains("id=\"purchased_on-error\""));
    let added = app
        .post(CONSOLE, &format!("/companies/{company}/assets"))
        .session(Some(&tech))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Reception PC"),
            ("kind", "workstation"),
            ("site", &app.fx.site_a1.to_string()),
            ("serial", "XYZ-1"),
            ("warranty_end", warranty.as_str()),
        ])
        .send()
        .await;
    assert_eq!(added.status, 303);
    let list = app
        .get(
            CONSOLE,
            &format!("/companies/{company}/assets?warranty=365"),
        )
        .session(Some(&tech))
        .send()
        .await;
    assert!(list.body.contains("Reception PC"));
    assert!(list.body.contains(&warranty));
}
