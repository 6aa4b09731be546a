//! "Why can this person see this?" in the console: an owner names a person and pastes a link,
//! and reads the decision with the rule that made it — company assignment, site restriction,
//! own tickets only, a section switched off, billing rights — while everyone else is refused
//! the page. (The authorization matrix checks the decisions against every page it requests.)

mod common;

use common::{CONSOLE, TestApp, Who};

async fn explain(app: &TestApp, who: &str, email: &str, target: &str) -> String {
    let path = format!(
        "/access?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("who", who)
            .append_pair("email", email)
            .append_pair("target", target)
            .finish()
    );
    let page = app.get_as(Who::Owner, &path).await;
    assert!(page.status == 200 || page.status == 422, "{}", page.body);
    let start = page.body.find("<h1>").unwrap();
    page.body[start..].to_owned()
}

#[tokio::test]
async fn the_answer_names_the_rule_that_decided() {
    let app = TestApp::spawn().await;
    let a = app.fx.company_a;
    let [asset_a1, asset_a2, _, asset_b, _] = app.fx.assets;
    let console_asset = |asset| format!("http://{CONSOLE}:8080/companies/{a}/assets/{asset}");

    let assigned = explain(&app, "staff", "tech-a@msp.test", &console_asset(asset_a1)).await;
    assert!(assigned.contains("Allowed"), "{assigned}");
    assert!(assigned.contains("allowed: Technician assigned to"));
    let elsewhere = explain(&app, "staff", "tech-b@msp.test", &console_asset(asset_a1)).await;
    assert!(elsewhere.contains("Denied"));
    assert!(
        elsewhere.contains("is a Technician not assigned to"),
        "{elsewhere}"
    );

    let sites = explain(
        &app,
        "portal",
        "site@a.test",
        &format!("/assets/{asset_a2}"),
    )
    .await;
    assert!(sites.contains("denied: site restriction ("), "{sites}");
    assert!(sites.contains("does not exist"), "a 404 to them");
    let theirs = explain(
        &app,
        "portal",
        "site@a.test",
        &format!("/assets/{asset_a1}"),
    )
    .await;
    assert!(theirs.contains("Allowed"), "{theirs}");
    let other_company = explain(
        &app,
        "portal",
        "member@a.test",
        &format!("/assets/{asset_b}"),
    )
    .await;
    assert!(
        other_company.contains("is not member@a.test&#39;s company"),
        "{other_company}"
    );

    let own = explain(
        &app,
        "portal",
        "own@a.test",
        &format!("/tickets/{}", app.fx.ticket_a1_other),
    )
    .await;
    assert!(own.contains("sees only the tickets they raised"), "{own}");

    let [sent, _, _, _] = app.fx.invoices;
    let money = explain(
        &app,
        "portal",
        "member@a.test",
        &format!("/invoices/{sent}"),
    )
    .await;
    assert!(money.contains("Denied"), "{money}");
    assert!(money.contains("billing"), "{money}");

    // A section switched off for the company.
    let saved =
        common::save_portal_settings(&app, a, &["portal_enabled"], &[("assets", "off")]).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let off = explain(
        &app,
        "portal",
        "admin@a.test",
        "https://portal.one.test/assets",
    )
    .await;
    assert!(
        off.contains("denied: section Assets switched off for"),
        "{off}"
    );
    let record = explain(
        &app,
        "portal",
        "admin@a.test",
        &format!("/assets/{asset_a1}"),
    )
    .await;
    assert!(
        record.contains("denied: section Assets switched off for"),
        "{record}"
    );

    // Bad input: an unknown person, a link that is no record or page.
    let nobody = explain(&app, "portal", "nobody@a.test", "/tickets").await;
    assert!(nobody.contains("No portal user has the address"));
    let nonsense = explain(&app, "portal", "member@a.test", "the printer").await;
    assert!(nonsense.contains("Paste a link"));
    assert!(
        nonsense.contains("value=\"the printer\""),
        "the form keeps what was typed"
    );
}
