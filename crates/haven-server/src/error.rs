//! The server's one error type. Its HTTP mapping lives only in `IntoResponse`: 4xx carry a
//! safe, specific message; 5xx say "internal error" and the cause goes to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::pages;

/// Messages for the fields of a form, in the order the fields appear.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// Records a problem with `field`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Whether no field has a problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every problem, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    /// `Ok(())` when there is nothing wrong, otherwise the errors.
    pub fn into_result(self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self))
        }
    }
}

/// What can go wrong while handling a request or running an operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some fields of a form or command are not acceptable; each says why.
    #[error("{}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "))]
    Invalid(FieldErrors),
    /// The request itself is malformed (not a form we understand).
    #[error("{0}")]
    BadRequest(String),
    /// The thing asked for does not exist, or is not this user's to see.
    #[error("not found")]
    NotFound,
    /// The user is signed in but their role does not allow this.
    #[error("you do not have permission to do this")]
    Forbidden,
    /// A state-changing request without a valid CSRF token.
    #[error("this form has expired or was sent from another site")]
    Csrf,
    /// Too many attempts; try again later.
    #[error("too many attempts: try again in {minutes} minute(s)")]
    TooManyAttempts {
        /// Whole minutes to wait, rounded up.
        minutes: i64,
    },
    /// A unique value is taken (an email address, an organisation name).
    #[error("{0} is already in use")]
    Conflict(&'static str),
    /// Not possible in the current state of things (cancelling a consultation that has
    /// started); the text says why.
    #[error("{0}")]
    Refused(String),
    /// A failure of ours; the details go to the log, not to the user.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<haven_store::Error> for Error {
    fn from(e: haven_store::Error) -> Error {
        match e {
            haven_store::Error::NotFound => Error::NotFound,
            haven_store::Error::Conflict(what) => Error::Conflict(what),
            haven_store::Error::Refused(reason) => Error::Refused(reason),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            Error::Invalid(_) | Error::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "Please check what you entered",
                self.to_string(),
            ),
            Error::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "This page does not exist, or you do not have access to it.".to_string(),
            ),
            Error::Forbidden => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role does not allow this. Ask an administrator of your organisation."
                    .to_string(),
            ),
            Error::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "This form has expired or was sent from another site. Go back, reload the page \
                 and try again."
                    .to_string(),
            ),
            Error::TooManyAttempts { minutes } => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!("Too many attempts. Try again in {minutes} minute(s)."),
            ),
            Error::Conflict(_) => (StatusCode::CONFLICT, "Already in use", self.to_string()),
            Error::Refused(reason) => (
                StatusCode::CONFLICT,
                "Not possible now",
                format!("{}.", capitalise(reason)),
            ),
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Internal error. Please try again; if it keeps happening, tell your \
                     administrator."
                        .to_string(),
                )
            }
        };
        (status, pages::message_page(title, &message)).into_response()
    }
}

/// The text with its first letter in upper case: domain messages complete a sentence
/// ("must be…"), pages show them as one.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
