//! Random secrets (session, invite and reset tokens) and the hashes they are stored under.

use sha2::{Digest, Sha256};

/// 256 random bits, hex-encoded for cookies and URLs.
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// What the database keeps instead of the token itself. Every request hashes its session
/// token: encoded into a buffer of its final size, not character by character.
pub fn hash(token: &str) -> String {
    let mut text = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(token.as_bytes()), &mut text)
        .expect("a SHA-256 digest is 32 bytes, 64 hex digits");
    String::from_utf8_lossy(&text).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_carry_256_bits_and_are_stored_hashed() {
        let t = super::generate();
        assert_eq!(t.len(), 64);
        assert_ne!(super::generate(), t);
        assert_eq!(super::hash(&t).len(), 64);
        assert_ne!(super::hash(&t), t);
        assert_eq!(
            super::hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
