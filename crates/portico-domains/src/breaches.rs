//! Breach monitoring (P5) through Have I Been Pwned's API v3 with the MSP's key: which accounts
//! of a domain appear in known breaches (`/breacheddomain/{domain}`, for domains verified in
//! the key owner's HIBP dashboard), and each breach's details (`/breach/{name}`, public).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// Have I Been Pwned's address, unless configuration names a proxy.
pub const HIBP_API: &str = "https://haveibeenpwned.com/api/v3";

/// Why a search gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreachError {
    #[error(
        "Have I Been Pwned refused the API key (HTTP 401): check it under Settings › Breach monitoring"
    )]
    BadKey,
    #[error(
        "Have I Been Pwned refused the search (HTTP 403): the domain must be verified in the key owner's HIBP dashboard"
    )]
    Forbidden,
    #[error("Have I Been Pwned asked to wait {0} s (HTTP 429)")]
    RateLimited(u64),
    #[error("Have I Been Pwned did not answer properly: {0}")]
    Failed(String),
}

/// A breach as HIBP describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Breach {
    pub name: String,
    pub title: String,
    /// `YYYY-MM-DD`.
    pub breach_date: String,
    /// What leaked: "Email addresses", "Passwords", …
    #[serde(default)]
    pub data_classes: Vec<String>,
    #[serde(default)]
    pub pwn_count: i64,
}

/// The most a domain search's answer may hold (a large domain's aliases).
const MAX_SEARCH_BYTES: usize = 32 << 20;
/// The most one breach's description may hold.
const MAX_BREACH_BYTES: usize = 1 << 20;

/// A client of HIBP's API.
#[derive(Clone)]
pub struct BreachClient {
    http: reqwest::Client,
    base: String,
}

impl BreachClient {
    /// A client of the API at `base` (an owner's setting). Unless `allow_private`, it reaches
    /// public addresses only, whatever the name resolves to, and no proxy of the environment:
    /// an owner may not point it into the server's own network.
    pub fn new(
        base: &str,
        timeout: Duration,
        allow_private: bool,
    ) -> Result<BreachClient, BreachError> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            // HIBP refuses requests without a user agent (403).
            .user_agent(concat!("Portico/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            let parsed = url::Url::parse(base)
                .map_err(|_| BreachError::Failed("its address is not valid".into()))?;
            portico_hooks::check_literal(&parsed).map_err(BreachError::Failed)?;
            builder = builder
                .dns_resolver(std::sync::Arc::new(portico_hooks::PublicOnly))
                .no_proxy();
        }
        let http = builder
            .build()
            .map_err(|e| BreachError::Failed(e.to_string()))?;
        Ok(BreachClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// The accounts of `domain` found in breaches: each alias (the part before `@`) with the
    /// names of its breaches, sorted; empty when none (HIBP's 404).
    pub async fn breached_domain(
        &self,
        key: &str,
        domain: &str,
    ) -> Result<BTreeMap<String, Vec<String>>, BreachError> {
        let answer = self
            .http
            .get(format!("{}/breacheddomain/{domain}", self.base))
            .header("hibp-api-key", key)
            .send()
            .await
            .map_err(|e| BreachError::Failed(without_url(e)))?;
        match answer.status().as_u16() {
            200 => {
                let body = capped(answer, MAX_SEARCH_BYTES).await?;
                let mut found: BTreeMap<String, Vec<String>> = serde_json::from_slice(&body)
                    .map_err(|_| BreachError::Failed("its answer could not be read".into()))?;
                for names in found.values_mut() {
                    names.sort();
                    names.dedup();
                }
                Ok(found)
            }
            404 => Ok(BTreeMap::new()),
            401 => Err(BreachError::BadKey),
            403 => Err(BreachError::Forbidden),
            429 => Err(BreachError::RateLimited(retry_after(&answer))),
            other => Err(BreachError::Failed(format!("HTTP {other}"))),
        }
    }

    /// A breach's details, or `None` when HIBP does not know the name.
    pub async fn breach(&self, name: &str) -> Result<Option<Breach>, BreachError> {
        let answer = self
            .http
            .get(format!("{}/breach/{name}", self.base))
            .send()
            .await
            .map_err(|e| BreachError::Failed(without_url(e)))?;
        match answer.status().as_u16() {
            200 => {
                let body = capped(answer, MAX_BREACH_BYTES).await?;
                serde_json::from_slice(&body)
                    .map(Some)
                    .map_err(|_| BreachError::Failed("its answer could not be read".into()))
            }
            404 => Ok(None),
            429 => Err(BreachError::RateLimited(retry_after(&answer))),
            other => Err(BreachError::Failed(format!("HTTP {other}"))),
        }
    }
}

/// An answer's body, refused past `max` bytes.
async fn capped(mut answer: reqwest::Response, max: usize) -> Result<Vec<u8>, BreachError> {
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| BreachError::Failed(without_url(e)))?
    {
        if body.len() + chunk.len() > max {
            return Err(BreachError::Failed(format!(
                "its answer is larger than {} MiB",
                max >> 20
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn retry_after(answer: &reqwest::Response) -> u64 {
    answer
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(2)
}

/// A transport error in words, without the address (which could carry nothing secret here,
/// but reads better without).
fn without_url(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "it did not answer in time".into()
    } else if e.is_connect() {
        "it could not be reached".into()
    } else {
        e.without_url().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_in_the_servers_own_network_is_refused_unless_allowed() {
        for base in [
            "http://127.0.0.1:8080/api/v3",
            "http://10.0.0.5/api/v3",
            "http://[::1]/api/v3",
        ] {
            let refused = BreachClient::new(base, Duration::from_secs(1), false).err();
            assert!(
                matches!(&refused, Some(BreachError::Failed(m)) if m.contains("private or reserved")),
                "{base}: {refused:?}"
            );
            assert!(BreachClient::new(base, Duration::from_secs(1), true).is_ok());
        }
        assert!(BreachClient::new(HIBP_API, Duration::from_secs(1), false).is_ok());
    }
}
