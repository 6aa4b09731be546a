use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

const MAX_NAME_CHARS: usize = 120;
/// An extension longer than this is not worth keeping when a name is cut.
const MAX_EXT_CHARS: usize = 16;
const FALLBACK_NAME: &str = "attachment";

/// RFC 5987 `attr-char`: everything else in `filename*` is percent-encoded.
const ATTR_CHAR_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// A display name safe for a `Content-Disposition` header and HTML: the last path component,
/// without control characters, quotes, backslashes or invisible direction/zero-width marks
/// (which can disguise `evil.exe` as `exe.txt`), at most 120 characters, never empty.
pub fn sanitise_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|&c| !is_unsafe_char(c)).collect();
    // Leading dots would make `..` or a hidden file; trailing dots and spaces Windows drops anyway.
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    if trimmed.is_empty() {
        return FALLBACK_NAME.to_owned();
    }
    truncate_keeping_extension(trimmed)
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '"' | '\\'
                | '/'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

fn truncate_keeping_extension(name: &str) -> String {
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if name[i..].chars().count() <= MAX_EXT_CHARS => name.split_at(i),
        _ => (name, ""),
    };
    let keep = MAX_NAME_CHARS - ext.chars().count();
    let stem: String = stem.chars().take(keep).collect();
    format!("{}{ext}", stem.trim_end())
}

/// A `Content-Disposition` value per RFC 6266: an ASCII `filename` for old clients and the exact
/// name as RFC 5987 `filename*`. The name is sanitised again here, so any stored name is safe.
pub fn content_disposition(file_name: &str, inline: bool) -> String {
    let name = sanitise_file_name(file_name);
    // `%` is replaced too: some browsers percent-decode the plain `filename`.
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '%' && c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    let encoded = utf8_percent_encode(&name, ATTR_CHAR_ENCODE);
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitise_strips_paths_controls_and_quotes() {
        assert_eq!(sanitise_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitise_file_name("C:\\Users\\me\\report.pdf"),
            "report.pdf"
        );
        assert_eq!(sanitise_file_name("a\"b\r\nc\0d.txt"), "abcd.txt");
        assert_eq!(
            sanitise_file_name("invoice\u{202E}fdp.exe"),
            "invoicefdp.exe"
        );
        assert_eq!(sanitise_file_name("  .hidden  "), "hidden");
        for empty in ["", "..", "/", "dir/", " \t ", "\"\"", "\u{200B}"] {
            assert_eq!(sanitise_file_name(empty), "attachment", "{empty:?}");
        }
        assert_eq!(
            sanitise_file_name("Überweisung März.pdf"),
            "Überweisung März.pdf"
        );
    }

    #[test]
    fn sanitise_caps_length_and_keeps_extension() {
        let long = format!("{}.jpeg", "é".repeat(300));
        let out = sanitise_file_name(&long);
        assert_eq!(out.chars().count(), 120);
        assert!(out.ends_with("é.jpeg"));
        let no_ext = "x".repeat(500);
        assert_eq!(sanitise_file_name(&no_ext).len(), 120);
    }

    #[test]
    fn content_disposition_escapes() {
        assert_eq!(
            content_disposition("report.pdf", false),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("photo.png", true),
            "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png"
        );
        assert_eq!(
            content_disposition("a \"quoted\" name.txt", false),
            "attachment; filename=\"a quoted name.txt\"; filename*=UTF-8''a%20quoted%20name.txt"
        );
        assert_eq!(
            content_disposition("März 100%.pdf", false),
            "attachment; filename=\"M_rz 100_.pdf\"; filename*=UTF-8''M%C3%A4rz%20100%25.pdf"
        );
        // Header injection: no line break may survive.
        let v = content_disposition("x.txt\r\nSet-Cookie: a=b", false);
        assert!(!v.contains(['\r', '\n']), "{v}");
        assert_eq!(
            v,
            "attachment; filename=\"x.txtSet-Cookie: a=b\"; filename*=UTF-8''x.txtSet-Cookie%3A%20a%3Db"
        );
        // Always a valid header value: visible ASCII and spaces only.
        for name in ["日本語.txt", "\u{7f}\u{85}", "tab\there;x=\"y\""] {
            let v = content_disposition(name, false);
            assert!(v.bytes().all(|b| (0x20..0x7f).contains(&b)), "{v}");
        }
    }
}
