//! Reading and writing Haven's two cookies: the session and the CSRF token.

use axum::http::HeaderMap;
use axum::http::header::{COOKIE, HeaderValue};

/// The name of the session cookie. Over HTTPS the `__Host-` prefix makes the browser refuse
/// a cookie of that name set by any other site or subdomain.
pub fn session_name(https: bool) -> &'static str {
    if https {
        "__Host-haven_session"
    } else {
        "haven_session"
    }
}

/// The name of the CSRF cookie (see [`session_name`] for the prefix).
pub fn csrf_name(https: bool) -> &'static str {
    if https {
        "__Host-haven_csrf"
    } else {
        "haven_csrf"
    }
}

/// The value of cookie `name` in the request, if present.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure under HTTPS, whole site.
pub fn set(name: &str, value: &str, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie names are constants and values are URL-safe base64")
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear(name: &str, https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .expect("cookie names are constants")
}
