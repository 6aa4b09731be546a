//! The Standard Webhooks signature: HMAC-SHA256 over `{id}.{timestamp}.{body}` with the
//! secret's bytes (the base64 after `whsec_`), sent as `v1,<base64>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

#[derive(Debug, thiserror::Error)]
#[error("the endpoint's secret is not a whsec_ secret")]
pub struct BadSecret;

fn key(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret
        .strip_prefix(portico_store::scoped::webhooks::SECRET_PREFIX)
        .ok_or(BadSecret)?;
    STANDARD.decode(encoded).map_err(|_| BadSecret)
}

fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<Vec<u8>, BadSecret> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&key(secret)?).map_err(|_| BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The `webhook-signature` header's value for a message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac(secret, id, timestamp, body)?)
    ))
}

/// Whether any `v1` signature of a `webhook-signature` header matches, compared in constant
/// time (what a receiver does; the tests receive with it).
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Ok(key) = key(secret) else {
        return false;
    };
    header.split(' ').any(|signature| {
        let Some(encoded) = signature.strip_prefix("v1,") else {
            return false;
        };
        let Ok(given) = STANDARD.decode(encoded) else {
            return false;
        };
        let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&key) else {
            return false;
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&given).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convention's own test vector (standard-webhooks, spec v1.0.0).
    #[test]
    fn the_standard_test_vector_signs_and_verifies() {
        let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let id = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        let signature = sign(secret, id, 1649367553, body).unwrap();
        assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        assert!(verify(
            secret,
            id,
            1649367553,
            body,
            &format!("v1,bogus {signature}")
        ));
        assert!(!verify(secret, id, 1649367554, body, &signature));
        assert!(sign("not-a-secret", id, 1, body).is_err());
    }
}
