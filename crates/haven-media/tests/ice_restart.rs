//! A client whose network changes (Wi-Fi to mobile data) restarts ICE from its new address
//! and carries on in the same room, over the lossy, reordering network.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{CONNECT_WITHIN, ReceivedCount, Sim};
use haven_media::{Datagram, ParticipantId, RoomEvent, Transport};

const LOSS: f64 = 0.05;

/// Would the room take this datagram from `source` as one of a participant's?
fn claimed(sim: &mut Sim, source: SocketAddr, contents: &[u8]) -> Option<ParticipantId> {
    let server = sim.server;
    sim.room.accepts(&Datagram {
        transport: Transport::Udp,
        source,
        destination: server,
        contents,
    })
}

#[test]
fn after_an_address_change_an_ice_restart_brings_media_back_both_ways() {
    let mut sim = Sim::new(common::seed(31), LOSS);
    let a = sim.join_simulcast(1);
    let b = sim.join_simulcast(2);
    sim.run_until_connected(CONNECT_WITHIN);
    // The bandwidth estimates start low and take a few seconds to grow.
    sim.run_for(Duration::from_secs(5));
    let pairs = [(a, b), (b, a)];
    for c in sim.received_during(&pairs, Duration::from_secs(2)) {
        assert!(
            c.audio > 60 && c.video > 20,
            "media flows before the move: {c:?}"
        );
    }

    // b's Wi-Fi goes away: its old address is dead. The room keeps sending b's media there,
    // so b sees nothing more; a sees nothing more of b's video.
    let old = sim.client(b).addr;
    let stale = sim.last_uplink[&old].clone();
    assert_eq!(
        claimed(&mut sim, old, &stale),
        Some(b),
        "the old path is b's"
    );
    let new: SocketAddr = (Ipv4Addr::new(172, 16, 0, 2), 40_002).into();
    sim.move_client(b, new);
    // What was already in the jitter buffers may still come out for a moment (they wait for
    // retransmissions that will never come).
    sim.run_for(Duration::from_secs(1));
    let outage = sim.received_during(&pairs, Duration::from_secs(1));
    assert_eq!(outage[0].video, 0, "a still sees b: {:?}", outage[0]);
    assert_eq!(outage[1], ReceivedCount::default(), "b still receives a");

    // The browser notices and restarts ICE from its mobile address, through signalling.
    let restarted_at = sim.now;
    sim.ice_restart(b);
    sim.run_for(Duration::from_secs(2));
    for (c, (to, from)) in sim
        .received_during(&pairs, Duration::from_secs(3))
        .into_iter()
        .zip(pairs)
    {
        assert!(
            c.audio > 100 && c.video > 60,
            "{to} receives {from} again after the restart: {c:?}"
        );
    }

    // The room follows the new address: it sends b nothing at the old one once the new path
    // is up (within the two seconds above: connectivity checks are lost too, and retried),
    // takes b's datagrams from the new one, and no longer claims any from the old.
    let settled = restarted_at + Duration::from_secs(2);
    let late = sim
        .transmits
        .iter()
        .filter(|(t, to)| *t >= settled && *to == old)
        .count();
    assert_eq!(
        late, 0,
        "datagrams sent to b's old address after the restart"
    );
    assert!(
        sim.transmits
            .iter()
            .any(|(t, to)| *t >= settled && *to == new)
    );
    let fresh = sim.last_uplink[&new].clone();
    assert_eq!(claimed(&mut sim, new, &fresh), Some(b));
    assert_eq!(
        claimed(&mut sim, old, &stale),
        None,
        "the old address is not b's any more"
    );
    let dropped = sim.room.stats().dropped_datagrams;
    sim.inject(old, &stale);
    assert_eq!(
        sim.room.stats().dropped_datagrams,
        dropped + 1,
        "and is dropped, counted"
    );

    // Same participant throughout: nobody left, nothing failed.
    let left = sim
        .events
        .iter()
        .any(|(_, e)| matches!(e, RoomEvent::Left { .. }));
    assert!(!left, "{:?}", sim.event_summary());
    assert_eq!(sim.room.participants().collect::<Vec<_>>(), vec![a, b]);
    assert_eq!(sim.room.stats().panics, 0);
}
