//! The room's media policy: the numbers behind layer choice, audio-only, the active speaker
//! and quality reports. A value passed in ([`Room::with_policy`](crate::Room::with_policy)),
//! never a global.

use std::time::Duration;

/// How a room adapts media to each subscriber.
///
/// `Default` gives the values Haven runs with; tests shorten or tighten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPolicy {
    /// Estimate each subscriber's downlink (str0m's TWCC bandwidth estimation, libwebrtc's
    /// congestion control) and let it drive layer choice and audio-only. On by default: it
    /// is the only way the room learns that a subscriber's link is narrow, and a narrow link
    /// that is sent more than it carries loses sound and pictures alike.
    ///
    /// Estimation also has str0m pace everything it sends a subscriber at that subscriber's
    /// estimate, so a wrong estimate is not harmless: one too low delays and then bursts
    /// media. What the room does about str0m 0.25's estimator:
    ///
    /// - It aims str0m at twice what a subscriber's best allocation needs, and never below
    ///   three times the starting estimate, from the moment a participant joins: str0m
    ///   probes as soon as DTLS is up, capped at twice the desired bitrate, and unset that
    ///   is 50 kbit/s, which its first probes would measure and keep.
    /// - It starts an estimate over when video starts to a subscriber that had none (an
    ///   estimate of padding alone falls on any lossy link), and now and then while video is
    ///   off for low bandwidth or held below a layer the subscriber could use (str0m's
    ///   loss-based controller does not raise an estimate while the loss it sees exceeds
    ///   what it attributes to the link, nor probe meanwhile).
    /// - It withholds the padding str0m sends to everyone (about 150 kbit/s) from people
    ///   kept apart, who are sent nothing else.
    ///
    /// Measured in the deterministic tests' network (`examples/bwe.rs`: one publisher's
    /// three layers to one subscriber; 5% random loss, 10–30 ms jitter, 5% reordering): on
    /// an unlimited link the estimate settles within 5 s at 1.3–3.6 Mbit/s (the top layer
    /// needs 0.86); capped at 3 Mbit/s, 1.0–3.5; at 400 kbit/s, 230–530 (the lowest or
    /// middle layer); at 100 kbit/s, 35–120, and the room goes audio-only 4–10 s after the
    /// drop. Back at 3 Mbit/s, video resumes within 6–12 s. A probe measured too low now and
    /// then drops an estimate for a few seconds on a lossy wide link (str0m takes a probe's
    /// result as the estimate; libwebrtc bounds it by what is being acknowledged).
    ///
    /// With it off, layers follow display size only, audio-only is by request only, and
    /// str0m sends without pacing.
    pub bandwidth_estimation: bool,
    /// The bandwidth estimate a new participant's downlink starts from before any
    /// measurement (and again after an ICE restart: a new network), in kbit/s. Browsers
    /// start lower, at about 300 kbit/s; this is enough for the middle layer, low enough not
    /// to flood a phone on a weak link, and str0m's first probes test three and six times it.
    pub initial_estimate_kbps: u32,
    /// Below this downlink estimate (kbit/s) the room stops sending video to a subscriber:
    /// sound that arrives beats pictures that do not.
    pub audio_only_below_kbps: u32,
    /// Video resumes only once the estimate is back above this (kbit/s). Well above
    /// `audio_only_below_kbps` so a link hovering at the threshold does not flap.
    pub video_resumes_above_kbps: u32,
    /// The estimate must stay past a threshold this long before video stops or resumes:
    /// estimates dip and spike for a moment, especially while the estimator starts.
    pub bandwidth_hold: Duration,
    /// While video to a subscriber is off for low bandwidth, its estimate is started over
    /// from `video_resumes_above_kbps` this long after, then after twice as long, and so on
    /// up to a minute: str0m's estimate of a lossy link can otherwise stay low for good after
    /// the link recovered. Likewise, on the same schedule, while it gets a lower layer than
    /// it could use, the estimate is started over from where it is.
    pub bandwidth_retry: Duration,
    /// The picture height of a publisher's top simulcast layer. Lower layers are taken to
    /// halve it each step (the browsers' default `scaleResolutionDownBy` of 2 and 4), which
    /// is how a subscriber's display size becomes a layer.
    pub top_layer_height: u32,
    /// How often the room revisits layer choices, audio-only and the active speaker.
    pub evaluation_interval: Duration,
    /// How often each participant's connection quality is measured and reported.
    pub quality_interval: Duration,
    /// The active speaker keeps the floor at least this long, so brief noises from others
    /// do not make every tile jump.
    pub speaker_hold: Duration,
    /// Audio quieter than this (RFC 6464 level, -dBov: 0 loudest, 127 silence) never makes
    /// anyone the active speaker. Room noise sits around 60–80 dBov below full scale.
    pub speaker_threshold_dbov: u8,
}

impl Default for MediaPolicy {
    fn default() -> Self {
        MediaPolicy {
            bandwidth_estimation: true,
            initial_estimate_kbps: 600,
            audio_only_below_kbps: 150,
            video_resumes_above_kbps: 250,
            bandwidth_hold: Duration::from_secs(2),
            bandwidth_retry: Duration::from_secs(5),
            top_layer_height: 720,
            evaluation_interval: Duration::from_millis(250),
            quality_interval: Duration::from_secs(2),
            speaker_hold: Duration::from_secs(1),
            speaker_threshold_dbov: 70,
        }
    }
}
