//! Issue 17's figure for e-mail domain health: 1,000 domains checked end to end — claimed from
//! the store, resolved against a real DNS server (NSD on loopback, serving a zone per domain:
//! good, open, heavy and broken ones in turn), each report kept — through the worker's own
//! `run_due`, timed. Run by `bench/domains`; prints one RESULT line.

use std::time::{Duration, Instant};

use portico_domains::test_server::{NsdServer, zone};
use portico_domains::{CheckerConfig, DomainChecker};

const DOMAINS: usize = 1_000;
/// Domains per company, as a client with a few brands and regional domains has.
const PER_COMPANY: usize = 10;

/// Domain `i`'s zone: one of four shapes, each a different amount of DNS work.
fn zone_of(i: usize) -> (String, String) {
    let name = format!("d{i:04}.test");
    let records = match i % 4 {
        0 => "@ IN MX 10 mx.example.net.\n\
              @ IN TXT \"v=spf1 include:spf.{n} ip4:192.0.2.10 -all\"\n\
              spf IN TXT \"v=spf1 ip4:192.0.2.0/24 include:more.{n} ~all\"\n\
              more IN TXT \"v=spf1 ip6:2001:db8::/32 -all\"\n\
              selector1._domainkey IN TXT \"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOC\"\n\
              _dmarc IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@{n}\""
            .to_owned(),
        1 => "@ IN MX 10 mx.{n}.\nmx IN A 192.0.2.25".to_owned(),
        2 => "@ IN MX 10 mx1.{n}.\nmx1 IN A 192.0.2.1\n\
              @ IN TXT \"v=spf1 include:a.{n} include:b.{n} a mx -all\"\n\
              a IN TXT \"v=spf1 include:c.{n} a -all\"\nb IN TXT \"v=spf1 mx -all\"\n\
              c IN TXT \"v=spf1 a -all\"\n_dmarc IN TXT \"v=DMARC1; p=none\""
            .to_owned(),
        _ => "@ IN MX 0 .\n@ IN TXT \"v=spf1 +all\"\n_dmarc IN TXT \"v=DMARC1; p=quarantine\""
            .to_owned(),
    };
    let records = records.replace("{n}", &name);
    let text = zone(&name, &records);
    (name, text)
}

#[tokio::main]
async fn main() {
    let zones: Vec<(String, String)> = (0..DOMAINS).map(zone_of).collect();
    let borrowed: Vec<(&str, String)> = zones
        .iter()
        .map(|(name, text)| (name.as_str(), text.clone()))
        .collect();
    let dns = NsdServer::start(&borrowed).expect("NSD (Debian package nsd) is needed");
    let path =
        std::env::temp_dir().join(format!("portico-domains-bench-{}.db", std::process::id()));
    let url = format!("sqlite://{}", path.display());
    let store = portico_store::Store::connect(&url, 8)
        .await
        .expect("a database");
    store.migrate(&[]).await.expect("migrations");
    let mut tx = store.system_unscoped().await.expect("a transaction");
    let workspace = tx
        .create_workspace("Bench MSP", "#1d4ed8", "#0f766e", "")
        .await
        .expect("a workspace");
    for (c, names) in zones.chunks(PER_COMPANY).enumerate() {
        let company = tx
            .add_company(
                workspace,
                &format!("Company {c:03}"),
                "Managed",
                None,
                None,
                "AUD",
                true,
            )
            .await
            .expect("a company");
        let domains: Vec<&str> = names.iter().map(|(name, _)| name.as_str()).collect();
        tx.set_company_email_domains(workspace, company, &domains)
            .await
            .expect("its domains");
    }
    tx.commit().await.expect("seeded");

    let checker = DomainChecker::new(CheckerConfig {
        name_servers: vec![dns.address],
        rdap_base: None,
        timeout: Duration::from_secs(2),
        allow_private_addresses: false,
    })
    .expect("a checker");
    let started = Instant::now();
    let mut checked = 0;
    loop {
        let round = portico_domains::worker::run_due(&store, &checker, 500)
            .await
            .expect("a round");
        if round == 0 {
            break;
        }
        checked += round;
    }
    let elapsed = started.elapsed();
    let mut tx = store.system_unscoped().await.expect("a transaction");
    let kept = tx.checked_domains_count().await.expect("counted");
    tx.commit().await.expect("read");
    drop(store);
    let _ = std::fs::remove_file(&path);
    println!(
        "RESULT domains={checked} reports_kept={kept} seconds={:.2} per_domain_ms={:.1}",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / checked.max(1) as f64
    );
    assert_eq!(checked, DOMAINS, "every domain was checked once");
    assert_eq!(kept as usize, DOMAINS, "every report was kept");
}
