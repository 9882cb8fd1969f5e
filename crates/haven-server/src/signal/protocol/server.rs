//! What the server sends.

use serde::Serialize;

use super::{ErrorCode, Kind};

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The answer to a successful `join`.
    Welcome {
        /// The client's own participant id.
        participant: String,
        /// The room's id.
        room: String,
        /// Whether the client is the host (may eject and end).
        host: bool,
        /// Everyone in the room, the client included.
        participants: Vec<ParticipantInfo>,
        /// ICE servers for `RTCPeerConnection` (TURN relays, with credentials).
        ice_servers: Vec<IceServer>,
    },
    /// The server's SDP offer (tracks to add or stop); answer with `answer`.
    Offer {
        /// The SDP.
        sdp: String,
    },
    /// The server's answer to the client's `offer`.
    Answer {
        /// The SDP.
        sdp: String,
    },
    /// The participant list, after any change.
    Participants {
        /// Everyone in the room.
        list: Vec<ParticipantInfo>,
    },
    /// Another participant muted or unmuted.
    Mute {
        /// Who.
        participant: String,
        /// Microphone or camera.
        kind: Kind,
        /// Whether it is now muted.
        muted: bool,
    },
    /// The host removed this client; the connection closes next.
    Ejected {
        /// Why, for people.
        reason: String,
    },
    /// The call is over; the connection closes next.
    Ended {
        /// Why, for people.
        reason: String,
    },
    /// A message was refused.
    Error {
        /// Stable identifier.
        code: ErrorCode,
        /// A sentence naming the problem.
        message: String,
    },
    /// The answer to `ping`.
    Pong {},
}

impl ServerMsg {
    /// The JSON text frame.
    pub fn to_json(&self) -> String {
        // Every field is a string, bool, list or struct of those: serialising cannot fail.
        serde_json::to_string(self).expect("server messages always serialise")
    }

    /// An `error` message.
    pub fn error(e: super::ProtocolError) -> ServerMsg {
        ServerMsg::Error {
            code: e.code,
            message: e.message,
        }
    }
}

/// One participant, as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantInfo {
    /// Participant id (`p` and a number).
    pub id: String,
    /// Whether this is the host.
    pub host: bool,
    /// Whether their WebSocket is connected (false during the reconnection grace).
    pub connected: bool,
    /// Whether their microphone is muted.
    pub audio_muted: bool,
    /// Whether their camera is off.
    pub video_muted: bool,
    /// Whether they asked for audio only.
    pub audio_only: bool,
}

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IceServer {
    /// `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// The time-limited username, when a TURN secret is configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The matching credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}
