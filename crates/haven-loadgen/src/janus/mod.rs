//! Janus as the target: the same synthetic participants in Janus's videoroom plugin, for
//! a side-by-side comparison with Haven. Each participant publishes on one peer
//! connection (`joinandconfigure` with an offer) and, once every other participant of its
//! room publishes, receives them all on a second (one multistream subscriber handle,
//! Janus offering). `api` speaks the WebSocket API, `leg` runs one peer connection,
//! `peer` a participant.

mod api;
mod leg;
mod peer;
mod subscribe;

use std::time::Duration;

use serde_json::json;
use url::Url;

pub use self::peer::run;

/// Room ids start here, so that they do not collide with Janus's sample rooms.
const FIRST_ROOM: u64 = 100_000;

/// Creates `rooms` videorooms for `participants` publishers each: Opus and VP8, no
/// recording, no bitrate cap (as Haven's rooms). Returns each room's id or why not.
pub async fn create_rooms(
    url: &Url,
    rooms: usize,
    participants: usize,
    within: Duration,
) -> anyhow::Result<Vec<Result<u64, String>>> {
    let mut socket = api::connect(url, within).await?;
    let mut other = Vec::new();
    let (session, handle) = api::session(&mut socket, within, &mut other).await?;
    let mut ids = Vec::with_capacity(rooms);
    for i in 0..rooms {
        let room = FIRST_ROOM + i as u64;
        let body = json!({
            "request": "create", "room": room, "permanent": false, "is_private": true,
            "publishers": participants, "bitrate": 0, "audiocodec": "opus",
            "videocodec": "vp8", "record": false, "notify_joining": false,
        });
        let created = api::call(
            &mut socket,
            api::message(session, handle, body, None),
            within,
            &mut other,
        )
        .await;
        ids.push(
            created
                .map(|_| room)
                .map_err(|e| format!("creating Janus room {room}: {e:#}")),
        );
    }
    let _ = api::call(
        &mut socket,
        json!({"janus": "destroy", "session_id": session}),
        within,
        &mut other,
    )
    .await;
    Ok(ids)
}
