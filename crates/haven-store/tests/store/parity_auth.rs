//! Sign-in rows round-trip the same way on both engines: sessions, failed sign-ins and
//! one-time tokens.

use haven_domain::UserId;
use haven_store::auth::{SessionStage, TokenPurpose};
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};
use time::Duration;

use crate::common::{T0, connect, new_org, new_user};

#[tokio::test]
async fn sessions_are_created_touched_advanced_and_ended() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let ann = new_user(&store, &org, "ann@example.org").await;
    let bob = new_user(&store, &org, "bob@example.org").await;

    let mut tx = store.begin().await.unwrap();
    tx.create_session("ann-1", &ann, &org, SessionStage::NeedsMfa, T0)
        .await
        .unwrap();
    tx.create_session("ann-2", &ann, &org, SessionStage::Complete, T0)
        .await
        .unwrap();
    tx.create_session("bob-1", &bob, &org, SessionStage::Complete, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let s = store.session("ann-1").await.unwrap().expect("exists");
    assert_eq!(s.user_id, ann);
    assert_eq!(s.org_id, org);
    assert_eq!(s.stage, SessionStage::NeedsMfa);
    assert_eq!((s.created_at, s.last_seen_at), (T0, T0));
    assert!(store.session("no-such-token").await.unwrap().is_none());

    // Touching moves only the idle clock; the second factor completes sign-in.
    let later = T0 + Duration::minutes(7);
    let mut tx = store.begin().await.unwrap();
    tx.touch_session("ann-1", later).await.unwrap();
    tx.set_session_stage("ann-1", SessionStage::Complete)
        .await
        .unwrap();
    assert!(matches!(
        tx.set_session_stage("no-such-token", SessionStage::Complete)
            .await,
        Err(Error::NotFound)
    ));
    tx.commit().await.unwrap();
    let s = store.session("ann-1").await.unwrap().expect("exists");
    assert_eq!((s.created_at, s.last_seen_at), (T0, later));
    assert_eq!(s.stage, SessionStage::Complete);

    // Ending one session, then all of a user's, leaves other users signed in.
    let mut tx = store.begin().await.unwrap();
    tx.delete_session("ann-1").await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.session("ann-1").await.unwrap().is_none());
    assert!(store.session("ann-2").await.unwrap().is_some());
    let mut tx = store.begin().await.unwrap();
    tx.create_session("ann-3", &ann, &org, SessionStage::Complete, T0)
        .await
        .unwrap();
    assert_eq!(tx.delete_user_sessions(&ann).await.unwrap(), 2);
    tx.commit().await.unwrap();
    assert!(store.session("ann-2").await.unwrap().is_none());
    assert!(store.session("ann-3").await.unwrap().is_none());
    assert!(store.session("bob-1").await.unwrap().is_some());
}

#[tokio::test]
async fn failed_sign_ins_are_counted_per_key_and_old_ones_forgotten() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let m = Duration::minutes;
    let mut tx = store.begin().await.unwrap();
    for at in [T0, T0 + m(1), T0 + m(2)] {
        tx.record_failure("user:ann", at, at - m(15)).await.unwrap();
    }
    tx.record_failure("addr:192.0.2.1", T0, T0 - m(15))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        store
            .failures_since("user:ann", T0 + Duration::seconds(30))
            .await
            .unwrap(),
        [T0 + m(1), T0 + m(2)]
    );
    assert_eq!(
        store.failures_since("user:ann", T0).await.unwrap().len(),
        3,
        "at or after"
    );
    assert!(
        store
            .failures_since("user:bob", T0)
            .await
            .unwrap()
            .is_empty()
    );

    // A new failure forgets this key's failures before the window, and only this key's.
    let mut tx = store.begin().await.unwrap();
    tx.record_failure("user:ann", T0 + m(20), T0 + Duration::seconds(90))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .failures_since("user:ann", T0 - Duration::hours(1))
            .await
            .unwrap(),
        [T0 + m(2), T0 + m(20)]
    );
    assert_eq!(
        store
            .failures_since("addr:192.0.2.1", T0 - Duration::hours(1))
            .await
            .unwrap(),
        [T0]
    );
}

#[tokio::test]
async fn one_time_tokens_work_once_only_before_expiry_and_can_be_revoked() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let ann = new_user(&store, &org, "ann@example.org").await;
    let hour = Duration::hours(1);
    let reset = TokenPurpose::PasswordReset;

    let mut tx = store.begin().await.unwrap();
    tx.create_token("reset-a", reset, Some(&ann), T0, T0 + hour)
        .await
        .unwrap();
    tx.create_token("expiring", reset, Some(&ann), T0, T0 + hour)
        .await
        .unwrap();
    tx.create_token("setup", TokenPurpose::Setup, None, T0, T0 + hour)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    async fn consume(
        store: &Store,
        hash: &str,
        purpose: TokenPurpose,
        at: time::OffsetDateTime,
    ) -> Result<Option<UserId>, Error> {
        let mut tx = store.begin().await.unwrap();
        let result = tx.consume_token(hash, purpose, at).await;
        tx.commit().await.unwrap();
        result
    }

    // Works once, for the user it was issued to, and only for its purpose.
    assert!(store.token_is_live("reset-a", reset, T0).await.unwrap());
    assert!(matches!(
        consume(&store, "reset-a", TokenPurpose::Setup, T0).await,
        Err(Error::NotFound)
    ));
    assert_eq!(
        consume(&store, "reset-a", reset, T0 + Duration::minutes(5))
            .await
            .unwrap(),
        Some(ann.clone())
    );
    assert!(matches!(
        consume(&store, "reset-a", reset, T0 + Duration::minutes(6)).await,
        Err(Error::NotFound)
    ));
    assert!(!store.token_is_live("reset-a", reset, T0).await.unwrap());

    // Refused from the moment it expires.
    assert!(
        store
            .token_is_live("expiring", reset, T0 + hour - Duration::seconds(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .token_is_live("expiring", reset, T0 + hour)
            .await
            .unwrap()
    );
    assert!(matches!(
        consume(&store, "expiring", reset, T0 + hour).await,
        Err(Error::NotFound)
    ));

    // A setup token names no user.
    assert_eq!(
        consume(&store, "setup", TokenPurpose::Setup, T0)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        consume(&store, "unknown", reset, T0).await,
        Err(Error::NotFound)
    ));

    // Revoking withdraws every unused reset token of that user, and nothing else.
    let mut tx = store.begin().await.unwrap();
    tx.create_token("reset-b", reset, Some(&ann), T0, T0 + hour)
        .await
        .unwrap();
    tx.create_token("reset-c", reset, Some(&ann), T0, T0 + hour)
        .await
        .unwrap();
    tx.create_token("setup-2", TokenPurpose::Setup, None, T0, T0 + hour)
        .await
        .unwrap();
    tx.revoke_tokens(&ann, reset, T0).await.unwrap();
    tx.commit().await.unwrap();
    for hash in ["reset-b", "reset-c"] {
        assert!(!store.token_is_live(hash, reset, T0).await.unwrap());
        assert!(matches!(
            consume(&store, hash, reset, T0).await,
            Err(Error::NotFound)
        ));
    }
    assert!(
        store
            .token_is_live("setup-2", TokenPurpose::Setup, T0)
            .await
            .unwrap()
    );
}
