//! The checks against real zones served by NSD on loopback, and RDAP answers from a loopback
//! server: good domains, and each way a domain goes wrong.

use std::time::Duration;

use crate::test_server::{NsdServer, zone};
use crate::{Check, CheckerConfig, DomainChecker, DomainReport, Level};

fn zones() -> Vec<(&'static str, String)> {
    vec![
        (
            "good.test",
            zone(
                "good.test",
                "@ IN MX 10 good-test.mail.protection.outlook.com.\n\
                 @ IN TXT \"v=spf1 include:spf.good.test ip4:192.0.2.10 -all\"\n\
                 @ IN TXT \"google-site-verification=abc\"\n\
                 spf IN TXT \"v=spf1 ip4:192.0.2.0/24 include:more.good.test ~all\"\n\
                 more IN TXT \"v=spf1 ip6:2001:db8::/32 -all\"\n\
                 selector1._domainkey IN TXT \"v=DKIM1; k=rsa; \" \"p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\"\n\
                 selector2._domainkey IN TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEB\"\n\
                 _dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@good.test\"",
            ),
        ),
        (
            // No SPF, no DMARC, no DKIM key: anyone can send as it.
            "open.test",
            zone("open.test", "@ IN MX 10 mx.open.test.\nmx IN A 192.0.2.25"),
        ),
        (
            // Eleven lookups through includes, a monitoring-only DMARC, one selector revoked.
            "heavy.test",
            zone(
                "heavy.test",
                "@ IN MX 10 mx1.heavy.test.\n@ IN MX 20 mx2.heavy.test.\n\
                 mx1 IN A 192.0.2.1\nmx2 IN A 192.0.2.2\n\
                 @ IN TXT \"v=spf1 include:a.heavy.test include:b.heavy.test a mx -all\"\n\
                 a IN TXT \"v=spf1 include:c.heavy.test include:d.heavy.test a -all\"\n\
                 b IN TXT \"v=spf1 exists:x.heavy.test mx -all\"\n\
                 c IN TXT \"v=spf1 a -all\"\n\
                 d IN TXT \"v=spf1 ptr -all\"\n\
                 s1._domainkey IN TXT \"v=DKIM1; p=MIIB\"\n\
                 s2._domainkey IN TXT \"v=DKIM1; p=\"\n\
                 _dmarc IN TXT \"v=DMARC1; p=none\"",
            ),
        ),
        (
            // Mistakes: +all, an include with nothing there, two DMARC records.
            "broken.test",
            zone(
                "broken.test",
                "@ IN MX 0 .\n\
                 @ IN TXT \"v=spf1 +all\"\n\
                 sub IN MX 10 mx.broken.test.\n\
                 sub IN TXT \"v=spf1 include:nothing.broken.test -all\"\n\
                 _dmarc IN TXT \"v=DMARC1; p=reject\"\n\
                 _dmarc IN TXT \"v=DMARC1; p=none\"",
            ),
        ),
    ]
}

/// An RDAP service on loopback: good.test is registered for a year more, heavy.test ten days.
async fn rdap() -> String {
    use axum::extract::Path;
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/domain/{name}",
        get(|Path(name): Path<String>| async move {
            let days = match name.as_str() {
                "good.test" => 400,
                "heavy.test" => 10,
                "open.test" => 45,
                _ => return (axum::http::StatusCode::NOT_FOUND, String::new()),
            };
            let at = jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_hours(24 * days))
                .unwrap();
            (
                axum::http::StatusCode::OK,
                serde_json::json!({
                    "objectClassName": "domain",
                    "ldhName": name,
                    "events": [
                        { "eventAction": "registration", "eventDate": "2015-03-01T00:00:00Z" },
                        { "eventAction": "expiration", "eventDate": at.to_string() },
                    ],
                })
                .to_string(),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn finding(report: &DomainReport, check: Check) -> &crate::Finding {
    report
        .findings
        .iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("no {check:?} finding in {report:?}"))
}

#[tokio::test]
async fn each_domain_gets_the_verdict_its_records_earn() {
    let Some(dns) = NsdServer::start(&zones()) else {
        return;
    };
    let checker = DomainChecker::new(CheckerConfig {
        name_servers: vec![dns.address],
        rdap_base: Some(rdap().await),
        timeout: Duration::from_secs(2),
        allow_private_addresses: false,
    })
    .unwrap();
    let selectors = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let good = checker
        .check("Good.Test.", &selectors(&["selector1", "selector2"]))
        .await
        .unwrap();
    assert_eq!(good.domain, "good.test");
    assert_eq!(good.worst(), Level::Good, "{good:#?}");
    assert!(finding(&good, Check::Mx).summary.contains("Microsoft 365"));
    let spf = finding(&good, Check::Spf);
    assert!(spf.summary.contains("2 of 10"), "{spf:?}");
    assert!(spf.record.starts_with("v=spf1 include:spf.good.test"));
    // A key split into two strings is read as one.
    assert!(finding(&good, Check::Dkim).record.contains("k=rsa; p=MIIB"));
    assert!(finding(&good, Check::Dmarc).summary.contains("refused"));
    assert!(
        finding(&good, Check::Expiry)
            .summary
            .starts_with("Registered until")
    );

    let open = checker
        .check("open.test", &selectors(&["selector1"]))
        .await
        .unwrap();
    assert_eq!(finding(&open, Check::Mx).level, Level::Good);
    for check in [Check::Spf, Check::Dkim, Check::Dmarc] {
        let f = finding(&open, check);
        assert_eq!(f.level, Level::Bad, "{f:?}");
        assert!(!f.fix.is_empty(), "{f:?}");
    }
    assert_eq!(finding(&open, Check::Expiry).level, Level::Warn);

    let heavy = checker
        .check("heavy.test", &selectors(&["s1", "s2"]))
        .await
        .unwrap();
    let spf = finding(&heavy, Check::Spf);
    assert_eq!(spf.level, Level::Bad);
    assert!(spf.summary.contains("11 DNS lookups"), "{spf:?}");
    let dkim = finding(&heavy, Check::Dkim);
    assert_eq!(dkim.level, Level::Warn);
    assert!(
        dkim.summary.contains("Revoked (empty key) at s2"),
        "{dkim:?}"
    );
    let dmarc = finding(&heavy, Check::Dmarc);
    assert_eq!(dmarc.level, Level::Warn);
    assert!(dmarc.summary.contains("No reports"), "{dmarc:?}");
    assert_eq!(finding(&heavy, Check::Expiry).level, Level::Bad);

    let broken = checker.check("broken.test", &[]).await.unwrap();
    assert!(finding(&broken, Check::Mx).summary.contains("null MX"));
    assert!(finding(&broken, Check::Spf).summary.contains("+all"));
    assert_eq!(finding(&broken, Check::Dkim).level, Level::Unknown);
    assert!(
        finding(&broken, Check::Dmarc)
            .summary
            .contains("more than one")
    );
    assert_eq!(finding(&broken, Check::Expiry).level, Level::Unknown);
    let sub = checker.check("sub.broken.test", &[]).await.unwrap();
    let spf = finding(&sub, Check::Spf);
    assert!(
        spf.summary
            .contains("nothing.broken.test, which it includes, has no SPF record"),
        "{spf:?}"
    );

    // A name that does not exist stops at the first check.
    let missing = checker.check("gone.good.test", &[]).await.unwrap();
    assert_eq!(finding(&missing, Check::Mx).level, Level::Bad);
    assert!(missing.findings.iter().all(|f| f.check != Check::Spf));
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_unknown_not_bad() {
    // A bound socket nobody reads: every query times out.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let checker = DomainChecker::new(CheckerConfig {
        name_servers: vec![silent.local_addr().unwrap()],
        rdap_base: None,
        timeout: Duration::from_millis(200),
        allow_private_addresses: false,
    })
    .unwrap();
    let report = checker.check("good.test", &[]).await.unwrap();
    assert!(
        report.findings.iter().all(|f| f.level == Level::Unknown),
        "{report:#?}"
    );
}
