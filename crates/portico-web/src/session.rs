//! Session and sign-in-form cookies.

use axum::http::{HeaderMap, HeaderValue, header};
use portico_store::SurfaceKind;

use crate::WebConfig;

/// The session cookie's name: one per surface, `__Host-` prefixed over TLS so it can only be
/// set by this exact host over a secure connection.
pub(crate) fn session_cookie_name(config: &WebConfig, surface: SurfaceKind) -> &'static str {
    match (config.secure_cookies, surface) {
        (true, SurfaceKind::Console) => "__Host-portico_console",
        (true, SurfaceKind::Portal) => "__Host-portico_portal",
        (false, SurfaceKind::Console) => "portico_console",
        (false, SurfaceKind::Portal) => "portico_portal",
    }
}

/// The double-submit cookie guarding forms shown before sign-in.
pub(crate) fn form_cookie_name(config: &WebConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-portico_form"
    } else {
        "portico_form"
    }
}

/// Reads a cookie's value from the request headers.
pub(crate) fn read_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value. `max_age` `None` makes a browser-session cookie; `Some(0)` deletes.
pub(crate) fn set_cookie(
    config: &WebConfig,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if config.secure_cookies {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static(""))
}
