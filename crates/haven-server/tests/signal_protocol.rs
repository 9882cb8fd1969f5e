//! Every client message is validated at `/ws`: a malformed one gets an `error` with a
//! stable code and a message naming the problem, and the connection goes on (until ten
//! errors); a flood is rate-limited and closed; joining needs a staff session or a seat.

mod common;
mod signal_support;

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use signal_support::{Client, Incoming, open_room_with, open_test_room};
use tokio_tungstenite::tungstenite::Message;

const ONE_SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn signal_every_malformed_message_gets_a_named_error_and_the_server_keeps_serving() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let mut client = Client::open(&app.base, None).await;
    client.join(Some(&room.seat)).await;

    let big = format!(
        "{{\"type\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(330 * 1024)
    );
    let big_sdp = format!("v=0\r\n{}", "a".repeat(257 * 1024));
    let cases: Vec<(String, &str, &str)> = vec![
        (big, "too_large", "327680"),
        ("{\"type\":".into(), "invalid_json", "JSON"),
        ("[]".into(), "not_an_object", "object"),
        ("{\"sdp\":\"v=0\"}".into(), "missing_type", "\"type\""),
        (
            json!({"type": "subscribe"}).to_string(),
            "unknown_type",
            "subscribe",
        ),
        (
            json!({"type": "offer"}).to_string(),
            "missing_field",
            "\"sdp\"",
        ),
        (
            json!({"type": "ping", "extra": 1}).to_string(),
            "unknown_field",
            "\"extra\"",
        ),
        (
            json!({"type": "mute", "kind": "audio", "muted": "yes"}).to_string(),
            "invalid_field",
            "\"muted\"",
        ),
        (
            json!({"type": "offer", "sdp": "hello"}).to_string(),
            "invalid_sdp",
            "v=0",
        ),
        (
            json!({"type": "offer", "sdp": big_sdp}).to_string(),
            "invalid_sdp",
            "262144",
        ),
        (
            json!({"type": "join", "v": 1}).to_string(),
            "already_joined",
            "join",
        ),
    ];
    // Nine refused messages on one connection, each followed by a ping that is served;
    // the rest on a second connection.
    let (first, rest) = cases.split_at(9);
    for (text, code, naming) in first {
        refused_and_served(&mut client, text, code, naming).await;
    }
    // A binary frame is refused too; as the tenth error, it closes the connection.
    client
        .socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    let error = client.expect("error").await;
    assert_eq!(error["code"], "binary_frame");
    assert!(error["message"].as_str().unwrap().contains("binary"));
    assert_eq!(
        client.expect_closed(ONE_SECOND).await,
        Some((1008, "too many errors".into()))
    );
    let mut second = Client::open(&app.base, None).await;
    second.join(Some(&room.seat)).await;
    for (text, code, naming) in rest {
        refused_and_served(&mut second, text, code, naming).await;
    }

    // The server keeps serving others.
    let mut host = Client::open(&app.base, Some(&room.cookie)).await;
    host.join(None).await;
}

async fn refused_and_served(client: &mut Client, text: &str, code: &str, naming: &str) {
    client.send_text(text.to_owned()).await;
    let error = client.expect("error").await;
    assert_eq!(error["code"], code, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(naming),
        "{code}: {message:?} should name {naming:?}"
    );
    client.send(json!({"type": "ping"})).await;
    client.expect("pong").await;
}

#[tokio::test]
async fn signal_a_message_before_join_and_an_unknown_version_are_refused() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let mut client = Client::open(&app.base, None).await;
    client
        .send(json!({"type": "mute", "kind": "audio", "muted": true}))
        .await;
    assert_eq!(client.expect("error").await["code"], "not_joined");
    client
        .send(json!({"type": "join", "v": 2, "seat": room.seat}))
        .await;
    let error = client.expect("error").await;
    assert_eq!(error["code"], "unsupported_version");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("version 1") && message.contains('2'),
        "{message}"
    );
    assert_eq!(
        client.expect_closed(ONE_SECOND).await,
        Some((1008, "unsupported protocol version".into()))
    );
}

#[tokio::test]
async fn signal_a_flood_is_rate_limited_then_closed() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let mut client = Client::open(&app.base, None).await;
    client.join(Some(&room.seat)).await;
    for _ in 0..200 {
        if client
            .socket
            .send(Message::Text(json!({"type": "ping"}).to_string().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut pongs = 0;
    let mut limited = 0;
    let frame = loop {
        match client.recv().await {
            Incoming::Msg(m) if m["type"] == "pong" => pongs += 1,
            Incoming::Msg(m) if m["code"] == "rate_limited" => limited += 1,
            Incoming::Msg(_) => {}
            Incoming::Closed(frame) => break frame,
        }
    };
    assert_eq!(limited, 1, "one rate_limited error");
    assert!(
        // The burst of 40 (one spent on join), plus what drips in during the flood.
        (39..=45).contains(&pongs),
        "{pongs} pongs: the burst, then the limit"
    );
    assert_eq!(frame, Some((1008, "rate limited".into())));
}

#[tokio::test]
async fn signal_join_needs_a_staff_session_or_a_valid_seat() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let made_up = "A".repeat(43);
    for join in [
        json!({"type": "join", "v": 1}),
        json!({"type": "join", "v": 1, "seat": made_up}),
        json!({"type": "join", "v": 1, "seat": "not-a-token"}),
    ] {
        let mut client = Client::open(&app.base, None).await;
        client.send(join.clone()).await;
        let error = client.expect("error").await;
        assert_eq!(error["code"], "unauthenticated", "{join}: {error}");
        assert_eq!(
            client.expect_closed(ONE_SECOND).await,
            Some((1008, "unauthenticated".into())),
            "{join}"
        );
    }
    // A forged session cookie is no session.
    let mut client = Client::open(&app.base, Some("haven_session=forged")).await;
    client.send(json!({"type": "join", "v": 1})).await;
    assert_eq!(client.expect("error").await["code"], "unauthenticated");

    // A seat of one room joins that room, not another: a second staff member's room.
    let org = app.user(common::ADMIN_EMAIL).await.org_id;
    let other = app
        .add_user(
            &org,
            "grace.hopper@riverside.example.org",
            "Grace Hopper",
            &[haven_domain::Role::Clinician],
            "amber lantern quartz meadow",
        )
        .await;
    let browser = app.browser();
    app.sign_in(&browser, &other.email, &other.password)
        .await
        .assert_home();
    let other_seat = open_room_with(&browser).await;
    let mut host_a = Client::open(&app.base, Some(&room.cookie)).await;
    let a = host_a.join(None).await;
    let mut host_b = Client::open(&app.base, Some(&browser.session_cookie())).await;
    let b = host_b.join(None).await;
    assert_ne!(a["room"], b["room"]);
    let mut guest = Client::open(&app.base, None).await;
    let welcome = guest.join(Some(&other_seat)).await;
    assert_eq!(
        welcome["room"], b["room"],
        "the seat admits to its own room only"
    );

    // Another origin's page cannot open the socket with the staff cookie.
    let url = format!("{}/ws", app.base.replacen("http://", "ws://", 1));
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    req.headers_mut()
        .insert("cookie", room.cookie.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
}

#[tokio::test]
async fn signal_the_test_room_page_and_invitation_link_work_for_staff_only() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let invitation = app.browser().get(&format!("/r/{}", room.seat)).await;
    assert_eq!(invitation.status, 200);
    assert!(invitation.contains("invited"), "{}", invitation.body);
    let unknown = app.browser().get(&format!("/r/{}", "B".repeat(43))).await;
    assert_eq!(unknown.status, 404);
    // Someone not signed in cannot open a room.
    let stranger = app.browser();
    let page = stranger.post_form("/rooms/test", &[]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), Some("/signin"));
    let _ = room.browser;
}
