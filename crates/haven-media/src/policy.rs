//! The room's media policy: the numbers behind layer choice, audio-only, the active speaker
//! and quality reports. A value passed in ([`Room::with_policy`](crate::Room::with_policy)),
//! never a global.

use std::time::Duration;

/// How a room adapts media to each subscriber.
///
/// `Default` gives the values Haven runs with; tests shorten or tighten them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaPolicy {
    /// Estimate each subscriber's downlink (str0m's TWCC bandwidth estimation) and let it
    /// drive layer choice and audio-only. Off by default for now: str0m paces everything it
    /// sends at the estimate, and under heavy random loss with reordering (5% each way,
    /// 10–30 ms jitter in the deterministic tests) its estimate can collapse to a fraction
    /// of what the link carries, starving video that would otherwise arrive. With it off,
    /// layers follow display size only and audio-only is by request only.
    pub bandwidth_estimation: bool,
    /// The bandwidth estimate a new participant's downlink starts from before any
    /// measurement, in kbit/s. Browsers start at about 300 kbit/s too: high enough for the
    /// middle layer, low enough not to flood a phone on a weak link.
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
            bandwidth_estimation: false,
            initial_estimate_kbps: 600,
            audio_only_below_kbps: 150,
            video_resumes_above_kbps: 250,
            bandwidth_hold: Duration::from_secs(2),
            top_layer_height: 720,
            evaluation_interval: Duration::from_millis(250),
            quality_interval: Duration::from_secs(2),
            speaker_hold: Duration::from_secs(1),
            speaker_threshold_dbov: 70,
        }
    }
}
