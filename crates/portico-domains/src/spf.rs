//! SPF (RFC 7208): a record's terms, parsed, and the DNS lookups evaluating it costs, counted
//! through its includes and redirect against the limit of 10 past which receivers treat the
//! record as an error (permerror) and ignore it.

/// How many DNS-querying terms one evaluation may take (RFC 7208 §4.6.4).
pub const LOOKUP_LIMIT: usize = 10;

/// A term's qualifier: what a match means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    /// `+`: pass (the default).
    Pass,
    /// `-`: fail.
    Fail,
    /// `~`: soft fail.
    SoftFail,
    /// `?`: neutral.
    Neutral,
}

impl Qualifier {
    pub fn symbol(self) -> &'static str {
        match self {
            Qualifier::Pass => "+",
            Qualifier::Fail => "-",
            Qualifier::SoftFail => "~",
            Qualifier::Neutral => "?",
        }
    }
}

/// One mechanism or modifier of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    All(Qualifier),
    Include(Qualifier, String),
    /// `a`, `mx`, `ptr` or `exists`, with its domain if named: one lookup each.
    Lookup(Qualifier, &'static str, Option<String>),
    /// `ip4:` or `ip6:`: no lookup.
    Address(Qualifier, String),
    Redirect(String),
    /// `exp=` and modifiers this parser does not know (ignored, as RFC 7208 says).
    Other(String),
}

/// A parsed SPF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfRecord {
    pub terms: Vec<Term>,
}

impl SpfRecord {
    /// The final `all`'s qualifier, if the record has one.
    pub fn all(&self) -> Option<Qualifier> {
        self.terms.iter().find_map(|t| match t {
            Term::All(q) => Some(*q),
            _ => None,
        })
    }

    pub fn redirect(&self) -> Option<&str> {
        self.terms.iter().find_map(|t| match t {
            Term::Redirect(d) => Some(d.as_str()),
            _ => None,
        })
    }

    /// The domains this record includes, in order.
    pub fn includes(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter_map(|t| match t {
            Term::Include(_, d) => Some(d.as_str()),
            _ => None,
        })
    }

    /// Lookups this record costs by itself, not counting what its includes cost.
    pub fn own_lookups(&self) -> usize {
        self.terms
            .iter()
            .filter(|t| matches!(t, Term::Include(..) | Term::Lookup(..) | Term::Redirect(_)))
            .count()
    }
}

/// Whether a TXT record is an SPF record (`v=spf1`, alone or followed by a space).
pub fn is_spf(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

/// Parses an SPF record, or says what is wrong with it.
pub fn parse(text: &str) -> Result<SpfRecord, String> {
    let mut words = text.split_ascii_whitespace();
    match words.next() {
        Some(v) if v.eq_ignore_ascii_case("v=spf1") => {}
        _ => return Err("it does not start with v=spf1".into()),
    }
    let mut terms = Vec::new();
    for word in words {
        let lower = word.to_ascii_lowercase();
        if let Some((name, value)) = lower.split_once('=')
            && !name.contains(':')
            && !name.contains('/')
        {
            if value.is_empty() {
                return Err(format!("the modifier `{word}` has no value"));
            }
            match name {
                "redirect" => terms.push(Term::Redirect(value.to_owned())),
                _ => terms.push(Term::Other(lower.clone())),
            }
            continue;
        }
        let (qualifier, rest) = match lower.as_bytes()[0] {
            b'+' => (Qualifier::Pass, &lower[1..]),
            b'-' => (Qualifier::Fail, &lower[1..]),
            b'~' => (Qualifier::SoftFail, &lower[1..]),
            b'?' => (Qualifier::Neutral, &lower[1..]),
            _ => (Qualifier::Pass, lower.as_str()),
        };
        let (name, arg) = match rest.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => match rest.split_once('/') {
                // `a/24`, `mx/24`: a CIDR length without a domain.
                Some((name, _)) => (name, None),
                None => (rest, None),
            },
        };
        let domain = || -> Result<String, String> {
            match arg {
                Some(a) if !a.is_empty() => Ok(a.split('/').next().unwrap_or(a).to_owned()),
                _ => Err(format!("`{word}` needs a domain")),
            }
        };
        let term = match name {
            "all" if arg.is_none() => Term::All(qualifier),
            "include" => Term::Include(qualifier, domain()?),
            "exists" => Term::Lookup(qualifier, "exists", Some(domain()?)),
            "a" => Term::Lookup(qualifier, "a", arg.map(str::to_owned)),
            "mx" => Term::Lookup(qualifier, "mx", arg.map(str::to_owned)),
            "ptr" => Term::Lookup(qualifier, "ptr", arg.map(str::to_owned)),
            "ip4" | "ip6" => match arg {
                Some(a) if !a.is_empty() => Term::Address(qualifier, a.to_owned()),
                _ => return Err(format!("`{word}` needs an address")),
            },
            _ => return Err(format!("`{word}` is not an SPF mechanism")),
        };
        terms.push(term);
    }
    Ok(SpfRecord { terms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_microsoft_365_record_parses_and_costs_one_lookup() {
        let spf = parse("v=spf1 include:spf.protection.outlook.com -all").unwrap();
        assert_eq!(spf.all(), Some(Qualifier::Fail));
        assert_eq!(
            spf.includes().collect::<Vec<_>>(),
            ["spf.protection.outlook.com"]
        );
        assert_eq!(spf.own_lookups(), 1);
    }

    #[test]
    fn every_querying_term_counts_and_addresses_do_not() {
        let spf = parse(
            "v=spf1 a mx:mail.example.com/24 ptr exists:%{i}.x.example ip4:192.0.2.0/24 \
             ip6:2001:db8::/32 a/24 redirect=_spf.example.com exp=explain.example.com",
        )
        .unwrap();
        assert_eq!(spf.own_lookups(), 6);
        assert_eq!(spf.redirect(), Some("_spf.example.com"));
        assert_eq!(spf.all(), None);
    }

    #[test]
    fn qualifiers_are_read() {
        for (text, q) in [
            ("v=spf1 +all", Qualifier::Pass),
            ("v=spf1 all", Qualifier::Pass),
            ("v=spf1 ~all", Qualifier::SoftFail),
            ("v=spf1 ?all", Qualifier::Neutral),
            ("V=SPF1 -ALL", Qualifier::Fail),
        ] {
            assert_eq!(parse(text).unwrap().all(), Some(q), "{text}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        for (text, says) in [
            ("spf1 -all", "v=spf1"),
            ("v=spf1 include: -all", "needs a domain"),
            ("v=spf1 ip4 -all", "needs an address"),
            ("v=spf1 inclde:x.example -all", "not an SPF mechanism"),
            ("v=spf1 redirect= ", "has no value"),
        ] {
            let refused = parse(text).unwrap_err();
            assert!(refused.contains(says), "{text}: {refused}");
        }
    }

    #[test]
    fn only_v_spf1_records_are_spf() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("v=spf1"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("google-site-verification=abc"));
    }
}
