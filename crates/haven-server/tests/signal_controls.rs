//! Clients' controls take effect in the media, not just in the participant list: a mute
//! stops forwarding even from a client that keeps sending, audio-only stops video to that
//! client and says why; and what the media room measures (connection quality, the active
//! speaker) reaches every client.

mod common;
mod signal_support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use signal_support::{Incoming, MediaClient, WAIT, connect, open_test_room};
use tokio::time::{sleep, timeout};

/// Long enough for frames already in flight (and in str0m's buffers) to land.
const SETTLE: Duration = Duration::from_millis(500);
/// The window in which nothing of a stopped kind may arrive.
const QUIET: Duration = Duration::from_secs(1);

async fn host_and_guest() -> (common::TestApp, MediaClient, MediaClient) {
    let app = common::spawn_app().await;
    let room = open_test_room(&app).await;
    let host = MediaClient::join(connect(&app.base, Some(&room.cookie)).await, None).await;
    let guest = MediaClient::join(connect(&app.base, None).await, Some(&room.seat)).await;
    host.wait_for_media(&guest.participant, 20, 10).await;
    guest.wait_for_media(&host.participant, 20, 10).await;
    (app, host, guest)
}

/// (audio, video) frames `to` received from `from` during `QUIET`, after `SETTLE`.
async fn received_while_quiet(to: &MediaClient, from: &str) -> (u64, u64) {
    sleep(SETTLE).await;
    let before = to.seen.borrow().from(from);
    sleep(QUIET).await;
    let after = to.seen.borrow().from(from);
    (after.0 - before.0, after.1 - before.1)
}

#[tokio::test]
async fn signal_a_muted_camera_is_not_forwarded_even_if_the_client_keeps_sending() {
    let (_app, host, guest) = host_and_guest().await;
    // The synthetic guest ignores its own mute and keeps sending video, as a modified or
    // buggy client could: the server must still not forward it.
    guest
        .send(json!({"type": "mute", "kind": "video", "muted": true}))
        .await;
    let (audio, video) = received_while_quiet(&host, &guest.participant).await;
    assert_eq!(video, 0, "no video from a muted camera reaches the host");
    assert!(
        audio >= 25,
        "the host still hears the guest: {audio} frames"
    );

    guest
        .send(json!({"type": "mute", "kind": "video", "muted": false}))
        .await;
    let (audio, video) = host.seen.borrow().from(&guest.participant);
    host.wait_for_media(&guest.participant, audio + 10, video + 10)
        .await;
}

#[tokio::test]
async fn signal_audio_only_stops_video_to_that_client_and_tells_it_why() {
    let (_app, mut host, mut guest) = host_and_guest().await;
    guest
        .send(json!({"type": "prefer", "audio_only": true}))
        .await;
    let told = guest.expect("audio_only").await;
    assert_eq!(told["reason"], "requested", "{told}");

    let (audio, video) = received_while_quiet(&guest, &host.participant).await;
    assert_eq!(
        video, 0,
        "no video reaches a client that asked for audio only"
    );
    assert!(
        audio >= 25,
        "the guest still hears the host: {audio} frames"
    );
    let (_, video) = received_while_quiet(&host, &guest.participant).await;
    assert!(video >= 15, "the host still sees the guest: {video} frames");

    guest
        .send(json!({"type": "prefer", "audio_only": false}))
        .await;
    guest.expect("video_resumed").await;
    let (audio, video) = guest.seen.borrow().from(&host.participant);
    guest
        .wait_for_media(&host.participant, audio + 10, video + 10)
        .await;
    // The host was never told anything about the guest's own choice but the list.
    host.send(json!({"type": "ping"})).await;
    host.expect("pong").await;
}

#[tokio::test]
async fn signal_every_client_hears_of_everyones_connection_quality_and_the_speaker() {
    let (_app, mut host, mut guest) = host_and_guest().await;
    let everyone: BTreeSet<String> = [host.participant.clone(), guest.participant.clone()].into();
    for client in [&mut host, &mut guest] {
        let mut quality_of = BTreeSet::new();
        let mut speaker = None;
        let deadline = tokio::time::Instant::now() + WAIT;
        while quality_of != everyone || speaker.is_none() {
            let got = tokio::time::timeout_at(deadline, client.inbox.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{} heard quality of {quality_of:?} and speaker {speaker:?} only",
                        client.participant
                    )
                })
                .expect("the client runs");
            let Incoming::Msg(m) = got else {
                panic!("{}: the socket closed", client.participant);
            };
            match m["type"].as_str() {
                Some("quality") => {
                    assert!(
                        ["good", "fair", "poor"].contains(&m["level"].as_str().unwrap_or("")),
                        "{m}"
                    );
                    assert!(m["in_kbps"].as_u64().is_some_and(|k| k > 0), "{m}");
                    assert!(m["out_kbps"].as_u64().is_some_and(|k| k > 0), "{m}");
                    quality_of.insert(m["participant"].as_str().unwrap_or("").to_owned());
                }
                Some("speaker") => {
                    let who = m["participant"].as_str().unwrap_or("").to_owned();
                    assert!(everyone.contains(&who), "{m}");
                    speaker = Some(who);
                }
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn signal_a_view_must_name_someone_else_in_the_call() {
    let (_app, host, mut guest) = host_and_guest().await;
    let own = guest.participant.clone();
    for nobody in ["p99", own.as_str()] {
        let view = json!({"type": "view", "participant": nobody, "width": 320, "height": 180});
        guest.send(view).await;
        let error = guest.expect("error").await;
        assert_eq!(error["code"], "unknown_participant", "{error}");
        assert!(
            error["message"].as_str().unwrap_or("").contains(nobody),
            "{error}"
        );
    }
    // A thumbnail of the host is accepted (and the call carries on).
    let view = json!({"type": "view", "participant": host.participant, "width": 160, "height": 90});
    guest.send(view).await;
    guest.send(json!({"type": "ping"})).await;
    timeout(WAIT, guest.expect("pong"))
        .await
        .expect("a pong in time");
    let (audio, video) = guest.seen.borrow().from(&host.participant);
    guest
        .wait_for_media(&host.participant, audio + 10, video + 10)
        .await;
}
