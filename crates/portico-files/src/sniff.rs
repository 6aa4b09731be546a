//! Content type from the bytes, never from the client.

/// How much of the start of a file the sniffer looks at.
pub(crate) const SNIFF_LEN: usize = 8 * 1024;

const FALLBACK: &str = "application/octet-stream";
/// The only types a browser may render inline: raster images cannot carry script.
const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Returns the content type and whether it may be shown inline.
pub(crate) fn sniff(head: &[u8], is_utf8_text: bool) -> (String, bool) {
    let mime = match infer::get(head) {
        Some(t) => t.mime_type(),
        None if is_utf8_text => "text/plain",
        None => FALLBACK,
    };
    (mime.to_owned(), INLINE_TYPES.contains(&mime))
}

/// Incremental check that a whole stream is UTF-8 without NUL bytes, across chunk boundaries.
#[derive(Debug)]
pub(crate) struct Utf8Check {
    ok: bool,
    /// An incomplete character at the end of the previous chunk (at most 3 bytes).
    pending: Vec<u8>,
}

impl Default for Utf8Check {
    fn default() -> Self {
        Utf8Check {
            ok: true,
            pending: Vec::new(),
        }
    }
}

impl Utf8Check {
    pub(crate) fn feed(&mut self, mut chunk: &[u8]) {
        if !self.ok {
            return;
        }
        if chunk.contains(&0) {
            self.ok = false;
            return;
        }
        if let Some(&lead) = self.pending.first() {
            let want = match lead {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = (want - self.pending.len()).min(chunk.len());
            self.pending.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
            if self.pending.len() < want {
                return;
            }
            if std::str::from_utf8(&self.pending).is_err() {
                self.ok = false;
                return;
            }
            self.pending.clear();
        }
        match std::str::from_utf8(chunk) {
            Ok(_) => {}
            // Cut mid-character: keep the tail for the next chunk.
            Err(e) if e.error_len().is_none() => {
                self.pending.extend_from_slice(&chunk[e.valid_up_to()..]);
            }
            Err(_) => self.ok = false,
        }
    }

    pub(crate) fn is_text(&self) -> bool {
        self.ok && self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(chunks: &[&[u8]]) -> bool {
        let mut c = Utf8Check::default();
        chunks.iter().for_each(|ch| c.feed(ch));
        c.is_text()
    }

    #[test]
    fn utf8_across_chunks() {
        let s = "Grüße 🙂".as_bytes();
        for i in 0..=s.len() {
            for j in i..=s.len() {
                assert!(text(&[&s[..i], &s[i..j], &s[j..]]), "split at {i},{j}");
            }
        }
        assert!(!text(&[&s[..s.len() - 1]]), "truncated character");
        assert!(!text(&[b"abc", &[0xff], b"def"]));
        assert!(!text(&[b"abc\0def"]));
        assert!(
            !text(&[&[0xe2, 0x82], &[0x41]]),
            "bad continuation after split"
        );
    }

    #[test]
    fn only_raster_images_inline() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png, false), ("image/png".into(), true));
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0\0\x10JFIF", false),
            ("image/jpeg".into(), true)
        );
        assert_eq!(
            sniff(b"GIF89a\x01\0\x01\0", false),
            ("image/gif".into(), true)
        );
        assert_eq!(
            sniff(b"RIFF\x24\0\0\0WEBPVP8 ", false),
            ("image/webp".into(), true)
        );
        assert_eq!(
            sniff(b"%PDF-1.7\n", false),
            ("application/pdf".into(), false)
        );
        assert_eq!(sniff(b"<html><script>", true), ("text/html".into(), false));
        assert_eq!(sniff(b"hello", true), ("text/plain".into(), false));
        assert_eq!(sniff(b"\x01\x02\x03", false), (FALLBACK.into(), false));
    }
}
