//! Organisation API keys: `haven_` and 256 random bits, shown once when made; the store
//! keeps the SHA-256 only. A request's key is checked on every call, so a revoked key stops
//! working at once.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use haven_domain::{ApiKeyId, OrgId};

use super::ApiError;
use crate::AppState;

/// Every key starts with this, so a leaked one is recognisable (and secret scanners can
/// be taught it).
const PREFIX: &str = "haven_";

/// A new key's secret text (shown once) and its hash (stored).
pub fn new_api_key() -> (String, String) {
    let key = format!("{PREFIX}{}", crate::web::random_token());
    let hash = api_key_hash(&key);
    (key, hash)
}

/// What the store keeps of a key.
pub fn api_key_hash(key: &str) -> String {
    crate::web::token_hash(key)
}

/// The organisation a request acts for, by its API key.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The key used (the audit log's actor).
    pub key: ApiKeyId,
    /// Its organisation.
    pub org: OrgId,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| k.starts_with(PREFIX) && k.len() < 200)
            .ok_or(ApiError::Unauthenticated)?;
        let key = state
            .store
            .api_key(&api_key_hash(presented))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(ApiCaller {
            key: key.id,
            org: key.org_id,
        })
    }
}
