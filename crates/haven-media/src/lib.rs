//! Haven's media core: a sans-IO selective forwarding unit built on [str0m].
//!
//! A [`Room`] is one live consultation's media. Each participant has one str0m peer
//! connection on the server side (ICE-lite: the server only answers connectivity checks, at
//! the addresses in [`RoomConfig`]). Media a participant publishes is written to every other
//! participant as outgoing tracks; keyframe requests travel back to the publisher.
//!
//! The room does no I/O and never reads the clock. Its owner (one task per consultation in
//! `haven-server`) drives it:
//!
//! - [`Room::join`] takes a client's SDP offer and returns the answer;
//!   [`RoomEvent::Offer`] asks the owner to renegotiate (new tracks to forward), answered
//!   through [`Room::handle_answer`].
//! - [`Room::accepts`] says which participant a datagram belongs to (the shared socket's
//!   demultiplexer), [`Room::handle_input`] feeds it, [`Room::handle_timeout`] moves time.
//! - [`Room::poll_output`] is drained until [`RoomOutput::Timeout`]: datagrams to send and
//!   [`RoomEvent`]s for signalling and the store.
//! - [`Room::remove`] ejects a participant: nothing more is sent to it or forwarded from it.
//!
//! A panic inside one participant's str0m state removes that participant
//! ([`LeaveReason::Failed`]), not the room. Untrusted datagrams never panic: they are
//! dropped and counted in [`RoomStats`].
//!
//! Per subscriber, the room chooses one simulcast layer of each publisher's video (by the
//! size the subscriber shows it at, [`Room::set_display_size`], and by its downlink
//! estimate, [`MediaPolicy::bandwidth_estimation`]), switching only at a keyframe it asks
//! the publisher for. [`Room::set_audio_only`] and a low estimate stop video to one
//! subscriber ([`RoomEvent::AudioOnly`]); [`Room::set_muted`] stops a publisher's audio or
//! video; [`RoomEvent::ActiveSpeaker`] follows RFC 6464 audio levels; [`RoomEvent::Quality`]
//! reports each connection's loss, RTT and bitrates; [`RoomEvent::MediaFlowing`] says once
//! when a participant's media first flows both ways. A client whose address changes
//! restarts ICE through [`Room::handle_offer`] and keeps its place in the room.
//!
//! Code map: `room.rs` (the owner-facing API and the drain loop), `controls.rs` (display
//! size, audio-only, mute, queries), `participant.rs` (one peer connection and its
//! negotiation), `forward.rs` (track bookkeeping and the closed set of cross-participant
//! effects), `select.rs` (the periodic per-subscriber decisions), `layers.rs` (layer
//! switching, bitrate metering, allocation), `rewrite.rs` (one continuous RTP stream per
//! forwarded track), `speaker.rs`, `quality.rs`, `flowing.rs`, `policy.rs`,
//! `output.rs` and `types.rs` (public values), `error.rs`.

mod controls;
mod error;
mod flowing;
mod forward;
mod layers;
mod output;
mod participant;
mod policy;
mod quality;
mod rewrite;
mod room;
mod select;
mod speaker;
mod types;

pub use error::Error;
pub use output::{AudioOnlyReason, LeaveReason, RoomEvent, RoomOutput, RoomStats};
pub use policy::MediaPolicy;
pub use quality::ConnectionQuality;
pub use room::{Room, RoomConfig};
pub use types::{Datagram, MediaKind, ParticipantId, Transport};

#[cfg(test)]
mod tests;
