//! Per-participant connection quality, from str0m's periodic peer statistics.

use std::time::Instant;

use str0m::stats::PeerStats;

/// How well one participant's connection is doing, as the server sees it.
///
/// Whole numbers so events stay comparable (`Eq`) and print the same on every platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionQuality {
    /// Packets lost, in parts per thousand: the worse of the participant's uplink (what
    /// the server failed to receive) and downlink (what it reported not receiving).
    pub loss_permille: u16,
    /// Loss on the uplink alone, parts per thousand.
    pub uplink_loss_permille: u16,
    /// Loss on the downlink alone, parts per thousand.
    pub downlink_loss_permille: u16,
    /// Round-trip time between the server and the participant, once measured.
    pub rtt_ms: Option<u32>,
    /// What the participant sent the server in the last interval, kbit/s.
    pub in_kbps: u32,
    /// What the server sent the participant in the last interval, kbit/s.
    pub out_kbps: u32,
    /// The server's estimate of the participant's downlink capacity, kbit/s, once known.
    pub estimate_kbps: Option<u32>,
}

/// Turns str0m's cumulative counters into one [`ConnectionQuality`] per interval.
#[derive(Debug, Default)]
pub(crate) struct QualityMeter {
    /// The previous sample: when, and total bytes received and sent by then.
    last: Option<(Instant, u64, u64)>,
    /// The latest report, for queries between events.
    latest: Option<ConnectionQuality>,
}

impl QualityMeter {
    /// Takes one statistics event; returns a report once two samples span an interval.
    pub fn on_stats(&mut self, s: &PeerStats) -> Option<ConnectionQuality> {
        let now = s.timestamp;
        let previous = self.last.replace((now, s.peer_bytes_rx, s.peer_bytes_tx));
        let (then, rx, tx) = previous?;
        let ms = u64::try_from(now.saturating_duration_since(then).as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let kbps = |bytes: u64| u32::try_from(bytes.saturating_mul(8) / ms).unwrap_or(u32::MAX);
        let uplink = permille(s.ingress_loss_fraction);
        let downlink = permille(s.egress_loss_fraction);
        let rtt = s.rtt.or_else(|| {
            s.selected_candidate_pair
                .as_ref()
                .and_then(|p| p.current_round_trip_time)
        });
        let q = ConnectionQuality {
            loss_permille: uplink.max(downlink),
            uplink_loss_permille: uplink,
            downlink_loss_permille: downlink,
            rtt_ms: rtt.map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
            in_kbps: kbps(s.peer_bytes_rx.saturating_sub(rx)),
            out_kbps: kbps(s.peer_bytes_tx.saturating_sub(tx)),
            estimate_kbps: s
                .bwe_tx
                .map(|b| u32::try_from(b.as_u64() / 1000).unwrap_or(u32::MAX)),
        };
        self.latest = Some(q);
        Some(q)
    }

    /// The latest report, if one was made.
    pub fn latest(&self) -> Option<ConnectionQuality> {
        self.latest
    }
}

/// A loss fraction from str0m (0.0–1.0, or nonsense from a hostile peer's reports) as
/// parts per thousand.
fn permille(fraction: Option<f32>) -> u16 {
    let f = fraction.unwrap_or(0.0);
    if f.is_nan() {
        return 0;
    }
    // Clamped first, so the cast cannot truncate.
    (f.clamp(0.0, 1.0) * 1000.0).round() as u16
}

#[cfg(test)]
mod tests {
    use super::permille;

    #[test]
    fn loss_fractions_become_permille_even_when_nonsense() {
        assert_eq!(permille(None), 0);
        assert_eq!(permille(Some(0.05)), 50);
        assert_eq!(permille(Some(f32::NAN)), 0);
        assert_eq!(permille(Some(-3.0)), 0);
        assert_eq!(permille(Some(7.0)), 1000);
    }
}
