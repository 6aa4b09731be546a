//! E-mail domain health (P5) end to end: the worker checks each company's e-mail domains
//! against zones a real DNS server (NSD) serves on loopback, and the console and the portal's
//! Security section show each domain's verdicts, each company its own only.

mod common;

use std::time::Duration;

use common::{TestApp, Who};
use portico_domains::test_server::{NsdServer, zone};
use portico_domains::{CheckerConfig, DomainChecker};

fn zones() -> Vec<(&'static str, String)> {
    vec![
        (
            // Company A's: protected, once its selector is known.
            "a.test",
            zone(
                "a.test",
                "@ IN MX 10 a-test.mail.protection.outlook.com.\n\
                 @ IN TXT \"v=spf1 include:spf.protection.a.test -all\"\n\
                 spf.protection IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n\
                 selector1._domainkey IN TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkq\"\n\
                 _dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@a.test\"",
            ),
        ),
        (
            // Company B's: wide open, and its own business.
            "b.test",
            zone(
                "b.test",
                "@ IN MX 10 mx.b.test.\nmx IN A 192.0.2.7\n@ IN TXT \"v=spf1 +all\"",
            ),
        ),
    ]
}

#[tokio::test]
async fn each_companys_domains_are_checked_and_shown_to_it_alone() {
    let Some(dns) = NsdServer::start(&zones()) else {
        return;
    };
    let app = TestApp::spawn().await;
    let checker = DomainChecker::new(CheckerConfig {
        name_servers: vec![dns.address],
        rdap_base: None,
        timeout: Duration::from_secs(2),
        allow_private_addresses: true,
    })
    .unwrap();
    let a = app.fx.company_a;
    let page = format!("/companies/{a}/domains");

    // Before the first check: listed, waiting.
    let first = app.get_as(Who::Owner, &page).await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("a.test") && first.body.contains("first time"));
    let checked = portico_domains::worker::run_due(app.store(), &checker, 50)
        .await
        .unwrap();
    assert!(checked >= 2, "both companies' domains: {checked}");
    // Nothing is due again until tomorrow or until asked.
    assert_eq!(
        portico_domains::worker::run_due(app.store(), &checker, 50)
            .await
            .unwrap(),
        0
    );

    let console = app.get_as(Who::Owner, &page).await;
    for text in [
        "Microsoft 365",
        "Policy reject: forged mail is refused.",
        "No DKIM selectors are set",
        "Senders are listed and others refused",
    ] {
        assert!(console.body.contains(text), "{text} on the console's page");
    }
    // The selector staff set: saved, audited, and the domain checked again.
    let refused = app
        .post_as(
            Who::TechnicianAssigned,
            &format!("{page}/selectors"),
            &[("domain", "a.test"), ("selectors", "bad/one")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("bad/one"), "what was typed is kept");
    let saved = app
        .post_as(
            Who::TechnicianAssigned,
            &format!("{page}/selectors"),
            &[("domain", "a.test"), ("selectors", "selector1")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // Another company's domain is not A's to configure.
    let foreign = app
        .post_as(
            Who::Owner,
            &format!("{page}/selectors"),
            &[("domain", "b.test"), ("selectors", "x")],
        )
        .await;
    assert_eq!(foreign.status, 404);
    assert_eq!(
        portico_domains::worker::run_due(app.store(), &checker, 50)
            .await
            .unwrap(),
        1
    );
    let console = app.get_as(Who::Owner, &page).await;
    assert!(
        console.body.contains("Keys are published at selector1."),
        "{}",
        console.body
    );

    // The portal's Security section: the client admins', A's domain only.
    let portal = app.get_as(Who::ClientAdmin, "/protection").await;
    assert_eq!(portal.status, 200);
    assert!(portal.body.contains("a.test"));
    assert!(portal.body.contains("Keys are published at selector1."));
    assert!(!portal.body.contains("b.test"), "B's domain on A's portal");
    assert!(!portal.body.contains("+all"), "B's findings on A's portal");
    assert_eq!(app.get_as(Who::Member, "/protection").await.status, 404);
    // A check on request: throttled, the domains having been checked within the minute.
    let asked = app
        .post_as(Who::ClientAdmin, "/protection/check", &[])
        .await;
    assert_eq!(asked.location(), "/protection?done=recent");

    // B's console page shows its own verdict.
    let b = app
        .get_as(
            Who::Owner,
            &format!("/companies/{}/domains", app.fx.company_b),
        )
        .await;
    assert!(
        b.body.contains("it lets any server send as this domain"),
        "{}",
        b.body
    );
}

/// Have I Been Pwned on loopback, answering as its API v3 reference documents
/// (haveibeenpwned.com/API/v3: `breacheddomain` maps each alias to its breaches' names, 404
/// when none, 401 for a bad key; `breach/{name}` describes one breach). `accounts` is what the
/// domain search answers for a.test; b.test is not verified for the key (403).
async fn hibp(accounts: std::sync::Arc<std::sync::Mutex<serde_json::Value>>) -> String {
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/api/v3/breacheddomain/{domain}",
            get(move |Path(domain): Path<String>, headers: HeaderMap| {
                let accounts = accounts.clone();
                async move {
                    if headers.get("user-agent").is_none() {
                        return (StatusCode::FORBIDDEN, String::new());
                    }
                    if headers.get("hibp-api-key").and_then(|v| v.to_str().ok())
                        != Some("0123456789abcdef0123456789abcdef")
                    {
                        return (StatusCode::UNAUTHORIZED, String::new());
                    }
                    match domain.as_str() {
                        "a.test" => {
                            let body = accounts.lock().unwrap().clone();
                            if body.as_object().is_some_and(|o| o.is_empty()) {
                                (StatusCode::NOT_FOUND, String::new())
                            } else {
                                (StatusCode::OK, body.to_string())
                            }
                        }
                        _ => (StatusCode::FORBIDDEN, String::new()),
                    }
                }
            }),
        )
        .route(
            "/api/v3/breach/{name}",
            get(|Path(name): Path<String>| async move {
                let (title, date, classes) = match name.as_str() {
                    "Adobe" => (
                        "Adobe",
                        "2013-10-04",
                        vec![
                            "Email addresses",
                            "Password hints",
                            "Passwords",
                            "Usernames",
                        ],
                    ),
                    "Canva" => (
                        "Canva",
                        "2019-05-24",
                        vec!["Email addresses", "Names", "Passwords"],
                    ),
                    _ => return (StatusCode::NOT_FOUND, String::new()),
                };
                (
                    StatusCode::OK,
                    serde_json::json!({
                        "Name": name, "Title": title, "Domain": "example.com", "BreachDate": date,
                        "AddedDate": "2020-01-01T00:00:00Z", "ModifiedDate": "2020-01-01T00:00:00Z",
                        "PwnCount": 152445165, "Description": "", "DataClasses": classes,
                        "IsVerified": true, "IsFabricated": false, "IsSensitive": false,
                        "IsRetired": false, "IsSpamList": false, "IsMalware": false,
                        "IsSubscriptionFree": false, "IsStealerLog": false, "LogoPath": ""
                    })
                    .to_string(),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/api/v3")
}

async fn latest_mail(app: &TestApp, to: &str) -> Option<String> {
    let mut sys = app.store().system_unscoped().await.unwrap();
    let body = sys.latest_mail_to(to).await.unwrap();
    sys.commit().await.unwrap();
    body
}

/// Asks for a check of every domain again, as a day passing would.
async fn make_due(app: &TestApp) {
    let mut sys = app.store().system_unscoped().await.unwrap();
    sys.make_domains_due().await.unwrap();
    sys.commit().await.unwrap();
}

#[tokio::test]
async fn breached_accounts_are_found_kept_and_told_once() {
    let Some(dns) = NsdServer::start(&zones()) else {
        return;
    };
    let app = TestApp::spawn().await;
    let checker = DomainChecker::new(CheckerConfig {
        name_servers: vec![dns.address],
        rdap_base: None,
        timeout: Duration::from_secs(2),
        allow_private_addresses: true,
    })
    .unwrap();
    let accounts = std::sync::Arc::new(std::sync::Mutex::new(serde_json::json!({
        "pat": ["Adobe"],
        "robin": ["Adobe", "Canva", "NotDescribed"],
    })));
    let api = hibp(accounts.clone()).await;
    let a = app.fx.company_a;

    // The key: owners only, refused when malformed, never shown again.
    let refused = app
        .post_as(
            Who::Owner,
            "/settings/breach-monitoring",
            &[("key", "short"), ("api_url", &api)],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("16 to 100 letters"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(&api), "the address typed is kept");
    let wrong = app
        .post_as(
            Who::Owner,
            "/settings/breach-monitoring",
            &[
                ("key", "ffffffffffffffffffffffffffffffff"),
                ("api_url", &api),
            ],
        )
        .await;
    assert_eq!(wrong.status, 303);
    portico_domains::worker::run_due(app.store(), &checker, 50)
        .await
        .unwrap();
    let page = app
        .get_as(Who::Owner, &format!("/companies/{a}/domains"))
        .await;
    assert!(page.body.contains("refused the API key"), "{}", page.body);
    let saved = app
        .post_as(
            Who::Owner,
            "/settings/breach-monitoring",
            &[
                ("key", "0123456789abcdef0123456789abcdef"),
                ("api_url", &api),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    // The stored key goes nowhere new unless typed again.
    let moved = app
        .post_as(
            Who::Owner,
            "/settings/breach-monitoring",
            &[
                ("key", ""),
                ("api_url", "https://hibp.attacker.example/api/v3"),
            ],
        )
        .await;
    assert_eq!(moved.status, 422);
    assert!(moved.body.contains("Enter the key again"), "{}", moved.body);
    let settings = app.get_as(Who::Owner, "/settings/breach-monitoring").await;
    assert!(settings.body.contains("Key ending in"));
    assert!(
        !settings.body.contains("0123456789abcdef0123"),
        "the key is never shown"
    );

    make_due(&app).await;
    portico_domains::worker::run_due(app.store(), &checker, 50)
        .await
        .unwrap();
    let page = app
        .get_as(Who::Owner, &format!("/companies/{a}/domains"))
        .await;
    for text in [
        "pat@a.test",
        "robin@a.test",
        "Canva",
        "2019-05-24",
        "Passwords",
        "NotDescribed",
    ] {
        assert!(page.body.contains(text), "{text} on the console's page");
    }
    // B's domain is not verified for the key: said so on B's page, nothing of A's there.
    let b = app
        .get_as(
            Who::Owner,
            &format!("/companies/{}/domains", app.fx.company_b),
        )
        .await;
    assert!(b.body.contains("must be verified"), "{}", b.body);
    assert!(!b.body.contains("robin@a.test"));
    let mail = latest_mail(&app, "owner@msp.test")
        .await
        .expect("the owners told");
    assert!(
        mail.contains("robin@a.test: Adobe (2013-10-04), Canva (2019-05-24), NotDescribed"),
        "{mail}"
    );
    assert!(
        latest_mail(&app, "admin@a.test")
            .await
            .is_none_or(|m| !m.contains("breaches"))
    );

    // The company chooses to have its client admins told; a new breach is told once.
    let portal = app.get_as(Who::ClientAdmin, "/protection").await;
    assert!(portal.body.contains("robin@a.test") && portal.body.contains("Canva"));
    let chose = app
        .post_as(
            Who::ClientAdmin,
            "/protection/breach-alerts",
            &[("on", "1")],
        )
        .await;
    assert_eq!(chose.status, 303);
    *accounts.lock().unwrap() =
        serde_json::json!({ "robin": ["Adobe", "Canva"], "pat": ["Adobe", "Canva"] });
    make_due(&app).await;
    portico_domains::worker::run_due(app.store(), &checker, 50)
        .await
        .unwrap();
    let told = latest_mail(&app, "admin@a.test")
        .await
        .expect("the client admin told");
    assert!(told.contains("pat@a.test: Canva (2019-05-24)"), "{told}");
    assert!(
        !told.contains("robin@a.test"),
        "nothing new for robin: {told}"
    );
    // Nothing new: nothing told, nothing written.
    let before = latest_mail(&app, "owner@msp.test").await;
    make_due(&app).await;
    portico_domains::worker::run_due(app.store(), &checker, 50)
        .await
        .unwrap();
    assert_eq!(latest_mail(&app, "owner@msp.test").await, before);
    // No longer listed: kept, marked.
    *accounts.lock().unwrap() = serde_json::json!({});
    make_due(&app).await;
    portico_domains::worker::run_due(app.store(), &checker, 50)
        .await
        .unwrap();
    let portal = app.get_as(Who::ClientAdmin, "/protection").await;
    assert!(portal.body.contains("No longer listed"), "{}", portal.body);
}
