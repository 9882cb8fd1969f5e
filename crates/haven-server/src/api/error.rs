//! The API's errors: `{"error": {"code", "message", "fields"?}}` with the HTTP status that
//! says what kind of problem it is. 5xx bodies say only "internal error"; the cause goes to
//! the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::Error;

/// An API failure.
#[derive(Debug)]
pub enum ApiError {
    /// No key, or a key that is not live.
    Unauthenticated,
    /// The body is not the JSON the operation takes.
    Malformed(String),
    /// Fields with bad values: (JSON path, message) pairs.
    Invalid(Vec<(String, String)>),
    /// No such consultation for this organisation.
    NotFound,
    /// The operation is not possible in the consultation's current state.
    Conflict(String),
    /// Ours.
    Internal(String),
}

impl ApiError {
    /// Maps a field key of the booking operation to its path in the API's JSON.
    pub fn field_path(field: &str) -> String {
        match field {
            "clinic" => "clinic_id".to_owned(),
            "clinician" => "clinician_id".to_owned(),
            "starts_at" | "kind" => field.to_owned(),
            "contact" => "patient.preferred_contact".to_owned(),
            "attendees" => field.to_owned(),
            "cohosts" => "cohost_ids".to_owned(),
            other => match other
                .strip_prefix("attendees.")
                .and_then(|r| r.split_once('.'))
            {
                // A group attendee's row: attendees.3.contact → attendees[3].preferred_contact.
                Some((row, "contact")) => format!("attendees[{row}].preferred_contact"),
                Some((row, name)) => format!("attendees[{row}].{name}"),
                None => format!("patient.{other}"),
            },
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Invalid(fields) => ApiError::Invalid(
                fields
                    .iter()
                    .map(|(f, m)| (ApiError::field_path(f), m.to_owned()))
                    .collect(),
            ),
            Error::NotFound => ApiError::NotFound,
            Error::BadRequest(m) => ApiError::Malformed(m),
            Error::Conflict(what) => ApiError::Conflict(format!("{what} is already in use")),
            Error::Refused(reason) => ApiError::Conflict(reason),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<haven_store::Error> for ApiError {
    fn from(e: haven_store::Error) -> ApiError {
        Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, fields) = match self {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send an organisation API key as \"Authorization: Bearer <key>\"".to_owned(),
                None,
            ),
            ApiError::Malformed(m) => (StatusCode::BAD_REQUEST, "malformed", m, None),
            ApiError::Invalid(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "some fields are not acceptable; each is listed with the reason".to_owned(),
                Some(fields),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "no consultation of your organisation has this id".to_owned(),
                None,
            ),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m, None),
            ApiError::Internal(cause) => {
                tracing::error!(error = %cause, "API request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error".to_owned(),
                    None,
                )
            }
        };
        let mut error = json!({"code": code, "message": message});
        if let Some(fields) = fields {
            error["fields"] = fields
                .into_iter()
                .map(|(field, message)| json!({"field": field, "message": message}))
                .collect();
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"haven\""),
            );
        }
        response
    }
}
