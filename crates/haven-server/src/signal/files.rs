//! Files shared in a call's chat, over HTTP: `POST /calls/files` (the bytes as the body,
//! the name in `X-File-Name`, percent-encoded) and `GET /calls/files/{id}`. Both carry
//! the key the hub gave the client in `chat_files` as `Authorization: Bearer`, never in
//! the URL and never as a cookie (so these routes need no CSRF token, and another site
//! cannot make a browser use them). The room's hub decides each request (`hub/files.rs`).
//! Answers are JSON `{"code", "message"}` on refusal; a download is served as an
//! attachment with `nosniff`, so a browser never renders it in Haven's origin.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use haven_domain::chat::MAX_FILE_BYTES;
use tokio::sync::oneshot;

use super::hub::ToHub;
use super::hub::files::{Download, FileRefusal, Upload};
use crate::AppState;
use crate::media::{ParticipantId, RoomId};
use crate::web::{random_token, token_hash};

/// The file routes (merged outside the CSRF layer: they are authenticated by a header).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/calls/files", post(upload))
        .route("/calls/files/{id}", get(download))
}

/// The keys of everyone who may share files, by hash: which room and participant each
/// belongs to.
#[derive(Default)]
pub(crate) struct FileKeys {
    /// std `Mutex`: each use is one map operation, never held across an `.await`.
    table: Mutex<HashMap<String, (RoomId, ParticipantId)>>,
}

impl FileKeys {
    /// A new key for `participant` in `room` (the only copy).
    pub(crate) fn issue(&self, room: RoomId, participant: ParticipantId) -> String {
        let key = random_token();
        self.lock().insert(token_hash(&key), (room, participant));
        key
    }

    fn find(&self, key: &str) -> Option<(RoomId, ParticipantId)> {
        self.lock().get(&token_hash(key)).copied()
    }

    /// Forgets every key of a room that has ended.
    pub(crate) fn revoke_room(&self, room: RoomId) {
        self.lock().retain(|_, (r, _)| *r != room);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (RoomId, ParticipantId)>> {
        // Nothing under this lock can panic, so it is never poisoned; recover anyway.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A refusal as JSON.
fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message });
    (status, axum::Json(body)).into_response()
}

fn refusal(r: &FileRefusal) -> Response {
    let status = match r.code {
        "not_found" => StatusCode::NOT_FOUND,
        "not_allowed" | "not_in_call" => StatusCode::FORBIDDEN,
        "file_type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "file_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::CONFLICT,
    };
    refuse(status, r.code, &r.message)
}

fn call_gone() -> Response {
    refuse(StatusCode::GONE, "room_ended", "the call has ended")
}

/// Why a request's key was not good.
enum KeyFailure {
    /// No key, or one nobody holds.
    Unauthenticated,
    /// The key's room has ended.
    Gone,
}

impl KeyFailure {
    fn response(&self) -> Response {
        match self {
            KeyFailure::Unauthenticated => refuse(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "this needs the file key of someone in the call (Authorization: Bearer)",
            ),
            KeyFailure::Gone => call_gone(),
        }
    }
}

/// The room's hub and the participant the request's key belongs to.
fn keyholder(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(tokio::sync::mpsc::Sender<ToHub>, ParticipantId), KeyFailure> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(KeyFailure::Unauthenticated)?;
    let (room, participant) = state
        .live
        .file_keys
        .find(key.trim())
        .ok_or(KeyFailure::Unauthenticated)?;
    let hub = state.live.hub(room).ok_or(KeyFailure::Gone)?;
    Ok((hub, participant))
}

/// `POST /calls/files`: shares a file with the people in the call.
async fn upload(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (hub, participant) = match keyholder(&state, &parts.headers) {
        Ok(found) => found,
        Err(failure) => return failure.response(),
    };
    let name = parts
        .headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            url::form_urlencoded::parse(format!("n={v}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .next()
                .unwrap_or_default()
        })
        .unwrap_or_default();
    // Read a little past the limit, so that a file just too large is answered (rather than
    // the connection cut while the client is still sending).
    let bytes = to_bytes(body, 2 * MAX_FILE_BYTES).await.ok();
    let Some(bytes) = bytes.filter(|b| b.len() <= MAX_FILE_BYTES) else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            &format!(
                "the file is larger than {} MiB, the most that can be shared",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        );
    };
    let (reply, answer) = oneshot::channel();
    let asked = ToHub::Upload(Upload {
        participant,
        name,
        bytes,
        reply,
    });
    if hub.send(asked).await.is_err() {
        return call_gone();
    }
    match answer.await {
        Ok(Ok(info)) => (StatusCode::CREATED, axum::Json(info)).into_response(),
        Ok(Err(r)) => refusal(&r),
        Err(_) => call_gone(),
    }
}

/// `GET /calls/files/{id}`: a shared file, as an attachment.
async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (hub, participant) = match keyholder(&state, &headers) {
        Ok(found) => found,
        Err(failure) => return failure.response(),
    };
    let (reply, answer) = oneshot::channel();
    if hub
        .send(ToHub::Download(Download {
            participant,
            id,
            reply,
        }))
        .await
        .is_err()
    {
        return call_gone();
    }
    let file = match answer.await {
        Ok(Ok(file)) => file,
        Ok(Err(r)) => return refusal(&r),
        Err(_) => return call_gone(),
    };
    let disposition = format!(
        "attachment; filename=\"shared-file.{}\"; filename*=UTF-8''{}",
        file.kind.extension(),
        url::form_urlencoded::byte_serialize(file.name.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    );
    let mut response = Response::new(Body::from(file.bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.kind.mime()),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
