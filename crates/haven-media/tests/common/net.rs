//! The simulated network between the room and its clients: seeded random loss and jitter
//! (which reorders datagrams), and optionally a bottleneck link per client and direction.
//!
//! Random loss is what a bad radio does: each datagram is lost by chance, whatever the load.
//! A bottleneck is what congestion does: datagrams leave a drop-tail queue one after another
//! at the link's rate, so sending faster than the rate first builds queueing delay and then
//! loses whatever arrives at a full queue.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::Rng;

/// IPv4 and UDP headers: what a datagram costs on a link beyond its payload.
const HEADER_BYTES: u64 = 28;

/// Which way a datagram crosses a client's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Way {
    /// From the room to the client.
    Down,
    /// From the client to the room.
    Up,
}

/// A bottleneck: a drop-tail queue drained at `rate_bps`.
#[derive(Debug, Clone)]
pub struct Link {
    /// The link's rate, bits per second.
    pub rate_bps: u64,
    /// The most queueing delay the queue holds: a datagram that would wait longer is dropped
    /// (the queue's byte capacity is this much time at the current rate).
    pub queue_limit: Duration,
    /// When the link finishes sending everything queued so far.
    busy_until: Option<Instant>,
    /// Datagrams and bytes offered to the link, and datagrams its queue dropped.
    pub offered: u64,
    pub offered_bytes: u64,
    pub dropped: u64,
    /// The longest a datagram waited in the queue.
    pub max_wait: Duration,
}

impl Link {
    pub fn new(rate_bps: u64, queue_limit: Duration) -> Self {
        Link {
            rate_bps,
            queue_limit,
            busy_until: None,
            offered: 0,
            offered_bytes: 0,
            dropped: 0,
            max_wait: Duration::ZERO,
        }
    }

    /// Queues a datagram of `len` bytes at `now`: when its last bit leaves the link, or
    /// `None` if the queue is full.
    fn enqueue(&mut self, now: Instant, len: usize) -> Option<Instant> {
        let bits = (len as u64 + HEADER_BYTES) * 8;
        self.offered += 1;
        self.offered_bytes += len as u64 + HEADER_BYTES;
        let start = self.busy_until.map_or(now, |t| t.max(now));
        let wait = start.saturating_duration_since(now);
        if wait > self.queue_limit {
            self.dropped += 1;
            return None;
        }
        self.max_wait = self.max_wait.max(wait);
        let nanos = bits.saturating_mul(1_000_000_000) / self.rate_bps.max(1);
        let done = start + Duration::from_nanos(nanos);
        self.busy_until = Some(done);
        Some(done)
    }
}

/// An in-flight datagram.
pub struct Packet {
    pub deliver_at: Instant,
    /// Send order, to break ties deterministically.
    seq: u64,
    pub source: SocketAddr,
    pub destination: SocketAddr,
    pub contents: Vec<u8>,
}

/// Everything between the room's address and the clients' addresses.
pub struct Network {
    /// The room's address: datagrams to it go up a client's link, from it down.
    server: SocketAddr,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Loss on one client's link (both directions), instead of `loss`.
    pub link_loss: HashMap<SocketAddr, f64>,
    /// One-way delay is `base_delay` plus up to `jitter`, drawn per datagram (after any
    /// bottleneck).
    pub base_delay: Duration,
    pub jitter: Duration,
    /// The probability that a datagram is reordered: it takes its own delay and may overtake
    /// or fall behind its neighbours. Every other datagram keeps its order on its path (a
    /// delay spike holds back the ones behind it, as on a real link).
    pub reorder: f64,
    /// Bottlenecks, by client address and direction. None by default.
    links: HashMap<(SocketAddr, Way), Link>,
    /// When the latest in-order datagram on each path (source, destination) arrives.
    path_tail: HashMap<(SocketAddr, SocketAddr), Instant>,
    /// Addresses that no longer exist (a client left that network): datagrams from or to
    /// them vanish.
    dead: HashSet<SocketAddr>,
    rng: Rng,
    in_flight: Vec<Packet>,
    seq: u64,
}

impl Network {
    pub fn new(seed: u64, loss: f64, server: SocketAddr) -> Self {
        Network {
            server,
            loss,
            link_loss: HashMap::new(),
            base_delay: Duration::from_millis(10),
            jitter: Duration::from_millis(20),
            reorder: 0.05,
            path_tail: HashMap::new(),
            links: HashMap::new(),
            dead: HashSet::new(),
            rng: Rng::new(seed),
            in_flight: Vec::new(),
            seq: 0,
        }
    }

    /// Puts a bottleneck on a client's link in one direction, or changes its rate and queue
    /// (datagrams already queued keep their departure times).
    pub fn set_link(&mut self, client: SocketAddr, way: Way, rate_bps: u64, queue: Duration) {
        let link = self
            .links
            .entry((client, way))
            .or_insert_with(|| Link::new(rate_bps, queue));
        link.rate_bps = rate_bps;
        link.queue_limit = queue;
    }

    /// The bottleneck on a client's link in one direction, if any.
    pub fn link(&self, client: SocketAddr, way: Way) -> Option<&Link> {
        self.links.get(&(client, way))
    }

    /// The address no longer exists: nothing more is delivered from or to it.
    pub fn kill(&mut self, addr: SocketAddr) {
        self.dead.insert(addr);
        self.in_flight
            .retain(|p| p.source != addr && p.destination != addr);
    }

    /// Sends a datagram at `now`.
    pub fn send(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        contents: Vec<u8>,
    ) {
        if self.dead.contains(&source) || self.dead.contains(&destination) {
            return;
        }
        let (client, way) = match destination == self.server {
            true => (source, Way::Up),
            false => (destination, Way::Down),
        };
        let loss = self
            .link_loss
            .get(&source)
            .or_else(|| self.link_loss.get(&destination))
            .copied()
            .unwrap_or(self.loss);
        if self.rng.chance(loss) {
            return;
        }
        let departed = match self.links.get_mut(&(client, way)) {
            Some(link) => match link.enqueue(now, contents.len()) {
                Some(t) => t,
                None => return,
            },
            None => now,
        };
        // 10–30 ms of one-way delay, drawn per datagram.
        let jitter = self.jitter.as_millis() as u64;
        let delay = self.base_delay + Duration::from_millis(self.rng.below(jitter + 1));
        let mut deliver_at = departed + delay;
        if !self.rng.chance(self.reorder) {
            let tail = self
                .path_tail
                .entry((source, destination))
                .or_insert(deliver_at);
            deliver_at = deliver_at.max(*tail);
            *tail = deliver_at;
        }
        self.seq += 1;
        self.in_flight.push(Packet {
            deliver_at,
            seq: self.seq,
            source,
            destination,
            contents,
        });
    }

    /// When the next datagram arrives, if any is in flight.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.iter().map(|p| p.deliver_at).min()
    }

    /// Takes the datagrams due by `now`, in delivery order.
    pub fn due(&mut self, now: Instant) -> Vec<Packet> {
        let mut due: Vec<Packet> = Vec::new();
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].deliver_at <= now {
                due.push(self.in_flight.swap_remove(i));
            } else {
                i += 1;
            }
        }
        due.sort_by_key(|p| (p.deliver_at, p.seq));
        due
    }
}
