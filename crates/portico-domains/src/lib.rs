//! E-mail domain health (P5): for each of a client's domains, whether mail can be spoofed or
//! lost — its MX, SPF (lookups counted against the limit of 10), DKIM (at the selectors staff
//! configured), DMARC, and how close the registration is to expiry where the registry's RDAP
//! says — each as a verdict in plain words with what to fix. Read with a real DNS resolver
//! (the system's, or the servers configured) and RDAP over HTTPS; nothing here writes.

pub mod breaches;
pub mod dmarc;
pub mod spf;
#[cfg(any(test, feature = "test-server"))]
pub mod test_server;
#[cfg(test)]
mod tests;
#[cfg(feature = "worker")]
pub mod worker;

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{ResolveError, TokioResolver};
use serde::{Deserialize, Serialize};

/// How a check came out, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Good,
    /// Could not be told (DNS did not answer, nothing configured to check, no date published).
    Unknown,
    Warn,
    Bad,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Good => "good",
            Level::Unknown => "unknown",
            Level::Warn => "warn",
            Level::Bad => "bad",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "good" => Some(Level::Good),
            "unknown" => Some(Level::Unknown),
            "warn" => Some(Level::Warn),
            "bad" => Some(Level::Bad),
            _ => None,
        }
    }

    /// As people read it beside a check.
    pub fn label(self) -> &'static str {
        match self {
            Level::Good => "OK",
            Level::Unknown => "Not checked",
            Level::Warn => "Needs attention",
            Level::Bad => "At risk",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    Mx,
    Spf,
    Dkim,
    Dmarc,
    Expiry,
}

impl Check {
    pub fn label(self) -> &'static str {
        match self {
            Check::Mx => "Mail servers (MX)",
            Check::Spf => "Sender policy (SPF)",
            Check::Dkim => "Signatures (DKIM)",
            Check::Dmarc => "Spoofing policy (DMARC)",
            Check::Expiry => "Registration",
        }
    }
}

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: Check,
    pub level: Level,
    /// What was found, in plain words.
    pub summary: String,
    /// What to do about it; empty when nothing needs doing.
    pub fix: String,
    /// The record(s) as published, for whoever fixes it.
    pub record: String,
}

impl Finding {
    fn new(check: Check, level: Level, summary: String, fix: String, record: String) -> Finding {
        Finding {
            check,
            level,
            summary,
            fix,
            record,
        }
    }
}

/// A domain's checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainReport {
    pub domain: String,
    pub findings: Vec<Finding>,
}

impl DomainReport {
    /// The worst of its findings.
    pub fn worst(&self) -> Level {
        self.findings
            .iter()
            .map(|f| f.level)
            .max()
            .unwrap_or(Level::Unknown)
    }
}

/// The findings a kept report holds (as the worker keeps them: [`DomainReport::findings`] as
/// JSON), for the pages; nothing for a report that does not read.
pub fn kept_findings(report: &str) -> Vec<Finding> {
    serde_json::from_str(report).unwrap_or_default()
}

/// Why a checker could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the system's DNS configuration could not be read: {0}")]
    SystemConfig(String),
    #[error("the RDAP client could not be made: {0}")]
    Http(String),
}

/// Where the checks look.
#[derive(Debug, Clone)]
pub struct CheckerConfig {
    /// DNS servers to ask; empty: the system's (`/etc/resolv.conf`).
    pub name_servers: Vec<SocketAddr>,
    /// The RDAP service domains are looked up at (`{rdap}/domain/<name>`), such as
    /// `https://rdap.org` (which redirects to each registry's); `None`: expiry is not checked.
    pub rdap_base: Option<String>,
    /// How long one DNS or RDAP answer may take.
    pub timeout: Duration,
    /// Let the breach search reach private, loopback and link-local addresses (a proxy inside
    /// the server's network; the tests' loopback HIBP). Off, its address (an owner's setting)
    /// must be public.
    pub allow_private_addresses: bool,
}

impl Default for CheckerConfig {
    fn default() -> CheckerConfig {
        CheckerConfig {
            name_servers: Vec::new(),
            rdap_base: Some("https://rdap.org".into()),
            timeout: Duration::from_secs(5),
            allow_private_addresses: false,
        }
    }
}

/// Checks domains.
#[derive(Clone)]
pub struct DomainChecker {
    config: CheckerConfig,
    http: reqwest::Client,
}

/// A TXT lookup's outcome: the records, or why there are none.
enum Txt {
    Records(Vec<String>),
    /// The name does not exist or has no TXT records.
    None,
    /// DNS did not answer properly (timeout, server failure).
    Failed(String),
}

impl DomainChecker {
    pub fn new(config: CheckerConfig) -> Result<DomainChecker, SetupError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| SetupError::Http(e.to_string()))?;
        Ok(DomainChecker { config, http })
    }

    /// How long one answer may take.
    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// Whether the breach search may reach private addresses.
    pub fn allows_private_addresses(&self) -> bool {
        self.config.allow_private_addresses
    }

    /// A resolver for one round of checks: made afresh so that a record just fixed is read as
    /// it is now, not as a cache kept it.
    fn resolver(&self) -> Result<TokioResolver, SetupError> {
        let mut options = ResolverOpts::default();
        options.timeout = self.config.timeout;
        options.attempts = 2;
        let builder = if self.config.name_servers.is_empty() {
            TokioResolver::builder_tokio().map_err(|e| SetupError::SystemConfig(e.to_string()))?
        } else {
            let mut group = NameServerConfigGroup::new();
            for server in &self.config.name_servers {
                group.merge(NameServerConfigGroup::from_ips_clear(
                    &[server.ip()],
                    server.port(),
                    true,
                ));
            }
            TokioResolver::builder_with_config(
                ResolverConfig::from_parts(None, Vec::new(), group),
                TokioConnectionProvider::default(),
            )
        };
        Ok(builder.with_options(options).build())
    }

    /// Checks `domain`, DKIM at `selectors`.
    pub async fn check(
        &self,
        domain: &str,
        selectors: &[String],
    ) -> Result<DomainReport, SetupError> {
        let resolver = self.resolver()?;
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let mut findings = Vec::new();
        let mx = mx(&resolver, &domain).await;
        let missing = mx.level == Level::Bad;
        findings.push(mx);
        if !missing {
            findings.push(spf(&resolver, &domain).await);
            findings.push(dkim(&resolver, &domain, selectors).await);
            findings.push(dmarc(&resolver, &domain).await);
        }
        findings.push(self.expiry(&domain).await);
        Ok(DomainReport { domain, findings })
    }

    async fn expiry(&self, domain: &str) -> Finding {
        let unknown = |summary: String| {
            Finding::new(
                Check::Expiry,
                Level::Unknown,
                summary,
                String::new(),
                String::new(),
            )
        };
        let Some(base) = &self.config.rdap_base else {
            return unknown("Expiry is not checked on this installation.".into());
        };
        let url = format!("{}/domain/{domain}", base.trim_end_matches('/'));
        let answer = match self
            .http
            .get(&url)
            .header("accept", "application/rdap+json, application/json")
            .send()
            .await
        {
            Ok(a) => a,
            Err(_) => return unknown("The registry's RDAP service did not answer.".into()),
        };
        if !answer.status().is_success() {
            return unknown(format!(
                "The registry's RDAP service has no record of it (HTTP {}).",
                answer.status().as_u16()
            ));
        }
        let body = answer.bytes().await.ok();
        let Some(body) = body.and_then(|b| serde_json::from_slice::<Rdap>(&b).ok()) else {
            return unknown("The registry's RDAP answer could not be read.".into());
        };
        let Some(expires) = body
            .events
            .iter()
            .find(|e| e.action.eq_ignore_ascii_case("expiration"))
            .and_then(|e| e.date.parse::<jiff::Timestamp>().ok())
        else {
            return unknown("The registry does not publish an expiry date.".into());
        };
        let days = (expires.as_second() - jiff::Timestamp::now().as_second()).div_euclid(86_400);
        let date = expires.strftime("%Y-%m-%d").to_string();
        let renew = "Renew it at the registrar, and switch on auto-renewal.".to_owned();
        if days < 0 {
            Finding::new(
                Check::Expiry,
                Level::Bad,
                format!(
                    "The registration expired on {date}: mail and websites can stop at any moment."
                ),
                renew,
                String::new(),
            )
        } else if days <= 14 {
            Finding::new(
                Check::Expiry,
                Level::Bad,
                format!("The registration expires on {date}, in {days} days."),
                renew,
                String::new(),
            )
        } else if days <= 60 {
            Finding::new(
                Check::Expiry,
                Level::Warn,
                format!("The registration expires on {date}, in {days} days."),
                renew,
                String::new(),
            )
        } else {
            Finding::new(
                Check::Expiry,
                Level::Good,
                format!("Registered until {date}."),
                String::new(),
                String::new(),
            )
        }
    }
}

/// The part of an RDAP domain answer read here (RFC 9083 §4.5).
#[derive(Deserialize)]
struct Rdap {
    #[serde(default)]
    events: Vec<RdapEvent>,
}

#[derive(Deserialize)]
struct RdapEvent {
    #[serde(rename = "eventAction")]
    action: String,
    #[serde(rename = "eventDate")]
    date: String,
}

/// A lookup's failure as people read it, or `None` when the name simply has no such records.
fn failure(e: &ResolveError) -> Option<String> {
    if e.is_nx_domain() || e.is_no_records_found() {
        None
    } else {
        Some("DNS did not answer in time or answered with an error".into())
    }
}

async fn txt(resolver: &TokioResolver, name: &str) -> Txt {
    match resolver.txt_lookup(format!("{name}.")).await {
        Ok(found) => Txt::Records(
            found
                .iter()
                .map(|txt| {
                    // A long record comes in strings of at most 255 bytes: one text, joined.
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>()
                })
                .collect(),
        ),
        Err(e) => match failure(&e) {
            None => Txt::None,
            Some(why) => Txt::Failed(why),
        },
    }
}

/// The mail provider a mail server's name gives away, for the summary.
fn provider(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.');
    [
        (".mail.protection.outlook.com", "Microsoft 365"),
        (".google.com", "Google Workspace"),
        (".googlemail.com", "Google Workspace"),
        (".pphosted.com", "Proofpoint"),
        (".mimecast.com", "Mimecast"),
        (".messagelabs.com", "Broadcom Email Security"),
        (".barracudanetworks.com", "Barracuda"),
        (".zoho.com", "Zoho Mail"),
    ]
    .iter()
    .find(|(suffix, _)| host.ends_with(suffix))
    .map(|(_, name)| *name)
}

async fn mx(resolver: &TokioResolver, domain: &str) -> Finding {
    match resolver.mx_lookup(format!("{domain}.")).await {
        Ok(found) => {
            let mut hosts: Vec<(u16, String)> = found
                .iter()
                .map(|mx| (mx.preference(), mx.exchange().to_ascii()))
                .collect();
            hosts.sort();
            let record = hosts
                .iter()
                .map(|(p, h)| format!("{p} {h}"))
                .collect::<Vec<_>>()
                .join("\n");
            // RFC 7505: a single MX of "." says the domain takes no mail.
            if hosts.len() == 1 && hosts[0].1 == "." {
                return Finding::new(
                    Check::Mx,
                    Level::Good,
                    "The domain says it receives no mail (null MX).".into(),
                    String::new(),
                    record,
                );
            }
            let names: Vec<&str> = hosts.iter().map(|(_, h)| h.trim_end_matches('.')).collect();
            let by = hosts
                .iter()
                .find_map(|(_, h)| provider(h))
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            Finding::new(
                Check::Mx,
                Level::Good,
                format!("Mail is delivered to {}{by}.", names.join(", ")),
                String::new(),
                record,
            )
        }
        Err(e) if e.is_nx_domain() => Finding::new(
            Check::Mx,
            Level::Bad,
            "The domain does not exist in DNS.".into(),
            "Check the spelling of the domain, or whether its registration has lapsed.".into(),
            String::new(),
        ),
        Err(e) => match failure(&e) {
            None => Finding::new(
                Check::Mx,
                Level::Warn,
                "The domain has no mail servers (MX): mail sent to it bounces, or goes to its web server."
                    .into(),
                "Publish the MX records your mail provider gives you, or a null MX (0 .) if the domain sends and receives no mail."
                    .into(),
                String::new(),
            ),
            Some(why) => Finding::new(
                Check::Mx,
                Level::Unknown,
                format!("Could not be checked: {why}."),
                String::new(),
                String::new(),
            ),
        },
    }
}

/// The lookups an SPF record costs with everything it includes or redirects to, and the
/// first problem met on the way (an include without a record, a record that does not parse).
async fn spf_lookups(resolver: &TokioResolver, record: &spf::SpfRecord) -> (usize, Option<String>) {
    let mut count = record.own_lookups();
    let mut pending: Vec<String> = record
        .includes()
        .chain(record.redirect())
        .map(str::to_owned)
        .collect();
    let mut seen = 0;
    while let Some(name) = pending.pop() {
        seen += 1;
        // Past the limit the answer is known; a loop of includes ends here too.
        if count > spf::LOOKUP_LIMIT || seen > 4 * spf::LOOKUP_LIMIT {
            break;
        }
        if name.contains('%') {
            // A macro expands per message: its target cannot be read ahead.
            continue;
        }
        let records = match txt(resolver, &name).await {
            Txt::Records(r) => r,
            Txt::None => Vec::new(),
            Txt::Failed(why) => return (count, Some(format!("{name} could not be read: {why}"))),
        };
        let found: Vec<&String> = records.iter().filter(|r| spf::is_spf(r)).collect();
        match found.as_slice() {
            [] => {
                return (
                    count,
                    Some(format!("{name}, which it includes, has no SPF record")),
                );
            }
            [one] => match spf::parse(one) {
                Ok(inner) => {
                    count += inner.own_lookups();
                    pending.extend(inner.includes().chain(inner.redirect()).map(str::to_owned));
                }
                Err(e) => return (count, Some(format!("{name}'s SPF record is broken: {e}"))),
            },
            _ => return (count, Some(format!("{name} has more than one SPF record"))),
        }
    }
    (count, None)
}

async fn spf(resolver: &TokioResolver, domain: &str) -> Finding {
    let finding = |level, summary: String, fix: &str, record: String| {
        Finding::new(Check::Spf, level, summary, fix.to_owned(), record)
    };
    let records = match txt(resolver, domain).await {
        Txt::Records(r) => r,
        Txt::None => Vec::new(),
        Txt::Failed(why) => {
            return finding(
                Level::Unknown,
                format!("Could not be checked: {why}."),
                "",
                String::new(),
            );
        }
    };
    let found: Vec<&String> = records.iter().filter(|r| spf::is_spf(r)).collect();
    let record = found
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let parsed = match found.as_slice() {
        [] => {
            return finding(
                Level::Bad,
                "No SPF record: any server can send mail as this domain.".into(),
                "Publish one TXT record listing the services that send its mail, ending in -all \
                 (for Microsoft 365 alone: v=spf1 include:spf.protection.outlook.com -all).",
                record,
            );
        }
        [one] => match spf::parse(one) {
            Ok(parsed) => parsed,
            Err(e) => {
                return finding(
                    Level::Bad,
                    format!("The SPF record is broken ({e}): receivers ignore it."),
                    "Correct the record's syntax.",
                    record,
                );
            }
        },
        _ => {
            return finding(
                Level::Bad,
                "The domain has more than one SPF record: receivers treat that as an error and ignore them."
                    .into(),
                "Merge them into one record.",
                record,
            );
        }
    };
    let (lookups, problem) = spf_lookups(resolver, &parsed).await;
    if lookups > spf::LOOKUP_LIMIT {
        return finding(
            Level::Bad,
            format!(
                "The SPF record needs {lookups} DNS lookups; past {} receivers treat it as an error and ignore it.",
                spf::LOOKUP_LIMIT
            ),
            "Remove includes of services no longer used, or list some senders by address (ip4:, ip6:).",
            record,
        );
    }
    if let Some(problem) = problem {
        return finding(
            Level::Bad,
            format!("The SPF record cannot be evaluated: {problem}."),
            "Remove or correct the include.",
            record,
        );
    }
    let used = format!("{lookups} of {} DNS lookups", spf::LOOKUP_LIMIT);
    match (parsed.all(), parsed.redirect()) {
        (Some(spf::Qualifier::Pass), _) => finding(
            Level::Bad,
            format!(
                "The SPF record ends in +all: it lets any server send as this domain ({used})."
            ),
            "End the record in -all (or ~all while you check every sender is listed).",
            record,
        ),
        (Some(spf::Qualifier::Neutral), _) => finding(
            Level::Warn,
            format!(
                "The SPF record ends in ?all: it says nothing about servers it does not list ({used})."
            ),
            "End the record in -all (or ~all while you check every sender is listed).",
            record,
        ),
        (None, None) => finding(
            Level::Warn,
            format!(
                "The SPF record has no final all: servers it does not list are not refused ({used})."
            ),
            "End the record in -all.",
            record,
        ),
        (Some(q), _) => finding(
            Level::Good,
            format!(
                "Senders are listed and others {} ({}all; {used}).",
                if q == spf::Qualifier::Fail {
                    "refused"
                } else {
                    "marked as suspect"
                },
                q.symbol()
            ),
            "",
            record,
        ),
        (None, Some(target)) => finding(
            Level::Good,
            format!("The policy of {target} applies ({used})."),
            "",
            record,
        ),
    }
}

async fn dkim(resolver: &TokioResolver, domain: &str, selectors: &[String]) -> Finding {
    if selectors.is_empty() {
        return Finding::new(
            Check::Dkim,
            Level::Unknown,
            "No DKIM selectors are set for this domain, so its signatures cannot be checked.".into(),
            "Add the selectors its mail provider signs with (Microsoft 365: selector1 and selector2; Google Workspace: google)."
                .into(),
            String::new(),
        );
    }
    let mut published = Vec::new();
    let mut missing = Vec::new();
    let mut revoked = Vec::new();
    let mut records = Vec::new();
    for selector in selectors {
        let name = format!("{selector}._domainkey.{domain}");
        match txt(resolver, &name).await {
            Txt::Records(found) => {
                let key = found.iter().find(|r| r.contains("p="));
                match key {
                    Some(key) => {
                        records.push(format!("{name}: {key}"));
                        let empty = key
                            .split(';')
                            .map(str::trim)
                            .any(|tag| tag == "p=" || tag == "p");
                        if empty {
                            revoked.push(selector.as_str());
                        } else {
                            published.push(selector.as_str());
                        }
                    }
                    None => missing.push(selector.as_str()),
                }
            }
            Txt::None => missing.push(selector.as_str()),
            Txt::Failed(why) => {
                return Finding::new(
                    Check::Dkim,
                    Level::Unknown,
                    format!("Could not be checked: {why}."),
                    String::new(),
                    String::new(),
                );
            }
        }
    }
    let record = records.join("\n");
    if published.is_empty() {
        return Finding::new(
            Check::Dkim,
            Level::Bad,
            format!(
                "No DKIM key is published at {}: receivers cannot verify this domain's signatures.",
                missing.iter().chain(&revoked).copied().collect::<Vec<_>>().join(", ")
            ),
            "Publish the keys the mail provider gives (Microsoft 365: the two selector CNAMEs shown in Defender's DKIM page) and switch signing on."
                .into(),
            record,
        );
    }
    let mut summary = format!("Keys are published at {}.", published.join(", "));
    let level = if missing.is_empty() && revoked.is_empty() {
        Level::Good
    } else {
        if !missing.is_empty() {
            summary.push_str(&format!(" Nothing at {}.", missing.join(", ")));
        }
        if !revoked.is_empty() {
            summary.push_str(&format!(" Revoked (empty key) at {}.", revoked.join(", ")));
        }
        Level::Warn
    };
    let fix = if level == Level::Good {
        String::new()
    } else {
        "Publish the missing keys, or remove selectors the provider no longer uses from this list."
            .into()
    };
    Finding::new(Check::Dkim, level, summary, fix, record)
}

async fn dmarc(resolver: &TokioResolver, domain: &str) -> Finding {
    let name = format!("_dmarc.{domain}");
    let finding = |level, summary: String, fix: String, record: String| {
        Finding::new(Check::Dmarc, level, summary, fix, record)
    };
    let start = format!(
        "Publish a TXT record at {name}: v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain} to collect reports, then move to p=quarantine and p=reject."
    );
    let records = match txt(resolver, &name).await {
        Txt::Records(r) => r,
        Txt::None => Vec::new(),
        Txt::Failed(why) => {
            return finding(
                Level::Unknown,
                format!("Could not be checked: {why}."),
                String::new(),
                String::new(),
            );
        }
    };
    let found: Vec<&String> = records.iter().filter(|r| dmarc::is_dmarc(r)).collect();
    let record = found
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let parsed = match found.as_slice() {
        [] => {
            return finding(
                Level::Bad,
                "No DMARC record: mail forged in this domain's name is delivered, and nobody hears of it."
                    .into(),
                start,
                record,
            );
        }
        [one] => match dmarc::parse(one) {
            Ok(parsed) => parsed,
            Err(e) => {
                return finding(
                    Level::Bad,
                    format!("The DMARC record is broken ({e}): receivers ignore it."),
                    "Correct the record's syntax.".into(),
                    record,
                );
            }
        },
        _ => {
            return finding(
                Level::Bad,
                "The domain has more than one DMARC record: receivers ignore them all.".into(),
                "Keep one.".into(),
                record,
            );
        }
    };
    let reports = if parsed.aggregate_reports.is_empty() {
        " No reports are asked for (rua), so failures go unseen.".to_owned()
    } else {
        format!(" Reports go to {}.", parsed.aggregate_reports.join(", "))
    };
    match parsed.policy {
        dmarc::Policy::None => finding(
            Level::Warn,
            format!("Policy none: forged mail is still delivered; receivers only report it.{reports}"),
            "Once the reports show the domain's own mail passing, move to p=quarantine, then p=reject."
                .into(),
            record,
        ),
        policy if parsed.percent < 100 => finding(
            Level::Warn,
            format!(
                "Policy {} applies to {}% of failing mail only.{reports}",
                policy.as_str(),
                parsed.percent
            ),
            "Raise pct to 100 (or remove it).".into(),
            record,
        ),
        policy if parsed.aggregate_reports.is_empty() => finding(
            Level::Warn,
            format!("Policy {}: forged mail is {}.{reports}", policy.as_str(), verb(policy)),
            format!("Add rua=mailto:dmarc-reports@{domain} (or your reporting service's address)."),
            record,
        ),
        policy => finding(
            Level::Good,
            format!("Policy {}: forged mail is {}.{reports}", policy.as_str(), verb(policy)),
            String::new(),
            record,
        ),
    }
}

fn verb(policy: dmarc::Policy) -> &'static str {
    match policy {
        dmarc::Policy::Reject => "refused",
        dmarc::Policy::Quarantine => "sent to junk",
        dmarc::Policy::None => "delivered",
    }
}
