//! The JSON API for booking and GP systems, under `/api/v1`, described by the OpenAPI 3.1
//! document at `/api/v1/openapi.json` (`openapi.rs`, kept true by tests).
//!
//! Callers authenticate with an organisation API key (`Authorization: Bearer …`, made by
//! `haven admin api-key create`; only its hash is stored) and act for that organisation
//! only: another organisation's consultation is "not found". Every error is JSON with a
//! stable `code`, a sentence for people, and for validation errors one entry per field.
//! No cookies, so no CSRF: these routes are merged outside the CSRF layer.

mod auth;
mod consultations;
mod error;
pub mod openapi;

use axum::Router;
use axum::routing::{get, post};

pub use auth::{ApiCaller, api_key_hash, new_api_key};
pub use error::ApiError;

use crate::AppState;

/// The largest request body accepted, in bytes: a booking is well under 2 KiB.
pub const API_BODY_LIMIT: usize = 64 * 1024;

/// `/api/v1/…`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::serve))
        .route("/api/v1/consultations", post(consultations::create))
        .route("/api/v1/consultations/{id}", get(consultations::show))
        .route(
            "/api/v1/consultations/{id}/cancel",
            post(consultations::cancel),
        )
        .layer(axum::extract::DefaultBodyLimit::max(API_BODY_LIMIT))
}
