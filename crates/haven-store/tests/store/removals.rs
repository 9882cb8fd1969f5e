//! Removing someone from a consultation: recorded once, with who and when, found again by
//! any of the person's links (so their dead link can say why), and never across
//! organisations. A carer or interpreter's own name is kept without a date of birth.

use haven_domain::{AttendeeId, MessageId, PersonName};
use haven_store::Error;
use haven_store::outbox::{Channel, MessageStatus};
use haven_store::testing::fresh_database;
use time::Duration;

use crate::common::{T0, connect, id as id_of, new_org, new_user};
use crate::consultations::{book, new_clinic};

#[tokio::test]
async fn a_removal_is_recorded_once_found_by_the_persons_link_and_kept_in_its_organisation() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Hillside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let doctor = new_user(&store, &org, "doc@example.org").await;
    let id = book(&store, &org, &clinic, Some(&doctor)).await.unwrap();
    let people = store.attendees(&org, &id).await.unwrap();
    let (patient, carer) = (&people[0].id, &people[1].id);
    let expires = T0 + Duration::hours(10);
    let at = T0 + Duration::minutes(20);

    let mut tx = store.begin().await.unwrap();
    tx.add_invite_token(&org, carer, "carer-link", T0, expires)
        .await
        .unwrap();
    tx.add_invite_token(&org, patient, "patient-link", T0, expires)
        .await
        .unwrap();
    for who in [carer, patient] {
        tx.enqueue_invite(
            &org,
            &id_of(MessageId::from_random),
            who,
            Channel::Console,
            T0,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    assert!(store.removal(&org, carer).await.unwrap().is_none());
    assert!(store.removal_by_link("carer-link").await.unwrap().is_none());

    // Another organisation cannot remove, or see, the carer.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.record_removal(&other, carer, &doctor, at).await,
        Err(Error::NotFound)
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let unknown = AttendeeId::parse("00000000000000000000000000000000").unwrap();
    assert!(matches!(
        tx.record_removal(&org, &unknown, &doctor, at).await,
        Err(Error::NotFound)
    ));
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    tx.record_removal(&org, carer, &doctor, at).await.unwrap();
    tx.revoke_attendee_invites(&org, carer, at).await.unwrap();
    assert_eq!(
        tx.fail_queued_for_attendee(&other, carer, "removed", at)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.fail_queued_for_attendee(&org, carer, "removed", at)
            .await
            .unwrap(),
        1
    );
    tx.commit().await.unwrap();
    let messages = store.messages_for_consultation(&org, &id).await.unwrap();
    let status = |who: &AttendeeId| {
        messages
            .iter()
            .find(|m| &m.attendee_id == who)
            .map(|m| m.status)
    };
    assert_eq!(
        status(carer),
        Some(MessageStatus::Failed),
        "a removed person gets no new link"
    );
    assert_eq!(status(patient), Some(MessageStatus::Queued));
    // A failed statement ends a PostgreSQL transaction: the refusal gets its own.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.record_removal(&org, carer, &doctor, at).await,
        Err(Error::Conflict(_))
    ));
    drop(tx);

    let removal = store.removal(&org, carer).await.unwrap().expect("removed");
    assert_eq!(
        (
            &removal.attendee,
            &removal.consultation,
            &removal.org,
            &removal.by,
            removal.at
        ),
        (carer, &id, &org, &doctor, at)
    );
    assert!(store.removal(&other, carer).await.unwrap().is_none());
    assert!(store.removal(&org, patient).await.unwrap().is_none());
    assert_eq!(
        store.removals(&org, &id).await.unwrap(),
        std::slice::from_ref(&removal)
    );
    assert!(store.removals(&other, &id).await.unwrap().is_empty());
    assert!(store.invite("carer-link", at).await.unwrap().is_none());
    assert_eq!(
        store.removal_by_link("carer-link").await.unwrap(),
        Some(removal)
    );
    assert!(
        store
            .removal_by_link("patient-link")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.invite("patient-link", at).await.unwrap().is_some());
}

#[tokio::test]
async fn a_helper_gives_their_name_without_a_date_of_birth() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Hillside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let id = book(&store, &org, &clinic, None).await.unwrap();
    let carer = store.attendees(&org, &id).await.unwrap()[1].id.clone();
    let name = PersonName::parse("Pat M Carer").unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.confirm_name(&other, &carer, &name, T0).await,
        Err(Error::NotFound)
    ));
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    tx.confirm_name(&org, &carer, &name, T0).await.unwrap();
    tx.commit().await.unwrap();
    let confirmed = store.attendee(&org, &carer).await.unwrap().confirmed;
    assert_eq!(
        confirmed.map(|c| (c.name, c.dob, c.at)),
        Some((name, None, T0))
    );
}
