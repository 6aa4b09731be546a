//! Calling a vendor's API: each request with a time limit, throttling (`429` with
//! `Retry-After`) and passing server trouble (`5xx`) retried with growing pauses and jitter, and
//! every request counted for the run's history. Errors name the status and the vendor's own
//! error code, never a credential.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::SyncError;

/// The longest one request may take, connection included.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);
/// Tries per request before the run gives up on it.
const TRIES: u32 = 5;
/// The longest pause a vendor's `Retry-After` is honoured for inside a run: longer, and the run
/// fails and the tenant is tried again later.
const LONGEST_WAIT: Duration = Duration::from_secs(120);

/// A vendor API client shared by all runs (one connection pool).
#[derive(Clone)]
pub struct VendorClient {
    client: reqwest::Client,
    /// Scales every pause (tests run the retry schedule in milliseconds).
    pause_scale: f64,
    /// Items asked for per page where the vendor lets the caller choose (tests replay small
    /// pages).
    page_size: usize,
    /// Whether vendor addresses may be private, loopback or link-local (a proxy or replay
    /// server inside the network); off, such addresses are refused before any request.
    allow_private: bool,
}

/// What a request came back with.
pub(crate) enum Answer<T> {
    Ok(T),
    /// 401: the token was refused (expired or revoked).
    Unauthorized(String),
    /// 403: the tenant does not allow this read (a missing permission or licence).
    Forbidden(String),
}

impl VendorClient {
    /// A client for vendors' public APIs; with `allow_private`, also for addresses inside the
    /// server's own network (an owner's connector could otherwise probe it).
    pub fn new(allow_private: bool) -> Result<VendorClient, SyncError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_LIMIT)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Portico-Connectors/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            // A proxy would resolve names itself, past the resolver that keeps them public.
            builder = builder
                .dns_resolver(std::sync::Arc::new(portico_hooks::PublicOnly))
                .no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| SyncError::Client(e.to_string()))?;
        Ok(VendorClient {
            client,
            pause_scale: 1.0,
            page_size: 500,
            allow_private,
        })
    }

    /// Refuses an address this client may not reach (a private address literal); names are
    /// checked as they are resolved.
    pub(crate) fn check(&self, url: &str) -> Result<(), SyncError> {
        if self.allow_private {
            return Ok(());
        }
        let parsed = url::Url::parse(url)
            .map_err(|_| SyncError::Vendor(format!("{url} is not an address")))?;
        portico_hooks::check_literal(&parsed).map_err(SyncError::Vendor)
    }

    /// The same client asking for `size` items per page (tests).
    pub fn with_page_size(mut self, size: usize) -> VendorClient {
        self.page_size = size.clamp(1, 1000);
        self
    }

    pub(crate) fn page_size(&self) -> usize {
        self.page_size
    }

    /// The same client with every pause multiplied by `scale` (tests).
    pub fn with_pause_scale(mut self, scale: f64) -> VendorClient {
        self.pause_scale = scale;
        self
    }

    async fn pause(&self, wait: Duration) {
        tokio::time::sleep(wait.mul_f64(self.pause_scale)).await;
    }

    /// The pause before try `tries + 1`: 1, 2, 4, 8 s, with up to a quarter more at random.
    fn backoff(tries: u32) -> Duration {
        let base = 1u64 << (tries - 1).min(5);
        Duration::from_secs(base).mul_f64(1.0 + 0.25 * rand::random::<f64>())
    }

    /// Sends what `build` makes, again as needed, and reads the JSON answer.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        requests: &mut i64,
        what: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer<T>, SyncError> {
        self.send_with(requests, what, build, true).await
    }

    /// Like [`VendorClient::send`] for a request that must not be repeated blindly (a create):
    /// only a `429` (refused before any work) is tried again; a lost connection or a server
    /// error leaves its outcome unknown, for the caller to look for before sending it again.
    pub(crate) async fn send_once<T: DeserializeOwned>(
        &self,
        requests: &mut i64,
        what: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer<T>, SyncError> {
        self.send_with(requests, what, build, false).await
    }

    /// Like [`VendorClient::send`] for an answer that is not JSON (a PDF): its bytes, at most
    /// `limit` of them.
    pub(crate) async fn send_for_bytes(
        &self,
        requests: &mut i64,
        what: &str,
        limit: usize,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer<Vec<u8>>, SyncError> {
        match self
            .send_raw(requests, what, build, true, Some(limit))
            .await?
        {
            Answer::Ok(body) => Ok(Answer::Ok(body)),
            Answer::Unauthorized(e) => Ok(Answer::Unauthorized(e)),
            Answer::Forbidden(e) => Ok(Answer::Forbidden(e)),
        }
    }

    async fn send_with<T: DeserializeOwned>(
        &self,
        requests: &mut i64,
        what: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        repeat_unknown: bool,
    ) -> Result<Answer<T>, SyncError> {
        match self
            .send_raw(requests, what, build, repeat_unknown, None)
            .await?
        {
            Answer::Ok(body) => serde_json::from_slice(&body)
                .map(Answer::Ok)
                .map_err(|e| SyncError::Vendor(format!("{what}: an answer we cannot read ({e})"))),
            Answer::Unauthorized(e) => Ok(Answer::Unauthorized(e)),
            Answer::Forbidden(e) => Ok(Answer::Forbidden(e)),
        }
    }

    /// Sends and reads the answer's bytes; with a `limit`, an answer that says or turns out to
    /// be larger is refused as soon as that is known, never read whole.
    async fn send_raw(
        &self,
        requests: &mut i64,
        what: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        repeat_unknown: bool,
        limit: Option<usize>,
    ) -> Result<Answer<Vec<u8>>, SyncError> {
        let mut tries = 0;
        loop {
            tries += 1;
            *requests += 1;
            let request = build(&self.client)
                .build()
                .map_err(|_| SyncError::Vendor(format!("{what}: not a request we can send")))?;
            self.check(request.url().as_str())?;
            let response = match self.client.execute(request).await {
                Ok(response) => response,
                Err(e) if tries < TRIES && repeat_unknown => {
                    tracing::debug!(target: "portico::connectors", error = %e, what, "request failed; retrying");
                    self.pause(Self::backoff(tries)).await;
                    continue;
                }
                Err(e) => {
                    return Err(SyncError::Unavailable(format!(
                        "{what}: no answer ({})",
                        if e.is_timeout() {
                            "timed out".to_owned()
                        } else if e.is_connect() {
                            "could not connect".to_owned()
                        } else {
                            "the connection failed".to_owned()
                        }
                    )));
                }
            };
            let status = response.status();
            if status.is_success() {
                let too_large = |limit: usize| {
                    SyncError::Vendor(format!(
                        "{what}: an answer larger than {} MB",
                        limit / 1_000_000
                    ))
                };
                if let Some(limit) = limit
                    && response.content_length().is_some_and(|n| n > limit as u64)
                {
                    return Err(too_large(limit));
                }
                let mut response = response;
                let mut body = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|_| SyncError::Unavailable(format!("{what}: the answer broke off")))?
                {
                    if let Some(limit) = limit
                        && body.len() + chunk.len() > limit
                    {
                        return Err(too_large(limit));
                    }
                    body.extend_from_slice(&chunk);
                }
                return Ok(Answer::Ok(body));
            }
            let retry_after = retry_after(response.headers());
            let code = status.as_u16();
            let error = vendor_error(response).await;
            match code {
                401 => return Ok(Answer::Unauthorized(error)),
                403 => return Ok(Answer::Forbidden(error)),
                429 | 500 | 502 | 503 | 504 if tries < TRIES && (repeat_unknown || code == 429) => {
                    let wait = retry_after.unwrap_or_else(|| Self::backoff(tries));
                    if wait > LONGEST_WAIT {
                        return Err(SyncError::Throttled {
                            what: format!("{what}: {code} {error}"),
                            retry_after: wait,
                        });
                    }
                    tracing::debug!(target: "portico::connectors", code, what, wait_ms = wait.as_millis() as u64, "vendor asked to wait");
                    self.pause(wait).await;
                }
                429 => {
                    return Err(SyncError::Throttled {
                        what: format!("{what}: {code} {error}"),
                        retry_after: retry_after.unwrap_or(Duration::from_secs(60)),
                    });
                }
                // A server error (not "not implemented"): the vendor may answer later.
                500..=599 if code != 501 => {
                    return Err(SyncError::Unavailable(format!("{what}: {code} {error}")));
                }
                _ => return Err(SyncError::Vendor(format!("{what}: {code} {error}"))),
            }
        }
    }
}

/// `Retry-After` in seconds (fractions allowed) or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.as_second() - jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(wait.max(0) as u64))
}

/// The vendor's error code and message from a JSON error body (Graph's `{"error": {"code",
/// "message"}}`, OAuth's `{"error", "error_description"}`), shortened; never the body whole.
async fn vendor_error(response: reqwest::Response) -> String {
    let body = response.bytes().await.unwrap_or_default();
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return String::new();
    };
    let (code, message) = match &json["error"] {
        serde_json::Value::Object(e) => (
            e.get("code").and_then(|c| c.as_str()).unwrap_or(""),
            e.get("message").and_then(|m| m.as_str()).unwrap_or(""),
        ),
        serde_json::Value::String(code) => (
            code.as_str(),
            json["error_description"].as_str().unwrap_or(""),
        ),
        _ => ("", ""),
    };
    let first_line = message.lines().next().unwrap_or("");
    let text = format!("{code} {first_line}");
    text.trim().chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_fractions_and_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(reqwest::header::RETRY_AFTER, "0.5".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(500)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_grows_with_jitter() {
        for (tries, base) in [(1, 1), (2, 2), (3, 4), (4, 8)] {
            let wait = VendorClient::backoff(tries).as_secs_f64();
            assert!(
                wait >= base as f64 && wait <= base as f64 * 1.25,
                "{tries}: {wait}"
            );
        }
    }
}
