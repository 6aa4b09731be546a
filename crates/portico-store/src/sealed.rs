//! Secrets the store must read back, such as a user's TOTP secret, are sealed before they reach
//! the database: XChaCha20-Poly1305 under a key derived from the server's key file (which lives
//! outside the database), with a random nonce each time and the record they belong to as
//! associated data, so a sealed value copied onto another user's row does not open. Short codes
//! that are only ever compared (recovery codes) are kept as keyed hashes under the same secret:
//! a copy of the database alone cannot try them offline.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::StoreError;
use crate::audit::AuditKey;

/// The version tag of today's sealing; a later scheme gets its own.
const TAG: &str = "v1.";

/// Seals and opens stored secrets, and hashes codes, with keys derived from the server secret.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
    hash_key: [u8; 32],
}

impl Sealer {
    pub(crate) fn new(key: &AuditKey) -> Sealer {
        let seal_key = key.derive(b"portico-sealed-secrets-1");
        Sealer {
            cipher: XChaCha20Poly1305::new(&seal_key.into()),
            hash_key: key.derive(b"portico-code-hashes-1"),
        }
    }

    /// `plain` sealed for the record named by `context` (e.g. `totp:<workspace>:<user>`).
    pub(crate) fn seal(&self, context: &str, plain: &[u8]) -> String {
        let nonce: [u8; 24] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = String::with_capacity(TAG.len() + 2 * (24 + sealed.len()));
        out.push_str(TAG);
        out.push_str(&hex::encode(nonce));
        out.push_str(&hex::encode(sealed));
        out
    }

    /// Opens what [`Sealer::seal`] made for the same `context`; anything else (another key,
    /// another record, an altered value) is a fault of the stored data.
    pub(crate) fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, StoreError> {
        let corrupt = || {
            StoreError::Corrupt(format!(
                "a sealed secret of {context} does not open with this server's key file"
            ))
        };
        let bytes = sealed
            .strip_prefix(TAG)
            .and_then(|hex_text| hex::decode(hex_text).ok())
            .filter(|b| b.len() > 24)
            .ok_or_else(corrupt)?;
        let (nonce, body) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| corrupt())?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| corrupt())
    }

    /// A keyed hash of a short code for the record named by `context`, as hex.
    pub(crate) fn code_hash(&self, context: &str, code: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.hash_key)
            .expect("HMAC takes a key of any length");
        mac.update(context.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_record_and_key() {
        let key = AuditKey::generate();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal("totp:w:u1", b"twenty bytes secret!");
        assert_ne!(sealer.seal("totp:w:u1", b"twenty bytes secret!"), sealed);
        assert_eq!(
            sealer.open("totp:w:u1", &sealed).unwrap(),
            b"twenty bytes secret!"
        );
        assert!(sealer.open("totp:w:u2", &sealed).is_err());
        assert!(
            Sealer::new(&AuditKey::generate())
                .open("totp:w:u1", &sealed)
                .is_err()
        );
        let mut altered = sealed.clone();
        altered.replace_range(40..41, if &sealed[40..41] == "0" { "1" } else { "0" });
        assert!(sealer.open("totp:w:u1", &altered).is_err());
        assert!(sealer.open("totp:w:u1", "plain").is_err());
    }

    #[test]
    fn code_hashes_depend_on_key_record_and_code() {
        let key = AuditKey::generate();
        let sealer = Sealer::new(&key);
        let a = sealer.code_hash("w:u1", "abcd-efgh");
        assert_eq!(a, sealer.code_hash("w:u1", "abcd-efgh"));
        assert_ne!(a, sealer.code_hash("w:u2", "abcd-efgh"));
        assert_ne!(a, sealer.code_hash("w:u1", "abcd-efgi"));
        assert_ne!(
            a,
            Sealer::new(&AuditKey::generate()).code_hash("w:u1", "abcd-efgh")
        );
    }
}
