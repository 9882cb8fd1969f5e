//! Retention on both engines: only what is older than the period goes and nothing else is
//! touched; consultations keep their counts without their personal data; the audit log
//! loses its oldest entries behind a checkpoint from which what remains still verifies.

use haven_domain::audit::{Actor, ChainBreak, ChainVerifier};
use haven_domain::consultation::{Event, JourneyStep, Kind, Outcome};
use haven_domain::retention::DataKind;
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::{ConsultationId, OrgId, PersonName, RetentionPolicy, UkMonth};
use haven_store::Store;
use haven_store::record::ChatLine;
use haven_store::retention::REMOVED_NAME;
use haven_store::testing::fresh_database;
use sqlx::Row;
use time::macros::datetime;

use crate::common::{connect, entry, new_org};
use crate::consultations::new_clinic;
use crate::governance::{booked, happen};

const NOW: OffsetDateTime = datetime!(2027-06-01 03:00 UTC);

fn chat(at: OffsetDateTime, seq: i64) -> ChatLine {
    ChatLine {
        seq,
        sender_attendee: None,
        sender_user: None,
        sender_name: "Dr Who".into(),
        sent_at: at,
        body: "see you next week".into(),
    }
}

#[tokio::test]
async fn retention_periods_have_defaults_and_are_kept_per_organisation() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside Practice").await;
    let other = new_org(&store, "Another Trust").await;
    assert_eq!(
        store.retention_policy(&org).await.unwrap(),
        RetentionPolicy::default()
    );
    assert_eq!(store.longest_audit_days().await.unwrap(), 2922);
    let short = RetentionPolicy::new(30, 7, 30, 400).unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_retention_policy(&org, &short).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.retention_policy(&org).await.unwrap(), short);
    assert_eq!(
        store.retention_policy(&other).await.unwrap(),
        RetentionPolicy::default()
    );
    // The other organisation keeps the default eight years, so the shared log does too.
    assert_eq!(store.longest_audit_days().await.unwrap(), 2922);
    let longer = RetentionPolicy::new(30, 7, 30, 5000).unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_retention_policy(&org, &longer).await.unwrap();
    tx.set_retention_policy(&other, &short).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.longest_audit_days().await.unwrap(), 5000);
    assert_eq!(
        store
            .retention_policy(&org)
            .await
            .unwrap()
            .days(DataKind::Audit),
        5000
    );
}

#[tokio::test]
async fn only_consultations_over_before_the_cutoff_lose_their_personal_data() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside Practice").await;
    let other = new_org(&store, "Another Trust").await;
    let clinic = new_clinic(&store, &org, "Physio").await;
    let other_clinic = new_clinic(&store, &other, "Clinic").await;
    let old = NOW - Duration::days(400);
    let recent = NOW - Duration::days(10);
    let cutoff = NOW - Duration::days(365);

    let (gone, gone_patient) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(&store, &org, &gone, &[Event::Arrive, Event::Admit], old).await;
    let mut tx = store.begin().await.unwrap();
    let dob = haven_domain::DateOfBirth::parse_iso("1980-01-02", old.date()).unwrap();
    tx.confirm_identity(
        &org,
        &gone_patient,
        &PersonName::parse("Sam Patient").unwrap(),
        dob,
        old,
    )
    .await
    .unwrap();
    tx.set_patient_location(&org, &gone, "Home").await.unwrap();
    tx.set_outcome(&org, &gone, Outcome::Completed, "Private note")
        .await
        .unwrap();
    tx.save_chat(&org, &gone, &[chat(old, 0)]).await.unwrap();
    let clinician = crate::common::create_user_in(&mut tx, &org, "gp@example.org", &[]).await;
    tx.save_notes(&org, &gone, "Private notes", &clinician, old)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    happen(&store, &org, &gone, &[Event::End], old + Duration::hours(1)).await;
    // Cancelled long ago: over, so its personal data goes too.
    let (cancelled, _) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(&store, &org, &cancelled, &[Event::Cancel], old).await;
    // Ended recently; still in progress since long ago; another organisation's old one.
    let (kept, _) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(
        &store,
        &org,
        &kept,
        &[Event::Arrive, Event::Admit, Event::End],
        recent,
    )
    .await;
    let (open, _) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(&store, &org, &open, &[Event::Arrive, Event::Admit], old).await;
    let (theirs, _) = booked(&store, &other, &other_clinic, Kind::OneToOne).await;
    happen(
        &store,
        &other,
        &theirs,
        &[Event::Arrive, Event::Admit, Event::End],
        old,
    )
    .await;
    let month = UkMonth::containing(old);
    let before = store
        .held_counts(None, month.start(), month.end())
        .await
        .unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.remove_consultation_data(&org, cutoff, NOW)
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();

    let c = store.consultation(&org, &gone).await.unwrap();
    assert_eq!(c.status.as_str(), "ended");
    assert_eq!(
        c.outcome,
        Some(Outcome::Completed),
        "the outcome is a category, not personal"
    );
    assert!(c.outcome_note.as_deref().unwrap_or("").is_empty());
    assert!(c.patient_location.is_none());
    let a = store.attendee(&org, &gone_patient).await.unwrap();
    assert!(a.confirmed.is_none() && a.mobile.is_none());
    // When they joined stays (not personal by itself), so the report still counts it.
    let facts = store
        .governance_facts(&org, month.start(), month.end())
        .await
        .unwrap();
    assert_eq!((facts.held, facts.patient_joined), (2, 1));
    assert!(store.saved_chat(&org, &gone).await.unwrap().is_empty());
    assert!(
        store.notes(&org, &gone).await.unwrap().is_none(),
        "notes go"
    );
    let names = |c: ConsultationId, org: OrgId| {
        let store = store.clone();
        async move {
            let people = store.attendees(&org, &c).await.unwrap();
            people
                .iter()
                .map(|a| a.name.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(gone.clone(), org.clone()).await, [REMOVED_NAME]);
    assert_eq!(names(cancelled.clone(), org.clone()).await, [REMOVED_NAME]);
    for untouched in [&kept, &open] {
        assert_eq!(names(untouched.clone(), org.clone()).await, ["Sam Patient"]);
    }
    assert_eq!(
        names(theirs, other).await,
        ["Sam Patient"],
        "another organisation's"
    );
    assert!(
        store
            .consultation(&org, &gone)
            .await
            .unwrap()
            .patient
            .is_none()
    );
    // The national counts do not change.
    let after = store
        .held_counts(None, month.start(), month.end())
        .await
        .unwrap();
    assert_eq!(before, after);
    // A second run finds nothing more.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.remove_consultation_data(&org, cutoff, NOW)
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn journey_steps_and_saved_chat_go_by_their_own_periods() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside Practice").await;
    let clinic = new_clinic(&store, &org, "Physio").await;
    let (c, patient) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    let cutoff = NOW - Duration::days(30);
    let mut tx = store.begin().await.unwrap();
    tx.journey_step(
        &org,
        &patient,
        JourneyStep::LinkOpened,
        None,
        cutoff - Duration::seconds(1),
    )
    .await
    .unwrap();
    tx.journey_step(&org, &patient, JourneyStep::Waiting, None, cutoff)
        .await
        .unwrap();
    tx.save_chat(
        &org,
        &c,
        &[chat(cutoff - Duration::seconds(1), 0), chat(cutoff, 1)],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.delete_journey_steps(&org, cutoff).await.unwrap(), 1);
    assert_eq!(tx.delete_saved_chat(&org, cutoff).await.unwrap(), 1);
    tx.commit().await.unwrap();
    let left: Vec<i64> = store
        .saved_chat(&org, &c)
        .await
        .unwrap()
        .iter()
        .map(|l| l.seq)
        .collect();
    assert_eq!(left, [1], "the message sent at the cutoff stays");
    let c = store.consultation(&org, &c).await.unwrap();
    assert_eq!(
        c.status.as_str(),
        "booked",
        "the consultation itself is untouched"
    );
}

async fn append(store: &Store, n: usize, at: OffsetDateTime) {
    let mut tx = store.begin().await.unwrap();
    for _ in 0..n {
        tx.audit(&entry(&Actor::System, "test.event", "x", None), at)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// The check `haven audit verify` makes, from the checkpoint.
async fn verify(store: &Store) -> Result<u64, ChainBreak> {
    let (seq, hash) = store.audit_checkpoint().await.unwrap();
    let mut verifier = ChainVerifier::new(hash, seq + 1);
    for record in store.audit_page(seq, 1000).await.unwrap() {
        verifier.push(&record)?;
    }
    let (head, hash) = store.audit_head().await.unwrap();
    verifier.finish((head > 0).then_some((head, hash.as_str())))
}

#[tokio::test]
async fn old_audit_entries_go_behind_a_checkpoint_and_the_rest_still_verifies() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let cutoff = NOW - Duration::days(365);
    append(&store, 3, cutoff - Duration::days(1)).await;
    append(&store, 2, cutoff).await;
    // Nothing is old enough: nothing happens.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.trim_audit_log(cutoff - Duration::days(2)).await.unwrap(),
        None
    );
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let trim = tx
        .trim_audit_log(cutoff)
        .await
        .unwrap()
        .expect("three are old");
    assert_eq!((trim.deleted, trim.checkpoint_seq), (3, 3));
    tx.commit().await.unwrap();
    assert_eq!(store.audit_checkpoint().await.unwrap().0, 3);
    let left: Vec<i64> = store
        .audit_page(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(left, [4, 5]);
    assert_eq!(verify(&store).await, Ok(2));
    append(&store, 1, NOW).await;
    assert_eq!(verify(&store).await, Ok(3));

    // The database still refuses to delete entries past the checkpoint, or to move the
    // checkpoint back or onto a hash that is not in the log.
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    for sql in [
        "DELETE FROM audit_log WHERE seq = 4",
        "UPDATE audit_checkpoint SET seq = 1 WHERE id = 1",
        "UPDATE audit_checkpoint SET seq = 5, hash = 'x' WHERE id = 1",
        "DELETE FROM audit_checkpoint",
    ] {
        let err = sqlx::query(sql)
            .execute(&pool)
            .await
            .expect_err(sql)
            .to_string();
        assert!(
            err.contains("append-only") || err.contains("checkpoint"),
            "{sql}: {err}"
        );
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
    assert_eq!(verify(&store).await, Ok(3));
}
