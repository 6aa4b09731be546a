//! Checks uploaded logos. A PNG is accepted by its signature; an SVG only when it is plain
//! drawing: an allow-list of elements and attributes, no script, no event handlers, no
//! external references, no DTD. Anything else is refused rather than rewritten.

/// Why a logo was refused, in words for the person uploading it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LogoError {
    #[error("Upload a PNG or SVG image.")]
    UnknownFormat,
    #[error(
        "This SVG contains active content ({0}) and was refused. Export it as plain SVG or PNG."
    )]
    ActiveContent(String),
    #[error("This SVG could not be read: {0}")]
    Malformed(String),
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "defs",
    "lineargradient",
    "radialgradient",
    "stop",
    "title",
    "desc",
    "clippath",
    "mask",
    "use",
    "symbol",
    "pattern",
];

const ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "viewbox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "d",
    "points",
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-dashoffset",
    "opacity",
    "transform",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientunits",
    "gradienttransform",
    "spreadmethod",
    "fx",
    "fy",
    "clip-path",
    "clip-rule",
    "mask",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "letter-spacing",
    "preserveaspectratio",
    "version",
    "href",
    "patternunits",
    "patterncontentunits",
    "maskunits",
    "clippathunits",
    "role",
    "aria-label",
    "aria-hidden",
    "xmlns",
];

/// Returns the media type of an acceptable logo.
pub(crate) fn check_logo(bytes: &[u8]) -> Result<&'static str, LogoError> {
    if bytes.starts_with(PNG_SIGNATURE) {
        return Ok("image/png");
    }
    let text = std::str::from_utf8(bytes).map_err(|_| LogoError::UnknownFormat)?;
    if !text.contains("<svg") {
        return Err(LogoError::UnknownFormat);
    }
    check_svg(text)?;
    Ok("image/svg+xml")
}

fn check_svg(text: &str) -> Result<(), LogoError> {
    let lower = text.to_ascii_lowercase();
    if lower.contains("<!doctype") || lower.contains("<!entity") {
        return Err(LogoError::ActiveContent(
            "a document type declaration".into(),
        ));
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| LogoError::Malformed(e.to_string()))?;
    if !doc
        .root_element()
        .tag_name()
        .name()
        .eq_ignore_ascii_case("svg")
    {
        return Err(LogoError::UnknownFormat);
    }
    for node in doc.descendants() {
        if node.is_pi() {
            return Err(LogoError::ActiveContent("a processing instruction".into()));
        }
        if !node.is_element() {
            continue;
        }
        let name = node.tag_name().name().to_ascii_lowercase();
        let namespace = node
            .tag_name()
            .namespace()
            .unwrap_or("http://www.w3.org/2000/svg");
        if namespace != "http://www.w3.org/2000/svg" || !ELEMENTS.contains(&name.as_str()) {
            return Err(LogoError::ActiveContent(format!(
                "the element <{}>",
                node.tag_name().name()
            )));
        }
        for attr in node.attributes() {
            let attr_name = attr.name().to_ascii_lowercase();
            let value = attr.value().trim().to_ascii_lowercase();
            if !ATTRIBUTES.contains(&attr_name.as_str()) {
                return Err(LogoError::ActiveContent(format!(
                    "the attribute {}",
                    attr.name()
                )));
            }
            // Only references into the same document; no javascript:, data: or remote URLs.
            if attr_name == "href" && !value.starts_with('#') {
                return Err(LogoError::ActiveContent(
                    "a link to another document".into(),
                ));
            }
            // CSS escapes (`\75 rl(`) could hide a reference from the checks below.
            if value.contains('\\') {
                return Err(LogoError::ActiveContent(
                    "an escaped attribute value".into(),
                ));
            }
            if value.contains("url(") && !value.replace(' ', "").contains("url(#") {
                return Err(LogoError::ActiveContent(
                    "a reference to another document".into(),
                ));
            }
            if value.contains("javascript:") || value.contains("expression(") {
                return Err(LogoError::ActiveContent("script in an attribute".into()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Logo</title><defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs><rect width="10" height="10" fill="url(#g)"/><use href="#g"/></svg>"##;

    #[test]
    fn plain_svg_and_png_are_accepted() {
        assert_eq!(check_logo(PLAIN.as_bytes()), Ok("image/svg+xml"));
        assert_eq!(
            check_logo(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok("image/png")
        );
    }

    #[test]
    fn svg_with_script_or_handlers_or_external_references_is_refused() {
        let bad = [
            r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="https://evil.example/x.svg#a"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/a.css)</style></svg>"#,
            r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/p)"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/png;base64,AAAA"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg"><rect fill="\75 rl(https://evil.example/p)"/></svg>"#,
        ];
        for svg in bad {
            assert!(check_logo(svg.as_bytes()).is_err(), "accepted: {svg}");
        }
    }

    #[test]
    fn other_files_are_refused() {
        assert_eq!(check_logo(b"GIF89a...."), Err(LogoError::UnknownFormat));
        assert_eq!(
            check_logo(b"<html><body>hi</body></html>"),
            Err(LogoError::UnknownFormat)
        );
    }
}
