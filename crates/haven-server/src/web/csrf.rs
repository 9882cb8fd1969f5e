//! CSRF protection for every state-changing request: a random token in an HttpOnly,
//! SameSite=Strict cookie must come back in the form field `_csrf` (or the `X-CSRF-Token`
//! header). Another site can neither read the cookie nor make the browser send it, so it
//! cannot produce a matching pair. Sign-in and sign-out replace the token.
//!
//! The JSON API under `/api/` is exempt: it is authenticated by API keys in a header, never
//! by cookies, so a browser cannot be tricked into using it.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Error;
use crate::web::{BODY_LIMIT, ClientInfo, cookies, random_token, secrets_equal};

/// The CSRF token of this request, for pages to put in their forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Middleware that checks the token on state-changing requests and makes sure every
/// browser has one.
pub async fn csrf(req: Request, next: Next) -> Response {
    let https = req
        .extensions()
        .get::<ClientInfo>()
        .is_some_and(|c| c.https);
    let name = cookies::csrf_name(https);
    let existing = cookies::get(req.headers(), name).filter(|t| t.len() >= 32);
    let token = existing.clone().unwrap_or_else(random_token);

    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let req = if safe || req.uri().path().starts_with("/api/") {
        req
    } else {
        let (parts, body) = req.into_parts();
        let header_token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
            return Error::BadRequest(format!(
                "the request is larger than {} KiB, the most a form may send",
                BODY_LIMIT / 1024
            ))
            .into_response();
        };
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let sent = header_token.or_else(|| {
            is_form
                .then(|| {
                    url::form_urlencoded::parse(&bytes)
                        .find(|(k, _)| k == "_csrf")
                        .map(|(_, v)| v.into_owned())
                })
                .flatten()
        });
        let valid = matches!((&existing, &sent), (Some(c), Some(s)) if secrets_equal(c, s));
        if !valid {
            return Error::Csrf.into_response();
        }
        Request::from_parts(parts, Body::from(bytes))
    };

    let mut req = req;
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    let handler_set_one = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&format!("{name}="))));
    if existing.is_none() && !handler_set_one {
        resp.headers_mut()
            .append(header::SET_COOKIE, cookies::set(name, &token, https));
    }
    resp
}
