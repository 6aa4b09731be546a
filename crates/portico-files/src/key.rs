use std::fmt;
use std::str::FromStr;

use crate::FileError;

/// Where a blob lives: `ab/cd/abcd…` (SHA-256 of the content, lowercase hex, fanned out by its
/// first two bytes so no directory grows huge).
///
/// Only that exact shape parses, so a key from the database can never be `../…` or absolute.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

const DIGEST_HEX: usize = 64;
const KEY_LEN: usize = 6 + DIGEST_HEX;

impl BlobKey {
    pub fn parse(s: &str) -> Result<BlobKey, FileError> {
        let b = s.as_bytes();
        // Check every byte before slicing: all ASCII, so the slices below cannot split a char.
        let shape_ok = b.len() == KEY_LEN
            && b.iter().enumerate().all(|(i, &c)| match i {
                2 | 5 => c == b'/',
                _ => matches!(c, b'0'..=b'9' | b'a'..=b'f'),
            });
        if shape_ok && s[..2] == s[6..8] && s[3..5] == s[8..10] {
            Ok(BlobKey(s.to_owned()))
        } else {
            Err(FileError::InvalidKey)
        }
    }

    /// From a SHA-256 digest in lowercase hex.
    pub(crate) fn from_digest_hex(hex: &str) -> BlobKey {
        debug_assert_eq!(hex.len(), DIGEST_HEX);
        BlobKey(format!("{}/{}/{hex}", &hex[..2], &hex[2..4]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the content in hex; a good strong ETag.
    pub fn sha256_hex(&self) -> &str {
        &self.0[6..]
    }

    pub(crate) fn path(&self) -> object_store::path::Path {
        // The validated shape is already a clean object path.
        object_store::path::Path::from(self.0.as_str())
    }
}

impl FromStr for BlobKey {
    type Err = FileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BlobKey::parse(s)
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for BlobKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn accepts_only_the_content_derived_shape() {
        let good = format!("e3/b0/{HEX}");
        let key = BlobKey::parse(&good).unwrap();
        assert_eq!(key.as_str(), good);
        assert_eq!(key.sha256_hex(), HEX);
        assert_eq!(BlobKey::from_digest_hex(HEX), key);
        assert_eq!(key.path().as_ref(), good);

        let bad = [
            "../etc/passwd".to_owned(),
            "/etc/passwd".to_owned(),
            String::new(),
            HEX.to_owned(),
            format!("e3/b0/{}", HEX.to_uppercase()),
            format!("E3/B0/{HEX}"),
            format!("aa/b0/{HEX}"),  // fan-out does not match the digest
            format!("e3/b0/{HEX}/"), // trailing slash
            format!("/e3/b0/{HEX}"), // absolute
            format!("e3/b0/{}", &HEX[..63]), // short
            format!("e3\\b0\\{HEX}"), // Windows separators
            format!("e3/b0/..{}", &HEX[2..]), // dots
            format!("e3/b0/{}é", &HEX[..62]), // non-ASCII with the right byte length
            format!("e3/b0/{}g", &HEX[..63]), // not hex
        ];
        for s in bad {
            assert!(BlobKey::parse(&s).is_err(), "accepted {s:?}");
        }
    }
}
