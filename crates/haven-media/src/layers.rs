//! Simulcast: which layer of a publisher's video each subscriber gets, and switching between
//! layers only at keyframes so a subscriber's decoder never sees a frame it cannot decode.
//!
//! A publisher declares its layers in SDP (`a=simulcast:send q;h;f`), lowest first, as
//! Haven's browser client does. The room measures each layer's bitrate as it arrives and
//! spends each subscriber's bandwidth estimate on the layers it can afford, no larger than
//! the size at which the subscriber shows that publisher.

use std::time::{Duration, Instant};

use str0m::media::{MediaTime, Rid};

/// One stream of a published video: a simulcast layer's rid, or `None` for a publisher that
/// sends a single stream.
pub(crate) type Layer = Option<Rid>;

/// A layer that has sent nothing for this long is taken to be paused by its publisher
/// (browsers drop top layers when their own uplink is short).
const LAYER_INACTIVE_AFTER: Duration = Duration::from_millis(1500);

/// Bitrates are measured over windows of this length.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// RTP, SRTP and UDP headers and the estimate's own noise: a layer costs this much more
/// (in percent) than its payload bitrate.
const COST_PERCENT: u64 = 120;

/// If the publisher has not sent the keyframe a switch waits for, ask again after this long.
const KEYFRAME_RETRY: Duration = Duration::from_millis(500);

/// The switch between layers of one published video, for one subscriber.
///
/// `current` is forwarded; `target` is wanted. A move to a different layer waits for that
/// layer's keyframe and keeps forwarding `current` until then, so pictures never freeze or
/// break; a move to nothing (audio-only, publisher muted) is immediate.
#[derive(Debug, Default)]
pub(crate) struct LayerSwitch {
    /// The layer being forwarded, if any.
    current: Option<Layer>,
    /// The layer wanted, if any.
    target: Option<Layer>,
    /// When the publisher was last asked for the target's keyframe.
    asked_at: Option<Instant>,
    /// The (shifted) media time of the latest frame forwarded.
    last_time: Option<MediaTime>,
    /// How far the current layer's media times are shifted, in its clock's units.
    offset: u64,
    /// The newest media time seen of each layer, to recognise frames that arrive late: str0m
    /// releases a frame whose packets took a retransmission after newer frames of the same
    /// layer went by.
    newest: Vec<(Layer, MediaTime)>,
}

impl LayerSwitch {
    /// Whether a frame of `layer` at media time `time` is forwarded, and at which media
    /// time. A keyframe of the target completes a switch.
    ///
    /// The layers of one picture share a timestamp, and the new layer's keyframe often
    /// arrives after the old layer's frame of the same picture (or later still, after a
    /// retransmission). Written as is, the subscriber's receiver would glue the two into one
    /// frame or see time go back; so the new layer's times are shifted to continue just
    /// after the last frame sent, for as long as it is forwarded.
    ///
    /// A frame older than one already seen of its layer is dropped, and never starts a
    /// switch: forwarded, it would show an older picture after newer ones (a late keyframe
    /// would even restart the layer from the past).
    pub fn forward(&mut self, layer: &Layer, keyframe: bool, time: MediaTime) -> Option<MediaTime> {
        if self.is_late(layer, time) {
            return None;
        }
        let switching = self.current != self.target;
        if switching && self.target.as_ref() == Some(layer) && keyframe {
            self.current = self.target;
            self.asked_at = None;
            self.offset = match self.last_time {
                Some(last) if last.frequency() == time.frequency() && last >= time => {
                    last.numer() - time.numer() + 1
                }
                _ => 0,
            };
        }
        if self.current.as_ref() != Some(layer) {
            return None;
        }
        let out = MediaTime::new(time.numer().saturating_add(self.offset), time.frequency());
        self.last_time = Some(self.last_time.map_or(out, |last| last.max(out)));
        Some(out)
    }

    /// Whether a frame of `layer` at `time` is older than one seen of that layer before;
    /// records it as the newest otherwise.
    fn is_late(&mut self, layer: &Layer, time: MediaTime) -> bool {
        let Some((_, newest)) = self.newest.iter_mut().find(|(l, _)| l == layer) else {
            self.newest.push((*layer, time));
            return false;
        };
        if newest.frequency() == time.frequency() && time.numer() < newest.numer() {
            return true;
        }
        *newest = time;
        false
    }

    /// Sets the wanted layer.
    pub fn set_target(&mut self, target: Option<Layer>) {
        if target == self.target {
            return;
        }
        self.target = target;
        self.asked_at = None;
        if target.is_none() {
            self.current = None;
        }
    }

    /// The layer being forwarded, if any.
    pub fn current(&self) -> Option<Layer> {
        self.current
    }

    /// The layer whose keyframe should be asked for now, if a switch waits for one and was
    /// not asked for recently.
    pub fn keyframe_due(&mut self, now: Instant) -> Option<Layer> {
        let target = self.target?;
        if self.current == Some(target) {
            return None;
        }
        let recent = self
            .asked_at
            .is_some_and(|t| now.saturating_duration_since(t) < KEYFRAME_RETRY);
        if recent {
            return None;
        }
        self.asked_at = Some(now);
        Some(target)
    }

    /// The subscriber's decoder must start over (it just began receiving the track):
    /// forward nothing until the target's next keyframe.
    pub fn restart(&mut self) {
        self.current = None;
        self.asked_at = None;
    }
}

/// The incoming bitrate of one layer of a published video.
#[derive(Debug)]
pub(crate) struct LayerMeter {
    /// Which layer.
    pub layer: Layer,
    /// Payload bytes in the current window.
    bytes: u64,
    /// When the current window began.
    window_start: Option<Instant>,
    /// The bitrate of the last complete window, bits per second.
    bps: u64,
    /// When the layer last sent anything.
    last_seen: Option<Instant>,
}

impl LayerMeter {
    pub fn new(layer: Layer) -> Self {
        LayerMeter {
            layer,
            bytes: 0,
            window_start: None,
            bps: 0,
            last_seen: None,
        }
    }

    /// Counts a frame of `len` payload bytes.
    pub fn record(&mut self, now: Instant, len: usize) {
        self.last_seen = Some(now);
        let start = *self.window_start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= RATE_WINDOW {
            let ms = u64::try_from(elapsed.as_millis())
                .unwrap_or(u64::MAX)
                .max(1);
            self.bps = self.bytes.saturating_mul(8_000) / ms;
            self.bytes = 0;
            self.window_start = Some(now);
        }
        self.bytes = self.bytes.saturating_add(len as u64);
    }

    /// The layer's measured bitrate while it is being sent (0 before the first window
    /// completes), or `None` if the publisher has paused or never sent it.
    pub fn rate(&self, now: Instant) -> Option<u64> {
        let seen = self.last_seen?;
        (now.saturating_duration_since(seen) < LAYER_INACTIVE_AFTER).then_some(self.bps)
    }
}

/// One subscriber's view of one published video, as input to [`allocate`].
#[derive(Debug)]
pub(crate) struct Candidate {
    /// The layers being sent, lowest first, with their bitrates.
    pub layers: Vec<(Layer, u64)>,
    /// How many of the lowest layers the subscriber's display size justifies (at least 1).
    pub useful: usize,
}

impl Candidate {
    /// What forwarding layer `i` costs, bits per second.
    pub fn cost(&self, i: usize) -> u64 {
        self.layers
            .get(i)
            .map_or(0, |(_, bps)| bps * COST_PERCENT / 100)
    }

    /// The highest layer worth sending, by display size alone.
    fn top(&self) -> usize {
        self.useful.min(self.layers.len()).saturating_sub(1)
    }
}

/// Spends `budget` (bits per second) on the candidates: every one gets its lowest layer, then
/// layers are raised one step at a time, round-robin so no publisher is starved, while the
/// budget lasts. Returns the chosen layer index per candidate (`None` when it sends nothing).
pub(crate) fn allocate(budget: u64, candidates: &[Candidate]) -> Vec<Option<usize>> {
    let mut chosen: Vec<Option<usize>> = candidates
        .iter()
        .map(|c| (!c.layers.is_empty()).then_some(0))
        .collect();
    let mut left = candidates
        .iter()
        .map(|c| c.cost(0))
        .fold(budget, u64::saturating_sub);
    loop {
        let mut raised = false;
        for (c, choice) in candidates.iter().zip(chosen.iter_mut()) {
            let Some(i) = *choice else { continue };
            if i >= c.top() {
                continue;
            }
            let extra = c.cost(i + 1).saturating_sub(c.cost(i));
            if extra <= left {
                left -= extra;
                *choice = Some(i + 1);
                raised = true;
            }
        }
        if !raised {
            return chosen;
        }
    }
}

/// How many of a publisher's `declared` layers (lowest first) a tile of this size needs:
/// layer `i` of `n` is taken to be `top_height / 2^(n-1-i)` pixels high.
pub(crate) fn useful_layers(
    display: Option<(u32, u32)>,
    declared: usize,
    top_height: u32,
) -> usize {
    let Some((width, height)) = display else {
        return declared.max(1);
    };
    // A 16:9 picture fitted to the tile: the larger of the two constraints decides.
    let needed = u64::from(height).max(u64::from(width) * 9 / 16);
    for i in 0..declared {
        let shift = u32::try_from(declared - 1 - i).unwrap_or(u32::MAX);
        let layer_height = u64::from(top_height).checked_shr(shift).unwrap_or(0);
        if layer_height >= needed {
            return i + 1;
        }
    }
    declared.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rid(s: &str) -> Layer {
        Some(Rid::from(s))
    }

    #[test]
    fn a_switch_waits_for_the_new_layers_keyframe_and_keeps_the_old_one_until_then() {
        let now = Instant::now();
        let t = MediaTime::from_90khz;
        let mut s = LayerSwitch::default();
        s.set_target(Some(rid("f")));
        assert_eq!(s.forward(&rid("f"), false, t(0)), None, "no delta first");
        assert_eq!(s.keyframe_due(now), Some(rid("f")));
        assert_eq!(s.keyframe_due(now), None, "asked already");
        assert_eq!(s.forward(&rid("f"), true, t(3000)), Some(t(3000)));
        assert_eq!(s.forward(&rid("f"), false, t(6000)), Some(t(6000)));
        assert_eq!(s.forward(&rid("q"), true, t(6000)), None, "one layer only");

        s.set_target(Some(rid("q")));
        assert_eq!(
            s.forward(&rid("f"), false, t(9000)),
            Some(t(9000)),
            "the old layer flows until the switch"
        );
        assert_eq!(s.forward(&rid("q"), false, t(9000)), None);
        // The keyframe of the same picture continues just after it, and so does its layer.
        assert_eq!(s.forward(&rid("q"), true, t(9000)), Some(t(9001)));
        assert_eq!(
            s.forward(&rid("f"), false, t(12000)),
            None,
            "the old one stops"
        );
        assert_eq!(s.forward(&rid("q"), false, t(12000)), Some(t(12001)));

        s.set_target(None);
        assert_eq!(
            s.forward(&rid("q"), true, t(15000)),
            None,
            "pausing is immediate"
        );
        assert_eq!(s.keyframe_due(now + KEYFRAME_RETRY), None);

        // Resuming after the pause: a newer keyframe needs no shift.
        s.set_target(Some(rid("q")));
        assert_eq!(s.forward(&rid("q"), true, t(90000)), Some(t(90000)));
    }

    #[test]
    fn a_late_frame_is_dropped_and_a_late_keyframe_starts_no_switch() {
        let now = Instant::now();
        let t = MediaTime::from_90khz;
        let mut s = LayerSwitch::default();
        s.set_target(Some(rid("h")));
        assert_eq!(s.forward(&rid("h"), true, t(3000)), Some(t(3000)));
        assert_eq!(s.forward(&rid("h"), false, t(9000)), Some(t(9000)));
        assert_eq!(s.forward(&rid("h"), false, t(6000)), None, "late");
        assert_eq!(s.forward(&rid("q"), false, t(12000)), None);

        // Down to q and back up to h: h's keyframe of a picture already passed comes late,
        // released after a retransmission; the switch waits for a fresh one.
        s.set_target(Some(rid("q")));
        assert_eq!(s.forward(&rid("q"), true, t(15000)), Some(t(15000)));
        assert_eq!(s.forward(&rid("h"), false, t(15000)), None);
        s.set_target(Some(rid("h")));
        assert_eq!(s.keyframe_due(now), Some(rid("h")));
        assert_eq!(
            s.forward(&rid("h"), true, t(12000)),
            None,
            "a late keyframe"
        );
        assert_eq!(s.forward(&rid("q"), false, t(18000)), Some(t(18000)));
        assert_eq!(s.forward(&rid("h"), true, t(21000)), Some(t(21000)));
        assert_eq!(s.forward(&rid("q"), false, t(21000)), None);
    }

    #[test]
    fn allocation_gives_everyone_the_lowest_layer_then_raises_within_budget() {
        let three = |useful| Candidate {
            layers: vec![
                (rid("q"), 100_000),
                (rid("h"), 300_000),
                (rid("f"), 1_000_000),
            ],
            useful,
        };
        assert_eq!(allocate(10_000_000, &[three(3)]), vec![Some(2)]);
        assert_eq!(allocate(500_000, &[three(3)]), vec![Some(1)]);
        assert_eq!(allocate(0, &[three(3)]), vec![Some(0)]);
        assert_eq!(allocate(10_000_000, &[three(1)]), vec![Some(0)]);
        // Two publishers share: both get the middle layer rather than one the top.
        assert_eq!(
            allocate(1_400_000, &[three(3), three(3)]),
            vec![Some(1), Some(1)]
        );
        let empty = Candidate {
            layers: vec![],
            useful: 3,
        };
        assert_eq!(allocate(1_000_000, &[empty]), vec![None]);
    }

    #[test]
    fn display_size_maps_to_layers() {
        assert_eq!(useful_layers(None, 3, 720), 3);
        assert_eq!(useful_layers(Some((160, 90)), 3, 720), 1);
        assert_eq!(useful_layers(Some((640, 360)), 3, 720), 2);
        assert_eq!(useful_layers(Some((1280, 720)), 3, 720), 3);
        assert_eq!(useful_layers(Some((4000, 4000)), 3, 720), 3);
        assert_eq!(useful_layers(Some((0, 0)), 1, 720), 1);
        assert_eq!(useful_layers(Some((u32::MAX, u32::MAX)), 0, 0), 1);
    }
}
