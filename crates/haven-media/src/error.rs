//! The one error type of haven-media.

use crate::ParticipantId;

/// Everything that can go wrong when the owner of a [`Room`](crate::Room) asks it to do something.
///
/// Problems with received datagrams are not errors: untrusted network input is dropped and
/// counted in [`RoomStats`](crate::RoomStats), never reported to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A participant with this id is already in the room.
    #[error("participant {0} is already in the room")]
    AlreadyJoined(ParticipantId),

    /// No participant with this id is in the room (never joined, left, or was removed).
    #[error("participant {0} is not in the room")]
    UnknownParticipant(ParticipantId),

    /// The SDP text could not be parsed.
    #[error("invalid SDP: {0}")]
    InvalidSdp(String),

    /// The SDP parsed but could not be negotiated (no usable codec, missing fingerprint, ICE-lite on both sides…).
    #[error("SDP negotiation failed: {0}")]
    Negotiation(String),

    /// An SDP answer arrived while the room had no offer outstanding to that participant.
    #[error("participant {0} sent an answer but no offer was outstanding")]
    NoPendingOffer(ParticipantId),

    /// The participant's media state panicked while handling the request; it has been removed.
    #[error("participant {0} failed internally and was removed")]
    ParticipantFailed(ParticipantId),
}
