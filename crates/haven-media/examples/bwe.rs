//! Measures what the room estimates of one subscriber's downlink, second by second, in the
//! test harness's simulated network: one simulcast publisher, one subscriber with its camera
//! off, optionally a bottleneck on the subscriber's downlink whose rate changes over time.
//!
//! ```text
//! cargo run -p haven-media --example bwe -- loss=0.05 jitter=20 reorder=0.05 secs=60 \
//!     rates=3000@0,400@20,100@40,3000@60 seed=1 estimation=true
//! ```
//!
//! `rates` lists `kbit/s@second` changes of the bottleneck (none: an unlimited link). Each
//! line: time, the bottleneck's rate, the estimate, what the room sent, the downlink loss
//! the subscriber reported, frames received per layer (q/h/f) and audio frames, and any
//! audio-only changes.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::Sim;
use common::net::Way;
use haven_media::{MediaPolicy, RoomEvent};

fn main() {
    let args: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let arg = |k: &str, default: &str| args.get(k).cloned().unwrap_or_else(|| default.into());
    let num = |k: &str, default: &str| -> f64 {
        arg(k, default)
            .parse()
            .unwrap_or_else(|_| panic!("{k} must be a number"))
    };
    let mut rates: Vec<(u64, u64)> = arg("rates", "")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (rate, at) = s.split_once('@').expect("rates look like 400@20");
            let at = at.parse().expect("a second");
            let rate: u64 = rate.parse().expect("kbit/s");
            (at, rate * 1000)
        })
        .collect();
    rates.sort_unstable();

    let policy = MediaPolicy {
        bandwidth_estimation: arg("estimation", "true") == "true",
        quality_interval: Duration::from_secs(1),
        ..MediaPolicy::default()
    };
    let mut sim = Sim::with_policy(num("seed", "1") as u64, num("loss", "0.05"), policy);
    sim.net.jitter = Duration::from_millis(num("jitter", "20") as u64);
    sim.net.reorder = num("reorder", "0.05");
    let publisher = sim.join_simulcast(1);
    let sub = sim.join_camera_off(2);
    let addr = sim.client(sub).addr;
    let start = sim.now;
    sim.run_until_connected(Duration::from_secs(10));
    let mut seen_events = 0;
    for second in 0..num("secs", "60") as u64 {
        for (at, rate) in &rates {
            if *at == second {
                sim.net
                    .set_link(addr, Way::Down, *rate, Duration::from_millis(200));
            }
        }
        let from = sim.now;
        let audio_before = sim.client(sub).from(publisher).audio;
        sim.run_for(Duration::from_secs(1));
        let mut layers = [0; 4];
        for f in sim
            .client(sub)
            .video_log
            .get(&publisher.to_string())
            .into_iter()
            .flatten()
            .filter(|f| f.at >= from)
        {
            layers[usize::from(f.marker.min(3))] += 1;
        }
        let q = sim.room.quality(sub).unwrap_or_default();
        let changes: Vec<String> = sim.events[seen_events..]
            .iter()
            .filter(|(_, e)| {
                matches!(
                    e,
                    RoomEvent::AudioOnly { .. } | RoomEvent::VideoResumed { .. }
                )
            })
            .map(|(t, e)| format!("{:.1}s {e:?}", (*t - start).as_secs_f64()))
            .collect();
        seen_events = sim.events.len();
        let link = sim
            .net
            .link(addr, Way::Down)
            .map_or("-".to_owned(), |l| (l.rate_bps / 1000).to_string());
        println!(
            "t={:>3}s link={link:>5} estimate={:>5} sent={:>5} loss={:>3}‰ q/h/f={:>2}/{:>2}/{:>2} audio={:>2} {}",
            (sim.now - start).as_secs(),
            q.estimate_kbps.map_or("-".to_owned(), |e| e.to_string()),
            q.out_kbps,
            q.downlink_loss_permille,
            layers[1],
            layers[2],
            layers[3],
            sim.client(sub).from(publisher).audio - audio_before,
            changes.join(", ")
        );
    }
}
