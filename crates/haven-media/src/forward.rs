//! Bookkeeping for forwarding: which incoming track feeds which outgoing track, and the
//! closed set of effects that cross from one participant to the others.

use std::sync::Arc;
use std::time::Instant;

use str0m::format::PayloadParams;
use str0m::media::{KeyframeRequestKind, Mid, Rid};
use str0m::rtp::{ExtensionValues, Vp8Descriptor};

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

/// An RTP packet a publisher sent, as it is forwarded: its payload is shared by every
/// subscriber's send buffer, never copied.
#[derive(Debug)]
pub(crate) struct Packet {
    /// The publisher's m-line.
    pub mid: Mid,
    /// The stream (simulcast layer) it came on.
    pub layer: Layer,
    /// Its codec, to find each subscriber's payload type for it.
    pub params: PayloadParams,
    /// Extended sequence number, in the publisher's numbering.
    pub seq: u64,
    /// RTP timestamp, and the clock rate it counts in.
    pub time: u32,
    pub clock_rate: u32,
    /// When the server received it.
    pub arrival: Instant,
    /// The RTP marker bit (video: the last packet of a picture).
    pub marker: bool,
    /// Whether it is the first packet of a keyframe, where a subscriber's decoder can start.
    pub keyframe: bool,
    /// The VP8 payload descriptor, for VP8.
    pub vp8: Option<Vp8Descriptor>,
    /// The header extensions passed on: audio level and video orientation.
    pub ext_vals: ExtensionValues,
    /// The payload, without RTP header.
    pub payload: Arc<[u8]>,
}

impl Packet {
    /// The VP8 picture id, if it has one.
    pub fn picture_id(&self) -> Option<u16> {
        self.vp8.and_then(|d| d.picture_id())
    }

    /// The VP8 TL0PICIDX, if it has one.
    pub fn tl0(&self) -> Option<u8> {
        self.vp8.and_then(|d| d.tl0_pic_idx())
    }

    /// An unlayered 90 kHz VP8 packet for unit tests, neither keyframe nor marked.
    #[cfg(test)]
    pub fn test(seq: u64, time: u32, arrival: Instant, payload: Arc<[u8]>) -> Packet {
        use str0m::format::{Codec, CodecSpec, FormatParams};
        use str0m::media::Frequency;
        let spec = CodecSpec {
            codec: Codec::Vp8,
            clock_rate: Frequency::NINETY_KHZ,
            channels: None,
            format: FormatParams::default(),
        };
        Packet {
            mid: Mid::from("0"),
            layer: None,
            params: PayloadParams::new(96.into(), None, spec),
            seq,
            time,
            clock_rate: 90_000,
            arrival,
            marker: false,
            keyframe: false,
            vp8: Vp8Descriptor::parse(&payload).ok(),
            ext_vals: ExtensionValues::default(),
            payload,
        }
    }
}

/// Effects from one participant that the room applies to the others (str0m's "propagated"
/// pattern: the room is the one owner; participants never touch each other).
#[derive(Debug)]
pub(crate) enum Propagated {
    /// A participant started publishing a track.
    TrackPublished(TrackRef, MediaKind),
    /// An RTP packet from a publisher, to be written to every subscriber of that track.
    /// Boxed: a packet is several hundred bytes and every other effect is small.
    Media(ParticipantId, Box<Packet>),
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
