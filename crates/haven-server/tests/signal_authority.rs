//! The server is authoritative: `eject` and `end` take effect at the media layer and close
//! the affected WebSockets within a second; ejected seats stop working.

mod common;
mod signal_support;

use std::time::{Duration, Instant};

use serde_json::json;
use signal_support::{Client, Incoming, MediaClient, connect, open_test_room};

const ONE_SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn signal_eject_closes_the_guest_at_once_and_revokes_the_seat() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let mut host = MediaClient::join(connect(&app.base, Some(&room.cookie)).await, None).await;
    let mut guest = MediaClient::join(connect(&app.base, None).await, Some(&room.seat)).await;
    host.wait_for_media(&guest.participant, 10, 5).await;
    guest.wait_for_media(&host.participant, 10, 5).await;

    let asked = Instant::now();
    host.send(json!({"type": "eject", "participant": guest.participant}))
        .await;
    let ejected = guest.expect("ejected").await;
    assert!(
        ejected["reason"].as_str().unwrap().contains("removed"),
        "{ejected}"
    );
    let frame = guest.expect_closed(ONE_SECOND).await;
    assert!(
        asked.elapsed() < ONE_SECOND,
        "closed after {:?}",
        asked.elapsed()
    );
    assert_eq!(frame, Some((1000, "ejected".into())));

    // Not one datagram reaches the guest's media socket afterwards (the server sends
    // STUN, DTLS and RTP every few milliseconds to a live peer).
    let after = guest.seen.borrow().datagrams;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        guest.seen.borrow().datagrams,
        after,
        "datagrams after the eject"
    );
    // And nothing more from the guest is forwarded to the host.
    let frozen = host.seen.borrow().from(&guest.participant);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(host.seen.borrow().from(&guest.participant), frozen);
    // The host is told (earlier updates may be queued before it).
    loop {
        let list = host.expect("participants").await;
        if list["list"].as_array().unwrap().len() == 1 {
            break;
        }
    }

    // The seat token no longer joins.
    let mut again = Client::open(&app.base, None).await;
    again
        .send(json!({"type": "join", "v": 1, "seat": room.seat}))
        .await;
    let refused = again.expect("error").await;
    assert_eq!(refused["code"], "unauthenticated", "{refused}");
    assert_eq!(
        again.expect_closed(ONE_SECOND).await,
        Some((1008, "unauthenticated".into()))
    );
}

#[tokio::test]
async fn signal_only_the_host_may_eject_or_end() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let mut host = Client::open(&app.base, Some(&room.cookie)).await;
    let welcome = host.join(None).await;
    let mut guest = Client::open(&app.base, None).await;
    guest.join(Some(&room.seat)).await;
    for msg in [
        json!({"type": "eject", "participant": welcome["participant"]}),
        json!({"type": "end"}),
    ] {
        guest.send(msg).await;
        let refused = guest.expect("error").await;
        assert_eq!(refused["code"], "not_host", "{refused}");
    }
    host.send(json!({"type": "eject", "participant": "p99"}))
        .await;
    let refused = host.expect("error").await;
    assert_eq!(refused["code"], "unknown_participant");
    assert!(refused["message"].as_str().unwrap().contains("p99"));
    // Both still connected.
    guest.send(json!({"type": "ping"})).await;
    guest.expect("pong").await;
}

#[tokio::test]
async fn signal_end_closes_every_socket_within_a_second() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let mut host = MediaClient::join(connect(&app.base, Some(&room.cookie)).await, None).await;
    let mut guest = MediaClient::join(connect(&app.base, None).await, Some(&room.seat)).await;
    guest.wait_for_media(&host.participant, 10, 5).await;

    let asked = Instant::now();
    host.send(json!({"type": "end"})).await;
    for client in [&mut host, &mut guest] {
        let ended = client.expect("ended").await;
        assert!(
            ended["reason"].as_str().unwrap().contains("ended"),
            "{ended}"
        );
        let frame = client.expect_closed(ONE_SECOND).await;
        assert_eq!(frame, Some((1000, "ended".into())));
    }
    assert!(
        asked.elapsed() < ONE_SECOND,
        "closed after {:?}",
        asked.elapsed()
    );
    let after = guest.seen.borrow().datagrams;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        guest.seen.borrow().datagrams,
        after,
        "datagrams after the end"
    );

    // Neither the seat nor the host's session joins the ended room.
    for cookie in [None, Some(room.cookie.as_str())] {
        let mut late = Client::open(&app.base, cookie).await;
        let seat = if cookie.is_none() {
            json!(room.seat)
        } else {
            json!(null)
        };
        late.send(json!({"type": "join", "v": 1, "seat": seat}))
            .await;
        let refused = late.expect("error").await;
        assert_eq!(refused["code"], "unauthenticated", "{refused}");
        assert!(matches!(
            late.recv().await,
            Incoming::Closed(Some((1008, _)))
        ));
    }
}
