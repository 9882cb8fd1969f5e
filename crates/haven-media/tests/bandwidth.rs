//! Choices driven by each subscriber's bandwidth estimate, with the default policy (as
//! Haven's server runs it), over the lossy, reordering network of the other tests plus a
//! bottleneck on one subscriber's downlink: a drop-tail queue drained at the link's rate,
//! which is what congestion looks like (queueing delay, then loss).
//!
//! Estimates take seconds to settle after a change (str0m's congestion control is
//! libwebrtc's), so these tests wait in simulated time rather than assert at once.

mod common;

use std::time::{Duration, Instant};

use common::net::Way;
use common::video::{
    F, assert_switches_at_keyframes, assert_switches_at_keyframes_since, count, frames_since,
    taken_after,
};
use common::{CONNECT_WITHIN, Sim, seed};
use haven_media::{AudioOnlyReason, ParticipantId, RoomEvent};

/// 5% loss each way and reordering, as in the other tests.
const LOSS: f64 = 0.05;
/// A fast home connection, and the narrow links it drops to.
const WIDE_BPS: u64 = 5_000_000;
const NARROW_BPS: u64 = 500_000;
const STARVED_BPS: u64 = 100_000;
/// The bottleneck's buffer, as queueing delay at its rate.
const QUEUE: Duration = Duration::from_millis(200);

/// Runs until `done` holds, checking every 250 ms, for at most `max`; returns when it held.
fn run_until(sim: &mut Sim, max: Duration, mut done: impl FnMut(&Sim) -> bool) -> Option<Instant> {
    let end = sim.now + max;
    while sim.now < end {
        sim.run_for(Duration::from_millis(250));
        if done(sim) {
            return Some(sim.now);
        }
    }
    None
}

/// Whether `to` got (nearly) only the top layer of `from` over the last two seconds: a
/// frame or two of a lower layer may still arrive late, retransmitted, after a switch up.
fn top_layer_lately(sim: &Sim, to: ParticipantId, from: ParticipantId) -> bool {
    let frames = frames_since(sim, to, from, sim.now - Duration::from_secs(2));
    frames.len() > 40 && count(&frames, F) * 10 >= frames.len() * 9
}

fn audio_only_events(sim: &Sim, who: ParticipantId) -> Vec<(Instant, RoomEvent)> {
    sim.events
        .iter()
        .filter(|(_, e)| match e {
            RoomEvent::AudioOnly { participant, .. } => *participant == who,
            RoomEvent::VideoResumed { participant } => *participant == who,
            _ => false,
        })
        .cloned()
        .collect()
}

#[test]
fn a_narrowing_downlink_gets_a_lower_layer_others_keep_the_top_and_it_comes_back() {
    let mut sim = Sim::new(seed(41), LOSS);
    let publisher = sim.join_simulcast(1);
    let narrow = sim.join_camera_off(2);
    let wide = sim.join_camera_off(3);
    let narrow_addr = sim.client(narrow).addr;
    sim.net.set_link(narrow_addr, Way::Down, WIDE_BPS, QUEUE);
    sim.run_until_connected(CONNECT_WITHIN);

    // Both estimates grow from the starting 600 kbit/s past what the top layer needs.
    let both_top = |sim: &Sim| {
        top_layer_lately(sim, narrow, publisher) && top_layer_lately(sim, wide, publisher)
    };
    run_until(&mut sim, Duration::from_secs(15), both_top)
        .unwrap_or_else(|| panic!("no top layer on wide links: {:?}", sim.event_summary()));

    // narrow's downlink drops to 500 kbit/s: it moves to a lower layer, wide does not.
    let narrowed = sim.now;
    sim.net.set_link(narrow_addr, Way::Down, NARROW_BPS, QUEUE);
    sim.run_for(Duration::from_secs(5));
    let since = sim.now;
    sim.run_for(Duration::from_secs(4));
    let to_narrow = frames_since(&sim, narrow, publisher, since);
    assert!(
        to_narrow.len() > 80 && count(&to_narrow, F) == 0,
        "the narrow link gets a lower layer: {to_narrow:?}"
    );
    let link = sim.net.link(narrow_addr, Way::Down).expect("set above");
    assert!(
        link.dropped > 0 || link.max_wait >= Duration::from_millis(50),
        "the bottleneck was congested, not just estimated: {link:?}"
    );

    // The link widens again: the top layer comes back.
    sim.net.set_link(narrow_addr, Way::Down, WIDE_BPS, QUEUE);
    run_until(&mut sim, Duration::from_secs(30), |sim| {
        top_layer_lately(sim, narrow, publisher)
    })
    .unwrap_or_else(|| panic!("the top layer never came back: {:?}", sim.event_summary()));

    // wide kept the top layer all along: mostly, as on any lossy link, because now and then
    // a probe measured too low sets its estimate below the top layer's need for a few
    // seconds (see `MediaPolicy::bandwidth_estimation`).
    let to_wide = frames_since(&sim, wide, publisher, narrowed);
    assert!(
        to_wide.len() > 300 && count(&to_wide, F) * 3 >= to_wide.len() * 2,
        "the wide link keeps the top layer: {to_wide:?}"
    );

    // Every switch, down and up, was at a keyframe; video never stopped.
    assert_switches_at_keyframes(&sim, narrow, publisher);
    assert_switches_at_keyframes(&sim, wide, publisher);
    assert_eq!(audio_only_events(&sim, narrow), vec![]);
    assert_eq!(audio_only_events(&sim, wide), vec![]);
}

#[test]
fn a_starved_downlink_goes_audio_only_with_a_reason_and_video_resumes_at_a_keyframe() {
    let mut sim = Sim::new(seed(42), LOSS);
    let publisher = sim.join_simulcast(1);
    let sub = sim.join_camera_off(2);
    let addr = sim.client(sub).addr;
    sim.net.set_link(addr, Way::Down, WIDE_BPS, QUEUE);
    sim.run_until_connected(CONNECT_WITHIN);
    sim.run_for(Duration::from_secs(5));
    assert!(
        sim.client(sub).from(publisher).video > 100,
        "video flows at first"
    );

    // The downlink drops to 100 kbit/s: less than the lowest layer and the sound together.
    sim.net.set_link(addr, Way::Down, STARVED_BPS, QUEUE);
    let told = RoomEvent::AudioOnly {
        participant: sub,
        reason: AudioOnlyReason::LowBandwidth,
    };
    run_until(&mut sim, Duration::from_secs(15), |sim| {
        sim.events.iter().any(|(_, e)| *e == told)
    })
    .unwrap_or_else(|| panic!("never went audio-only: {:?}", sim.event_summary()));
    assert_eq!(
        sim.room.audio_only(sub),
        Some(Some(AudioOnlyReason::LowBandwidth))
    );

    // Video stops: once what the room had handed str0m before drains (str0m paces it out
    // at the collapsed estimate, and retransmits what the link lost), nothing more arrives.
    // Sound goes on.
    let last_video = |sim: &Sim| {
        let log = &sim.client(sub).video_log[&publisher.to_string()];
        log.last().map(|f| f.at)
    };
    run_until(&mut sim, Duration::from_secs(15), |sim| {
        last_video(sim).is_some_and(|t| sim.now - t >= Duration::from_secs(2))
    })
    .unwrap_or_else(|| panic!("video to {sub} did not stop"));
    let before = sim.client(sub).from(publisher);
    sim.run_for(Duration::from_secs(5));
    let after = sim.client(sub).from(publisher);
    // 250 frames were sent; 150 to 230 arrive over 20 seeds. Some are lost at random, and
    // some at the bottleneck: str0m's estimate of this lossy 100 kbit/s link falls to
    // 35–50 kbit/s, below the sound's own 55, so its pacer holds the sound back and then
    // sends it in bursts that overflow the link's queue.
    assert!(
        after.audio >= before.audio + 125,
        "sound goes on: {before:?} -> {after:?}"
    );

    // The link recovers: video resumes, told as such, starting at a keyframe.
    sim.net.set_link(addr, Way::Down, WIDE_BPS, QUEUE);
    let resumed = RoomEvent::VideoResumed { participant: sub };
    run_until(&mut sim, Duration::from_secs(30), |sim| {
        sim.events.iter().any(|(_, e)| *e == resumed)
    })
    .unwrap_or_else(|| panic!("video never resumed: {:?}", sim.event_summary()));
    let resumed_at = sim
        .events
        .iter()
        .find_map(|(t, e)| (*e == resumed).then_some(*t))
        .expect("found above");
    sim.run_for(Duration::from_secs(5));
    let log = &sim.client(sub).video_log[&publisher.to_string()];
    let mut back: Vec<_> = log.iter().filter(|f| f.at >= resumed_at).collect();
    back.sort_by_key(|f| f.time);
    assert!(back.len() > 60, "video flows again: {} frames", back.len());
    // At a keyframe (unless the network lost it: the receiver then sees the gap, and the
    // room passes on its request for another).
    assert!(
        back[0].keyframe || !back[0].contiguous,
        "it restarts at a keyframe: {:?}",
        back[0]
    );
    // Only since the link recovered: while it was starved, a frame now and then went
    // missing with no gap in the sequence numbers the harness sees (its frames carry no
    // VP8 picture ids, by which a browser notices a missing frame and asks for a keyframe).
    assert_switches_at_keyframes_since(&sim, sub, publisher, Some(resumed_at));
    // No picture the publisher took while video was off ever reached the subscriber.
    let stopped_at = audio_only_events(&sim, sub)[0].0;
    let taken_while_off: Vec<_> = taken_after(&sim, sub, publisher, stopped_at)
        .into_iter()
        .filter(|f| f.at < resumed_at)
        .collect();
    assert!(
        taken_while_off.is_empty(),
        "taken while video was off: {taken_while_off:?}"
    );
    let changes: Vec<RoomEvent> = audio_only_events(&sim, sub)
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    assert_eq!(
        changes,
        vec![told, resumed],
        "one stop, one resume: {:?}",
        audio_only_events(&sim, sub)
    );
}

#[test]
fn a_lossy_but_wide_link_never_goes_audio_only_and_keeps_the_top_layer() {
    let mut sim = Sim::new(seed(43), LOSS);
    let publisher = sim.join_simulcast(1);
    let sub = sim.join_camera_off(2);
    sim.run_until_connected(CONNECT_WITHIN);
    sim.run_for(Duration::from_secs(8));
    let since = sim.now;
    sim.run_for(Duration::from_secs(20));
    let frames = frames_since(&sim, sub, publisher, since);
    // Mostly the top layer: over 40 seeds, 37 runs got nothing else and the worst 80% of
    // frames. A probe measured too low on this jittery link now and then sets the estimate
    // below the top layer's need until the next probe (see
    // `MediaPolicy::bandwidth_estimation`).
    assert!(
        frames.len() > 500 && count(&frames, F) * 3 >= frames.len() * 2,
        "random loss and reordering are not congestion: {} frames, {} of the top layer",
        frames.len(),
        count(&frames, F)
    );
    assert_eq!(audio_only_events(&sim, sub), vec![]);
}

#[test]
fn video_a_link_cannot_carry_is_skipped_to_keep_it_fresh_not_queued_ever_later() {
    // One unlayered video (about 600 kbit/s) to a subscriber whose downlink carries half of
    // that: nothing lower to switch to, and not low enough for audio-only.
    let mut sim = Sim::new(seed(61), 0.0);
    let publisher = sim.join(1);
    let slow = sim.join_camera_off(2);
    let slow_addr = sim.client(slow).addr;
    sim.net.set_link(slow_addr, Way::Down, 300_000, QUEUE);
    sim.run_until_connected(CONNECT_WITHIN);
    sim.run_for(Duration::from_secs(14));

    let since = sim.now - Duration::from_secs(8);
    let log = sim
        .client(slow)
        .video_log
        .get(&publisher.to_string())
        .expect("video reached the slow subscriber");
    let recent: Vec<_> = log.iter().filter(|f| f.at >= since).collect();
    let (Some(first), Some(last)) = (recent.first(), recent.last()) else {
        panic!("no pictures in the last 8 s: {:?}", sim.event_summary());
    };
    assert!(recent.len() >= 16, "pictures keep coming: {}", recent.len());
    // Queued in the server, each picture would arrive later than the one before: over 8 s
    // at half the rate needed, about 4 s later. Skipped, the lag moves only by what waits
    // for the next keyframe (over 60 seeds: at most 2.2 s, mostly under 1 s).
    let arrived = (last.at - first.at).as_secs_f64();
    let taken = last.time.as_seconds() - first.time.as_seconds();
    assert!(
        arrived - taken < 3.0,
        "video fell {:.1} s further behind over {arrived:.1} s",
        arrived - taken
    );
}
