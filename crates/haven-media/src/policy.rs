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
    /// media (str0m's pacer does not put sound first). It used to be off because, in the
    /// deterministic tests, the estimate collapsed to 50–170 kbit/s under 5% random loss
    /// with jitter. Measured again (`examples/bwe.rs`), that had three causes:
    ///
    /// - The test harness woke the room every 5 ms instead of when it asked to be woken.
    ///   str0m's pacer releases one packet per wake-up, so the room could send at most
    ///   200 packets a second per subscriber, and probes seemed to come back slower than
    ///   they were sent. The harness is now an event loop, as Haven's server is.
    /// - str0m probes as soon as DTLS is up and caps its probes at twice the desired bitrate,
    ///   which the room had not set yet (50 kbit/s by default): its first probes measured,
    ///   and set, an estimate of about 100 kbit/s. The room now aims str0m at twice what a
    ///   subscriber's best allocation needs, and never below three times the starting
    ///   estimate, from the moment a participant joins.
    /// - Jitter that reorders most packets (each datagram delayed by its own 10–30 ms) makes
    ///   str0m count late packets as lost (a TWCC report lists a packet missing, a later one
    ///   received; its loss-based controller counts the first) and measure probe clusters
    ///   spread out. Even with no loss at all, its loss-based controller then held the
    ///   estimate of an unlimited link at 0.6–1.4 Mbit/s, dipping to 250 kbit/s (before the
    ///   fix above). Real paths keep most packets in order; the tests now reorder 5% of
    ///   datagrams, and keep the rest in order behind delay spikes.
    ///
    /// Measured with these fixes (one publisher's three layers to one subscriber; 5% random
    /// loss, 10–30 ms jitter, 5% reordering): on an unlimited link the estimate settles
    /// within 5 s at 1.3–3.6 Mbit/s (the top layer needs 0.86); capped at 3 Mbit/s,
    /// 1.0–3.5; at 400 kbit/s, 230–530 (the lowest or middle layer); at 100 kbit/s,
    /// 35–120, and the room goes audio-only 4–10 s after the drop. Back at 3 Mbit/s, video
    /// resumes within 6–12 s. With every datagram reordered (the old model) the estimate
    /// stays at 0.45–3.8 Mbit/s, dipping to the middle layer now and then, never to audio
    /// only.
    /// What remains, in str0m 0.25 itself:
    ///
    /// - A probe's result replaces the estimate even when far below what is getting
    ///   through (libwebrtc bounds it by 85% of the acknowledged rate): a probe measured
    ///   too low now and then drops an estimate for a few seconds on a lossy wide link.
    /// - Its loss-based controller does not raise an estimate while the loss it sees
    ///   exceeds what it attributes to the link, and does not probe meanwhile: at a few
    ///   tens of kbit/s with random loss that can last indefinitely, so the room starts
    ///   the estimate over while video is off for low bandwidth (`bandwidth_retry`).
    /// - Its pacer holds sound behind video: on a link whose estimate collapsed, what the
    ///   room had already sent drains for 2–4 s after video stops.
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
    /// the link recovered.
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
