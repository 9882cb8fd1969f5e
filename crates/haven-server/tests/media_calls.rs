//! Calls through the real media transport: str0m client peers on 127.0.0.1 join rooms of a
//! `MediaServer` and exchange audio and video over UDP and over ICE-TCP.

mod media_support;

use haven_server::media::{MediaError, RoomId};
use media_support::{CALL_TIMEOUT, Client, Signalling, Via, start_server};
use tokio::time::timeout;

/// About half a second of each kind of media (20 ms audio, 33 ms video frames).
const AUDIO: u64 = 25;
const VIDEO: u64 = 15;

async fn two_peers_exchange_media(via: Via) {
    let server = start_server().await;
    let (room, events) = server.open_room(RoomId::new(1)).expect("a new room opens");
    let sig = Signalling::start(events);
    let a = Client::join(&room, &sig, 1, via, server.local_addr()).await;
    let b = Client::join(&room, &sig, 2, via, server.local_addr()).await;

    a.wait_for_media(b.id, AUDIO, VIDEO).await;
    b.wait_for_media(a.id, AUDIO, VIDEO).await;

    let stats = server.stats();
    assert!(stats.datagrams_routed > 0, "{stats:?}");
    assert_eq!(stats.dropped_malformed, 0, "{stats:?}");
    if via == Via::Tcp {
        assert_eq!(stats.tcp_connections, 2, "{stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_udp_two_peers_receive_each_others_audio_and_video() {
    two_peers_exchange_media(Via::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_tcp_two_peers_receive_each_others_audio_and_video() {
    two_peers_exchange_media(Via::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_tcp_connections_close_when_the_room_ends() {
    let server = start_server().await;
    let (room, events) = server.open_room(RoomId::new(1)).expect("a new room opens");
    let sig = Signalling::start(events);
    let a = Client::join(&room, &sig, 1, Via::Tcp, server.local_addr()).await;
    let b = Client::join(&room, &sig, 2, Via::Udp, server.local_addr()).await;
    a.wait_for_media(b.id, AUDIO, VIDEO).await;
    b.wait_for_media(a.id, AUDIO, VIDEO).await;

    room.end().await.expect("the room ends");
    let mut seen = a.seen.clone();
    let closed = timeout(CALL_TIMEOUT, seen.wait_for(|s| s.closed)).await;
    assert!(
        matches!(closed, Ok(Ok(_))),
        "the server closed a's ICE-TCP connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_two_rooms_each_pair_receives_only_its_own_room() {
    let server = start_server().await;
    let (room1, events1) = server.open_room(RoomId::new(1)).expect("room 1 opens");
    let (room2, events2) = server.open_room(RoomId::new(2)).expect("room 2 opens");
    assert!(matches!(
        server.open_room(RoomId::new(2)),
        Err(MediaError::RoomExists(_))
    ));
    let (sig1, sig2) = (Signalling::start(events1), Signalling::start(events2));
    let addr = server.local_addr();
    let a = Client::join(&room1, &sig1, 1, Via::Udp, addr).await;
    let c = Client::join(&room2, &sig2, 3, Via::Udp, addr).await;
    let b = Client::join(&room1, &sig1, 2, Via::Udp, addr).await;
    let d = Client::join(&room2, &sig2, 4, Via::Tcp, addr).await;

    for (to, from) in [(&a, &b), (&b, &a), (&c, &d), (&d, &c)] {
        to.wait_for_media(from.id, AUDIO, VIDEO).await;
    }
    for (client, own) in [(&a, "p2"), (&b, "p1"), (&c, "p4"), (&d, "p3")] {
        let seen = client.seen.borrow();
        let publishers: Vec<&String> = seen.frames.keys().collect();
        assert_eq!(
            publishers,
            [own],
            "{} received from {publishers:?}",
            client.id
        );
    }
    // Ending one room leaves the other's call going.
    room1.end().await.expect("room 1 ends");
    let before = d.seen.borrow().from(c.id);
    d.wait_for_media(c.id, before.0 + AUDIO, before.1 + VIDEO)
        .await;
}
