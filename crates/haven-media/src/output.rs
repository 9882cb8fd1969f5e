//! What a room hands back to its owner: datagrams to send, events, and the next timeout.

use std::net::SocketAddr;
use std::time::Instant;

use crate::{ConnectionQuality, MediaKind, ParticipantId, Transport};

/// One step of output from [`Room::poll_output`](crate::Room::poll_output).
///
/// Drain it until `Timeout`, then wait for that instant, an incoming datagram or a command.
#[derive(Debug)]
pub enum RoomOutput {
    /// A datagram the I/O layer must send.
    Transmit {
        /// The participant whose peer connection this datagram belongs to.
        participant: ParticipantId,
        /// The transport to send it on.
        transport: Transport,
        /// The local address to send it from (one of the room's announced addresses).
        from_local: SocketAddr,
        /// The participant's address.
        to_remote: SocketAddr,
        /// The encrypted bytes.
        contents: Vec<u8>,
    },
    /// Something the owner (signalling, store, metrics) should know about.
    Event(RoomEvent),
    /// Nothing else is pending: call [`Room::handle_timeout`](crate::Room::handle_timeout)
    /// at this instant unless input arrives first.
    Timeout(Instant),
}

/// Things that happened in the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// ICE and DTLS are up: media can flow to and from this participant.
    Connected(ParticipantId),
    /// The participant is no longer in the room; nothing more is sent to or forwarded from it.
    Left {
        /// Who left.
        participant: ParticipantId,
        /// Why.
        reason: LeaveReason,
    },
    /// A participant started sending a track; every other participant is being offered it.
    TrackPublished {
        /// The publisher.
        participant: ParticipantId,
        /// Audio or video.
        kind: MediaKind,
    },
    /// The room needs to renegotiate with this participant (tracks to add or stop).
    /// Send the SDP offer to its client and feed the answer to
    /// [`Room::handle_answer`](crate::Room::handle_answer).
    Offer {
        /// Whom to send the offer to.
        participant: ParticipantId,
        /// The SDP offer text.
        sdp: String,
    },
    /// The room asked this publisher for a keyframe (a subscriber started or lost pictures).
    KeyframeRequested {
        /// The publisher asked.
        publisher: ParticipantId,
    },
    /// The room stopped sending video to this participant; tell its client why.
    AudioOnly {
        /// The subscriber now receiving sound only.
        participant: ParticipantId,
        /// Why.
        reason: AudioOnlyReason,
    },
    /// Video to this participant resumed after [`RoomEvent::AudioOnly`] (it asked, or its
    /// bandwidth recovered).
    VideoResumed {
        /// The subscriber receiving video again.
        participant: ParticipantId,
    },
    /// A different participant became the active speaker.
    ActiveSpeaker {
        /// Who is speaking now.
        participant: ParticipantId,
    },
    /// Media now flows both ways for this participant: a frame of theirs was forwarded
    /// to someone and someone's to them. Once per stay in the room; never while apart.
    MediaFlowing {
        /// Whose media.
        participant: ParticipantId,
    },
    /// A periodic measurement of a participant's connection (every
    /// [`MediaPolicy::quality_interval`](crate::MediaPolicy::quality_interval)).
    Quality {
        /// Whose connection.
        participant: ParticipantId,
        /// How it is doing.
        quality: ConnectionQuality,
    },
}

/// Why a subscriber receives audio only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioOnlyReason {
    /// The participant asked for it ([`Room::set_audio_only`](crate::Room::set_audio_only)).
    Requested,
    /// Its downlink cannot carry video: the bandwidth estimate fell below
    /// [`MediaPolicy::audio_only_below_kbps`](crate::MediaPolicy::audio_only_below_kbps).
    LowBandwidth,
}

/// Why a participant left the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// The owner called [`Room::remove`](crate::Room::remove) (eject, end of call, hang-up).
    Removed,
    /// The peer connection closed or timed out (ICE failure, DTLS close).
    Disconnected,
    /// The participant's media state failed (an error or a panic inside str0m); the rest of
    /// the room carries on.
    Failed,
}

/// Counters the owner exports as metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomStats {
    /// Datagrams handed to the room that no participant accepted or that did not parse.
    pub dropped_datagrams: u64,
    /// Datagrams handed to a participant's peer connection.
    pub accepted_datagrams: u64,
    /// Datagrams the room asked the I/O layer to send.
    pub transmitted_datagrams: u64,
    /// RTP packets (audio or video) written to a subscriber.
    pub forwarded_packets: u64,
    /// Keyframe requests sent to publishers.
    pub keyframe_requests: u64,
    /// Participants removed because their media state panicked.
    pub panics: u64,
    /// Padding and probe packets not sent to participants kept apart.
    pub withheld_padding: u64,
}
