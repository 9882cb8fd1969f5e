//! One log line per request, naming the route pattern (`/reset/{token}`), never the real
//! path: paths can carry secret tokens.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Middleware logging method, route pattern, status and duration.
pub async fn log_requests(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".to_string());
    let started = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    if resp.status().is_server_error() {
        tracing::warn!(%method, %route, status, ms, "request failed");
    } else {
        tracing::info!(%method, %route, status, ms, "request");
    }
    resp
}
