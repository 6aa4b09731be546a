//! Random secrets (session, invite and reset tokens) and the hashes they are stored under.

use sha2::{Digest, Sha256};

/// 256 random bits, hex-encoded for cookies and URLs.
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// What the database keeps instead of the token itself.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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
    }
}
