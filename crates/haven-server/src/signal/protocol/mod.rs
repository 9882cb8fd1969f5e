//! The wire protocol, version 1: JSON text frames, each an object with a `"type"`.
//!
//! Every client frame is parsed once, here, into the closed [`ClientMsg`] enum; nothing past
//! this module sees JSON. Parsing is strict: an unknown type, a missing, extra or ill-typed
//! field, or an SDP that is not an SDP is a [`ProtocolError`] with a stable [`ErrorCode`] and
//! a sentence naming the problem. The server's messages are [`ServerMsg`].
//!
//! Files: `session.rs` (join, leave, ping, eject, end), `media.rs` (offer, answer,
//! candidate, mute, prefer, view), `chat.rs` (chat, chat_keep), `server.rs` (everything
//! the server sends). `docs/protocol.md` describes each message.

mod chat;
mod media;
mod server;
mod session;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::{Map, Value};

use haven_domain::ConsultationId;

use crate::media::ParticipantId;

pub use chat::MAX_CHAT_BYTES;
pub use media::{Candidate, Kind, Sdp};
pub use server::{
    AudioOnlyWhy, ChatFileInfo, IceServer, ParticipantInfo, QualityLevel, ServerMsg, StageWord,
};

/// The protocol version this server speaks (`join`'s `"v"`).
pub const PROTOCOL_VERSION: u64 = 1;
/// The largest text frame accepted, in bytes: room for the largest SDP and its envelope.
pub const MAX_FRAME: usize = 320 * 1024;
/// The largest SDP accepted, in bytes. A browser's answer in a room of 20 carries two media
/// sections per other participant, each listing every codec the browser has (about 1 KiB
/// apiece): well over 40 KiB, so 256 KiB leaves room for rooms larger than that.
pub const MAX_SDP: usize = 256 * 1024;

/// A message from a client, parsed and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsg {
    /// The first message: protocol version and what to join: a test room's seat, a
    /// consultation by its invitation token, or (staff, with their session) a
    /// consultation by id; with none of them, the test room the staff member hosts.
    Join {
        /// The protocol version the client speaks (checked by the connection, which must
        /// close on a mismatch).
        v: u64,
        /// The seat token from a test room's invitation link, unchecked.
        seat: Option<String>,
        /// The token from a consultation's invitation link (`/join/{token}`), unchecked.
        invite: Option<String>,
        /// A consultation a signed-in clinician joins.
        consultation: Option<ConsultationId>,
    },
    /// The client's SDP offer: the first one joins the media, later ones renegotiate or
    /// restart ICE.
    Offer(Sdp),
    /// The client's answer to the server's `offer`.
    Answer(Sdp),
    /// A trickled ICE candidate (accepted and discarded: the server is ICE-lite).
    Candidate(Candidate),
    /// The client muted or unmuted its microphone or camera.
    Mute {
        /// Which.
        kind: Kind,
        /// Whether it is now muted.
        muted: bool,
    },
    /// The client's forwarding preference.
    Prefer {
        /// Whether the client wants audio only.
        audio_only: bool,
    },
    /// The size at which the client shows another participant's video.
    View {
        /// Whose video.
        participant: ParticipantId,
        /// Width in CSS pixels (0 when hidden).
        width: u32,
        /// Height in CSS pixels.
        height: u32,
    },
    /// The host removes a participant.
    Eject {
        /// Whom.
        participant: ParticipantId,
    },
    /// The host ends the call for everyone.
    End,
    /// A chat message to everyone in the call, as typed (the room cleans and checks it).
    Chat {
        /// The text.
        text: String,
    },
    /// A clinician keeps the chat with the consultation's record: what was said so far is
    /// saved now, and the rest when the consultation ends.
    ChatKeep,
    /// The client hangs up.
    Leave,
    /// Keep-alive; answered by `pong`.
    Ping,
}

/// A stable identifier for each kind of error the server reports (the `code` of `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A text frame over [`MAX_FRAME`] bytes.
    TooLarge,
    /// A binary frame: the protocol is text only.
    BinaryFrame,
    /// The frame is not JSON.
    InvalidJson,
    /// The JSON is not an object.
    NotAnObject,
    /// No `"type"`, or not a string.
    MissingType,
    /// A `"type"` this protocol does not have.
    UnknownType,
    /// A required field is absent.
    MissingField,
    /// A field this message does not have.
    UnknownField,
    /// A field of the wrong type or with an unacceptable value.
    InvalidField,
    /// An SDP that does not start with `v=0` or is over [`MAX_SDP`] bytes.
    InvalidSdp,
    /// `join` with a version this server does not speak.
    UnsupportedVersion,
    /// A message other than `join` before joining.
    NotJoined,
    /// A second `join` on the same connection.
    AlreadyJoined,
    /// Neither a staff session nor a valid seat token.
    Unauthenticated,
    /// `eject` or `end` from someone who is not the host.
    NotHost,
    /// `eject` naming nobody in the room.
    UnknownParticipant,
    /// The media server refused an SDP (it did not parse, or the negotiation failed).
    MediaRefused,
    /// The room has ended or is not running.
    RoomEnded,
    /// Too many messages too fast.
    RateLimited,
    /// A chat message with nothing in it.
    ChatEmpty,
    /// A chat message over 1000 characters.
    ChatTooLong,
    /// More than five chat messages in ten seconds from one person.
    ChatRateLimited,
    /// The call's chat holds as many messages as it can.
    ChatFull,
    /// Chat from someone waiting or on hold: only people in the call chat.
    NotInCall,
    /// The organisation's policy does not allow this (keeping chat, sharing files).
    NotAllowed,
    /// The chat could not be saved to the record (the cause is logged).
    SaveFailed,
}

/// Why a client frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    /// The stable identifier.
    pub code: ErrorCode,
    /// A sentence for people, naming the field or problem.
    pub message: String,
}

impl ProtocolError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
        }
    }
}

/// Parses one text frame into a [`ClientMsg`].
pub fn parse(text: &str) -> Result<ClientMsg, ProtocolError> {
    if text.len() > MAX_FRAME {
        return Err(ProtocolError::new(
            ErrorCode::TooLarge,
            format!(
                "the message is {} bytes; the largest accepted is {MAX_FRAME} bytes",
                text.len()
            ),
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ProtocolError::new(
            ErrorCode::InvalidJson,
            format!("the message is not valid JSON: {e}"),
        )
    })?;
    let Value::Object(map) = value else {
        return Err(ProtocolError::new(
            ErrorCode::NotAnObject,
            format!(
                "the message must be a JSON object with a \"type\", not {}",
                describe(&value)
            ),
        ));
    };
    let mut fields = Fields { ty: "", map };
    let ty = match fields.map.remove("type") {
        Some(Value::String(ty)) => ty,
        Some(other) => {
            return Err(ProtocolError::new(
                ErrorCode::MissingType,
                format!(
                    "the field \"type\" must be a string, not {}",
                    describe(&other)
                ),
            ));
        }
        None => {
            return Err(ProtocolError::new(
                ErrorCode::MissingType,
                "the message has no \"type\" field",
            ));
        }
    };
    let msg = match ty.as_str() {
        "join" => session::join(fields.named("join"))?,
        "leave" => session::leave(fields.named("leave"))?,
        "ping" => session::ping(fields.named("ping"))?,
        "eject" => session::eject(fields.named("eject"))?,
        "end" => session::end(fields.named("end"))?,
        "offer" => media::offer(fields.named("offer"))?,
        "answer" => media::answer(fields.named("answer"))?,
        "candidate" => media::candidate(fields.named("candidate"))?,
        "mute" => media::mute(fields.named("mute"))?,
        "prefer" => media::prefer(fields.named("prefer"))?,
        "view" => media::view(fields.named("view"))?,
        "chat" => chat::chat(fields.named("chat"))?,
        "chat_keep" => chat::chat_keep(fields.named("chat_keep"))?,
        other => {
            let shown: String = other.chars().take(40).collect();
            return Err(ProtocolError::new(
                ErrorCode::UnknownType,
                format!(
                    "unknown message type {shown:?}; expected one of join, offer, answer, \
                     candidate, mute, prefer, view, chat, chat_keep, eject, end, leave, ping"
                ),
            ));
        }
    };
    Ok(msg)
}

/// The fields of one message, taken one by one; whatever is left over is an error.
struct Fields {
    /// The message type, for error messages.
    ty: &'static str,
    /// The fields not yet taken.
    map: Map<String, Value>,
}

impl Fields {
    fn named(mut self, ty: &'static str) -> Self {
        self.ty = ty;
        self
    }

    fn missing(&self, name: &str, what: &str) -> ProtocolError {
        ProtocolError::new(
            ErrorCode::MissingField,
            format!(
                "the \"{}\" message needs the field \"{name}\" ({what})",
                self.ty
            ),
        )
    }

    fn ill_typed(&self, name: &str, what: &str, got: &Value) -> ProtocolError {
        ProtocolError::new(
            ErrorCode::InvalidField,
            format!(
                "the field \"{name}\" of \"{}\" must be {what}, not {}",
                self.ty,
                describe(got)
            ),
        )
    }

    /// A field that may be absent (or null).
    fn optional(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    fn required(&mut self, name: &str, what: &str) -> Result<Value, ProtocolError> {
        self.map
            .remove(name)
            .ok_or_else(|| self.missing(name, what))
    }

    fn string(&mut self, name: &str) -> Result<String, ProtocolError> {
        match self.required(name, "a string")? {
            Value::String(s) => Ok(s),
            other => Err(self.ill_typed(name, "a string", &other)),
        }
    }

    fn optional_string(&mut self, name: &str) -> Result<Option<String>, ProtocolError> {
        match self.optional(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.ill_typed(name, "a string", &other)),
        }
    }

    fn bool(&mut self, name: &str) -> Result<bool, ProtocolError> {
        match self.required(name, "true or false")? {
            Value::Bool(b) => Ok(b),
            other => Err(self.ill_typed(name, "true or false", &other)),
        }
    }

    fn u64(&mut self, name: &str) -> Result<u64, ProtocolError> {
        let value = self.required(name, "a whole number")?;
        value
            .as_u64()
            .ok_or_else(|| self.ill_typed(name, "a whole number", &value))
    }

    /// Fails on the first field not taken.
    fn finish(self) -> Result<(), ProtocolError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(extra) => {
                let shown: String = extra.chars().take(40).collect();
                Err(ProtocolError::new(
                    ErrorCode::UnknownField,
                    format!("the \"{}\" message has no field {shown:?}", self.ty),
                ))
            }
        }
    }
}

/// A short description of a JSON value's kind, for error messages (never its content).
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
