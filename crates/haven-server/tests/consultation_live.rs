//! A consultation from the waiting room to the end, with real media peers: the patient's
//! link puts them in the waiting room (connected, but apart: no media either way), the
//! clinician sees them waiting, admits them only after the identity checklist, the call
//! flows, hold and notices reach them, and the clinician's end closes everything and kills
//! the link.

mod common;
mod signal_support;

use std::time::Duration;

use common::TestApp;
use common::booking::{PASSWORD, consult};
use haven_domain::consultation::Status;
use haven_domain::{AttendeeId, OrgId, Role};
use serde_json::json;
use signal_support::{MediaClient, connect};

/// (audio, video) frames `to` received from `from` over one second, after media settles.
async fn received_for_a_second(to: &MediaClient, from: &str) -> (u64, u64) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = to.seen.borrow().from(from);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = to.seen.borrow().from(from);
    (after.0 - before.0, after.1 - before.1)
}

/// The journey steps recorded for an attendee, sorted (the test clock stands still, so
/// their times are equal).
async fn steps(app: &TestApp, org: &OrgId, attendee: &AttendeeId) -> Vec<&'static str> {
    let journey = app.store.journey(org, attendee).await.unwrap();
    let mut steps: Vec<_> = journey.iter().map(|s| s.step.as_str()).collect();
    steps.sort_unstable();
    steps
}

#[tokio::test]
async fn a_patient_waits_apart_until_admitted_after_the_checklist_and_the_end_closes_everything() {
    let b = consult().await;
    let app = &b.app;
    let mut patient =
        MediaClient::join_with(connect(&app.base, None).await, json!({"invite": b.token})).await;
    assert_eq!(patient.welcome["host"], false);
    let seen_by_patient = patient.welcome["participants"].as_array().unwrap().len();
    assert_eq!(seen_by_patient, 1, "someone waiting sees only themselves");
    assert_eq!(patient.expect("stage").await["stage"], "waiting");
    let status = app.store.consultation(&b.org, &b.id).await.unwrap().status;
    assert_eq!(status, Status::Waiting);

    let cookie = b.clinician.session_cookie();
    let mut doctor = MediaClient::join_with(
        connect(&app.base, Some(&cookie)).await,
        json!({"consultation": b.id.as_str()}),
    )
    .await;
    assert_eq!(doctor.welcome["host"], true);
    let listed: Vec<&str> = doctor.welcome["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [doctor.participant.as_str()],
        "the waiting patient is not in the call"
    );

    // Connected, but apart: nothing either way.
    assert_eq!(
        received_for_a_second(&doctor, &patient.participant).await,
        (0, 0)
    );
    assert_eq!(
        received_for_a_second(&patient, &doctor.participant).await,
        (0, 0)
    );
    assert!(
        patient.seen.borrow().connected,
        "the media connection is prepared while waiting"
    );

    // The consultation page shows them waiting; admission needs the whole checklist.
    let page = b.clinician.get(&format!("/consultations/{}", b.id)).await;
    assert!(page.contains("Check identity and admit"), "{}", page.body);
    let attendee = app.store.attendees(&b.org, &b.id).await.unwrap()[0]
        .id
        .clone();
    let admit = format!("/consultations/{}/attendees/{attendee}/admit", b.id);
    let form = b.clinician.get(&admit).await;
    let partial = b
        .clinician
        .post_form_with(
            &form.csrf(),
            &admit,
            &[("identity_confirmed", "yes"), ("location", "Home")],
        )
        .await;
    assert_eq!(partial.status, 400);
    assert!(
        partial.contains("private space") && partial.contains("record is open"),
        "{}",
        partial.body
    );
    assert_eq!(
        received_for_a_second(&doctor, &patient.participant).await.1,
        0
    );

    let all = [
        ("identity_confirmed", "yes"),
        ("record_open", "yes"),
        ("private_space", "yes"),
        ("location", "At home, 1 High Street"),
    ];
    let done = b.clinician.post_form_with(&form.csrf(), &admit, &all).await;
    done.assert_redirect(&format!("/consultations/{}/call", b.id));
    assert_eq!(patient.expect("stage").await["stage"], "admitted");
    doctor.wait_for_media(&patient.participant, 20, 10).await;
    patient.wait_for_media(&doctor.participant, 20, 10).await;
    // The journey records it (off the media path, so it may land a moment later).
    for _ in 0..100 {
        if steps(app, &b.org, &attendee)
            .await
            .contains(&"media_flowing")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        steps(app, &b.org, &attendee).await,
        ["admitted", "media_flowing", "waiting"]
    );
    let c = app.store.consultation(&b.org, &b.id).await.unwrap();
    assert_eq!(c.status, Status::InProgress);
    assert_eq!(
        c.patient_location.as_deref(),
        Some("At home, 1 High Street")
    );
    let audit = app.audit_of("consultation.admit").await;
    assert_eq!(audit.len(), 1);
    assert!(
        audit[0].detail.contains("identity_confirmed=yes")
            && !audit[0].detail.contains("High Street")
    );

    // Hold: the patient is told, and nothing reaches them.
    let hold = format!("/consultations/{}/attendees/{attendee}/hold", b.id);
    b.clinician.post_form_with(&form.csrf(), &hold, &[]).await;
    assert_eq!(patient.expect("stage").await["stage"], "held");
    assert_eq!(
        received_for_a_second(&patient, &doctor.participant).await,
        (0, 0)
    );
    let resume = format!("/consultations/{}/attendees/{attendee}/resume", b.id);
    b.clinician.post_form_with(&form.csrf(), &resume, &[]).await;
    assert_eq!(patient.expect("stage").await["stage"], "admitted");

    // The clinician ends it: the patient is told and disconnected, the link dies.
    doctor.send(json!({"type": "end"})).await;
    let ended = patient.expect("ended").await;
    assert_eq!(ended["reason"], "your consultation has ended");
    patient.expect_closed(Duration::from_secs(1)).await;
    doctor.expect_closed(Duration::from_secs(1)).await;
    let c = app.store.consultation(&b.org, &b.id).await.unwrap();
    assert_eq!(c.status, Status::Ended);
    assert_eq!(
        steps(app, &b.org, &attendee).await,
        ["admitted", "ended", "media_flowing", "waiting"],
        "media flowing is recorded once, though it resumed after the hold"
    );
    let hash = haven_server::invites::token_hash(&b.token);
    assert!(app.store.invite(&hash, app.now()).await.unwrap().is_none());
    let end = app.audit_of("consultation.end").await;
    assert_eq!(end.len(), 1);
    let page = app.browser().get(&format!("/join/{}", b.token)).await;
    assert_eq!(page.status, 404);

    // The clinician records how it went.
    let outcome = format!("/consultations/{}/outcome", b.id);
    let done = b
        .clinician
        .post_form_with(
            &form.csrf(),
            &outcome,
            &[
                ("outcome", "converted_to_telephone"),
                ("note", "video froze"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let shown = b.clinician.get(&format!("/consultations/{}", b.id)).await;
    assert!(
        shown.contains("Converted to telephone: video froze"),
        "{}",
        shown.body
    );
    assert_eq!(app.audit_of("consultation.outcome").await.len(), 1);
}

#[tokio::test]
async fn someone_waiting_gets_the_clinics_messages_and_only_clinicians_join() {
    let b = consult().await;
    let app = &b.app;
    let mut patient =
        MediaClient::join_with(connect(&app.base, None).await, json!({"invite": b.token})).await;
    assert_eq!(patient.expect("stage").await["stage"], "waiting");
    let attendee = app.store.attendees(&b.org, &b.id).await.unwrap()[0]
        .id
        .clone();
    let page = b.clinician.get(&format!("/consultations/{}", b.id)).await;
    let notice = format!("/consultations/{}/attendees/{attendee}/notice", b.id);
    b.clinician
        .post_form_with(
            &page.csrf(),
            &notice,
            &[("notice", "Running 10 minutes late, sorry")],
        )
        .await;
    assert_eq!(
        patient.expect("notice").await["text"],
        "Running 10 minutes late, sorry"
    );

    // A receptionist may book but not join the call; a bad link is refused.
    let receptionist = app
        .add_user(
            &b.org,
            "rec@example.org",
            "Rae Reception",
            &[Role::Receptionist],
            PASSWORD,
        )
        .await;
    let desk = app.browser();
    app.sign_in(&desk, &receptionist.email, &receptionist.password)
        .await;
    let mut client = signal_support::Client {
        socket: connect(&app.base, Some(&desk.session_cookie())).await,
    };
    client
        .send(json!({"type": "join", "v": 1, "consultation": b.id.as_str()}))
        .await;
    let refused = client.expect("error").await;
    assert_eq!(refused["code"], "unauthenticated");
    let mut stranger = signal_support::Client {
        socket: connect(&app.base, None).await,
    };
    stranger
        .send(json!({"type": "join", "v": 1, "invite": "not-a-real-token"}))
        .await;
    assert_eq!(stranger.expect("error").await["code"], "unauthenticated");
}
