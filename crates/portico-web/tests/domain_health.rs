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
