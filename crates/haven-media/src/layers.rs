//! Simulcast: which layer of a publisher's video each subscriber gets, and switching between
//! layers only at keyframes so a subscriber's decoder never sees a frame it cannot decode.
//!
//! A publisher declares its layers in SDP (`a=simulcast:send q;h;f`), lowest first, as
//! Haven's browser client does. The room measures each layer's bitrate as it arrives and
//! spends each subscriber's bandwidth estimate on the layers it can afford, no larger than
//! the size at which the subscriber shows that publisher.

use std::time::{Duration, Instant};

use str0m::media::Rid;

use crate::forward::Packet;
use crate::rewrite::{Rewriter, Rewritten};

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
    /// Makes the layers forwarded one continuous stream.
    rewriter: Rewriter,
    /// The newest sequence number seen of each layer, to recognise packets that arrive
    /// late (retransmitted after newer ones went by).
    newest: Vec<(Layer, u64)>,
}

impl LayerSwitch {
    /// The packet as the subscriber gets it, if it is forwarded. The first packet of the
    /// target's keyframe completes a switch.
    ///
    /// A late keyframe never starts a switch: the packets after it went by while its layer
    /// was not forwarded, and would be missing for good.
    pub fn forward(&mut self, p: &Packet) -> Option<Rewritten> {
        let newest = self.is_newest(&p.layer, p.seq);
        let switching = self.current != self.target;
        if switching && self.target.as_ref() == Some(&p.layer) && p.keyframe && newest {
            self.current = self.target;
            self.asked_at = None;
            self.rewriter.start(p);
        }
        if self.current.as_ref() != Some(&p.layer) {
            return None;
        }
        self.rewriter.rewrite(p)
    }

    /// The packet as the subscriber gets it, for a track of one stream (audio), which is
    /// forwarded from its first packet on.
    pub fn forward_all(&mut self, p: &Packet) -> Option<Rewritten> {
        if !self.rewriter.is_started() {
            self.rewriter.start(p);
        }
        self.rewriter.rewrite(p)
    }

    /// Whether a packet of `layer` is newer than any seen of that layer before; records it
    /// as the newest if so.
    fn is_newest(&mut self, layer: &Layer, seq: u64) -> bool {
        let Some((_, newest)) = self.newest.iter_mut().find(|(l, _)| l == layer) else {
            self.newest.push((*layer, seq));
            return true;
        };
        if seq <= *newest {
            return false;
        }
        *newest = seq;
        true
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
            self.rewriter.stop();
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

    /// Whether forwarding could pause here without cutting a picture in two.
    pub fn between_pictures(&self) -> bool {
        self.rewriter.between_pictures()
    }

    /// The subscriber's decoder must start over (it just began receiving the track, or
    /// pictures were skipped): forward nothing until the target's next keyframe.
    pub fn restart(&mut self) {
        self.current = None;
        self.asked_at = None;
        self.rewriter.stop();
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
    use std::sync::{Arc, LazyLock};

    use super::*;

    fn rid(s: &str) -> Layer {
        Some(Rid::from(s))
    }

    /// One clock for every packet of a test, so arrival times are exact.
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);

    /// A packet of `layer` with sequence number `seq`, 1 ms and 90 ticks after `seq - 1`.
    fn packet(layer: &str, seq: u64, keyframe: bool) -> Packet {
        let at = *START + Duration::from_millis(seq);
        let mut p = Packet::test(seq, seq as u32 * 90, at, Arc::from(vec![0x10, 0x00]));
        p.layer = rid(layer);
        p.keyframe = keyframe;
        p
    }

    /// The sequence number the subscriber gets the packet at, if it is forwarded.
    fn sent(s: &mut LayerSwitch, layer: &str, seq: u64, keyframe: bool) -> Option<u64> {
        s.forward(&packet(layer, seq, keyframe)).map(|r| *r.seq)
    }

    #[test]
    fn a_switch_waits_for_the_new_layers_keyframe_and_keeps_the_old_one_until_then() {
        let now = Instant::now();
        let mut s = LayerSwitch::default();
        s.set_target(Some(rid("f")));
        assert_eq!(sent(&mut s, "f", 100, false), None, "no delta first");
        assert_eq!(s.keyframe_due(now), Some(rid("f")));
        assert_eq!(s.keyframe_due(now), None, "asked already");
        assert_eq!(sent(&mut s, "f", 101, true), Some(101));
        assert_eq!(sent(&mut s, "f", 102, false), Some(102));
        assert_eq!(sent(&mut s, "q", 7, true), None, "one layer only");

        s.set_target(Some(rid("q")));
        assert_eq!(
            sent(&mut s, "f", 103, false),
            Some(103),
            "the old layer flows until the switch"
        );
        assert_eq!(sent(&mut s, "q", 8, false), None);
        // The new layer continues the numbering, without a gap.
        assert_eq!(sent(&mut s, "q", 9, true), Some(104));
        assert_eq!(sent(&mut s, "f", 104, false), None, "the old one stops");
        assert_eq!(sent(&mut s, "q", 10, false), Some(105));

        s.set_target(None);
        assert_eq!(sent(&mut s, "q", 11, true), None, "pausing is immediate");
        assert_eq!(s.keyframe_due(now + KEYFRAME_RETRY), None);

        // Resuming after the pause: still no gap of the room's making.
        s.set_target(Some(rid("q")));
        assert_eq!(sent(&mut s, "q", 30, true), Some(106));
        // q's first packet went out one tick after f's last, whose clock was at 103 ms; q 30
        // arrived 20 ms after q 10.
        let time = s.forward(&packet("q", 31, false)).map(|r| r.time);
        assert_eq!(
            time,
            Some((103 * 90 + 1) + 90 + 20 * 90 + 90),
            "time goes on"
        );
    }

    #[test]
    fn a_late_packet_of_the_current_layer_fills_its_gap_and_a_late_keyframe_starts_no_switch() {
        let now = Instant::now();
        let mut s = LayerSwitch::default();
        s.set_target(Some(rid("h")));
        assert_eq!(sent(&mut s, "h", 10, true), Some(10));
        assert_eq!(sent(&mut s, "h", 12, false), Some(12));
        assert_eq!(
            sent(&mut s, "h", 11, false),
            Some(11),
            "retransmitted, in its place"
        );
        assert_eq!(sent(&mut s, "q", 50, false), None);

        // Down to q and back up to h: h's keyframe comes late, released by a retransmission
        // after newer h packets went by unforwarded; the switch waits for a fresh one.
        s.set_target(Some(rid("q")));
        assert_eq!(sent(&mut s, "q", 51, true), Some(13));
        assert_eq!(sent(&mut s, "h", 14, false), None);
        s.set_target(Some(rid("h")));
        assert_eq!(s.keyframe_due(now), Some(rid("h")));
        assert_eq!(sent(&mut s, "h", 13, true), None, "a late keyframe");
        assert_eq!(sent(&mut s, "q", 52, false), Some(14));
        assert_eq!(sent(&mut s, "h", 15, true), Some(15));
        assert_eq!(sent(&mut s, "q", 53, false), None);
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
