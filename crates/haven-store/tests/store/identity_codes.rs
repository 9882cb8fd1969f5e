//! One-time codes on both engines: the row holds only a hash, a new code replaces the old
//! with fresh attempts, wrong entries count down to a lock-out that nothing undoes, two
//! entries at once cannot spend the same attempt, sends are counted for their limit, and
//! code messages stay out of the invitation list staff read.

use haven_domain::identity_code::{ATTEMPTS, CodeRecord, OneTimeCode, Verdict};
use haven_domain::{AttendeeId, MessageId, OrgId};
use haven_store::Store;
use haven_store::outbox::{Channel, Purpose};
use haven_store::testing::fresh_database;
use sqlx::{Connection, Row};
use time::Duration;

use crate::common::{T0, connect, id, new_org};
use crate::outbox::booked;

async fn ask(store: &Store, org: &OrgId, attendee: &AttendeeId, at: time::OffsetDateTime) {
    let mut tx = store.begin().await.unwrap();
    tx.enqueue_code(
        org,
        &id(MessageId::from_random),
        attendee,
        Channel::Console,
        at,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn record(store: &Store, org: &OrgId, attendee: &AttendeeId) -> CodeRecord {
    store
        .identity_code(org, attendee)
        .await
        .unwrap()
        .expect("a code was asked for")
}

#[tokio::test]
async fn identity_codes_are_hashed_replaced_counted_and_locked() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let (consultation, attendee) = booked(&store, &org).await;
    assert_eq!(store.identity_code(&org, &attendee).await.unwrap(), None);

    ask(&store, &org, &attendee, T0).await;
    let fresh = record(&store, &org, &attendee).await;
    assert_eq!(
        (fresh.code_hash.as_deref(), fresh.attempts_left),
        (None, ATTEMPTS)
    );
    let message = store
        .latest_code_message(&org, &attendee)
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(message.purpose, Purpose::Code);
    // Staff's invitation list is for invitations only.
    assert!(
        store
            .messages_for_consultation(&org, &consultation)
            .await
            .unwrap()
            .is_empty()
    );

    // A sent code: only its hash is stored.
    let first = OneTimeCode::from_random(123_456u32.to_le_bytes()).unwrap();
    let mut tx = store.begin().await.unwrap();
    let expires = T0 + Duration::minutes(10);
    assert!(
        tx.replace_identity_code(&org, &attendee, &first.hash(&attendee), expires, T0)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let mut db_conn = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let row = sqlx::query(
        "SELECT attendee_id, org_id, code_hash, CAST(sent_at AS TEXT) AS s, \
         CAST(expires_at AS TEXT) AS e FROM identity_codes",
    )
    .fetch_one(&mut db_conn)
    .await
    .unwrap();
    let stored: Vec<String> = (0..5).map(|i| row.get::<String, _>(i)).collect();
    assert!(stored.iter().all(|v| !v.contains("123456")), "{stored:?}");
    assert_eq!(stored[2], first.hash(&attendee));

    // Wrong entries count down; two at once spend one attempt.
    let sent = record(&store, &org, &attendee).await;
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.spend_code_attempt(&org, &attendee, sent.attempts_left, T0)
            .await
            .unwrap()
    );
    assert!(
        !tx.spend_code_attempt(&org, &attendee, sent.attempts_left, T0)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(
        record(&store, &org, &attendee).await.attempts_left,
        ATTEMPTS - 1
    );

    // A new code replaces the old one and brings fresh attempts.
    let second = OneTimeCode::from_random(654_321u32.to_le_bytes()).unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.replace_identity_code(&org, &attendee, &second.hash(&attendee), expires, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let now = record(&store, &org, &attendee).await;
    assert_eq!(now.attempts_left, ATTEMPTS);
    assert_eq!(
        now.check(&attendee, &first, T0),
        Verdict::Wrong {
            attempts_left: ATTEMPTS - 1
        }
    );
    assert_eq!(now.check(&attendee, &second, T0), Verdict::Passed);

    // The last attempt locks; nothing replaces or passes a locked code.
    let mut tx = store.begin().await.unwrap();
    for before in (1..=ATTEMPTS).rev() {
        assert!(
            tx.spend_code_attempt(&org, &attendee, before, T0)
                .await
                .unwrap()
        );
    }
    assert!(
        !tx.replace_identity_code(&org, &attendee, "x", expires, T0)
            .await
            .unwrap()
    );
    assert!(!tx.pass_identity_code(&org, &attendee, T0).await.unwrap());
    tx.commit().await.unwrap();
    let locked = record(&store, &org, &attendee).await;
    assert_eq!((locked.attempts_left, locked.locked_at), (0, Some(T0)));
    assert_eq!(locked.check(&attendee, &second, T0), Verdict::LockedOut);

    // Sends are counted by when they were asked for; another organisation sees nothing.
    ask(&store, &org, &attendee, T0 + Duration::minutes(30)).await;
    let other = new_org(&store, "Elsewhere").await;
    let mut tx = store.begin().await.unwrap();
    let since = tx
        .code_sends_since(&org, &attendee, T0 - Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(since, [T0, T0 + Duration::minutes(30)]);
    assert!(
        tx.code_sends_since(&other, &attendee, T0)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();
    assert_eq!(store.identity_code(&other, &attendee).await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    let crossed = tx
        .enqueue_code(
            &other,
            &id(MessageId::from_random),
            &attendee,
            Channel::Console,
            T0,
        )
        .await;
    assert!(
        matches!(crossed, Err(haven_store::Error::NotFound)),
        "{crossed:?}"
    );
}

#[tokio::test]
async fn identity_codes_pass_once() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let (_, attendee) = booked(&store, &org).await;
    ask(&store, &org, &attendee, T0).await;
    let mut tx = store.begin().await.unwrap();
    assert!(tx.pass_identity_code(&org, &attendee, T0).await.unwrap());
    assert!(!tx.pass_identity_code(&org, &attendee, T0).await.unwrap());
    assert!(
        !tx.spend_code_attempt(&org, &attendee, ATTEMPTS, T0)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(record(&store, &org, &attendee).await.passed_at, Some(T0));
}
