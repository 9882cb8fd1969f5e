//! WebSocket signalling: the `/ws` protocol that drives the media server, and the staff
//! test room.
//!
//! A tour (`docs/protocol.md` describes the wire message by message):
//! - `protocol`: the closed [`ClientMsg`](protocol::ClientMsg) and
//!   [`ServerMsg`](protocol::ServerMsg) enums; every client frame is parsed once there.
//! - `ws`: per connection, a reader loop (rate limit, error count, `join`, `ping`) and a
//!   writer task draining a bounded queue (`conn`); a client that cannot keep up is closed
//!   with the reason "too slow".
//! - `live`: the registry of live rooms ([`Live`]): room id → the room's hub, the staff
//!   member hosting each room, and the seats.
//! - `hub`: one task per live room, the room's one owner: participants, their connections,
//!   reconnection grace, mute and preference state; it calls the media room's
//!   [`RoomHandle`](crate::media::RoomHandle) for join, offers, answers, eject and end.
//! - `seats`: seat tokens (kept only as SHA-256 hashes), one seat in one room, expiring.
//! - `rate`: the token bucket.
//! - `rooms`: `POST /rooms/test` and the invitation page `/r/{token}`.
//! - `files`: files shared in a call's chat over HTTP, with a key the hub hands out.
//!
//! The server is authoritative: `eject` and `end` take the participants out of the media
//! room (done when `RoomHandle::remove`/`end` return), revoke their seats and close their
//! WebSockets with a reason.

mod conn;
pub mod files;
pub(crate) mod hub;
mod live;
pub mod protocol;
pub mod rate;
mod rooms;
pub mod seats;
mod ws;

pub use conn::{Close, OUTGOING_QUEUE};
pub use live::{Live, LiveError, TEST_ROOM_LIFETIME, WaitingBoard, WaitingEntry};
pub use rooms::routes;
pub use ws::MAX_ERRORS;
