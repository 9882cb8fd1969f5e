//! Notes stay a draft until finished and never change afterwards; record deliveries are
//! claimed once per attempt and end delivered or failed; both only within their
//! organisation.

use haven_domain::DeliveryId;
use haven_store::Error;
use haven_store::deliveries::{DeliveryResult, DeliveryStatus};
use haven_store::testing::fresh_database;
use time::Duration;

use crate::common::{T0, connect, id, new_org, new_user};
use crate::outbox::booked;

#[tokio::test]
async fn notes_are_a_draft_until_finished_and_then_never_change() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Elsewhere").await;
    let doctor = new_user(&store, &org, "doctor@example.org").await;
    let (consultation, _) = booked(&store, &org).await;
    assert!(store.notes(&org, &consultation).await.unwrap().is_none());

    let mut tx = store.begin().await.unwrap();
    let none = tx.finish_notes(&org, &consultation, &doctor, T0).await;
    assert!(matches!(none, Err(Error::Refused(_))), "{none:?}");
    tx.save_notes(&org, &consultation, "first", &doctor, T0)
        .await
        .unwrap();
    tx.save_notes(
        &org,
        &consultation,
        "second",
        &doctor,
        T0 + Duration::minutes(1),
    )
    .await
    .unwrap();
    tx.finish_notes(&org, &consultation, &doctor, T0 + Duration::minutes(2))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let notes = store.notes(&org, &consultation).await.unwrap().unwrap();
    assert_eq!(notes.body, "second");
    assert_eq!(
        notes.finished,
        Some((doctor.clone(), T0 + Duration::minutes(2)))
    );
    assert!(
        !format!("{notes:?}").contains("second"),
        "the text is not printed"
    );

    // On PostgreSQL a failed statement aborts its transaction: one transaction per try.
    for attempt in 0..2 {
        let mut tx = store.begin().await.unwrap();
        let refused = if attempt == 0 {
            tx.save_notes(&org, &consultation, "changed", &doctor, T0)
                .await
        } else {
            tx.finish_notes(&org, &consultation, &doctor, T0).await
        };
        assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
    }
    assert_eq!(
        store
            .notes(&org, &consultation)
            .await
            .unwrap()
            .unwrap()
            .body,
        "second"
    );

    // Another organisation neither sees nor writes them.
    assert!(store.notes(&other, &consultation).await.unwrap().is_none());
    let mut tx = store.begin().await.unwrap();
    let foreign = tx.save_notes(&other, &consultation, "x", &doctor, T0).await;
    assert!(matches!(foreign, Err(Error::NotFound)), "{foreign:?}");
}

#[tokio::test]
async fn a_delivery_is_claimed_once_per_try_and_ends_delivered_or_failed() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Elsewhere").await;
    let (consultation, patient) = booked(&store, &org).await;
    let first = id(DeliveryId::from_random);
    let second = id(DeliveryId::from_random);

    let mut tx = store.begin().await.unwrap();
    tx.queue_delivery(&org, &first, &consultation, &patient, T0)
        .await
        .unwrap();
    tx.queue_delivery(
        &org,
        &second,
        &consultation,
        &patient,
        T0 + Duration::seconds(1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let foreign = tx
        .queue_delivery(
            &other,
            &id(DeliveryId::from_random),
            &consultation,
            &patient,
            T0,
        )
        .await;
    assert!(matches!(foreign, Err(Error::NotFound)), "{foreign:?}");
    drop(tx);

    let due = store
        .due_deliveries(T0 + Duration::seconds(5), 10)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|d| &d.id).collect::<Vec<_>>(),
        [&first, &second]
    );
    let d = &due[0];
    let lease = T0 + Duration::minutes(2);
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.claim_delivery(d, T0 + Duration::seconds(5), lease)
            .await
            .unwrap()
    );
    assert!(
        !tx.claim_delivery(d, T0 + Duration::seconds(5), lease)
            .await
            .unwrap(),
        "claimed once"
    );
    let retry = DeliveryResult::Retry {
        reason: "busy (503)",
        at: T0 + Duration::minutes(1),
    };
    assert!(tx.delivery_result(&org, &first, retry, T0).await.unwrap());
    tx.commit().await.unwrap();
    let listed = store.deliveries(&org, &consultation).await.unwrap();
    assert_eq!(listed[0].status, DeliveryStatus::Queued);
    assert_eq!(listed[0].attempts, 1);
    assert_eq!(listed[0].reason.as_deref(), Some("busy (503)"));
    assert!(
        store
            .due_deliveries(T0 + Duration::seconds(30), 10)
            .await
            .unwrap()
            .iter()
            .all(|d| d.id != first)
    );

    let mut tx = store.begin().await.unwrap();
    let delivered = DeliveryResult::Delivered {
        location: Some("Bundle/7"),
    };
    assert!(
        tx.delivery_result(&org, &first, delivered, T0)
            .await
            .unwrap()
    );
    let failed = DeliveryResult::Failed {
        reason: "refused (400)",
    };
    assert!(tx.delivery_result(&org, &second, failed, T0).await.unwrap());
    // A finished delivery does not change again.
    assert!(
        !tx.delivery_result(&org, &second, delivered, T0)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let listed = store.deliveries(&org, &consultation).await.unwrap();
    assert_eq!(
        (listed[0].status, listed[0].location.as_deref()),
        (DeliveryStatus::Delivered, Some("Bundle/7"))
    );
    assert_eq!(
        (listed[1].status, listed[1].reason.as_deref()),
        (DeliveryStatus::Failed, Some("refused (400)"))
    );
    assert!(
        store
            .due_deliveries(T0 + Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .deliveries(&other, &consultation)
            .await
            .unwrap()
            .is_empty()
    );
}
