//! Form bodies, read as name/value pairs. Handlers take the fields they know and parse each
//! into a domain type, so every problem becomes a message on its field; a body that is not
//! a form gets a specific 400 page, never a panic.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;

use crate::Error;
use crate::web::BODY_LIMIT;

/// The fields of a URL-encoded form.
#[derive(Debug, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    /// The first value of field `name`, or "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of field `name` (checkbox groups).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Error;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Error> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(Error::BadRequest(
                "this page expects a form (application/x-www-form-urlencoded)".into(),
            ));
        }
        let bytes = to_bytes(req.into_body(), BODY_LIMIT).await.map_err(|_| {
            Error::BadRequest(format!(
                "the form is larger than {} KiB, the most a form may send",
                BODY_LIMIT / 1024
            ))
        })?;
        let fields = parse_strict(&bytes).ok_or_else(|| {
            Error::BadRequest(
                "the form is not valid UTF-8 text; reload the page and try again".into(),
            )
        })?;
        Ok(FormData(fields))
    }
}

/// Decodes a URL-encoded body as `url::form_urlencoded::parse` does, except that a name or
/// value that is not valid UTF-8 refuses the whole form instead of being silently changed
/// (which would store, say, a name with replacement characters in it).
fn parse_strict(bytes: &[u8]) -> Option<Vec<(String, String)>> {
    bytes
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            Some((decode(name)?, decode(value)?))
        })
        .collect()
}

/// `+` is a space and `%XX` a byte; a `%` not followed by two hex digits stays as it is.
fn decode(raw: &[u8]) -> Option<String> {
    let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(raw.get(i + 1)), hex(raw.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits make one byte: hi and lo are each below 16.
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_strict;

    #[test]
    fn valid_forms_decode_as_form_urlencoded_does() {
        for body in [
            &b"a=1&b=two+words&c=%C3%A9t%C3%A9"[..],
            b"&&name&=empty&x=%zz&y=%4&z=100%",
            b"k%3Dy=v%26w&dup=1&dup=2",
            b"",
        ] {
            let expected: Vec<(String, String)> =
                url::form_urlencoded::parse(body).into_owned().collect();
            assert_eq!(parse_strict(body), Some(expected), "{body:?}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_refuse_the_form() {
        for body in [
            &b"name=%FF"[..],
            b"name=a\xffb",
            b"na%E2%82me=x",
            b"x=%C0%AF",
        ] {
            assert_eq!(parse_strict(body), None, "{body:?}");
        }
    }
}
