//! What each subscriber is sent: simulcast layers by display size, audio-only on request,
//! mute, the active speaker, and connection quality, over the same lossy, reordering
//! network as the forwarding tests and with the default policy (bandwidth estimation on),
//! except where a test isolates display size from the estimate. `bandwidth.rs` covers
//! choices driven by the estimate.

mod common;

use std::time::Duration;

use common::video::{F, Q, assert_switches_at_keyframes, count, frames_since, taken_after};
use common::{CONNECT_WITHIN, Sim};
use haven_media::{AudioOnlyReason, MediaKind, MediaPolicy, ParticipantId, RoomEvent};

const LOSS: f64 = 0.05;

#[test]
fn each_subscriber_gets_the_simulcast_layer_its_tile_needs_switching_at_keyframes() {
    // Display size alone: with the estimate as well, the large tile's top layer would wait
    // for the estimate to grow past both videos it receives (this one and the thumbnail
    // subscriber's own, unlayered), which `bandwidth.rs` covers.
    let policy = MediaPolicy {
        bandwidth_estimation: false,
        ..MediaPolicy::default()
    };
    let mut sim = Sim::with_policy(11, LOSS, policy);
    let publisher = sim.join_simulcast(1);
    let big = sim.join(2);
    let small = sim.join(3);
    sim.run_until_connected(CONNECT_WITHIN);
    sim.room
        .set_display_size(sim.now, small, publisher, 160, 90)
        .expect("small is in the room");
    sim.run_for(Duration::from_secs(2));

    let since = sim.now;
    sim.run_for(Duration::from_secs(2));
    let to_big = frames_since(&sim, big, publisher, since);
    let to_small = frames_since(&sim, small, publisher, since);
    assert!(
        count(&to_big, F) > 40 && count(&to_big, F) == to_big.len(),
        "a large tile gets only the top layer: {to_big:?}"
    );
    assert!(
        count(&to_small, Q) > 40 && count(&to_small, Q) == to_small.len(),
        "a thumbnail gets only the lowest layer: {to_small:?}"
    );

    // The thumbnail is enlarged: after a keyframe request it moves to the top layer.
    let requests = sim.client(publisher).keyframe_requests;
    sim.room
        .set_display_size(sim.now, small, publisher, 1280, 720)
        .expect("small is in the room");
    // A keyframe of the same picture as the last frame sent cannot be switched to (see
    // `LayerSwitch::forward`), so the switch may take a retry.
    sim.run_for(Duration::from_secs(2));
    assert!(sim.client(publisher).keyframe_requests > requests);
    let since = sim.now;
    sim.run_for(Duration::from_secs(2));
    let to_small = frames_since(&sim, small, publisher, since);
    assert!(
        count(&to_small, F) > 40 && count(&to_small, F) == to_small.len(),
        "enlarged: {to_small:?}"
    );
    assert_switches_at_keyframes(&sim, big, publisher);
    assert_switches_at_keyframes(&sim, small, publisher);
}

#[test]
fn audio_only_on_request_stops_video_to_that_subscriber_only_and_resumes_at_a_keyframe() {
    let mut sim = Sim::new(12, LOSS);
    let a = sim.join(1);
    let b = sim.join(2);
    let c = sim.join(3);
    // c, the bystander, is on a clean link: under random loss str0m's bandwidth estimate
    // now and then collapses for a while (see `EstimateRetry`), and c's video would then
    // stall for reasons of its own, hiding whether b's choice reached it.
    let c_addr = sim.client(c).addr;
    sim.net.link_loss.insert(c_addr, 0.0);
    sim.run_until_connected(CONNECT_WITHIN);
    // The bandwidth estimates grow to carry two unlayered videos to each subscriber.
    sim.run_for(Duration::from_secs(3));

    let requested_at = sim.now;
    sim.room
        .set_audio_only(sim.now, b, true)
        .expect("b is in the room");
    sim.run_for(Duration::from_secs(1));
    let told = RoomEvent::AudioOnly {
        participant: b,
        reason: AudioOnlyReason::Requested,
    };
    assert!(
        sim.events.iter().any(|(_, e)| *e == told),
        "{:?}",
        sim.event_summary()
    );
    assert_eq!(
        sim.room.audio_only(b),
        Some(Some(AudioOnlyReason::Requested))
    );

    let (b_before, c_before) = (sim.client(b).from(a), sim.client(c).from(a));
    sim.run_for(Duration::from_millis(1500));
    // From here on nothing to or from a is lost, so the room's keyframe request on resuming
    // reaches it. The room asks a publisher at most every 500 ms per track, so the request
    // that serves the resume may be one made (for c's losses) up to 500 ms before it.
    let a_addr = sim.client(a).addr;
    sim.net.link_loss.insert(a_addr, 0.0);
    let requests = sim.client(a).keyframe_requests;
    sim.run_for(Duration::from_millis(500));
    let (b_after, c_after) = (sim.client(b).from(a), sim.client(c).from(a));
    let taken_since = taken_after(&sim, b, a, requested_at);
    assert!(taken_since.is_empty(), "no new video to b: {taken_since:?}");
    assert!(
        b_after.audio > b_before.audio + 60,
        "b still hears a: {b_before:?} then {b_after:?}"
    );
    assert!(
        c_after.video > c_before.video + 40,
        "c still sees a: {c_before:?} then {c_after:?}"
    );

    sim.room
        .set_audio_only(sim.now, b, false)
        .expect("b is in the room");
    sim.run_for(Duration::from_secs(3));
    assert!(
        sim.events
            .iter()
            .any(|(_, e)| *e == RoomEvent::VideoResumed { participant: b })
    );
    assert!(
        sim.client(a).keyframe_requests > requests,
        "resumed at a keyframe request"
    );
    assert!(
        sim.client(b).from(a).video > b_after.video + 20,
        "b sees a again"
    );
    assert_switches_at_keyframes(&sim, b, a);
}

#[test]
fn a_muted_publisher_is_not_forwarded_and_unmuted_video_restarts_at_a_keyframe() {
    let mut sim = Sim::new(13, LOSS);
    let a = sim.join(1);
    let b = sim.join(2);
    sim.run_until_connected(CONNECT_WITHIN);
    sim.run_for(Duration::from_secs(1));

    sim.room
        .set_muted(a, MediaKind::Audio, true)
        .expect("a is in the room");
    sim.room
        .set_muted(a, MediaKind::Video, true)
        .expect("a is in the room");
    assert_eq!(sim.room.is_muted(a, MediaKind::Audio), Some(true));
    // Frames already in flight or in b's jitter buffer may still land for a moment (see
    // the eject test); after a second, nothing more.
    sim.run_for(Duration::from_secs(1));
    let muted = sim.client(b).from(a);
    let unmuted_other_way = sim.client(a).from(b);
    sim.run_for(Duration::from_secs(2));
    assert_eq!(sim.client(b).from(a), muted, "nothing of a's is forwarded");
    assert!(sim.client(a).from(b).video > unmuted_other_way.video + 40);

    sim.room
        .set_muted(a, MediaKind::Video, false)
        .expect("a is in the room");
    sim.run_for(Duration::from_secs(2));
    let now = sim.client(b).from(a);
    assert_eq!(now.audio, muted.audio, "audio stays muted");
    assert!(now.video > muted.video + 20, "video is back");
    assert_switches_at_keyframes(&sim, b, a);
    assert_eq!(
        sim.room.is_muted(ParticipantId::new(99), MediaKind::Audio),
        None
    );
}

#[test]
fn the_loudest_unmuted_participant_becomes_the_active_speaker() {
    let mut sim = Sim::new(14, LOSS);
    let a = sim.join(1);
    let b = sim.join(2);
    let c = sim.join(3);
    sim.run_until_connected(CONNECT_WITHIN);
    sim.clients[0].audio_level = Some(-30);
    sim.clients[1].audio_level = Some(-90);
    sim.clients[2].audio_level = Some(-127);
    sim.run_for(Duration::from_secs(2));
    assert_eq!(sim.room.active_speaker(), Some(a));
    let speakers = |sim: &Sim| -> Vec<ParticipantId> {
        sim.events
            .iter()
            .filter_map(|(_, e)| match e {
                RoomEvent::ActiveSpeaker { participant } => Some(*participant),
                _ => None,
            })
            .collect()
    };
    assert_eq!(speakers(&sim), vec![a]);

    // b speaks up; a goes quiet.
    sim.clients[0].audio_level = Some(-100);
    sim.clients[1].audio_level = Some(-25);
    sim.run_for(Duration::from_secs(3));
    assert_eq!(sim.room.active_speaker(), Some(b));

    // A muted participant is never the speaker, however loud its (unforwarded) audio.
    sim.room
        .set_muted(c, MediaKind::Audio, true)
        .expect("c is in the room");
    sim.clients[2].audio_level = Some(0);
    sim.run_for(Duration::from_secs(3));
    assert_eq!(speakers(&sim), vec![a, b]);
}

#[test]
fn a_lossy_link_reports_more_loss_than_a_clean_one() {
    let mut sim = Sim::new(15, 0.0);
    let clean = sim.join(1);
    let lossy = sim.join(2);
    let lossy_addr = sim.client(lossy).addr;
    sim.net.link_loss.insert(lossy_addr, 0.15);
    sim.run_until_connected(CONNECT_WITHIN);
    sim.run_for(Duration::from_secs(6));

    let q_clean = sim.room.quality(clean).expect("measured");
    let q_lossy = sim.room.quality(lossy).expect("measured");
    assert!(
        q_lossy.loss_permille >= 50 && q_clean.loss_permille < q_lossy.loss_permille / 2,
        "clean {q_clean:?}, lossy {q_lossy:?}"
    );
    assert!(
        q_clean.in_kbps > 300 && q_clean.out_kbps > 300,
        "{q_clean:?}"
    );
    assert!(q_clean.rtt_ms.is_some(), "{q_clean:?}");
    let reported = sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, RoomEvent::Quality { participant, .. } if *participant == lossy));
    assert!(reported, "quality is reported as events too");
}
