//! The ticket story in a real browser (Debian's chromium, driven through chromedriver): a member
//! raises a ticket with a custom field and an attachment; a routing rule puts it in a
//! technician's queue; the technician replies publicly and adds an internal note; the member
//! sees the reply appear without reloading and never sees the note; the member's answer appears
//! on the technician's page by itself; the technician resolves it and the member's page swaps
//! its actions by itself; the member rates. Then the company records story, and the identity
//! story: two-step verification set up and used to sign in, a technician viewing the portal as
//! a member under the banner, and a client admin signing in through single sign-on.
//! Screenshots of each step at 1440 px and 375 px wide go to `screenshots/` (see README).
//!
//! Runs when `chromedriver` is on the PATH; `.ci/run` installs it and sets
//! `PORTICO_BROWSER_TESTS=required`, which turns a missing driver into a failure.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{CONSOLE, PASSWORD, PORTAL, TestApp, Who};
use fantoccini::{Client, ClientBuilder, Locator};
use portico_core::FieldKind;
use portico_store::system::SeedField;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> Option<(Driver, u16)> {
    let found = Command::new("chromedriver")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("PORTICO_BROWSER_TESTS").as_deref() != Ok("required"),
            "chromedriver is required (PORTICO_BROWSER_TESTS=required) but not installed"
        );
        eprintln!("skipping the browser test: chromedriver is not installed");
        return None;
    }
    // A port free when asked may be taken (by another test's connection) before chromedriver
    // listens on it: a driver that exits is started again on another port.
    for _ in 0..5 {
        let port = free_port();
        // Owned by the guard at once: killed and reaped however the test ends.
        let mut driver = Driver(
            Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some((driver, port));
            }
            if matches!(driver.0.try_wait(), Ok(Some(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    panic!("chromedriver did not start");
}

async fn browser(driver_port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let mut options = serde_json::json!({
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            // Every fixture hostname is this machine.
            "--host-resolver-rules=MAP * 127.0.0.1",
            "--window-size=1440,1000",
        ]
    });
    if let Some(binary) = binary {
        options["binary"] = binary.into();
    }
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("open a browser session")
}

/// Saves the current page at both widths, then restores the wide one.
async fn shoot(c: &Client, step: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (width, height) in [(1440, 1000), (375, 800)] {
        c.set_window_size(width, height).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{step}-{width}.png")), png).unwrap();
    }
    c.set_window_size(1440, 1000).await.unwrap();
}

/// Waits until the page's source contains `text` (the page changes by itself); panics after a
/// generous bound so a broken page fails instead of hanging.
async fn wait_for(c: &Client, text: &str) {
    for _ in 0..150 {
        if c.source().await.unwrap().contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {text:?}");
}

async fn sign_in(c: &Client, base: &str, email: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "Sign out").await;
}

async fn submit(c: &Client, form: &str) {
    c.find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_story_in_a_real_browser() {
    let Some((_driver, driver_port)) = start_driver().await else {
        return;
    };
    let mut app = TestApp::spawn().await;
    app.router = portico_web::app(
        app.store().clone(),
        app.blobs.clone(),
        portico_web::WebConfig {
            live_poll: Duration::from_millis(250),
            ..Default::default()
        },
    );
    let mut tx = app.store().system_unscoped().await.unwrap();
    tx.set_ticket_form(
        app.fx.ws1,
        None,
        &["Hardware", "Software"],
        &[SeedField {
            label: "Affected device",
            kind: FieldKind::Select,
            required: true,
            help: "Which device is it?",
            options: &["Laptop", "Printer"],
        }],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // The routing rule: printers go to the assigned technician, urgently.
    let token = app.session_for(Who::Owner).await;
    let csrf = app.csrf(Who::Owner, token.as_deref()).await;
    let tech = app.fx.staff(Who::TechnicianAssigned).to_string();
    let company = app.fx.company_a.to_string();
    let rule = app
        .post(CONSOLE, "/settings/routing")
        .session(token.as_deref())
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "add"),
            ("name", "Printers"),
            ("company", company.as_str()),
            ("field_label", "Affected device"),
            ("field_value", "Printer"),
            ("assignee", tech.as_str()),
            ("priority", "urgent"),
        ])
        .send()
        .await;
    assert_eq!(rule.status, 303);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let portal = format!("http://{PORTAL}:{port}");
    let console = format!("http://{CONSOLE}:{port}");

    // The member raises a ticket with a custom field and an attachment.
    let member = browser(driver_port).await;
    sign_in(&member, &portal, "member@a.test").await;
    member.goto(&format!("{portal}/tickets/new")).await.unwrap();
    shoot(&member, "01-new-ticket").await;
    member
        .find(Locator::Css("#title"))
        .await
        .unwrap()
        .send_keys("Printer jams on every page")
        .await
        .unwrap();
    member
        .find(Locator::Css("#category"))
        .await
        .unwrap()
        .select_by_value("Hardware")
        .await
        .unwrap();
    member
        .find(Locator::Css("#description"))
        .await
        .unwrap()
        .send_keys("It started this morning.")
        .await
        .unwrap();
    let device = member
        .find(Locator::Css("select[name^=field_]"))
        .await
        .unwrap();
    device.select_by_value("Printer").await.unwrap();
    let file = std::env::temp_dir().join(format!("portico-browser-{port}.txt"));
    std::fs::write(&file, "paper tray log").unwrap();
    member
        .find(Locator::Css("#attachments"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    submit(&member, "form.card").await;
    wait_for(&member, "was raised. We will be in touch.").await;
    let ticket_url = member.current_url().await.unwrap();
    let ticket_path = ticket_url.path().to_owned();
    assert!(member.source().await.unwrap().contains("portico-browser-"));
    shoot(&member, "02-ticket-raised").await;

    // The technician finds it in their queue, where the rule put it, and answers.
    let technician = browser(driver_port).await;
    sign_in(&technician, &console, "tech-a@msp.test").await;
    technician
        .goto(&format!("{console}/tickets?assignee=me"))
        .await
        .unwrap();
    wait_for(&technician, "Printer jams on every page").await;
    assert!(technician.source().await.unwrap().contains("Urgent"));
    shoot(&technician, "03-queue").await;
    technician
        .goto(&format!("{console}{ticket_path}"))
        .await
        .unwrap();
    technician
        .find(Locator::Css("#body"))
        .await
        .unwrap()
        .send_keys("PUBLIC-ANSWER: a new drum is on its way.")
        .await
        .unwrap();
    submit(&technician, "form[action$='/replies']").await;
    wait_for(&technician, "Reply sent to the client").await;
    technician
        .find(Locator::Css("input[name=kind][value=note]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    technician
        .find(Locator::Css("#body"))
        .await
        .unwrap()
        .send_keys("SECRET-NOTE: old contract.")
        .await
        .unwrap();
    submit(&technician, "form[action$='/replies']").await;
    wait_for(&technician, "Internal note added").await;
    shoot(&technician, "04-staff-ticket").await;

    // The member's open page shows the reply by itself, and never the note.
    wait_for(&member, "PUBLIC-ANSWER").await;
    assert_eq!(
        member.current_url().await.unwrap(),
        ticket_url,
        "no navigation happened"
    );
    assert!(!member.source().await.unwrap().contains("SECRET-NOTE"));
    shoot(&member, "05-reply-arrived").await;

    // The member answers; the technician's open page shows it by itself.
    let technician_url = technician.current_url().await.unwrap();
    member
        .find(Locator::Css("#body"))
        .await
        .unwrap()
        .send_keys("CLIENT-THANKS: the drum fits.")
        .await
        .unwrap();
    submit(&member, "form[action$='/replies']").await;
    wait_for(&member, "Your reply was sent").await;
    wait_for(&technician, "CLIENT-THANKS").await;
    assert_eq!(technician.current_url().await.unwrap(), technician_url);

    // The technician resolves it with a last reply: the member's open page swaps its actions
    // by itself (reopen and rating for the reply box and "Mark as resolved") and tells screen
    // readers so.
    technician
        .find(Locator::Css("input[name=kind][value=reply]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    technician
        .find(Locator::Css("#body"))
        .await
        .unwrap()
        .send_keys("PUBLIC-FIX: the drum is replaced.")
        .await
        .unwrap();
    technician
        .find(Locator::Css("#reply-status"))
        .await
        .unwrap()
        .select_by_value("resolved")
        .await
        .unwrap();
    let member_url = member.current_url().await.unwrap();
    submit(&technician, "form[action$='/replies']").await;
    wait_for(&member, "How did we do?").await;
    assert_eq!(member.current_url().await.unwrap(), member_url);
    let page = member.source().await.unwrap();
    assert!(page.contains("PUBLIC-FIX") && page.contains("Reopen ticket"));
    assert!(!page.contains("Mark as resolved") && !page.contains("Send reply"));
    let announced = member
        .execute(
            "return document.getElementById('live-announcer').textContent",
            vec![],
        )
        .await
        .unwrap();
    let announced = announced.as_str().unwrap_or_default().to_owned();
    assert!(announced.contains("Resolved"), "announced {announced:?}");
    shoot(&member, "06-resolved-live").await;

    // The member rates the work.
    member
        .find(Locator::Css("input[name=rating][value='5']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    member
        .find(Locator::Css("#comment"))
        .await
        .unwrap()
        .send_keys("Quick and friendly.")
        .await
        .unwrap();
    submit(&member, "form[action$='/rating']").await;
    wait_for(&member, "Thank you for your rating").await;
    assert!(member.source().await.unwrap().contains("5 out of 5"));
    assert!(!member.source().await.unwrap().contains("SECRET-NOTE"));
    shoot(&member, "07-rated").await;

    member.close().await.unwrap();
    technician.close().await.unwrap();
    let _ = std::fs::remove_file(file);
}

/// Types into a field after clearing it.
async fn fill(c: &Client, selector: &str, text: &str) {
    let field = c.find(Locator::Css(selector)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// An owner adds a client company with its plan (refused once, the typed values kept), then a
/// contact with two roles; the client's admin finds their company's roster in the portal,
/// reports an issue on one of its laptops (the ticket is about that asset), and requests a change
/// to a contact, which the owner approves at the desk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_company_records_story_in_a_real_browser() {
    let Some((_driver, driver_port)) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let portal = format!("http://{PORTAL}:{port}");
    let console = format!("http://{CONSOLE}:{port}");

    let owner = browser(driver_port).await;
    sign_in(&owner, &console, "owner@msp.test").await;
    owner.goto(&format!("{console}/companies")).await.unwrap();
    shoot(&owner, "10-companies").await;
    owner
        .find(Locator::LinkText("Add a company"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&owner, "Hours included each month").await;
    fill(&owner, "#name", "Northwind Traders").await;
    fill(&owner, "#plan_name", "Managed Essentials").await;
    fill(&owner, "#included_hours", "twelve").await;
    fill(&owner, "#currency", "AUD").await;
    fill(&owner, "#monthly_fee", "2,400.00").await;
    fill(&owner, "#hourly_rate", "165").await;
    submit(&owner, "form.form-grid").await;
    wait_for(&owner, "Nothing was saved").await;
    shoot(&owner, "11-company-refused").await;
    let kept = owner
        .find(Locator::Css("#name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Northwind Traders"));
    let focused = owner
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(
        focused, "included_hours",
        "the first refused field has the focus"
    );
    fill(&owner, "#included_hours", "12").await;
    submit(&owner, "form.form-grid").await;
    wait_for(&owner, "Company added.").await;
    shoot(&owner, "12-company-added").await;

    owner
        .find(Locator::LinkText("Add a contact"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&owner, "Purchase approver").await;
    fill(&owner, "#name", "Nora Quist").await;
    fill(&owner, "#title", "Finance manager").await;
    fill(&owner, "#email", "nora@northwind.test").await;
    fill(&owner, "#phone", "+61 2 5550 4321").await;
    for role in ["billing", "purchase_approver"] {
        owner
            .find(Locator::Css(&format!("input[name=roles][value={role}]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    shoot(&owner, "13-contact-form").await;
    submit(&owner, "form.form-grid").await;
    wait_for(&owner, "Contact added.").await;
    assert!(owner.source().await.unwrap().contains("Nora Quist"));
    shoot(&owner, "14-company-with-contact").await;

    let admin = browser(driver_port).await;
    sign_in(&admin, &portal, "admin@a.test").await;
    admin.goto(&format!("{portal}/contacts")).await.unwrap();
    wait_for(&admin, "CANARY-CONTACT-A").await;
    assert!(!admin.source().await.unwrap().contains("Nora Quist"));
    shoot(&admin, "15-portal-contacts").await;

    // The admin finds a laptop among the company's assets and reports an issue on it.
    admin.goto(&format!("{portal}/assets")).await.unwrap();
    wait_for(&admin, "CANARY-ASSET-A1").await;
    shoot(&admin, "16-portal-assets").await;
    admin
        .find(Locator::LinkText("CANARY-ASSET-A1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&admin, "Report an issue").await;
    assert!(
        !admin.source().await.unwrap().contains("CANARY-ASSETNOTE"),
        "notes are not shown to clients"
    );
    shoot(&admin, "17-portal-asset").await;
    admin
        .find(Locator::LinkText("Report an issue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&admin, "About the asset").await;
    let title = admin
        .find(Locator::Css("#title"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(title.as_deref(), Some("Problem with CANARY-ASSET-A1"));
    fill(
        &admin,
        "#description",
        "The battery is swelling and the lid no longer closes.",
    )
    .await;
    shoot(&admin, "18-report-an-issue").await;
    submit(&admin, "form.card").await;
    // The raised ticket's page (the form's own text is not in the page's source).
    wait_for(&admin, "The battery is swelling").await;
    assert!(admin.source().await.unwrap().contains("About the asset"));
    shoot(&admin, "19-ticket-about-asset").await;

    // The admin asks for a change to a contact from the roster (the MSP keeps the roster
    // itself for this company: no direct edits); the owner approves it at the desk, and the
    // admin sees the decision on the request's page.
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.set_client_admin_edits(app.fx.company_a, false)
        .await
        .unwrap();
    sys.commit().await.unwrap();
    admin.goto(&format!("{portal}/contacts")).await.unwrap();
    wait_for(&admin, "CANARY-CONTACT-A").await;
    admin
        .find(Locator::Css(
            "a[href*='target=contact'][href*='kind=update']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&admin, "Request a change").await;
    let title = admin
        .find(Locator::Css("#title"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        title.as_deref(),
        Some("Change the details of CANARY-CONTACT-A")
    );
    fill(&admin, "#details", "Her new mobile number is 0400 555 019.").await;
    shoot(&admin, "20-request-contact-change").await;
    submit(&admin, "form.card").await;
    wait_for(&admin, "Your request was sent").await;
    shoot(&admin, "21-change-requested").await;
    let request = admin.current_url().await.unwrap();
    let request = request.path().to_owned();

    owner.goto(&format!("{console}/changes")).await.unwrap();
    wait_for(&owner, "Change the details of CANARY-CONTACT-A").await;
    shoot(&owner, "22-change-queue").await;
    owner.goto(&format!("{console}{request}")).await.unwrap();
    wait_for(&owner, "Decision").await;
    fill(
        &owner,
        "#note",
        "Updated on the roster and in Microsoft 365.",
    )
    .await;
    // The decision form's first button approves.
    submit(&owner, "form.form-grid").await;
    wait_for(&owner, "Approved: the client was told").await;
    shoot(&owner, "23-change-approved").await;

    admin.goto(&format!("{portal}{request}")).await.unwrap();
    wait_for(&admin, "Updated on the roster").await;
    assert!(admin.source().await.unwrap().contains(">Approved</span>"));
    shoot(&admin, "24-portal-change-approved").await;
    owner.close().await.unwrap();
    admin.close().await.unwrap();
}

/// The code an authenticator app of `secret` (base32, spaced as shown) gives `steps` time steps
/// from now.
fn authenticator_code(secret: &str, steps: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret.replace(' ', "")).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now + 30 * steps).to_string()
}

/// A member turns on two-step verification from their security page (scanning is the test
/// reading the key the page shows), keeps their recovery codes, signs out, and signs in again
/// with the password and a code; then a technician views the portal as that member for a
/// typed reason, with the banner on every page and no way to change anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_identity_story_in_a_real_browser() {
    let Some((_driver, driver_port)) = start_driver().await else {
        return;
    };
    let mut app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // Links to the other surface (the view-as hand-over) carry the port the test listens on.
    app.router = portico_web::app(
        app.store().clone(),
        app.blobs.clone(),
        portico_web::WebConfig {
            public_port: Some(port),
            ..Default::default()
        },
    );
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    let portal = format!("http://{PORTAL}:{port}");
    let console = format!("http://{CONSOLE}:{port}");

    let member = browser(driver_port).await;
    sign_in(&member, &portal, "member@a.test").await;
    member.goto(&format!("{portal}/security")).await.unwrap();
    shoot(&member, "30-security-off").await;
    submit(&member, "form[action='/security/enrol']").await;
    wait_for(&member, "Cannot scan it?").await;
    shoot(&member, "31-enrol").await;
    member
        .find(Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let secret = member
        .find(Locator::Css("code.secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    fill(&member, "#code", &authenticator_code(&secret, 0)).await;
    submit(&member, "form[action='/security/enrol/confirm']").await;
    wait_for(&member, "I have saved them").await;
    shoot(&member, "32-recovery-codes").await;
    let codes = member
        .find_all(Locator::Css("ul.codes code"))
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    member
        .find(Locator::LinkText("I have saved them — continue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&member, "since").await;
    shoot(&member, "33-security-on").await;

    // Signing in again asks for a code after the password.
    submit(&member, "form[action='/logout']").await;
    wait_for(&member, "You have signed out").await;
    member.goto(&format!("{portal}/login")).await.unwrap();
    fill(&member, "#email", "member@a.test").await;
    fill(&member, "#password", PASSWORD).await;
    submit(&member, "form[action='/login']").await;
    wait_for(&member, "Enter the six-digit code").await;
    shoot(&member, "34-second-step").await;
    fill(&member, "#code", "000000").await;
    submit(&member, "form[action='/login/verify']").await;
    wait_for(&member, "That code is not right").await;
    fill(&member, "#code", &authenticator_code(&secret, 1)).await;
    submit(&member, "form[action='/login/verify']").await;
    wait_for(&member, "Sign out").await;

    // The technician views the portal as the member.
    let tech = browser(driver_port).await;
    sign_in(&tech, &console, "tech-a@msp.test").await;
    let company = app.fx.company_a;
    let user = app.fx.portal(Who::Member);
    tech.goto(&format!("{console}/companies/{company}/users/{user}"))
        .await
        .unwrap();
    wait_for(&tech, "View the portal as").await;
    fill(
        &tech,
        "#view-as-reason",
        "Ticket 12: the member cannot find the printer asset",
    )
    .await;
    submit(&tech, "form[action$='/view-as']").await;
    wait_for(&tech, "Viewing the portal as").await;
    shoot(&tech, "35-view-as").await;
    tech.goto(&format!("{portal}/tickets")).await.unwrap();
    wait_for(&tech, "Viewing the portal as").await;
    let source = tech.source().await.unwrap();
    assert!(source.contains("Ticket 12: the member cannot find the printer asset"));
    submit(&tech, "form[action='/view-as/end']").await;
    wait_for(&tech, "You stopped viewing the portal").await;
    member.close().await.unwrap();
    tech.close().await.unwrap();

    // Single sign-on: the client admin signs in through the workspace's provider (a real
    // OpenID Connect provider on loopback), typing their address at the provider.
    let Some((_provider, issuer)) =
        common::start_oidc_provider(&[format!("{portal}/login/sso/callback")])
    else {
        return;
    };
    let saved = app
        .post_as(
            Who::Owner,
            "/settings/sso",
            &[
                ("display_name", "Test IdP"),
                ("issuer_url", &issuer),
                ("client_id", "portico"),
                ("client_secret", "portico-test-secret"),
                ("for_portal", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let admin = browser(driver_port).await;
    admin.goto(&format!("{portal}/login")).await.unwrap();
    wait_for(&admin, "Sign in with Test IdP").await;
    shoot(&admin, "36-login-sso").await;
    admin
        .find(Locator::LinkText("Sign in with Test IdP"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&admin, "Test IdP").await;
    fill(&admin, "#email", "admin@a.test").await;
    submit(&admin, "form").await;
    wait_for(&admin, "Sign out").await;
    let url = admin.current_url().await.unwrap();
    assert!(
        url.as_str().starts_with(&portal),
        "back on the portal: {url}"
    );
    admin.close().await.unwrap();
}
