//! Turns what the peers measured into the run's summary: participants and failures (with
//! reasons), forwarded packets per second, loss per direction, delay, and the CPU and
//! memory of both processes. Printed as text, or as one JSON object with `--json`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cli::Args;
use crate::histogram::Histogram;
use crate::peer::PeerResult;
use crate::run::Outcome;
use crate::tally::Rate;
use crate::timeline::Kind;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub scenario: Scenario,
    /// Participants asked for.
    pub participants: usize,
    /// Participants whose ICE and DTLS completed.
    pub connected: usize,
    /// Why the others did not connect, with how many each reason hit.
    pub failures: BTreeMap<String, usize>,
    /// Of the failures, those where ICE connected but DTLS never completed.
    pub dtls_stalled: usize,
    /// Participants that connected but left the call before the end, and why.
    pub dropped: BTreeMap<String, usize>,
    /// Error messages the server sent during the run, by text with numbers as `N`.
    pub signal_errors: BTreeMap<String, usize>,
    /// From the start of a join to ICE and DTLS connected, in milliseconds.
    pub connect_ms: Quantiles,
    /// The measured window, in seconds.
    pub window_s: f64,
    /// RTP received by all participants: what the server forwarded.
    pub forwarded: Traffic,
    /// RTP sent by all participants.
    pub published: Traffic,
    pub audio: KindFigures,
    pub video: KindFigures,
    /// The highest loss of any one publisher-to-subscriber direction and kind, percent.
    pub worst_direction_loss_pct: f64,
    pub loadgen: Loadgen,
    /// With --server-pid.
    pub server: Option<Server>,
    pub machine: Machine,
}

/// The whole machine during the window, to judge how noisy the figures are.
#[derive(Debug, Default, Serialize)]
pub struct Machine {
    pub cpus: usize,
    /// Busy CPU seconds per second, everything included.
    pub busy_cores: Option<f64>,
    /// Of those, software interrupts (the kernel carrying loopback datagrams).
    pub softirq_cores: Option<f64>,
    /// Of those, what neither the load generator, the server (if known) nor software
    /// interrupts used: other processes on the machine.
    pub other_cores: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Scenario {
    pub rooms: usize,
    pub participants_per_room: usize,
    pub audio_kbps: u32,
    pub video_kbps: u32,
    pub fps: u32,
    pub simulcast: bool,
    pub duration_s: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Quantiles {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Traffic {
    pub packets_per_s: f64,
    pub mbit_per_s: f64,
}

/// Loss and delay of one kind of media over all directions.
#[derive(Debug, Default, Serialize)]
pub struct KindFigures {
    /// Frames (video: pictures) sent inside the window, times the subscribers of each.
    pub expected: u64,
    /// Distinct frames of those that arrived.
    pub received: u64,
    pub loss_pct: f64,
    /// One-way delay from the publisher's str0m to the subscriber's, in milliseconds.
    pub delay_ms: Quantiles,
}

#[derive(Debug, Default, Serialize)]
pub struct Loadgen {
    pub cpu_s: f64,
    /// CPU seconds per second of the window: 1.0 is one core busy.
    pub cores: f64,
    /// Frames written more than one frame interval late: the load generator fell behind.
    pub late_frames: u64,
    /// Frames str0m would not take.
    pub unwritten_frames: u64,
    /// Frames received without a valid stamp.
    pub malformed_frames: u64,
    /// Datagrams the kernel dropped on the participants' sockets during the window.
    pub udp_drops: u64,
    /// The most bytes seen waiting unread in the participants' sockets (sampled twice a
    /// second): when large, the load generator was behind and delays include its lag.
    pub max_backlog_kib: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct Server {
    pub cpu_s: f64,
    pub cores: f64,
    /// One-to-one calls (rooms of two) per core the server used; null for other rooms.
    pub calls_per_core: Option<f64>,
    pub rss_before_mib: f64,
    pub rss_end_mib: f64,
    /// The highest resident memory of the server process so far (VmHWM).
    pub peak_mib: f64,
    /// (Resident memory at the end − before the joins) / connected participants.
    pub mib_per_participant: f64,
    /// Peak memory / connected participants: an upper bound, everything included.
    pub peak_mib_per_participant: f64,
    /// Datagrams the kernel dropped on the server's media socket during the window.
    pub udp_drops: u64,
    /// The most bytes seen waiting unread in the server's media socket.
    pub max_backlog_kib: f64,
}

pub fn summarise(args: &Args, outcome: &Outcome) -> Summary {
    let results = &outcome.results;
    let window_s = outcome.window.as_secs_f64();
    let mut failures = BTreeMap::new();
    let mut dropped = BTreeMap::new();
    let mut signal_errors = BTreeMap::new();
    let mut connect = Histogram::default();
    for r in results {
        if let Some(why) = &r.failure {
            *failures.entry(why.clone()).or_default() += 1;
        }
        if let Some(why) = &r.dropped {
            *dropped.entry(why.clone()).or_default() += 1;
        }
        for e in &r.signal_errors {
            *signal_errors.entry(generalise(e)).or_default() += 1;
        }
        if let Some(after) = r.connected_after {
            connect.record(u64::try_from(after.as_micros()).unwrap_or(u64::MAX));
        }
    }
    let connected = results
        .iter()
        .filter(|r| r.connected_after.is_some())
        .count();
    let (audio, video, worst) = loss_and_delay(results);
    Summary {
        scenario: Scenario {
            rooms: args.rooms,
            participants_per_room: args.participants,
            audio_kbps: args.audio_kbps,
            video_kbps: args.video_kbps,
            fps: args.fps,
            simulcast: args.simulcast,
            duration_s: args.duration.as_secs_f64(),
        },
        participants: results.len(),
        connected,
        failures,
        dtls_stalled: results.iter().filter(|r| r.dtls_stalled).count(),
        dropped,
        signal_errors,
        connect_ms: quantiles(&connect),
        window_s,
        forwarded: traffic(results.iter().filter_map(|r| r.rx)),
        published: traffic(results.iter().filter_map(|r| r.tx)),
        audio,
        video,
        worst_direction_loss_pct: worst,
        loadgen: loadgen(results, outcome, window_s),
        server: server(args, outcome, connected, window_s),
        machine: machine(outcome, window_s),
    }
}

fn machine(outcome: &Outcome, window_s: f64) -> Machine {
    let (busy, softirq) = match (outcome.start.machine, outcome.end.machine) {
        (Some(a), Some(b)) => (
            Some(per_second(b.busy - a.busy, window_s)),
            Some(per_second(b.softirq - a.softirq, window_s)),
        ),
        _ => (None, None),
    };
    let loadgen = per_second(
        outcome.end.loadgen_cpu - outcome.start.loadgen_cpu,
        window_s,
    );
    let server = match (outcome.start.server, outcome.end.server) {
        (Some(a), Some(b)) => per_second(b.cpu_seconds - a.cpu_seconds, window_s),
        _ => 0.0,
    };
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        busy_cores: busy,
        softirq_cores: softirq,
        other_cores: busy
            .zip(softirq)
            .map(|(b, s)| (b - s - loadgen - server).max(0.0)),
    }
}

/// A message with every run of digits replaced by `N`, so that errors differing only in
/// a size or an id are counted together.
fn generalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_number = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}

/// Loss per kind over every publisher → subscriber direction in each room, the worst
/// single direction, and merged delays.
fn loss_and_delay(results: &[PeerResult]) -> (KindFigures, KindFigures, f64) {
    let mut figures = [KindFigures::default(), KindFigures::default()];
    let mut delays = [Histogram::default(), Histogram::default()];
    let mut worst: f64 = 0.0;
    for sub in results.iter().filter(|r| r.connected_after.is_some()) {
        for kind in Kind::ALL {
            delays[kind as usize].merge(&sub.received.delay[kind as usize]);
        }
        let publishers = results
            .iter()
            .filter(|p| p.spec.room == sub.spec.room && p.spec.index != sub.spec.index);
        for publisher in publishers {
            for kind in Kind::ALL {
                let expected = publisher.published.in_window[kind as usize];
                let received = sub.received.count(publisher.spec.index, kind).min(expected);
                let f = &mut figures[kind as usize];
                f.expected += expected;
                f.received += received;
                worst = worst.max(loss_pct(expected, received));
            }
        }
    }
    for kind in Kind::ALL {
        let f = &mut figures[kind as usize];
        f.loss_pct = loss_pct(f.expected, f.received);
        f.delay_ms = quantiles(&delays[kind as usize]);
    }
    let [audio, video] = figures;
    (audio, video, worst)
}

fn loss_pct(expected: u64, received: u64) -> f64 {
    if expected == 0 {
        return 0.0;
    }
    (expected - received.min(expected)) as f64 * 100.0 / expected as f64
}

/// Quantiles of a histogram of microseconds, in milliseconds.
fn quantiles(h: &Histogram) -> Quantiles {
    let ms = |us: u64| us as f64 / 1000.0;
    Quantiles {
        p50: h.quantile(0.5).map(ms),
        p99: h.quantile(0.99).map(ms),
        max: (h.count() > 0).then(|| ms(h.max())),
    }
}

fn traffic(rates: impl Iterator<Item = Rate>) -> Traffic {
    let mut t = Traffic::default();
    for r in rates.filter(|r| r.seconds > 0.0) {
        t.packets_per_s += r.packets as f64 / r.seconds;
        t.mbit_per_s += r.bytes as f64 * 8.0 / r.seconds / 1e6;
    }
    t
}

fn loadgen(results: &[PeerResult], outcome: &Outcome, window_s: f64) -> Loadgen {
    let cpu_s = outcome.end.loadgen_cpu - outcome.start.loadgen_cpu;
    Loadgen {
        cpu_s,
        cores: per_second(cpu_s, window_s),
        late_frames: results.iter().map(|r| r.published.late).sum(),
        unwritten_frames: results.iter().map(|r| r.published.not_written).sum(),
        malformed_frames: results.iter().map(|r| r.received.malformed_total()).sum(),
        udp_drops: outcome
            .end
            .loadgen_udp
            .drops
            .saturating_sub(outcome.start.loadgen_udp.drops),
        max_backlog_kib: outcome.loadgen_backlog as f64 / 1024.0,
    }
}

fn server(args: &Args, outcome: &Outcome, connected: usize, window_s: f64) -> Option<Server> {
    let (start, end) = (outcome.start.server?, outcome.end.server?);
    let before = outcome.server_before.unwrap_or(start);
    let mib = |kib: u64| kib as f64 / 1024.0;
    let cpu_s = end.cpu_seconds - start.cpu_seconds;
    let cores = per_second(cpu_s, window_s);
    let per = |v: f64| {
        if connected == 0 {
            0.0
        } else {
            v / connected as f64
        }
    };
    Some(Server {
        cpu_s,
        cores,
        calls_per_core: (args.participants == 2 && cores > 0.0)
            .then(|| full_rooms(&outcome.results, 2) as f64 / cores),
        rss_before_mib: mib(before.rss_kib),
        rss_end_mib: mib(end.rss_kib),
        peak_mib: mib(end.hwm_kib),
        mib_per_participant: per(mib(end.rss_kib.saturating_sub(before.rss_kib))),
        peak_mib_per_participant: per(mib(end.hwm_kib)),
        udp_drops: outcome
            .end
            .server_udp
            .drops
            .saturating_sub(outcome.start.server_udp.drops),
        max_backlog_kib: outcome.server_backlog as f64 / 1024.0,
    })
}

/// Rooms in which every one of `size` participants connected.
fn full_rooms(results: &[PeerResult], size: usize) -> usize {
    let mut per_room: BTreeMap<usize, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.connected_after.is_some()) {
        *per_room.entry(r.spec.room).or_default() += 1;
    }
    per_room.values().filter(|n| **n == size).count()
}

fn per_second(v: f64, seconds: f64) -> f64 {
    if seconds > 0.0 { v / seconds } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_differing_in_numbers_are_counted_together() {
        assert_eq!(
            generalise("error invalid_sdp: the answer is 33022 bytes; at most 32768"),
            "error invalid_sdp: the answer is N bytes; at most N"
        );
    }

    #[test]
    fn loss_is_a_percentage_of_what_was_sent() {
        assert_eq!(loss_pct(0, 0), 0.0);
        assert_eq!(loss_pct(200, 199), 0.5);
        assert_eq!(loss_pct(10, 12), 0.0, "duplicates never make loss negative");
    }
}
