//! Someone kept apart (a patient in the waiting room, or on hold) stays connected but
//! receives and sends nothing through the room, not even padding, until brought in.

mod common;

use std::time::Duration;

use common::net::Way;
use common::{CONNECT_WITHIN, Sim, TICK, seed};
use haven_media::RoomEvent;

const LOSS: f64 = 0.05;
/// A fast link, only so that the bytes the room sends down it are counted.
const FAST_BPS: u64 = 50_000_000;
const QUEUE: Duration = Duration::from_millis(200);
/// How long the patient waits.
const WAIT: Duration = Duration::from_secs(20);
/// What a connection with no media costs: STUN consent checks and RTCP reports, a few
/// kbit/s. Probing padding, which bandwidth estimation sends to a subscriber it means to
/// send video to, is a hundred times more.
const IDLE_BPS: u64 = 20_000;

#[test]
fn a_waiting_participant_is_sent_no_media_and_no_padding_and_gets_video_once_admitted() {
    let mut sim = Sim::new(seed(7), LOSS);
    let clinician = sim.join_simulcast(1);
    let patient = sim.join(2);
    sim.room
        .set_apart(patient, true)
        .expect("a known participant");
    let patient_addr = sim.client(patient).addr;
    sim.net.set_link(patient_addr, Way::Down, FAST_BPS, QUEUE);
    sim.run_until_connected(CONNECT_WITHIN);

    let bytes_before = sim
        .net
        .link(patient_addr, Way::Down)
        .expect("a link")
        .offered_bytes;
    sim.run_for(WAIT);
    let bytes = sim
        .net
        .link(patient_addr, Way::Down)
        .expect("a link")
        .offered_bytes
        - bytes_before;
    let bps = bytes * 8 / WAIT.as_secs();
    assert!(
        bps < IDLE_BPS,
        "a waiting patient's connection carried {bps} bit/s from the room"
    );
    assert_eq!(sim.client(patient).from(clinician).video, 0);
    assert_eq!(sim.client(patient).from(clinician).audio, 0);
    assert_eq!(sim.client(clinician).from(patient).video, 0);
    assert_eq!(sim.client(clinician).from(patient).audio, 0);

    // Admitted: video and sound both ways within a few seconds.
    sim.room
        .set_apart(patient, false)
        .expect("a known participant");
    sim.run_for(Duration::from_secs(4));
    let to_patient = sim.client(patient).from(clinician);
    let to_clinician = sim.client(clinician).from(patient);
    assert!(
        to_patient.video > 30 && to_patient.audio > 50,
        "{to_patient:?}"
    );
    assert!(
        to_clinician.video > 30 && to_clinician.audio > 50,
        "{to_clinician:?}"
    );
}

/// Admission is where a patient waits on a picture: both publishers are asked for a
/// keyframe the moment the room brings the patient in, not at a later evaluation, so the
/// first frame each side decodes is the next one its camera encodes.
#[test]
fn admission_asks_both_sides_for_a_keyframe_at_once() {
    let mut sim = Sim::new(seed(11), 0.0);
    let clinician = sim.join_simulcast(1);
    let patient = sim.join(2);
    sim.room
        .set_apart(patient, true)
        .expect("a known participant");
    sim.run_until_connected(CONNECT_WITHIN);
    // Long enough for any keyframe request of the joins to be out of the way.
    sim.run_for(Duration::from_secs(2));

    let admitted = sim.now;
    sim.room
        .set_apart(patient, false)
        .expect("a known participant");
    // The room's next round (the server's room task runs it at once).
    sim.run_for(TICK);
    for publisher in [clinician, patient] {
        let asked = sim.events.iter().any(|(t, e)| {
            *t >= admitted
                && *t <= admitted + TICK
                && *e == RoomEvent::KeyframeRequested { publisher }
        });
        assert!(
            asked,
            "{publisher} was not asked for a keyframe on admission: {:?}",
            sim.event_summary()
        );
    }
}
