//! Removing a participant is enforced at the media layer, at once.

mod common;

use std::time::Duration;

use common::Sim;
use haven_media::{LeaveReason, RoomEvent};

/// The simulated network delays datagrams by at most this much (see `Sim::send`).
const MAX_NETWORK_DELAY: Duration = Duration::from_millis(30);

#[test]
fn removing_a_participant_stops_all_forwarding_to_and_from_it_at_once() {
    let mut sim = Sim::new(4, 0.05);
    let a = sim.join(1);
    let b = sim.join(2);
    let c = sim.join(3);
    sim.run_until_connected(Duration::from_secs(10));
    sim.run_for(Duration::from_secs(2));
    assert!(
        sim.client(a).from(c).video > 0 && sim.client(c).from(a).video > 0,
        "media flows before the eject"
    );

    let removed_at = sim.now;
    let dropped_before = sim.room.stats().dropped_datagrams;
    sim.remove(c);

    assert!(!sim.room.participants().any(|p| p == c));

    sim.run_for(Duration::from_millis(50));
    let left = RoomEvent::Left {
        participant: c,
        reason: LeaveReason::Removed,
    };
    assert!(
        sim.events.iter().any(|(_, e)| *e == left),
        "a Left event is emitted"
    );
    // Frames whose packets all arrived before the eject may still leave a client's jitter
    // buffer for a moment (it waits for retransmissions that will never come); after a
    // second, nothing more.
    sim.run_for(Duration::from_secs(1));
    let a_from_c = sim.client(a).from(c);
    let b_from_c = sim.client(b).from(c);
    let a_from_b = sim.client(a).from(b);
    sim.run_for(Duration::from_secs(2));

    let c_addr = sim.client(c).addr;
    let late: Vec<_> = sim
        .transmits
        .iter()
        .filter(|(t, to)| *t >= removed_at && *to == c_addr)
        .collect();
    assert!(
        late.is_empty(),
        "{} datagrams sent to the removed participant",
        late.len()
    );
    // Packet level: nothing of c's reaches a or b later than the network's maximum delay
    // after the eject, so the room sent nothing of c's after it (not even a retransmission).
    let deadline = removed_at + MAX_NETWORK_DELAY;
    for x in [a, b] {
        let last = sim
            .client(x)
            .last_rtp_from(c)
            .expect("c's media reached everyone before");
        assert!(
            last <= deadline,
            "{x} got an RTP packet of c's {:?} after the eject",
            last - removed_at
        );
    }
    assert_eq!(
        sim.client(a).from(c),
        a_from_c,
        "a kept receiving c's media"
    );
    assert_eq!(
        sim.client(b).from(c),
        b_from_c,
        "b kept receiving c's media"
    );
    // The removed browser keeps sending for a while: the room drops and counts all of it.
    assert!(sim.room.stats().dropped_datagrams > dropped_before + 100);
    // The others carry on.
    assert!(
        sim.client(a).from(b).video > a_from_b.video + 40,
        "a and b still see each other"
    );
}
