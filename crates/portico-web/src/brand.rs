//! The workspace's brand as CSS custom properties, with text colours chosen for WCAG AA
//! contrast, and the logo.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portico_store::scoped::branding::normalise_color;
use serde::Deserialize;

use crate::error::WebError;
use crate::{AppState, Site};

/// sRGB relative luminance of `#rrggbb` (WCAG 2.x).
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = u8::from_str_radix(hex.get(1 + 2 * i..3 + 2 * i).unwrap_or("00"), 16).unwrap_or(0)
            as f64
            / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
}

/// The WCAG contrast ratio of two colours.
pub(crate) fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// Black or white, whichever reads better on `background`. One of them always reaches at
/// least 4.58:1, above the AA threshold of 4.5:1 for body text.
pub(crate) fn text_on(background: &str) -> &'static str {
    if contrast(background, "#000000") >= contrast(background, "#ffffff") {
        "#000000"
    } else {
        "#ffffff"
    }
}

fn stylesheet(primary: &str, secondary: &str) -> String {
    format!(
        ":root {{ --brand-primary: {primary}; --brand-on-primary: {}; --brand-secondary: {secondary}; \
         --brand-on-secondary: {}; }}\n",
        text_on(primary),
        text_on(secondary)
    )
}

#[derive(Deserialize)]
pub(crate) struct PreviewQuery {
    primary: Option<String>,
    secondary: Option<String>,
}

/// `/brand.css`: the workspace's colours, or (for the branding page's preview) colours given in
/// the query — validated, so nothing but a colour ever reaches the stylesheet.
pub(crate) async fn brand_css(site: Site, Query(q): Query<PreviewQuery>) -> Response {
    let primary = q
        .primary
        .as_deref()
        .and_then(normalise_color)
        .unwrap_or_else(|| site.branding.primary_color.clone());
    let secondary = q
        .secondary
        .as_deref()
        .and_then(normalise_color)
        .unwrap_or_else(|| site.branding.secondary_color.clone());
    let mut response = stylesheet(&primary, &secondary).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    response
}

/// `/brand/logo`: the uploaded logo. Served as an image with a sandboxing policy so that even
/// an SVG opened directly can run nothing.
pub(crate) async fn logo(State(state): State<AppState>, site: Site) -> Result<Response, WebError> {
    let (mime, data) = state
        .store
        .public()
        .await?
        .logo(site.workspace_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let mut response = data.into_response();
    let h = response.headers_mut();
    let content_type = if mime == "image/svg+xml" {
        "image/svg+xml"
    } else {
        "image/png"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}

/// Our own static files, compiled into the binary.
pub(crate) async fn app_css() -> Response {
    static_file("text/css; charset=utf-8", include_str!("../static/app.css"))
}

pub(crate) async fn app_js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    )
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_colour_passes_aa_on_any_brand_colour() {
        for bg in [
            "#ffffff", "#000000", "#1d4ed8", "#ffff00", "#777777", "#767676", "#808080", "#0f766e",
            "#ff0000",
        ] {
            let text = text_on(bg);
            assert!(
                contrast(bg, text) >= 4.5,
                "{bg} with {text}: {}",
                contrast(bg, text)
            );
        }
    }

    #[test]
    fn exhaustive_grey_and_hue_sweep_keeps_aa() {
        for v in (0..=255).step_by(5) {
            for hue in 0..6 {
                let (r, g, b) = match hue {
                    0 => (v, v, v),
                    1 => (v, 0, 0),
                    2 => (0, v, 0),
                    3 => (0, 0, v),
                    4 => (v, v, 0),
                    _ => (0, v, v),
                };
                let bg = format!("#{r:02x}{g:02x}{b:02x}");
                assert!(contrast(&bg, text_on(&bg)) >= 4.5, "{bg}");
            }
        }
    }
}
