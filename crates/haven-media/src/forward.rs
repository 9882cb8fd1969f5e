//! Bookkeeping for forwarding: which incoming track feeds which outgoing track, and the
//! closed set of effects that cross from one participant to the others.

use std::time::Instant;

use str0m::media::{KeyframeRequestKind, MediaData, Mid, Rid};

use crate::layers::{Layer, LayerMeter, LayerSwitch};
use crate::{MediaKind, ParticipantId};

/// A published track, named by its publisher and the publisher-side mid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TrackRef {
    /// The publishing participant.
    pub origin: ParticipantId,
    /// The m-line of the publisher's session that carries it.
    pub mid: Mid,
}

/// A track a participant publishes to the room.
#[derive(Debug)]
pub(crate) struct TrackIn {
    /// The m-line in the publisher's own session.
    pub mid: Mid,
    /// Audio or video.
    pub kind: MediaKind,
    /// Its streams: the simulcast layers as declared (lowest first), or one unlayered stream.
    pub layers: Vec<LayerIn>,
}

impl TrackIn {
    /// The stream state of one layer, if the publisher declared it.
    pub fn layer_mut(&mut self, layer: &Layer) -> Option<&mut LayerIn> {
        self.layers.iter_mut().find(|l| l.meter.layer == *layer)
    }
}

/// One incoming stream of a published track.
#[derive(Debug)]
pub(crate) struct LayerIn {
    /// Its bitrate.
    pub meter: LayerMeter,
    /// A keyframe was asked for but str0m could not send the request yet (no RTP received
    /// on the stream so far); retried when media arrives.
    pub keyframe_wanted: Option<KeyframeRequestKind>,
    /// When we last asked the publisher for a keyframe on this stream, to avoid flooding it
    /// when many subscribers lose pictures at once.
    pub last_keyframe_request: Option<Instant>,
}

impl LayerIn {
    pub fn new(layer: Layer) -> Self {
        LayerIn {
            meter: LayerMeter::new(layer),
            keyframe_wanted: None,
            last_keyframe_request: None,
        }
    }
}

/// A track forwarded to a subscriber.
#[derive(Debug)]
pub(crate) struct TrackOut {
    /// The published track it carries.
    pub source: TrackRef,
    /// Audio or video.
    pub kind: MediaKind,
    /// Where it is in SDP negotiation with the subscriber.
    pub state: TrackOutState,
    /// Which of the publisher's layers is forwarded (for audio: always the one stream).
    pub switch: LayerSwitch,
}

/// The negotiation state of a [`TrackOut`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrackOutState {
    /// Not offered yet.
    ToOpen,
    /// Offered under this mid; waiting for the answer.
    Negotiating(Mid),
    /// Negotiated: media is written to this mid.
    Open(Mid),
    /// The source is gone: the mid must be stopped in the next offer.
    ToStop(Mid),
    /// The stop was offered; the track is dropped when the answer comes.
    Stopping(Mid),
}

impl TrackOut {
    /// The mid to write media to, only once negotiation is complete.
    pub fn open_mid(&self) -> Option<Mid> {
        match self.state {
            TrackOutState::Open(m) => Some(m),
            _ => None,
        }
    }

    /// The subscriber-side mid, whatever the state.
    pub fn mid(&self) -> Option<Mid> {
        match self.state {
            TrackOutState::ToOpen => None,
            TrackOutState::Negotiating(m)
            | TrackOutState::Open(m)
            | TrackOutState::ToStop(m)
            | TrackOutState::Stopping(m) => Some(m),
        }
    }
}

/// Effects from one participant that the room applies to the others (str0m's "propagated"
/// pattern: the room is the one owner; participants never touch each other).
#[derive(Debug)]
pub(crate) enum Propagated {
    /// A participant started publishing a track.
    TrackPublished(TrackRef, MediaKind),
    /// A media frame from a publisher, to be written to every subscriber of that track.
    /// Boxed: a `MediaData` is over 500 bytes and every other effect is small.
    Media(ParticipantId, Box<MediaData>),
    /// A subscriber needs a keyframe on a published track.
    KeyframeRequest {
        /// The published track.
        track: TrackRef,
        /// The simulcast layer, if any.
        rid: Option<Rid>,
        /// PLI or FIR.
        kind: KeyframeRequestKind,
    },
}

impl Propagated {
    /// The participants this effect involves, to drop it when one of them leaves.
    pub fn involves(&self, id: ParticipantId) -> bool {
        match self {
            Propagated::TrackPublished(track, _) => track.origin == id,
            Propagated::Media(origin, _) => *origin == id,
            Propagated::KeyframeRequest { track, .. } => track.origin == id,
        }
    }
}
