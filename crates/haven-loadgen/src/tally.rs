//! What one peer counts as a receiver: which stamped frames arrived from whom (for loss),
//! how long they took (delay), and how many RTP packets and bytes arrived or left per
//! second (from str0m's periodic stats, which include retransmissions).

use std::collections::HashMap;
use std::hash::Hash;

use crate::histogram::Histogram;
use crate::seqset::SeqSet;
use crate::stamp::Stamp;
use crate::timeline::{Kind, Timeline};

/// The frames one peer received.
#[derive(Debug, Default)]
pub struct Received {
    /// Frame numbers sent inside the window, per publisher and kind.
    pub frames: HashMap<(u32, Kind), SeqSet>,
    /// One-way delay (send to delivery by str0m) of frames sent inside the window.
    pub delay: [Histogram; 2],
    /// Frames without a valid stamp, or naming a publisher that does not exist.
    pub malformed: u64,
    /// Every stamped frame received, inside the window or not.
    pub total: u64,
}

impl Received {
    /// Counts one received frame of `kind` at `now_us`; `peers` is how many publishers
    /// exist, so that a stamp naming another cannot grow the tables.
    pub fn on_frame(
        &mut self,
        timeline: &Timeline,
        now_us: u64,
        kind: Kind,
        data: &[u8],
        peers: u32,
    ) {
        let Some(stamp) = Stamp::read(data).filter(|s| s.publisher < peers) else {
            self.malformed += 1;
            return;
        };
        self.total += 1;
        if !timeline.in_window(stamp.sent_us) {
            return;
        }
        let set = self.frames.entry((stamp.publisher, kind)).or_default();
        if set.insert(stamp.seq) {
            self.delay[kind as usize].record(now_us.saturating_sub(stamp.sent_us));
        }
    }

    /// Counts one frame str0m delivered, as arrived when the datagram that completed it
    /// reached the peer's socket.
    pub fn on_media(&mut self, timeline: &Timeline, data: &str0m::media::MediaData, peers: u32) {
        let kind = if data.params.spec().codec.is_audio() {
            Kind::Audio
        } else {
            Kind::Video
        };
        let arrived = timeline.micros(data.network_time);
        self.on_frame(timeline, arrived, kind, &data.data, peers);
    }

    /// Frames without a valid stamp, or with a frame number implausibly far from the rest.
    pub fn malformed_total(&self) -> u64 {
        self.malformed + self.frames.values().map(SeqSet::out_of_range).sum::<u64>()
    }

    /// Distinct frames received from `publisher` inside the window.
    pub fn count(&self, publisher: u32, kind: Kind) -> u64 {
        self.frames.get(&(publisher, kind)).map_or(0, SeqSet::len)
    }
}

/// Packets and bytes over a stretch of time.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Rate {
    pub packets: u64,
    pub bytes: u64,
    pub seconds: f64,
}

/// Cumulative packet and byte counters reported per stream (mid and rid) at intervals;
/// the rate over the window runs from the first report inside it to the last.
#[derive(Debug)]
pub struct RateMeter<K> {
    /// The latest cumulative (packets, bytes) of each stream.
    current: HashMap<K, (u64, u64)>,
    /// Totals over all streams after each report time (µs since the epoch).
    batches: Vec<(u64, u64, u64)>,
}

impl<K> Default for RateMeter<K> {
    fn default() -> Self {
        RateMeter {
            current: HashMap::new(),
            batches: Vec::new(),
        }
    }
}

impl<K: Hash + Eq> RateMeter<K> {
    /// Records one stream's cumulative counters as reported at `at_us`. Streams reported at
    /// the same instant form one batch.
    pub fn update(&mut self, at_us: u64, stream: K, packets: u64, bytes: u64) {
        self.current.insert(stream, (packets, bytes));
        let (p, b) = self
            .current
            .values()
            .fold((0, 0), |(p, b), (sp, sb)| (p + sp, b + sb));
        match self.batches.last_mut() {
            Some(last) if last.0 == at_us => *last = (at_us, p, b),
            _ => self.batches.push((at_us, p, b)),
        }
    }

    /// The rate between the first and the last report inside `[start, end)`; `None` when
    /// fewer than two reports fell inside.
    pub fn over(&self, (start, end): (u64, u64)) -> Option<Rate> {
        let mut inside = self.batches.iter().filter(|b| b.0 >= start && b.0 < end);
        let first = inside.next()?;
        let last = inside.next_back()?;
        Some(Rate {
            packets: last.1.saturating_sub(first.1),
            bytes: last.2.saturating_sub(first.2),
            seconds: (last.0 - first.0) as f64 / 1e6,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn frame(publisher: u32, seq: u32, sent_us: u64) -> Vec<u8> {
        let mut f = vec![0x11; 40];
        Stamp {
            publisher,
            layer: 0,
            seq,
            sent_us,
        }
        .write(&mut f);
        f
    }

    #[test]
    fn counts_frames_sent_inside_the_window_once_each() {
        let epoch = Instant::now();
        let t = Timeline::new(epoch);
        t.set_window(
            epoch + Duration::from_secs(1),
            epoch + Duration::from_secs(2),
        );
        let mut r = Received::default();
        r.on_frame(&t, 1_100_000, Kind::Video, &frame(0, 1, 900_000), 2);
        r.on_frame(&t, 1_100_000, Kind::Video, &frame(0, 2, 1_000_000), 2);
        r.on_frame(&t, 1_300_000, Kind::Video, &frame(0, 4, 1_200_000), 2);
        r.on_frame(&t, 1_300_000, Kind::Video, &frame(0, 3, 1_100_000), 2);
        r.on_frame(&t, 1_400_000, Kind::Video, &frame(0, 3, 1_100_000), 2);
        r.on_frame(&t, 2_100_000, Kind::Video, &frame(0, 5, 2_000_000), 2);
        r.on_frame(&t, 1_100_000, Kind::Video, &frame(9, 1, 1_000_000), 2);
        r.on_frame(&t, 1_100_000, Kind::Audio, &[0xFC; 80], 2);
        assert_eq!(r.count(0, Kind::Video), 3, "frames 2, 3 and 4");
        assert_eq!(r.count(0, Kind::Audio), 0);
        assert_eq!(
            r.malformed, 2,
            "an unknown publisher and an unstamped frame"
        );
        assert_eq!(r.total, 6);
        let delay = &r.delay[Kind::Video as usize];
        assert_eq!(delay.count(), 3, "the duplicate is not timed twice");
        assert_eq!(delay.max(), 200_000);
    }

    #[test]
    fn rates_run_between_reports_inside_the_window() {
        let mut m = RateMeter::default();
        assert_eq!(m.over((0, 10)), None);
        for (at, a, b) in [(0, 0, 0), (1_000_000, 100, 50), (2_000_000, 200, 100)] {
            m.update(at, "a", a, a * 1000);
            m.update(at, "b", b, b * 1000);
        }
        m.update(3_000_000, "a", 300, 300_000);
        let r = m.over((500_000, 3_000_001)).expect("three reports inside");
        // From 100 + 50 at 1 s to 300 + 100 at 3 s ("b" kept its last report).
        assert_eq!(r.packets, 250);
        assert_eq!(r.bytes, 250_000);
        assert!((r.seconds - 2.0).abs() < 1e-9);
        assert_eq!(m.over((500_000, 1_500_000)), None, "one report is no rate");
    }
}
