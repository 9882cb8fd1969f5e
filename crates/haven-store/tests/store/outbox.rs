//! The outbox on both engines: a message is claimed by one worker at a time, comes back
//! after a failed try or a lost worker, records what the provider said, stays inside its
//! organisation, and dies with its consultation.

use haven_domain::consultation::{AttendeeRole, Contact, Kind};
use haven_domain::{
    AttendeeId, ClinicId, ClinicName, ConsultationId, DateOfBirth, MessageId, OrgId, PersonName,
    UkMobile,
};
use haven_store::consultations::{BookedPatient, NewAttendee, NewConsultation};
use haven_store::outbox::{Channel, MessageStatus, Receipt};
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};
use time::Duration;
use time::macros::date;

use crate::common::{T0, connect, id, new_org};

/// A consultation with one patient invited by text message; returns both ids.
pub async fn booked(store: &Store, org: &OrgId) -> (ConsultationId, AttendeeId) {
    let clinic = id(ClinicId::from_random);
    let consultation = id(ConsultationId::from_random);
    let attendee = id(AttendeeId::from_random);
    let patient = BookedPatient {
        name: PersonName::parse("Sam Patient").unwrap(),
        dob: DateOfBirth::parse_iso("1980-05-04", date!(2025 - 01 - 06)).unwrap(),
        nhs_number: None,
        child_attendance: None,
    };
    let mobile = UkMobile::parse("07700 900123").unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.create_clinic(org, &clinic, &ClinicName::parse("Physio").unwrap(), T0)
        .await
        .unwrap();
    tx.create_consultation(
        &NewConsultation {
            id: &consultation,
            org_id: org,
            clinic_id: &clinic,
            clinician_id: None,
            kind: Kind::OneToOne,
            starts_at: T0 + Duration::hours(3),
            patient: Some(&patient),
        },
        T0,
    )
    .await
    .unwrap();
    tx.add_attendee(
        org,
        &consultation,
        &NewAttendee {
            id: &attendee,
            role: AttendeeRole::Patient,
            name: &patient.name,
            mobile: Some(&mobile),
            email: None,
            contact: Contact::Sms,
            user_id: None,
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (consultation, attendee)
}

async fn enqueue(store: &Store, org: &OrgId, attendee: &AttendeeId) -> MessageId {
    let message = id(MessageId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_invite(org, &message, attendee, Channel::Notify, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    message
}

#[tokio::test]
async fn outbox_a_message_is_claimed_once_and_comes_back_after_a_failed_try() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let (consultation, attendee) = booked(&store, &org).await;
    let message = enqueue(&store, &org, &attendee).await;

    let due = store.due_messages(T0, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    let m = &due[0];
    assert_eq!((&m.id, &m.attendee_id), (&message, &attendee));
    assert_eq!(
        (m.channel, m.status, m.attempts),
        (Channel::Notify, MessageStatus::Queued, 0)
    );

    // Two workers read the same row; only the first claim wins.
    let lease = T0 + Duration::minutes(2);
    let mut tx = store.begin().await.unwrap();
    assert!(tx.claim_message(m, T0, lease).await.unwrap());
    assert!(!tx.claim_message(m, T0, lease).await.unwrap());
    tx.commit().await.unwrap();
    assert!(
        store.due_messages(T0, 10).await.unwrap().is_empty(),
        "leased"
    );

    // The try failed: back in the queue at the backoff time, with the reason.
    let retry_at = T0 + Duration::seconds(30);
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.mark_retry(&org, &message, "Notify is busy (429)", retry_at, T0)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(
        store
            .due_messages(retry_at - Duration::seconds(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.due_messages(retry_at, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].reason.as_deref(), Some("Notify is busy (429)"));

    // A worker that dies after claiming: the row comes back when the lease runs out.
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.claim_message(&again[0], retry_at, retry_at + Duration::minutes(2))
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let back = store
        .due_messages(retry_at + Duration::minutes(2), 10)
        .await
        .unwrap();
    assert_eq!(back[0].attempts, 2);

    // Sent, then delivered by receipt; staff see it per consultation.
    let mut tx = store.begin().await.unwrap();
    tx.mark_sent(
        &org,
        &message,
        Some("notify-id-1"),
        T0 + Duration::minutes(5),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(
        store
            .due_messages(T0 + Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let mut tx = store.begin().await.unwrap();
    let updated = tx
        .apply_receipt("notify-id-1", Receipt::Delivered, T0 + Duration::minutes(6))
        .await
        .unwrap()
        .expect("the receipt finds its message");
    assert!(
        tx.apply_receipt("no-such-id", Receipt::Delivered, T0)
            .await
            .unwrap()
            .is_none()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        (updated.id.clone(), updated.org_id.clone()),
        (message.clone(), org.clone())
    );
    let seen = store
        .messages_for_consultation(&org, &consultation)
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, MessageStatus::Delivered);
    assert_eq!(seen[0].provider_ref.as_deref(), Some("notify-id-1"));
    assert_eq!(seen[0].reason, None);
    assert_eq!(seen[0].updated_at, T0 + Duration::minutes(6));
}

#[tokio::test]
async fn outbox_failures_are_final_and_a_receipt_can_report_one() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let (consultation, attendee) = booked(&store, &org).await;
    let refused = enqueue(&store, &org, &attendee).await;
    let bounced = enqueue(&store, &org, &attendee).await;

    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.mark_failed(
            &org,
            &refused,
            "Notify refused the message: ValidationError",
            T0
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.mark_failed(&org, &refused, "again", T0).await.unwrap(),
        "already failed"
    );
    assert!(
        !tx.mark_retry(&org, &refused, "late", T0, T0).await.unwrap(),
        "not requeued"
    );
    tx.mark_sent(&org, &bounced, Some("notify-id-2"), T0)
        .await
        .unwrap();
    let failed = tx
        .apply_receipt(
            "notify-id-2",
            Receipt::Failed("no such number (permanent-failure)"),
            T0,
        )
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(failed.status, MessageStatus::Failed);

    let seen = store
        .messages_for_consultation(&org, &consultation)
        .await
        .unwrap();
    let reasons: Vec<_> = seen
        .iter()
        .map(|m| (m.status, m.reason.clone().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 2);
    assert!(reasons.contains(&(
        MessageStatus::Failed,
        "Notify refused the message: ValidationError".to_string()
    )));
    assert!(reasons.contains(&(
        MessageStatus::Failed,
        "no such number (permanent-failure)".to_string()
    )));
    assert!(
        store
            .due_messages(T0 + Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn outbox_cancelling_fails_what_is_queued_and_nothing_crosses_organisations() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let riverside = new_org(&store, "Riverside").await;
    let hillside = new_org(&store, "Hillside").await;
    let (consultation, attendee) = booked(&store, &riverside).await;
    let (_, theirs) = booked(&store, &hillside).await;
    let queued = enqueue(&store, &riverside, &attendee).await;
    let sent = enqueue(&store, &riverside, &attendee).await;
    let other = enqueue(&store, &hillside, &theirs).await;

    // Another organisation can neither queue for our attendee nor see or touch our rows.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.enqueue_invite(
            &hillside,
            &id(MessageId::from_random),
            &attendee,
            Channel::Console,
            T0
        )
        .await,
        Err(Error::NotFound)
    ));
    drop(tx);
    assert!(matches!(
        store.message(&hillside, &queued).await,
        Err(Error::NotFound)
    ));
    assert!(
        store
            .messages_for_consultation(&hillside, &consultation)
            .await
            .unwrap()
            .is_empty()
    );
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.mark_failed(&hillside, &queued, "x", T0).await.unwrap());
    assert!(matches!(
        tx.mark_sent(&hillside, &queued, None, T0).await,
        Err(Error::NotFound)
    ));
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.mark_sent(&riverside, &sent, None, T0).await.unwrap();
    assert_eq!(
        tx.fail_queued_for_consultation(&hillside, &consultation, "consultation cancelled", T0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.fail_queued_for_consultation(&riverside, &consultation, "consultation cancelled", T0)
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let q = store.message(&riverside, &queued).await.unwrap();
    assert_eq!(q.status, MessageStatus::Failed);
    assert_eq!(q.reason.as_deref(), Some("consultation cancelled"));
    assert_eq!(
        store.message(&riverside, &sent).await.unwrap().status,
        MessageStatus::Sent
    );
    let due = store.due_messages(T0, 10).await.unwrap();
    assert_eq!(due.iter().map(|m| &m.id).collect::<Vec<_>>(), [&other]);
}
