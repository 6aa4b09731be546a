//! DMARC (RFC 7489): a domain's policy record at `_dmarc.<domain>`, parsed.

/// What receivers are asked to do with mail that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

impl Policy {
    fn parse(text: &str) -> Option<Policy> {
        match text.to_ascii_lowercase().as_str() {
            "none" => Some(Policy::None),
            "quarantine" => Some(Policy::Quarantine),
            "reject" => Some(Policy::Reject),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Quarantine => "quarantine",
            Policy::Reject => "reject",
        }
    }
}

/// A parsed DMARC record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcRecord {
    pub policy: Policy,
    /// `sp`: the subdomains' policy, when it differs.
    pub subdomain_policy: Option<Policy>,
    /// `pct`: the share of failing mail the policy applies to (100 unless said).
    pub percent: u8,
    /// `rua`: where aggregate reports go.
    pub aggregate_reports: Vec<String>,
    /// `ruf`: where failure reports go.
    pub failure_reports: Vec<String>,
}

/// Whether a TXT record is a DMARC record.
pub fn is_dmarc(text: &str) -> bool {
    text.trim_start()
        .get(..8)
        .is_some_and(|v| v.eq_ignore_ascii_case("v=DMARC1"))
}

/// Parses a DMARC record, or says what is wrong with it.
pub fn parse(text: &str) -> Result<DmarcRecord, String> {
    let mut tags = text.split(';').map(str::trim).filter(|t| !t.is_empty());
    match tags.next().and_then(|t| t.split_once('=')) {
        Some((v, value)) if v.trim() == "v" && value.trim() == "DMARC1" => {}
        _ => return Err("it does not start with v=DMARC1".into()),
    }
    let mut policy = None;
    let mut record = DmarcRecord {
        policy: Policy::None,
        subdomain_policy: None,
        percent: 100,
        aggregate_reports: Vec::new(),
        failure_reports: Vec::new(),
    };
    let addresses = |value: &str| -> Vec<String> {
        value
            .split(',')
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect()
    };
    for tag in tags {
        let Some((name, value)) = tag.split_once('=') else {
            return Err(format!("`{tag}` is not a tag=value pair"));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "p" => {
                policy = Some(Policy::parse(value).ok_or_else(|| {
                    format!("the policy `p={value}` is not none, quarantine or reject")
                })?)
            }
            "sp" => {
                record.subdomain_policy = Some(Policy::parse(value).ok_or_else(|| {
                    format!("the subdomain policy `sp={value}` is not none, quarantine or reject")
                })?)
            }
            "pct" => {
                record.percent = value
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| format!("`pct={value}` is not a percentage"))?
            }
            "rua" => record.aggregate_reports = addresses(value),
            "ruf" => record.failure_reports = addresses(value),
            // adkim, aspf, fo, rf, ri: alignment and reporting details, not judged here.
            _ => {}
        }
    }
    record.policy = policy.ok_or("it has no policy (p=)")?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_record_parses() {
        let d = parse(
            "v=DMARC1; p=quarantine; sp=reject; pct=50; rua=mailto:a@x.example,mailto:b@y.example; \
             ruf=mailto:f@x.example; adkim=s",
        )
        .unwrap();
        assert_eq!(d.policy, Policy::Quarantine);
        assert_eq!(d.subdomain_policy, Some(Policy::Reject));
        assert_eq!(d.percent, 50);
        assert_eq!(d.aggregate_reports.len(), 2);
        assert_eq!(d.failure_reports, ["mailto:f@x.example"]);
    }

    #[test]
    fn mistakes_are_named() {
        for (text, says) in [
            ("v=DMARC1; rua=mailto:a@x.example", "no policy"),
            ("v=DMARC1; p=block", "not none, quarantine or reject"),
            ("v=DMARC1; p=none; pct=150", "not a percentage"),
            ("p=none", "v=DMARC1"),
        ] {
            let refused = parse(text).unwrap_err();
            assert!(refused.contains(says), "{text}: {refused}");
        }
        assert!(is_dmarc("v=DMARC1; p=none"));
        assert!(!is_dmarc("v=spf1 -all"));
    }
}
