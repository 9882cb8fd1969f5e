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
        let fields = url::form_urlencoded::parse(&bytes).into_owned().collect();
        Ok(FormData(fields))
    }
}
