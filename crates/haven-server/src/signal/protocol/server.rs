//! What the server sends.

use serde::Serialize;

use super::{ErrorCode, Kind};
use crate::media::{AudioOnlyReason, ConnectionQuality, ParticipantId};

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
    /// The server stopped sending this client video; sound continues.
    AudioOnly {
        /// Why: the client asked, or its connection cannot carry video.
        reason: AudioOnlyWhy,
    },
    /// Video to this client resumed after `audio_only`.
    VideoResumed {},
    /// A different participant became the active speaker.
    Speaker {
        /// Who is speaking now.
        participant: String,
    },
    /// A participant's connection as the server measures it (every few seconds).
    Quality {
        /// Whose connection.
        participant: String,
        /// The summary a person reads.
        level: QualityLevel,
        /// Packets lost, per thousand (the worse direction).
        loss_permille: u16,
        /// Round trip between the server and the participant, once measured.
        rtt_ms: Option<u32>,
        /// What the server received from the participant, kbit/s.
        in_kbps: u32,
        /// What the server sent the participant, kbit/s.
        out_kbps: u32,
    },
    /// Where this client is in a consultation: the waiting area, the call, or on hold.
    Stage {
        /// Which.
        stage: StageWord,
    },
    /// A message from the clinic to someone waiting.
    Notice {
        /// The text, for people.
        text: String,
    },
    /// The clinician is speaking privately with someone else (a side-room): this client
    /// is held apart, nothing sent either way, until everyone is brought back.
    SideRoom {
        /// Whether the side-room is on (false: back in the consultation).
        active: bool,
        /// What to show, for people.
        text: String,
    },
    /// The consultation reaches its time limit soon and will then end for everyone.
    EndingSoon {
        /// Whole minutes until it ends.
        minutes: u16,
        /// The warning, for people.
        text: String,
    },
    /// A chat message, to everyone in the call when it was sent (the sender included).
    Chat {
        /// Its number in this call's chat, from 1.
        seq: u64,
        /// The sender's participant id.
        from: String,
        /// The sender's name as shown in the call.
        name: String,
        /// When it was sent (RFC 3339, UTC).
        sent_at: String,
        /// The text, to be shown as plain text (never as markup, never with links).
        text: String,
        /// Whether the text contains a web address: shown with a warning about phishing.
        link: bool,
        /// A shared file, when the message is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<ChatFileInfo>,
    },
    /// A clinician keeps this call's chat with the consultation's record (sent to
    /// everyone in the call, and to whoever is admitted afterwards).
    ChatKept {
        /// Messages saved to the record so far.
        saved: u64,
        /// The notice, for people.
        text: String,
    },
    /// File sharing is on in this call: the key with which this client uploads and
    /// downloads files (`Authorization: Bearer`), valid while it is in the call.
    ChatFiles {
        /// The key (43 characters), never put in a URL.
        key: String,
        /// The largest file accepted, in bytes.
        max_bytes: u64,
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

/// A consultation stage as the wire spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageWord {
    /// In the waiting area: nothing is sent to or from the client's media yet.
    Waiting,
    /// In the call.
    Admitted,
    /// On hold: nothing is sent to or from the client's media until resumed.
    Held,
}

impl From<crate::signal::hub::Stage> for StageWord {
    fn from(stage: crate::signal::hub::Stage) -> Self {
        use crate::signal::hub::Stage;
        match stage {
            Stage::Waiting => StageWord::Waiting,
            Stage::Admitted => StageWord::Admitted,
            Stage::Held => StageWord::Held,
        }
    }
}

/// Why a client receives audio only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioOnlyWhy {
    /// The client sent `prefer` with `audio_only: true`.
    Requested,
    /// The server's estimate of the client's downlink is too low for video.
    LowBandwidth,
}

impl From<AudioOnlyReason> for AudioOnlyWhy {
    fn from(r: AudioOnlyReason) -> Self {
        match r {
            AudioOnlyReason::Requested => AudioOnlyWhy::Requested,
            AudioOnlyReason::LowBandwidth => AudioOnlyWhy::LowBandwidth,
        }
    }
}

/// A connection's quality in three words, with the same thresholds as the browser's own
/// indicator so the two never disagree about the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityLevel {
    /// Under 2% loss and under 300 ms round trip.
    Good,
    /// Up to 8% loss or up to 600 ms round trip: pictures may soften.
    Fair,
    /// Worse: sound and pictures may break up.
    Poor,
}

impl QualityLevel {
    /// Classifies a measurement.
    pub fn of(q: &ConnectionQuality) -> Self {
        let rtt = q.rtt_ms.unwrap_or(0);
        if q.loss_permille > 80 || rtt > 600 {
            QualityLevel::Poor
        } else if q.loss_permille > 20 || rtt > 300 {
            QualityLevel::Fair
        } else {
            QualityLevel::Good
        }
    }
}

impl ServerMsg {
    /// The `quality` message for a participant's measurement.
    pub fn quality(participant: ParticipantId, q: &ConnectionQuality) -> ServerMsg {
        ServerMsg::Quality {
            participant: participant.to_string(),
            level: QualityLevel::of(q),
            loss_permille: q.loss_permille,
            rtt_ms: q.rtt_ms,
            in_kbps: q.in_kbps,
            out_kbps: q.out_kbps,
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
    /// In a group consultation: their name as this client may see it (hosts see full
    /// names, attendees the name shown to the group). Absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A file shared in the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatFileInfo {
    /// The file's id, for `GET /calls/files/{id}`.
    pub id: String,
    /// Its name (cleaned, ending in the extension of its type).
    pub name: String,
    /// Its media type: `application/pdf`, `image/png` or `image/jpeg`.
    pub mime: String,
    /// Its size in bytes.
    pub bytes: u64,
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
