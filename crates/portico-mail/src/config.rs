//! How to reach the SMTP server: one URL, `smtp://user:password@host:587` (STARTTLS, required),
//! `smtps://…:465` (TLS from the first byte), or `smtp://…?tls=none` for a relay on the same
//! machine; the sender's address; and optionally a CA certificate for a server whose certificate
//! a private authority signed.

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;

use crate::MailError;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS, refused if the server does not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// None: only for a relay on the same machine or network.
    None,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender's address; the workspace's name is its display name.
    pub from: String,
    /// A PEM file of further root certificates to trust.
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

impl MailConfig {
    /// Reads `smtp_url` and the sender's address.
    pub fn from_url(
        smtp_url: &str,
        from: &str,
        ca_file: Option<PathBuf>,
    ) -> Result<MailConfig, MailError> {
        let url = url::Url::parse(smtp_url)
            .map_err(|e| MailError::Config(format!("smtp_url is not a URL: {e}")))?;
        let (mut security, default_port) = match url.scheme() {
            "smtp" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            other => {
                return Err(MailError::Config(format!(
                    "smtp_url must start with smtp:// or smtps://, not {other}://"
                )));
            }
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "starttls" | "required") if security == Security::StartTls => {}
                ("tls", "none") if security == Security::StartTls => security = Security::None,
                _ => {
                    return Err(MailError::Config(format!(
                        "smtp_url: unknown option {key}={value} (smtp:// takes tls=starttls or tls=none)"
                    )));
                }
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| MailError::Config("smtp_url has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let username = (!url.username().is_empty()).then(|| decode(url.username()));
        let password = url.password().map(decode);
        if username.is_some() != password.is_some() {
            return Err(MailError::Config(
                "smtp_url: give both a user name and a password, or neither".into(),
            ));
        }
        let from = from.trim().to_owned();
        if from.parse::<lettre::Address>().is_err() {
            return Err(MailError::Config(format!(
                "mail_from must be an e-mail address, got {from:?}"
            )));
        }
        Ok(MailConfig {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            username,
            password,
            from,
            ca_file,
            timeout: Duration::from_secs(30),
        })
    }

    /// The server, for logs: never the password.
    pub fn describe(&self) -> String {
        let security = match self.security {
            Security::StartTls => "STARTTLS",
            Security::Tls => "TLS",
            Security::None => "no TLS",
        };
        format!("{}:{} ({security})", self.host, self.port)
    }

    pub(crate) fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
        let tls = match self.security {
            Security::None => Tls::None,
            Security::StartTls | Security::Tls => {
                let mut params = TlsParameters::builder(self.host.clone());
                if let Some(path) = &self.ca_file {
                    let pem = std::fs::read(path).map_err(|e| {
                        MailError::Config(format!("reading {}: {e}", path.display()))
                    })?;
                    let cert = Certificate::from_pem(&pem).map_err(|e| {
                        MailError::Config(format!(
                            "{} is not a PEM certificate: {e}",
                            path.display()
                        ))
                    })?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| MailError::Config(format!("TLS: {e}")))?;
                if self.security == Security::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .timeout(Some(self.timeout));
        if let (Some(user), Some(password)) = (&self.username, &self.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_security_and_credentials() {
        let c = MailConfig::from_url(
            "smtp://mailer%40msp.test:p%40ss@smtp.msp.test",
            "desk@msp.test",
            None,
        )
        .unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.security),
            ("smtp.msp.test", 587, Security::StartTls)
        );
        assert_eq!(c.username.as_deref(), Some("mailer@msp.test"));
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert!(!c.describe().contains("p@ss"));
        let c = MailConfig::from_url("smtps://smtp.msp.test", "desk@msp.test", None).unwrap();
        assert_eq!((c.port, c.security), (465, Security::Tls));
        let c =
            MailConfig::from_url("smtp://127.0.0.1:2525?tls=none", "desk@msp.test", None).unwrap();
        assert_eq!((c.port, c.security), (2525, Security::None));
        for bad in [
            "http://smtp.msp.test",
            "smtp://user@smtp.msp.test",
            "smtps://smtp.msp.test?tls=none",
            "smtp://smtp.msp.test?tls=maybe",
        ] {
            assert!(
                MailConfig::from_url(bad, "desk@msp.test", None).is_err(),
                "{bad}"
            );
        }
        assert!(MailConfig::from_url("smtp://smtp.msp.test", "not an address", None).is_err());
    }
}
