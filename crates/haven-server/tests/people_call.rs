//! More people in a live call: the attendance register records every stay (admission,
//! back to waiting, removal, the end); a removed person is dropped from the media at once
//! and their link is dead (a page says they were removed, `/ws` refuses it); a side-room
//! holds everyone else apart in the media layer until the clinician brings them back.

mod common;
mod people_support;
mod signal_support;

use std::time::Duration;

use haven_domain::time::Duration as Span;
use people_support::{consult, received_for_a_second};
use serde_json::json;
use signal_support::{Client, MediaClient, connect};

#[tokio::test]
async fn the_register_records_each_stay_through_back_to_waiting_removal_and_the_end() {
    let c = consult().await;
    let app = &c.app;
    let (carer, carer_token) = c.add_by_copy("carer", "Carol Carer").await;
    c.give_name(&carer_token, "Carol Carer").await;
    let mut patient = Client {
        socket: connect(&app.base, None).await,
    };
    patient.join_with(&json!({"invite": c.token})).await;
    let mut carol = Client {
        socket: connect(&app.base, None).await,
    };
    carol.join_with(&json!({"invite": carer_token})).await;
    let cookie = c.clinician.session_cookie();
    let mut doctor = Client {
        socket: connect(&app.base, Some(&cookie)).await,
    };
    doctor
        .join_with(&json!({"consultation": c.id.as_str()}))
        .await;

    let t0 = app.now();
    c.admit_patient().await;
    c.admit(&carer, &["identity_confirmed", "patient_agrees"])
        .await;
    app.advance(Span::minutes(5));
    let t1 = app.now();
    c.press(&format!("/attendees/{}/waiting", c.patient), &[])
        .await;
    app.advance(Span::minutes(1));
    let t2 = app.now();
    c.admit_patient().await;
    app.advance(Span::minutes(4));
    let t3 = app.now();
    c.press(&format!("/attendees/{carer}/remove"), &[])
        .await
        .assert_redirect(&c.path(""));
    app.advance(Span::minutes(10));
    let t4 = app.now();
    doctor.send(json!({"type": "end"})).await;
    doctor.expect_closed(Duration::from_secs(2)).await;

    let stays = app.store.stays(&c.org, &c.id).await.unwrap();
    let mut got: Vec<_> = stays
        .iter()
        .map(|s| (s.admitted_at, s.attendee.clone(), s.left_at))
        .collect();
    got.sort();
    let mut want = vec![
        (t0, c.patient.clone(), Some(t1)),
        (t0, carer.clone(), Some(t3)),
        (t2, c.patient.clone(), Some(t4)),
    ];
    want.sort();
    assert_eq!(got, want);
    let page = c.clinician.get(&c.path("")).await;
    assert!(page.contains("Removed: Carol Carer"), "{}", page.body);
}

#[tokio::test]
async fn a_removed_person_is_dropped_at_once_and_their_link_and_socket_are_refused() {
    let c = consult().await;
    let app = &c.app;
    let (carer, token) = c.add_by_copy("carer", "Carol Carer").await;
    c.give_name(&token, "Carol Carer").await;
    let cookie = c.clinician.session_cookie();
    let doctor = MediaClient::join_with(
        connect(&app.base, Some(&cookie)).await,
        json!({"consultation": c.id.as_str()}),
    )
    .await;
    let mut carol =
        MediaClient::join_with(connect(&app.base, None).await, json!({"invite": token})).await;
    c.admit(&carer, &["identity_confirmed", "patient_agrees"])
        .await;
    doctor.wait_for_media(&carol.participant, 20, 10).await;

    c.press(&format!("/attendees/{carer}/remove"), &[]).await;
    let ejected = carol.expect("ejected").await;
    assert_eq!(
        ejected["reason"],
        "the clinician removed you from this consultation"
    );
    let (code, reason) = carol.expect_closed(Duration::from_secs(1)).await.unwrap();
    assert_eq!((code, reason.as_str()), (1000, "ejected"));
    assert_eq!(
        received_for_a_second(&doctor, &carol.participant).await,
        (0, 0),
        "nothing of theirs is forwarded once removed"
    );

    let page = app.browser().get(&format!("/join/{token}")).await;
    assert_eq!(page.status, 410);
    assert!(
        page.contains("You were removed from this consultation"),
        "{}",
        page.body
    );
    assert!(
        page.contains("Physiotherapy, Riverside Health"),
        "whom to contact"
    );
    let mut again = Client {
        socket: connect(&app.base, None).await,
    };
    again
        .send(json!({"type": "join", "v": 1, "invite": token}))
        .await;
    assert_eq!(again.expect("error").await["code"], "unauthenticated");

    let audit = app.audit_of("consultation.remove").await;
    assert_eq!(audit.len(), 1);
    assert!(
        audit[0].detail.contains(&format!("attendee={carer}")),
        "{}",
        audit[0].detail
    );
    let page = c.clinician.get(&c.path("")).await;
    assert!(page.contains("Removed: Carol Carer"), "{}", page.body);
    assert!(
        !page.contains("Put Carol Carer on hold"),
        "no hold, resume or back to waiting for someone removed: {}",
        page.body
    );
    assert!(
        page.contains("Open the call"),
        "the call goes on: {}",
        page.body
    );
    let invitations = page.body.matches("Send the invitation again").count();
    assert_eq!(invitations, 1, "only the patient's link can be sent again");
    let resend = c.press(&format!("/attendees/{carer}/resend"), &[]).await;
    assert_eq!(resend.status, 400, "no new link for a removed person");
    let twice = c.press(&format!("/attendees/{carer}/remove"), &[]).await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert!(twice.contains("already removed"), "{}", twice.body);
    // Someone of another consultation, or nobody at all, is not found.
    let nobody = c.press("/attendees/not-an-id/remove", &[]).await;
    assert_eq!(nobody.status, 404);
}

#[tokio::test]
async fn a_side_room_holds_the_others_apart_in_the_media_until_everyone_is_brought_back() {
    let c = consult().await;
    let app = &c.app;
    let (interpreter, token) = c.add_by_copy("interpreter", "Ines Interpreter").await;
    c.give_name(&token, "Ines Interpreter").await;
    let cookie = c.clinician.session_cookie();
    let doctor = MediaClient::join_with(
        connect(&app.base, Some(&cookie)).await,
        json!({"consultation": c.id.as_str()}),
    )
    .await;
    let mut patient =
        MediaClient::join_with(connect(&app.base, None).await, json!({"invite": c.token})).await;
    let ines =
        MediaClient::join_with(connect(&app.base, None).await, json!({"invite": token})).await;

    // Not yet admitted: no side-room with them.
    let early = c
        .press("/side-room", &[("attendee", interpreter.as_str())])
        .await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert!(early.contains("not in the call"), "{}", early.body);

    assert_eq!(patient.expect("stage").await["stage"], "waiting");
    c.admit_patient().await;
    assert_eq!(patient.expect("stage").await["stage"], "admitted");
    c.admit(&interpreter, &["identity_confirmed", "private_space"])
        .await;
    patient.wait_for_media(&ines.participant, 20, 10).await;
    patient.wait_for_media(&doctor.participant, 20, 10).await;

    c.press("/side-room", &[("attendee", interpreter.as_str())])
        .await
        .assert_redirect(&c.path(""));
    assert_eq!(patient.expect("stage").await["stage"], "held");
    let notice = patient.expect("side_room").await;
    assert_eq!(notice["active"], true);
    assert!(
        notice["text"]
            .as_str()
            .unwrap()
            .contains("speaking with someone privately")
    );
    // Held in the media layer: nothing to or from the patient, while the private pair talk.
    assert_eq!(
        received_for_a_second(&patient, &ines.participant).await,
        (0, 0)
    );
    assert_eq!(
        received_for_a_second(&patient, &doctor.participant).await,
        (0, 0)
    );
    assert_eq!(
        received_for_a_second(&ines, &patient.participant).await,
        (0, 0)
    );
    let (audio, video) = received_for_a_second(&ines, &doctor.participant).await;
    assert!(
        audio > 0 && video > 0,
        "the private pair hear and see each other"
    );

    c.press("/side-room/end", &[])
        .await
        .assert_redirect(&c.path(""));
    assert_eq!(patient.expect("stage").await["stage"], "admitted");
    assert_eq!(patient.expect("side_room").await["active"], false);
    let (audio, video) = received_for_a_second(&patient, &ines.participant).await;
    assert!(audio > 0 && video > 0, "media resumes after bring-back");

    let opened = app.audit_of("consultation.side_room").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].detail, format!("with={interpreter}"));
    assert_eq!(app.audit_of("consultation.side_room_end").await.len(), 1);
}
