//! What the clinic's waiting list reads and changes: each attendee's latest pre-call check
//! (within the clinic and the day asked for), and passing a consultation to another
//! clinician of its clinic, guarded by what the caller read.

use haven_domain::consultation::{Event, JourneyStep, Status};
use haven_domain::{AttendeeId, OrgId, UserId};
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};
use time::Duration;

use crate::common::{T0, connect, new_org, new_user};
use crate::consultations::{book, new_clinic};

async fn step(
    store: &Store,
    org: &OrgId,
    who: &AttendeeId,
    step: JourneyStep,
    detail: Option<&str>,
    at: time::OffsetDateTime,
) {
    let mut tx = store.begin().await.unwrap();
    tx.journey_step(org, who, step, detail, at).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_latest_check_of_each_attendee_is_read_within_the_clinic_and_day() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let elsewhere = new_clinic(&store, &org, "Podiatry").await;
    let id = book(&store, &org, &clinic, None).await.unwrap();
    let other = book(&store, &org, &elsewhere, None).await.unwrap();
    let people = store.attendees(&org, &id).await.unwrap();
    let (patient, carer) = (people[0].id.clone(), people[1].id.clone());
    let stranger = store.attendees(&org, &other).await.unwrap()[0].id.clone();

    // A check done the evening before still counts; the latest one wins.
    step(
        &store,
        &org,
        &patient,
        JourneyStep::CheckFailed,
        Some("camera_in_use"),
        T0 - Duration::hours(12),
    )
    .await;
    step(
        &store,
        &org,
        &patient,
        JourneyStep::Waiting,
        None,
        T0 + Duration::minutes(2),
    )
    .await;
    step(
        &store,
        &org,
        &patient,
        JourneyStep::CheckPassed,
        None,
        T0 + Duration::minutes(1),
    )
    .await;
    step(
        &store,
        &org,
        &carer,
        JourneyStep::CheckFailed,
        Some("low_bandwidth"),
        T0,
    )
    .await;
    step(&store, &org, &stranger, JourneyStep::CheckPassed, None, T0).await;

    let day = (T0 - Duration::hours(9), T0 + Duration::hours(15));
    let checks = store
        .latest_checks(&org, &clinic, day.0, day.1)
        .await
        .unwrap();
    assert_eq!(checks.len(), 2, "the other clinic's attendee is not listed");
    let p = &checks[&patient];
    assert!(p.passed && p.problem.is_none());
    assert_eq!(p.at, T0 + Duration::minutes(1));
    let c = &checks[&carer];
    assert!(!c.passed);
    assert_eq!(
        c.problem,
        Some(haven_domain::journey::CheckProblem::LowBandwidth)
    );

    // Another day, another organisation: nothing.
    let tomorrow = store
        .latest_checks(&org, &clinic, day.1, day.1 + Duration::days(1))
        .await
        .unwrap();
    assert!(tomorrow.is_empty());
    let hillside = new_org(&store, "Hillside").await;
    assert!(
        store
            .latest_checks(&hillside, &clinic, day.0, day.1)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn member(
    store: &Store,
    org: &OrgId,
    clinic: &haven_domain::ClinicId,
    email: &str,
) -> UserId {
    let user = new_user(store, org, email).await;
    let mut tx = store.begin().await.unwrap();
    tx.set_membership(org, clinic, &user, true).await.unwrap();
    tx.commit().await.unwrap();
    user
}

#[tokio::test]
async fn a_consultation_passes_only_to_a_member_of_its_clinic_and_only_as_it_was_read() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let ann = member(&store, &org, &clinic, "ann@example.org").await;
    let ben = member(&store, &org, &clinic, "ben@example.org").await;
    let outsider = new_user(&store, &org, "cat@example.org").await;
    let id = book(&store, &org, &clinic, Some(&ann)).await.unwrap();

    let mut tx = store.begin().await.unwrap();
    tx.set_clinician(&org, &id, Status::Booked, Some(&ann), &ben)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.consultation(&org, &id).await.unwrap().clinician_id,
        Some(ben.clone())
    );

    // Stale reads, an outsider and another organisation are refused and change nothing.
    for (status, from, to) in [
        (Status::Booked, Some(&ann), &ann),
        (Status::Waiting, Some(&ben), &ann),
        (Status::Booked, Some(&ben), &outsider),
    ] {
        let mut tx = store.begin().await.unwrap();
        let refused = tx.set_clinician(&org, &id, status, from, to).await;
        assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
    }
    let hillside = new_org(&store, "Hillside").await;
    let mut tx = store.begin().await.unwrap();
    let refused = tx
        .set_clinician(&hillside, &id, Status::Booked, Some(&ben), &ann)
        .await;
    assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
    drop(tx);
    assert_eq!(
        store.consultation(&org, &id).await.unwrap().clinician_id,
        Some(ben.clone())
    );

    // A consultation booked with any clinician of the clinic can be given to one.
    let open = book(&store, &org, &clinic, None).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.transition(&org, &open, Event::Invite, T0).await.unwrap();
    tx.set_clinician(&org, &open, Status::Invited, None, &ann)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        store.consultation(&org, &open).await.unwrap().clinician_id,
        Some(ann)
    );
}
