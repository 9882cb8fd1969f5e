//! Counters of the media transport, for metrics and tests.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of the media transport's counters (totals since start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// UDP datagrams and ICE-TCP frames read from the network.
    pub datagrams_received: u64,
    /// Of those, handed to a room's inbox.
    pub datagrams_routed: u64,
    /// Well-formed packets (STUN with an unknown username fragment, DTLS, RTP/RTCP) from
    /// an address no room knows: strays, scans, or peers of a room that has ended.
    pub dropped_unknown_source: u64,
    /// Packets from an unknown address that are not STUN, DTLS or RTP at all, truncated
    /// STUN, and bad ICE-TCP frames (zero length or too long).
    pub dropped_malformed: u64,
    /// Packets dropped because their room's inbox was full (the room cannot keep up).
    pub dropped_queue_full: u64,
    /// ICE-TCP connections accepted.
    pub tcp_connections: u64,
    /// Room events dropped because the room's event channel was full.
    pub events_dropped: u64,
    /// Room tasks that panicked (each ended its room only).
    pub room_panics: u64,
}

/// The live counters. Relaxed ordering: each is an independent tally; nothing is
/// synchronised through them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub datagrams_received: AtomicU64,
    pub datagrams_routed: AtomicU64,
    pub dropped_unknown_source: AtomicU64,
    pub dropped_malformed: AtomicU64,
    pub dropped_queue_full: AtomicU64,
    pub tcp_connections: AtomicU64,
    pub events_dropped: AtomicU64,
    pub room_panics: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub fn snapshot(&self) -> MediaStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MediaStats {
            datagrams_received: get(&self.datagrams_received),
            datagrams_routed: get(&self.datagrams_routed),
            dropped_unknown_source: get(&self.dropped_unknown_source),
            dropped_malformed: get(&self.dropped_malformed),
            dropped_queue_full: get(&self.dropped_queue_full),
            tcp_connections: get(&self.tcp_connections),
            events_dropped: get(&self.events_dropped),
            room_panics: get(&self.room_panics),
        }
    }
}
