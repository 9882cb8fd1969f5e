//! What is kept with the record: agreements with who confirmed them, the attendance
//! register (a stay per admission, however often a person is admitted while in the call),
//! and chat kept at the clinician's choice; each only within its organisation.

use haven_domain::consultation::{AttendeeRole, ConsentKind, Contact};
use haven_domain::{AttendeeId, PersonName};
use haven_store::consultations::NewAttendee;
use haven_store::record::{ChatLine, Consent, Stay};
use haven_store::testing::fresh_database;
use time::Duration;

use crate::common::{T0, connect, id, new_org, new_user};
use crate::outbox::booked;

#[tokio::test]
async fn agreements_are_kept_with_who_confirmed_them_within_the_organisation() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Elsewhere").await;
    let clinician = new_user(&store, &org, "clinician@example.org").await;
    let (consultation, patient) = booked(&store, &org).await;
    let carer = id(AttendeeId::from_random);

    let mut tx = store.begin().await.unwrap();
    tx.add_attendee(
        &org,
        &consultation,
        &NewAttendee {
            id: &carer,
            role: AttendeeRole::Carer,
            name: &PersonName::parse("Casey Carer").unwrap(),
            mobile: None,
            email: None,
            contact: Contact::Email,
            user_id: None,
        },
        T0,
    )
    .await
    .unwrap();
    let carer_present = Consent {
        consultation: consultation.clone(),
        attendee: patient.clone(),
        kind: ConsentKind::CarerPresence,
        about: Some(carer.clone()),
        confirmed_by: Some(clinician.clone()),
        given_at: T0 + Duration::minutes(5),
    };
    let rules = Consent {
        consultation: consultation.clone(),
        attendee: patient.clone(),
        kind: ConsentKind::GroundRules,
        about: None,
        confirmed_by: None,
        given_at: T0 + Duration::minutes(1),
    };
    tx.record_consent(&org, &carer_present).await.unwrap();
    tx.record_consent(&org, &rules).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        store.consents(&org, &consultation).await.unwrap(),
        [rules, carer_present],
        "oldest first, with whom it is about and who confirmed it"
    );
    assert!(
        store
            .consents(&other, &consultation)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_register_has_one_stay_per_admission_and_the_end_closes_every_stay() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Elsewhere").await;
    let (consultation, patient) = booked(&store, &org).await;
    let at = |minutes| T0 + Duration::minutes(minutes);

    let mut tx = store.begin().await.unwrap();
    tx.stay_begins(&org, &consultation, &patient, at(1))
        .await
        .unwrap();
    tx.stay_begins(&org, &consultation, &patient, at(2))
        .await
        .unwrap();
    tx.stay_ends(&other, &patient, at(3)).await.unwrap();
    tx.stay_ends(&org, &patient, at(4)).await.unwrap();
    tx.stay_ends(&org, &patient, at(5)).await.unwrap();
    tx.stay_begins(&org, &consultation, &patient, at(6))
        .await
        .unwrap();
    tx.stays_end_all(&other, &consultation, at(7))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let open = Stay {
        attendee: patient.clone(),
        admitted_at: at(6),
        left_at: None,
    };
    let first = Stay {
        attendee: patient.clone(),
        admitted_at: at(1),
        left_at: Some(at(4)),
    };
    assert_eq!(
        store.stays(&org, &consultation).await.unwrap(),
        [first.clone(), open.clone()],
        "admitting again while in the call is the same stay; another organisation ends nothing"
    );

    let mut tx = store.begin().await.unwrap();
    tx.stays_end_all(&org, &consultation, at(9)).await.unwrap();
    tx.commit().await.unwrap();
    let closed = Stay {
        left_at: Some(at(9)),
        ..open
    };
    assert_eq!(
        store.stays(&org, &consultation).await.unwrap(),
        [first, closed]
    );
    assert!(store.stays(&other, &consultation).await.unwrap().is_empty());
}

#[tokio::test]
async fn kept_chat_reads_back_in_order_and_a_repeated_message_is_refused_whole() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Elsewhere").await;
    let clinician = new_user(&store, &org, "clinician@example.org").await;
    let (consultation, patient) = booked(&store, &org).await;
    let line = |seq, body: &str| ChatLine {
        seq,
        sender_attendee: (seq % 2 == 1).then(|| patient.clone()),
        sender_user: (seq % 2 == 0).then(|| clinician.clone()),
        sender_name: if seq % 2 == 1 { "Sam" } else { "Dr Jones" }.to_owned(),
        sent_at: T0 + Duration::seconds(seq),
        body: body.to_owned(),
    };
    let chat = [
        line(0, "Hello, can you hear me?"),
        line(1, "Yes — <b>fine</b> 👍"),
    ];

    let mut tx = store.begin().await.unwrap();
    tx.save_chat(&org, &consultation, &[chat[1].clone(), chat[0].clone()])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.saved_chat(&org, &consultation).await.unwrap(), chat);
    assert!(
        store
            .saved_chat(&other, &consultation)
            .await
            .unwrap()
            .is_empty()
    );

    let mut tx = store.begin().await.unwrap();
    let again = tx
        .save_chat(&org, &consultation, &[line(2, "new"), line(1, "changed")])
        .await;
    assert!(again.is_err(), "a message is kept once");
    drop(tx);
    assert_eq!(
        store.saved_chat(&org, &consultation).await.unwrap(),
        chat,
        "nothing of the refused save is kept"
    );
}
