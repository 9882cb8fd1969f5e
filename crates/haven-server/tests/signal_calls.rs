//! Signalling drives real calls: two participants negotiate over `/ws` and exchange audio
//! and video through the real media server; a dropped WebSocket resumes its seat.

mod common;
mod signal_support;

use std::time::Duration;

use common::spawn_app_with;
use signal_support::{Client, MediaClient, WAIT, connect, open_test_room};

#[tokio::test]
async fn signal_host_and_guest_exchange_audio_and_video_through_ws() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let host = MediaClient::join(connect(&app.base, Some(&room.cookie)).await, None).await;
    assert_eq!(host.welcome["host"], true, "{}", host.welcome);
    let guest = MediaClient::join(connect(&app.base, None).await, Some(&room.seat)).await;
    assert_eq!(guest.welcome["host"], false);
    let ids: Vec<&str> = guest.welcome["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [host.participant.as_str(), guest.participant.as_str()]);

    host.wait_for_media(&guest.participant, 20, 10).await;
    guest.wait_for_media(&host.participant, 20, 10).await;
}

#[tokio::test]
async fn signal_a_dropped_socket_resumes_the_same_participant_within_the_grace() {
    let app = spawn_app_with(|c| c.media.reconnect_grace = Duration::from_millis(1500)).await;
    let room = open_test_room(&app).await;
    let mut host = MediaClient::join(connect(&app.base, Some(&room.cookie)).await, None).await;
    let guest = MediaClient::join(connect(&app.base, None).await, Some(&room.seat)).await;
    host.wait_for_media(&guest.participant, 10, 5).await;

    // The guest's network changes: the socket drops without a goodbye.
    guest.drop_socket().await;
    let entry = |list: &serde_json::Value, id: &str| {
        list["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
    };
    // Earlier updates may be queued before the one that shows the lost connection.
    loop {
        let list = host.expect("participants").await;
        let listed = entry(&list, &guest.participant).expect("still listed during the grace");
        if listed["connected"] == false {
            break;
        }
    }

    // Back within the grace, with the same seat: same participant, and an ICE-restart
    // offer is answered; media flows again.
    guest.resume(connect(&app.base, None).await).await;
    let mut guest = guest;
    let welcome = guest.expect("welcome").await;
    assert_eq!(
        welcome["participant"],
        guest.participant.as_str(),
        "{welcome}"
    );
    guest.expect("answer").await;
    let before = guest.seen.borrow().from(&host.participant);
    guest
        .wait_for_media(&host.participant, before.0 + 20, before.1 + 10)
        .await;
    let seen_by_host = host.seen.borrow().from(&guest.participant);
    host.wait_for_media(&guest.participant, seen_by_host.0 + 20, seen_by_host.1 + 10)
        .await;

    // Dropped again and not back: after the grace the participant is gone.
    guest.drop_socket().await;
    let removed = tokio::time::timeout(WAIT, async {
        loop {
            let list = host.expect("participants").await;
            if entry(&list, &guest.participant).is_none() {
                return list;
            }
        }
    })
    .await
    .expect("the participant is removed after the grace");
    assert_eq!(removed["list"].as_array().unwrap().len(), 1, "{removed}");
    // Media from the departed guest stops reaching the host.
    let frozen = host.seen.borrow().from(&guest.participant);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(host.seen.borrow().from(&guest.participant), frozen);
}

#[tokio::test]
async fn signal_the_staff_session_resumes_the_host_seat() {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let mut first = Client::open(&app.base, Some(&room.cookie)).await;
    let welcome = first.join(None).await;
    let mut second = Client::open(&app.base, Some(&room.cookie)).await;
    let again = second.join(None).await;
    assert_eq!(welcome["participant"], again["participant"]);
    assert_eq!(again["host"], true);
    // The older connection is replaced, with a reason.
    let frame = first.expect_closed(Duration::from_secs(1)).await;
    assert_eq!(frame, Some((1000, "replaced by a new connection".into())));
}
