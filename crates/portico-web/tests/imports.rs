//! CSV import (I3, C5): a preview with every row's problems, then all or nothing; the same
//! file again changes nothing; rows only reach companies the importer manages.

mod common;

use common::{CONSOLE, Response, TestApp, Who};

/// Uploads a file as `who` and returns the preview.
async fn upload(app: &TestApp, who: Who, kind: &str, company: &str, csv: &str) -> Response {
    let token = app.session_for(who).await;
    let csrf = app.csrf(who, token.as_deref()).await;
    app.post(CONSOLE, "/import")
        .session(token.as_deref())
        .multipart(
            &[("csrf", &csrf), ("kind", kind), ("company", company)],
            Some(("file", "upload.csv", csv.as_bytes())),
        )
        .send()
        .await
}

/// The apply form's action on a preview page.
fn apply_path(preview: &Response) -> String {
    let start = preview
        .body
        .find("action=\"/import/")
        .unwrap_or_else(|| panic!("no apply form on {}", preview.body))
        + "action=\"".len();
    let end = start + preview.body[start..].find('"').unwrap();
    preview.body[start..end].to_owned()
}

async fn apply(app: &TestApp, who: Who, preview: &Response) -> Response {
    app.post_as(who, &apply_path(preview), &[]).await
}

async fn asset_count(app: &TestApp) -> i64 {
    let mut sys = app.store().system_unscoped().await.unwrap();
    let count = sys.count_rows("assets").await.unwrap();
    sys.commit().await.unwrap();
    count
}

#[tokio::test]
async fn an_asset_file_is_previewed_then_applied_whole_and_a_second_time_changes_nothing() {
    let app = TestApp::spawn().await;
    let before = asset_count(&app).await;
    // Two bad rows: an unknown site and an unknown type; the good rows are not applied either.
    let bad = "Company,Name,Type,Site,Serial number,Warranty end\n\
               Company CANARY-NAME-A,Front desk PC,workstation,CANARY-SITE-A1,FD-001,2027-06-30\n\
               Company CANARY-NAME-A,Back office PC,workstation,Nowhere,BO-001,\n\
               Company CANARY-NAME-A,Mystery box,toaster,,MB-001,\n";
    let preview = upload(&app, Who::Owner, "assets", "", bad).await;
    assert_eq!(preview.status, 422, "{}", preview.body);
    assert!(preview.body.contains("Nowhere") && preview.body.contains(">3</td>"));
    assert!(preview.body.contains(">4</td>") && preview.body.contains("<code>type</code>"));
    assert!(
        !preview.body.contains("/apply"),
        "no apply form while problems remain"
    );
    assert_eq!(asset_count(&app).await, before, "a preview changes nothing");

    let good = "Company,Name,Type,Site,Serial number,Warranty end,notes\n\
                Company CANARY-NAME-A,Front desk PC,workstation,CANARY-SITE-A1,FD-001,2027-06-30,\n\
                Company CANARY-NAME-A,Back office PC,Workstation,CANARY-SITE-A2,BO-001,,'=cmd\n\
                Company CANARY-NAME-A,Spare laptop,laptop,,,,\n";
    let preview = upload(&app, Who::Owner, "assets", "", good).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("Apply: add 3, change 0"));
    assert_eq!(asset_count(&app).await, before);
    let applied = apply(&app, Who::Owner, &preview).await;
    assert_eq!(applied.status, 303, "{}", applied.body);
    assert!(
        applied.location().contains("created=3"),
        "{}",
        applied.location()
    );
    assert_eq!(asset_count(&app).await, before + 3);
    // A second click on the same preview applies nothing again.
    let again = apply(&app, Who::Owner, &preview).await;
    assert_eq!(again.location(), "/import?done=again");
    assert_eq!(asset_count(&app).await, before + 3);
    let list = app
        .get_as(
            Who::Owner,
            &format!("/companies/{}/assets?q=FD-001", app.fx.company_a),
        )
        .await;
    assert!(list.body.contains("Front desk PC"), "{}", list.body);

    // The same file again: everything is as the file says.
    let same = upload(&app, Who::Owner, "assets", "", good).await;
    assert_eq!(same.status, 200);
    assert!(
        same.body.contains("there is nothing to apply"),
        "{}",
        same.body
    );

    // One cell changed: one asset changes, and its history says so.
    let changed = good.replace("FD-001,2027-06-30", "FD-001,2028-01-31");
    let preview = upload(&app, Who::Owner, "assets", "", &changed).await;
    assert!(
        preview.body.contains("Apply: add 0, change 1"),
        "{}",
        preview.body
    );
    assert_eq!(apply(&app, Who::Owner, &preview).await.status, 303);
    assert_eq!(asset_count(&app).await, before + 3);
}

#[tokio::test]
async fn rows_reach_only_companies_the_importer_manages() {
    let app = TestApp::spawn().await;
    let file = "company,name,address\nCompany CANARY-NAME-A,Warehouse,1 Dock Rd\n";
    // Technician B does not manage company A: the row names no company of theirs.
    let preview = upload(&app, Who::TechnicianNotAssigned, "sites", "", file).await;
    assert_eq!(preview.status, 422);
    assert!(
        preview.body.contains("No company named"),
        "{}",
        preview.body
    );
    // A company chosen for the rows must be in scope too.
    let foreign = upload(
        &app,
        Who::TechnicianNotAssigned,
        "sites",
        &app.fx.company_a.to_string(),
        "name,address\nWarehouse,1 Dock Rd\n",
    )
    .await;
    assert_eq!(foreign.status, 404);
    // Companies are the owners' to import; sales staff import nothing.
    let companies = upload(
        &app,
        Who::TechnicianAssigned,
        "companies",
        "",
        "name,plan\nNew Co,Managed\n",
    )
    .await;
    assert_eq!(companies.status, 403);
    assert_eq!(
        upload(&app, Who::Sales, "sites", "", file).await.status,
        403
    );
    // Technician A does manage it.
    let preview = upload(&app, Who::TechnicianAssigned, "sites", "", file).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(
        apply(&app, Who::TechnicianAssigned, &preview).await.status,
        303
    );
    // Another staff member cannot apply someone else's upload.
    let preview = upload(
        &app,
        Who::TechnicianAssigned,
        "sites",
        "",
        "company,name\nCompany CANARY-NAME-A,Annex\n",
    )
    .await;
    assert_eq!(apply(&app, Who::Owner, &preview).await.status, 404);
}

#[tokio::test]
async fn a_companys_contact_export_imports_into_a_chosen_company() {
    let app = TestApp::spawn().await;
    let export = app
        .get_as(
            Who::Owner,
            &format!("/companies/{}/contacts.csv", app.fx.company_a),
        )
        .await;
    assert_eq!(export.status, 200);
    let preview = upload(
        &app,
        Who::Owner,
        "contacts",
        &app.fx.company_b.to_string(),
        &export.body,
    )
    .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("Apply: add 0, change 1"),
        "B's contact has the same address: the row's key, so it is updated, not added: {}",
        preview.body
    );
    assert_eq!(apply(&app, Who::Owner, &preview).await.status, 303);
    let roster = app
        .get_as(Who::Owner, &format!("/companies/{}", app.fx.company_b))
        .await;
    assert!(roster.body.contains("CANARY-CONTACT-A"));
    // Companies with rates need billing access; a company's own fields need no more.
    let owner_companies = upload(
        &app,
        Who::Owner,
        "companies",
        "",
        "name,plan,included_hours,currency,monthly_fee,hourly_rate\nHarbour Freight,Managed,10,AUD,1500.00,150\n",
    )
    .await;
    assert_eq!(owner_companies.status, 200, "{}", owner_companies.body);
    assert!(owner_companies.body.contains("Apply: add 1, change 0"));
    // Without rates, a new company is billed in the workspace's usual currency.
    let plain = upload(
        &app,
        Who::Owner,
        "companies",
        "",
        "name,plan\nPlain Co,Managed\n",
    )
    .await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert_eq!(apply(&app, Who::Owner, &plain).await.status, 303);
}

#[tokio::test]
async fn a_file_of_portal_users_invites_the_new_and_updates_the_known() {
    let app = TestApp::spawn().await;
    let file = "company,name,email,role,sites,own_only\n\
                Company CANARY-NAME-A,Nina New,nina@a.test,viewer,CANARY-SITE-A1,no\n\
                Company CANARY-NAME-A,Member Person,member@a.test,client admin,,\n";
    let preview = upload(&app, Who::TechnicianAssigned, "portal_users", "", file).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("Apply: add 1, change 1"),
        "{}",
        preview.body
    );
    let mut sys = app.store().system_unscoped().await.unwrap();
    assert!(
        sys.latest_mail_to("nina@a.test").await.unwrap().is_none(),
        "a preview mails nobody"
    );
    sys.commit().await.unwrap();
    assert_eq!(
        apply(&app, Who::TechnicianAssigned, &preview).await.status,
        303
    );
    let mut sys = app.store().system_unscoped().await.unwrap();
    let invitation = sys.latest_mail_to("nina@a.test").await.unwrap().unwrap();
    assert!(invitation.contains("/setup?token="));
    // The company's client admin hears of the new user.
    let summary = sys.latest_mail_to("admin@a.test").await.unwrap().unwrap();
    assert!(summary.contains("Nina New (nina@a.test)"), "{summary}");
    sys.commit().await.unwrap();
    let users = app
        .get_as(
            Who::Owner,
            &format!("/companies/{}/users", app.fx.company_a),
        )
        .await;
    let row = |email: &str| {
        users
            .body
            .split("<tr>")
            .find(|r| r.contains(email))
            .unwrap()
            .to_owned()
    };
    assert!(row("nina@a.test").contains("Viewer") && row("nina@a.test").contains("CANARY-SITE-A1"));
    assert!(row("member@a.test").contains("Client admin"));
    // Again: nothing to do. An address outside the company's domains is a technician's problem.
    let again = upload(&app, Who::TechnicianAssigned, "portal_users", "", file).await;
    assert!(
        again.body.contains("there is nothing to apply"),
        "{}",
        again.body
    );
    let outside = upload(
        &app,
        Who::TechnicianAssigned,
        "portal_users",
        "",
        "company,name,email\nCompany CANARY-NAME-A,Olga Out,olga@elsewhere.test\n",
    )
    .await;
    assert_eq!(outside.status, 422);
    assert!(outside.body.contains("a.test"), "{}", outside.body);
}

/// The housekeeping sweep drops uploaded files past their day, whoever uploaded them; a file
/// still within it stays applicable, and a swept one is not found.
#[tokio::test]
async fn old_uploaded_files_are_swept() {
    let app = TestApp::spawn().await;
    let file = "Company,Name,Type,Site,Serial number,Warranty end\n\
                Company CANARY-NAME-A,Swept PC,workstation,CANARY-SITE-A1,SW-001,\n";
    let kept = upload(&app, Who::Owner, "assets", "", file).await;
    let swept = upload(&app, Who::TechnicianAssigned, "assets", "", file).await;
    assert_eq!((kept.status, swept.status), (200, 200));
    let day = portico_store::scoped::imports::KEPT_FOR_SECS;
    let mut sys = app.store().system_unscoped().await.unwrap();
    let now = portico_store::now();
    assert_eq!(sys.sweep_pending_imports(now - day).await.unwrap(), 0);
    sys.commit().await.unwrap();
    assert_eq!(apply(&app, Who::Owner, &kept).await.status, 303);
    // A day later (the sweep told so): all go, the applied one and those never applied (these
    // two and the fixture's own).
    let mut sys = app.store().system_unscoped().await.unwrap();
    assert_eq!(sys.sweep_pending_imports(now + 1).await.unwrap(), 3);
    sys.commit().await.unwrap();
    assert_eq!(
        apply(&app, Who::TechnicianAssigned, &swept).await.status,
        404
    );
}
