//! The media transport as the authority: ending a room or removing a participant stops
//! every datagram at once, and malformed input from the network is dropped and counted
//! without harm.

mod media_support;

use std::net::Ipv4Addr;
use std::time::Duration;

use haven_server::media::{MediaError, MediaStats, ParticipantId, RoomId};
use media_support::{Client, Signalling, Via, start_server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

const AUDIO: u64 = 25;
const VIDEO: u64 = 15;
/// Datagrams the server sent before the End (or Remove) reply may still be in the client's
/// socket buffer; its reader drains them within microseconds on loopback.
const GRACE: Duration = Duration::from_millis(100);
/// How long silence must last to count as "nothing more arrives".
const SILENCE: Duration = Duration::from_secs(1);

/// Lets in-flight datagrams land, then returns the client's datagram count.
async fn after_grace(client: &Client) -> u64 {
    let mut seen = client.seen.clone();
    // Waiting for something that never happens: this is the grace period itself.
    let _ = timeout(GRACE, seen.wait_for(|_| false)).await;
    client.seen.borrow().datagrams
}

/// Asserts that not one datagram reaches the client within `SILENCE`.
async fn assert_silent(client: &Client, since: u64) {
    let mut seen = client.seen.clone();
    let arrived = timeout(SILENCE, seen.wait_for(|s| s.datagrams > since)).await;
    assert!(
        arrived.is_err(),
        "{} received a datagram after it left the room",
        client.id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_end_stops_every_datagram_and_the_demux_drops_the_peers_traffic() {
    let server = start_server().await;
    let id = RoomId::new(7);
    let (room, events) = server.open_room(id).expect("a new room opens");
    let sig = Signalling::start(events);
    let a = Client::join(&room, &sig, 1, Via::Udp, server.local_addr()).await;
    let b = Client::join(&room, &sig, 2, Via::Udp, server.local_addr()).await;
    a.wait_for_media(b.id, AUDIO, VIDEO).await;
    b.wait_for_media(a.id, AUDIO, VIDEO).await;

    room.end().await.expect("the room ends");
    let before: MediaStats = server.stats();
    assert!(server.room(id).is_none(), "an ended room is unregistered");
    let (na, nb) = (after_grace(&a).await, after_grace(&b).await);
    tokio::join!(assert_silent(&a, na), assert_silent(&b, nb));

    // The clients kept sending (media, consent checks): all dropped as unknown.
    let after = server.stats();
    assert!(
        after.dropped_unknown_source > before.dropped_unknown_source,
        "{before:?} -> {after:?}"
    );
    assert_eq!(after.datagrams_routed, before.datagrams_routed);
    let rejoin = room.join(ParticipantId::new(3), String::new()).await;
    assert!(
        matches!(rejoin, Err(MediaError::RoomClosed(_))),
        "{rejoin:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_removed_participant_gets_nothing_more_and_is_not_forwarded() {
    let server = start_server().await;
    let (room, events) = server.open_room(RoomId::new(1)).expect("a new room opens");
    let sig = Signalling::start(events);
    let addr = server.local_addr();
    let a = Client::join(&room, &sig, 1, Via::Udp, addr).await;
    let b = Client::join(&room, &sig, 2, Via::Udp, addr).await;
    let c = Client::join(&room, &sig, 3, Via::Udp, addr).await;
    for (to, from) in [(&a, &b), (&a, &c), (&b, &a)] {
        to.wait_for_media(from.id, AUDIO, VIDEO).await;
    }

    assert!(room.remove(b.id).await.expect("the room is open"));
    let nb = after_grace(&b).await;
    let from_b = a.seen.borrow().from(b.id);
    let from_c = a.seen.borrow().from(c.id);
    assert_silent(&b, nb).await;
    assert_eq!(
        a.seen.borrow().from(b.id),
        from_b,
        "b's media was forwarded after removal"
    );
    // The others' call goes on.
    a.wait_for_media(c.id, from_c.0 + AUDIO, from_c.1 + VIDEO)
        .await;
    assert!(!room.remove(b.id).await.expect("the room is open"));
}

/// A small seeded generator (xorshift): the junk is the same on every run.
struct Junk(u64);

impl Junk {
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 as u8
            })
            .collect()
    }
}

fn stun(kind: u16, username: &[u8]) -> Vec<u8> {
    let mut attr = 0x0006u16.to_be_bytes().to_vec();
    attr.extend_from_slice(&(username.len() as u16).to_be_bytes());
    attr.extend_from_slice(username);
    attr.resize(attr.len().div_ceil(4) * 4, 0);
    let mut m = kind.to_be_bytes().to_vec();
    m.extend_from_slice(&(attr.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
    m.extend_from_slice(&[9; 12]);
    m.extend_from_slice(&attr);
    m
}

/// Sends raw bytes on a fresh ICE-TCP connection and expects the server to close it.
async fn tcp_is_closed_after(server: std::net::SocketAddr, bytes: &[u8]) {
    let mut stream = TcpStream::connect(server).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut buf = [0u8; 64];
    let read = timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
    let closed = matches!(read, Ok(Ok(0)) | Ok(Err(_)));
    assert!(
        closed,
        "the server kept a connection that sent {bytes:02x?}: {read:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_malformed_input_is_dropped_and_counted_and_calls_still_work() {
    let server = start_server().await;
    let addr = server.local_addr();
    // An open room, empty: none of the junk may reach it.
    let (_idle_room, _idle_events) = server.open_room(RoomId::new(1)).expect("opens");

    let junk_socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let mut junk = Junk(0x5eed);
    let mut datagrams: Vec<Vec<u8>> = Vec::new();
    for len in [1, 2, 7, 20, 64, 500, 1200] {
        datagrams.push(junk.bytes(len));
    }
    let good_stun = stun(0x0001, b"nosuchufrag:client");
    for cut in [1, 4, 19, 20, 24, good_stun.len() - 1] {
        datagrams.push(good_stun[..cut].to_vec()); // truncated STUN
    }
    datagrams.push(good_stun.clone()); // well-formed, bogus USERNAME
    datagrams.push(stun(0x0001, b"no-colon-here"));
    datagrams.push(stun(0x0001, &[0xFF; 40])); // not UTF-8
    let mut rtp = vec![0x80, 96, 0, 1];
    rtp.extend(junk.bytes(200));
    datagrams.push(rtp); // RTP-looking junk
    let mut dtls = vec![22, 0xFE, 0xFD];
    dtls.extend(junk.bytes(60));
    datagrams.push(dtls); // DTLS-looking junk
    datagrams.push(junk.bytes(3000)); // larger than any media datagram
    for d in &datagrams {
        junk_socket.send_to(d, addr).await.expect("send junk");
    }
    // Three more in one segmented (GSO) send: on loopback the kernel hands them to the
    // server's socket still joined, as a network card's GRO would, and each must count.
    let joined = junk.bytes(3 * 40);
    let gso = quinn_udp::UdpSocketState::new((&junk_socket).into()).expect("a UDP socket");
    let transmit = quinn_udp::Transmit {
        destination: addr,
        ecn: None,
        contents: &joined,
        segment_size: Some(40),
        src_ip: None,
    };
    gso.try_send((&junk_socket).into(), &transmit)
        .expect("loopback takes segmented sends");

    tcp_is_closed_after(addr, &[0, 0]).await; // zero-length frame
    tcp_is_closed_after(addr, &[0xFF, 0xFF, 1, 2, 3]).await; // oversized frame
    let mut frame = 50u16.to_be_bytes().to_vec();
    frame.extend(junk.bytes(50));
    tcp_is_closed_after(addr, &frame).await; // a first frame that is not STUN
    let mut bogus = (good_stun.len() as u16).to_be_bytes().to_vec();
    bogus.extend_from_slice(&good_stun);
    tcp_is_closed_after(addr, &bogus).await; // STUN for nobody

    // A real call in another room works afterwards. The junk was sent before it, on the
    // same sockets, so by the time media flows every junk datagram has been handled.
    let (room, events) = server.open_room(RoomId::new(2)).expect("opens");
    let sig = Signalling::start(events);
    let a = Client::join(&room, &sig, 1, Via::Udp, addr).await;
    let b = Client::join(&room, &sig, 2, Via::Tcp, addr).await;
    a.wait_for_media(b.id, AUDIO, VIDEO).await;
    b.wait_for_media(a.id, AUDIO, VIDEO).await;

    let stats = server.stats();
    let dropped = stats.dropped_malformed + stats.dropped_unknown_source;
    let expected = datagrams.len() as u64 + 3 + 4;
    assert!(dropped >= expected, "{expected} junk packets, {stats:?}");
    assert!(stats.dropped_malformed >= 10, "{stats:?}");
    assert!(stats.dropped_unknown_source >= 3, "{stats:?}");
    assert_eq!(stats.tcp_connections, 5, "{stats:?}");
    assert_eq!(stats.room_panics, 0, "{stats:?}");
}
