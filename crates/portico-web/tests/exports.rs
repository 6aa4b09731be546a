//! Lists as CSV: an export holds what its list shows its reader (fields hidden from the portal
//! are not columns there; a site-restricted user gets their sites' rows), every match however
//! many (read in chunks), with formulas defused.

mod common;

use common::{CONSOLE, PORTAL, TestApp, Who};

async fn csv(app: &TestApp, host: &str, path: &str, who: Who) -> (String, String) {
    let session = app.session_for(who).await.unwrap();
    let response = app.get(host, path).session(Some(&session)).send().await;
    assert_eq!(response.status, 200, "{path}");
    let kind = response
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (kind, response.body)
}

#[tokio::test]
async fn asset_exports_are_the_list_as_its_reader_sees_it_however_long() {
    let app = TestApp::spawn().await;
    let (kind, body) = csv(&app, PORTAL, "/assets.csv", Who::Member).await;
    assert!(kind.starts_with("text/csv"));
    let mut lines = body.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("Name,Type,Site,"), "{header}");
    assert!(
        !header.contains("Notes"),
        "notes are hidden from the portal"
    );
    assert_eq!(body.lines().count(), 1 + 3);
    assert!(!body.contains("CANARY-ASSETNOTE"));
    let (_, restricted) = csv(&app, PORTAL, "/assets.csv", Who::SiteRestricted).await;
    assert_eq!(restricted.lines().count(), 1 + 1);
    assert!(restricted.contains("CANARY-ASSET-A1"));
    let (_, own) = csv(&app, PORTAL, "/assets.csv", Who::OwnTicketsOnly).await;
    assert!(
        own.lines()
            .next()
            .unwrap()
            .starts_with("Name,Type,Manufacturer")
    );

    // Staff see every field; the export goes on past one chunk, in name order; a name that a
    // spreadsheet would run is defused.
    let mut sys = app.store().system_unscoped().await.unwrap();
    for n in 0..1_203 {
        let name = if n == 0 {
            "=HYPERLINK(\"http://evil.test\")".to_owned()
        } else {
            format!("BULK-{n:05}")
        };
        sys.add_asset(
            app.fx.ws1,
            &portico_store::system::SeedAsset {
                company: app.fx.company_a,
                site: Some(app.fx.site_a1),
                name: &name,
                kind: portico_core::AssetKind::Workstation,
                manufacturer: "Dell",
                model: "OptiPlex",
                serial: &format!("SN{n}"),
                os: "",
                warranty_end: None,
                purchased_on: None,
                last_seen_at: None,
                assigned_user: "",
                notes: "",
            },
        )
        .await
        .unwrap();
    }
    sys.commit().await.unwrap();
    let company = app.fx.company_a;
    let (_, all) = csv(
        &app,
        CONSOLE,
        &format!("/companies/{company}/assets.csv"),
        Who::Owner,
    )
    .await;
    assert!(all.lines().next().unwrap().ends_with(",Notes"));
    assert!(all.contains("CANARY-ASSETNOTE-A1"));
    assert_eq!(all.lines().count(), 1 + 3 + 1_203);
    let bulk: Vec<&str> = all.lines().filter(|l| l.starts_with("BULK-")).collect();
    assert_eq!(bulk.len(), 1_202);
    assert!(
        bulk.windows(2).all(|w| w[0] < w[1]),
        "in name order, none twice"
    );
    assert!(all.contains("\"'=HYPERLINK(\"\"http://evil.test\"\")\""));
    // Filters apply: only laptops.
    let (_, laptops) = csv(
        &app,
        CONSOLE,
        &format!("/companies/{company}/assets.csv?kind=laptop"),
        Who::Owner,
    )
    .await;
    assert_eq!(laptops.lines().count(), 1 + 3);
}

#[tokio::test]
async fn invoice_and_contact_exports_hold_what_their_lists_hold() {
    let app = TestApp::spawn().await;
    // The billing-entitled client admin: the sent invoice, never the draft.
    let (_, invoices) = csv(&app, PORTAL, "/invoices.csv", Who::ClientAdmin).await;
    assert!(invoices.starts_with("Invoice,Date,Due,Status,Currency,Subtotal,Tax,Total"));
    assert_eq!(invoices.lines().count(), 1 + 1);
    assert!(invoices.contains("INV-"));
    assert!(invoices.contains(",132.00"), "{invoices}");
    let member = app.session_for(Who::Member).await.unwrap();
    let hidden = app
        .get(PORTAL, "/invoices.csv")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(hidden.status, 404);
    let company = app.fx.company_a;
    let (_, all) = csv(
        &app,
        CONSOLE,
        &format!("/companies/{company}/invoices.csv"),
        Who::Billing,
    )
    .await;
    assert_eq!(all.lines().count(), 1 + 2);
    assert!(all.contains("Draft"));
    let (_, contacts) = csv(&app, PORTAL, "/contacts.csv", Who::Member).await;
    assert!(contacts.starts_with("Name,Title,E-mail,Phone,Roles"));
    assert!(contacts.contains("CANARY-CONTACT-A"));
    assert!(!contacts.contains("CANARY-CONTACT-B"));
}

#[tokio::test]
async fn maintenance_and_work_exports_follow_their_pages() {
    let app = TestApp::spawn().await;
    let (_, all) = csv(&app, PORTAL, "/maintenance.csv", Who::Member).await;
    assert!(all.starts_with("Starts,Ends,Kind,Outcome,Title,Summary,Sites,Assets,Recorded by"));
    for tag in ["A1", "A2", "A0"] {
        assert!(all.contains(&format!("CANARY-MAINT-{tag}")), "{all}");
    }
    let (_, restricted) = csv(&app, PORTAL, "/maintenance.csv", Who::SiteRestricted).await;
    assert!(restricted.contains("CANARY-MAINT-A1"));
    assert!(!restricted.contains("CANARY-MAINT-A2"));
    let (_, work) = csv(&app, PORTAL, "/work.csv?month=2026-11", Who::ClientAdmin).await;
    assert!(work.starts_with("Day,Ticket,By,Minutes,Counted as,Note"));
    let member = app.session_for(Who::Member).await.unwrap();
    let hidden = app
        .get(PORTAL, "/work.csv")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(hidden.status, 404);
}

#[tokio::test]
async fn ticket_exports_are_the_list_or_queue_with_its_filters() {
    let app = TestApp::spawn().await;
    // The portal's list: the reader's tickets, every status, the parts the reader sees.
    let (_, all) = csv(&app, PORTAL, "/tickets.csv?status=all", Who::Member).await;
    let header = all.lines().next().unwrap();
    assert!(header.starts_with("Number,Title,Status"), "{header}");
    assert!(!header.contains("Company") && !header.contains("Assigned to"));
    assert!(all.contains("CANARY-TICKET-A1") && all.contains("CANARY-TICKET-A2"));
    assert!(!all.contains("CANARY-TICKET-B"), "another company's ticket");
    // A site-restricted user's export holds their site's tickets only.
    let (_, site) = csv(&app, PORTAL, "/tickets.csv?status=all", Who::SiteRestricted).await;
    assert!(site.contains("CANARY-TICKET-A1") && !site.contains("CANARY-TICKET-A2"));
    // The console's queue, filtered by company: the desk's columns.
    let (_, queue) = csv(
        &app,
        CONSOLE,
        &format!("/tickets.csv?status=all&company={}", app.fx.company_b),
        Who::Owner,
    )
    .await;
    let header = queue.lines().next().unwrap();
    assert!(
        header.contains("Company") && header.contains("Assigned to"),
        "{header}"
    );
    assert!(queue.contains("CANARY-TICKET-B") && !queue.contains("CANARY-TICKET-A1"));
    // A bad filter is refused rather than exporting something else.
    let owner = app.session_for(Who::Owner).await.unwrap();
    let bad = app
        .get(CONSOLE, "/tickets.csv?status=sideways")
        .session(Some(&owner))
        .send()
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn change_request_and_my_time_exports_follow_their_pages() {
    let app = TestApp::spawn().await;
    // The member's own requests only; the client admin's company's; the desk's queue.
    let (_, mine) = csv(&app, PORTAL, "/changes.csv?status=all", Who::Member).await;
    assert!(
        mine.starts_with("Raised,Kind,About,Title,Status,Raised by,Note"),
        "{mine}"
    );
    assert!(mine.contains("CANARY-CR-A-MEMBER") && !mine.contains("CANARY-CR-A-ADMIN"));
    let (_, admin) = csv(&app, PORTAL, "/changes.csv?status=all", Who::ClientAdmin).await;
    assert!(admin.contains("CANARY-CR-A-MEMBER") && admin.contains("CANARY-CR-A-ADMIN"));
    assert!(!admin.contains("CANARY-CR-B"));
    let (_, queue) = csv(
        &app,
        CONSOLE,
        "/changes.csv?status=all",
        Who::TechnicianNotAssigned,
    )
    .await;
    assert!(queue.contains("Company") && queue.contains("Assigned to"));
    assert!(queue.contains("CANARY-CR-B") && !queue.contains("CANARY-CR-A"));
    // My time: the header even for a month without entries.
    let (_, time) = csv(&app, CONSOLE, "/my-time.csv?month=2026-11", Who::Owner).await;
    assert!(time.starts_with("Day,Company,Ticket,Minutes,Counted as,Note"));
}

/// The people and company lists: the companies a technician looks after, rates only for billing
/// readers; the workspace's staff (owners only); a company's portal users on both surfaces,
/// never another company's.
#[tokio::test]
async fn people_and_company_exports_hold_what_their_lists_hold() {
    let app = TestApp::spawn().await;
    let (_, billing) = csv(&app, CONSOLE, "/companies.csv", Who::Billing).await;
    assert!(billing.starts_with("Company,Plan,"));
    assert!(
        billing
            .lines()
            .next()
            .unwrap()
            .ends_with(",Monthly fee,Hourly rate,Currency")
    );
    assert!(billing.contains("CANARY-NAME-A") && billing.contains("CANARY-NAME-B"));
    assert!(billing.contains("1111111.11"), "{billing}");
    assert!(!billing.contains("CANARY-NAME-C"), "another workspace's");
    let (_, tech) = csv(&app, CONSOLE, "/companies.csv", Who::TechnicianAssigned).await;
    assert!(tech.contains("CANARY-NAME-A"));
    assert!(!tech.contains("CANARY-NAME-B"), "{tech}");
    assert!(!tech.contains("Monthly fee") && !tech.contains("1111111.11"));

    let (_, staff) = csv(&app, CONSOLE, "/staff.csv", Who::Owner).await;
    assert!(staff.starts_with("Name,E-mail,Role,Status,Companies"));
    assert!(staff.contains("tech-a@msp.test"));
    assert!(!staff.contains("owner@two.test"));
    let tech = app.session_for(Who::TechnicianAssigned).await.unwrap();
    let refused = app
        .get(CONSOLE, "/staff.csv")
        .session(Some(&tech))
        .send()
        .await;
    assert_eq!(refused.status, 403);

    let company = app.fx.company_a;
    let (_, console) = csv(
        &app,
        CONSOLE,
        &format!("/companies/{company}/users.csv"),
        Who::TechnicianAssigned,
    )
    .await;
    assert!(console.starts_with("Name,E-mail,Role,Sites,Own tickets only,Billing access,Status"));
    assert!(console.contains("member@a.test") && console.contains("site@a.test"));
    assert!(
        console.contains("CANARY-SITE-A1"),
        "a restricted user's site: {console}"
    );
    assert!(console.contains(",Disabled"));
    assert!(!console.contains("user@b.test"));
    let (_, portal) = csv(&app, PORTAL, "/users.csv", Who::ClientAdmin).await;
    assert_eq!(portal, console, "the client admin's list is the console's");
    let member = app.session_for(Who::Member).await.unwrap();
    let hidden = app
        .get(PORTAL, "/users.csv")
        .session(Some(&member))
        .send()
        .await;
    assert_eq!(hidden.status, 404);
}
