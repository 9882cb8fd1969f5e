//! Unit tests of the room's API that need no network: errors and panic isolation.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use str0m::media::{Direction, MediaKind};
use str0m::{Candidate, Rtc};

use crate::{Error, LeaveReason, ParticipantId, Room, RoomConfig, RoomEvent, RoomOutput};

fn room(now: Instant) -> Room {
    let server: SocketAddr = (Ipv4Addr::new(192, 0, 2, 1), 3478).into();
    Room::new(
        now,
        RoomConfig {
            local_addrs: vec![server],
        },
    )
}

/// An SDP offer as a browser publishing audio and video would make.
fn client_offer(now: Instant, n: u8) -> String {
    let mut rtc = Rtc::builder().build(now);
    let addr: SocketAddr = (Ipv4Addr::new(10, 0, 0, n), 5000).into();
    rtc.add_local_candidate(Candidate::host(addr, "udp").expect("a valid host candidate"));
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    change.add_media(MediaKind::Video, Direction::SendRecv, None, None, None);
    let (offer, _pending) = change.apply().expect("adding media is a change");
    offer.to_sdp_string()
}

/// Drains the room and returns its events.
fn drain(room: &mut Room) -> Vec<RoomEvent> {
    let mut events = Vec::new();
    for _ in 0..10_000 {
        match room.poll_output() {
            RoomOutput::Timeout(_) => return events,
            RoomOutput::Event(e) => events.push(e),
            RoomOutput::Transmit { .. } => {}
        }
    }
    panic!("the room never reached a timeout");
}

#[test]
fn join_rejects_garbage_sdp_and_duplicates() {
    let now = Instant::now();
    let mut room = room(now);
    let p1 = ParticipantId::new(1);
    assert!(matches!(
        room.join(now, p1, "v=0\r\nnonsense"),
        Err(Error::InvalidSdp(_))
    ));
    assert!(matches!(room.join(now, p1, ""), Err(Error::InvalidSdp(_))));
    room.join(now, p1, &client_offer(now, 1))
        .expect("a browser-like offer is accepted");
    assert_eq!(
        room.join(now, p1, &client_offer(now, 1)),
        Err(Error::AlreadyJoined(p1))
    );
}

#[test]
fn answers_and_offers_need_a_known_participant_and_an_outstanding_offer() {
    let now = Instant::now();
    let mut room = room(now);
    let p1 = ParticipantId::new(1);
    let ghost = ParticipantId::new(9);
    assert_eq!(
        room.handle_answer(now, ghost, "v=0"),
        Err(Error::UnknownParticipant(ghost))
    );
    assert_eq!(
        room.handle_offer(now, ghost, "v=0"),
        Err(Error::UnknownParticipant(ghost))
    );
    let answer = room
        .join(now, p1, &client_offer(now, 1))
        .expect("join accepted");
    // The room's own answer is well-formed SDP, but no offer of the room's is outstanding.
    assert_eq!(
        room.handle_answer(now, p1, &answer),
        Err(Error::NoPendingOffer(p1))
    );
    assert!(!room.remove(ghost));
}

#[test]
fn a_panic_inside_one_participant_removes_only_that_participant() {
    let now = Instant::now();
    let mut room = room(now);
    let (p1, p2) = (ParticipantId::new(1), ParticipantId::new(2));
    room.join(now, p1, &client_offer(now, 1))
        .expect("join accepted");
    room.join(now, p2, &client_offer(now, 2))
        .expect("join accepted");
    drain(&mut room);

    room.participant_mut(p1).expect("p1 joined").panic_on_poll = true;
    room.handle_timeout(now + Duration::from_millis(10));
    let events = drain(&mut room);

    let left = RoomEvent::Left {
        participant: p1,
        reason: LeaveReason::Failed,
    };
    assert!(events.contains(&left), "{events:?}");
    assert_eq!(room.participants().collect::<Vec<_>>(), vec![p2]);
    assert_eq!(room.stats().panics, 1);

    // The room carries on.
    room.handle_timeout(now + Duration::from_secs(1));
    drain(&mut room);
    assert_eq!(room.participants().collect::<Vec<_>>(), vec![p2]);
}
