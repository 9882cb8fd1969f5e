//! The journey funnel adds up each clinic's day from the steps people reached, on both
//! engines: days are UK days (a GMT/BST change included), cancelled consultations and
//! other organisations stay out, and the check results an attendee sends are counted.

use haven_domain::consultation::{AttendeeRole, Contact, Event, JourneyStep, Kind};
use haven_domain::journey::{CheckProblem, Funnel, Stop};
use haven_domain::time::{Date, Duration, OffsetDateTime, Time};
use haven_domain::{AttendeeId, ClinicId, ConsultationId, OrgId, PersonName, uk_time};
use haven_store::Store;
use haven_store::consultations::NewAttendee;
use haven_store::testing::fresh_database;
use time::macros::{date, datetime};

use crate::common::{T0, connect, id, new_org, new_user};
use crate::consultations::new_clinic as clinic;
use crate::governance::booked_at;

/// Books a one-to-one consultation at `starts_at` and returns its patient and id.
async fn book(
    store: &Store,
    org: &OrgId,
    clinic: &ClinicId,
    starts_at: OffsetDateTime,
) -> (AttendeeId, ConsultationId) {
    let (consultation, attendee) = booked_at(store, org, clinic, Kind::OneToOne, starts_at).await;
    (attendee, consultation)
}

/// Records steps, each `minutes` after `start`.
async fn walk(
    store: &Store,
    org: &OrgId,
    attendee: &AttendeeId,
    start: OffsetDateTime,
    steps: &[(JourneyStep, Option<CheckProblem>, i64)],
) {
    let mut tx = store.begin().await.unwrap();
    for (step, problem, minutes) in steps {
        let detail = problem.map(CheckProblem::as_str);
        tx.journey_step(
            org,
            attendee,
            *step,
            detail,
            start + Duration::minutes(*minutes),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn day(store: &Store, org: &OrgId, date: Date) -> Vec<(ClinicId, Funnel)> {
    let from = uk_time::from_local(date, Time::MIDNIGHT);
    let until = uk_time::from_local(date.next_day().unwrap(), Time::MIDNIGHT);
    store.funnels(org, from, until).await.unwrap()
}

fn of<'a>(funnels: &'a [(ClinicId, Funnel)], clinic: &ClinicId) -> &'a Funnel {
    &funnels
        .iter()
        .find(|(c, _)| c == clinic)
        .expect("the clinic has figures")
        .1
}

fn stopped(funnel: &Funnel, stop: Stop) -> u32 {
    funnel
        .stopped
        .iter()
        .find(|(s, _)| *s == stop)
        .map_or(0, |(_, n)| *n)
}

#[tokio::test]
async fn each_clinics_uk_day_adds_up_where_people_stopped_and_how_long_they_waited() {
    use JourneyStep::*;
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let physio = clinic(&store, &org, "Physiotherapy").await;
    let podiatry = clinic(&store, &org, "Podiatry").await;
    let other = new_org(&store, "Hillside").await;
    let theirs = clinic(&store, &other, "Physiotherapy").await;

    // Sunday 30 March 2025: the clocks go forward at 01:00 UTC, so the UK day runs from
    // 00:00 UTC to 23:00 UTC.
    let ten = datetime!(2025-03-30 10:00 UTC);
    let (working, _) = book(&store, &org, &physio, ten).await;
    walk(
        &store,
        &org,
        &working,
        ten,
        &[
            (LinkOpened, None, 0),
            (DetailsEntered, None, 1),
            (CheckPassed, None, 2),
            (Waiting, None, 2),
            (Admitted, None, 6),
            (MediaFlowing, None, 6),
            (Ended, None, 20),
        ],
    )
    .await;
    let (refused, _) = book(&store, &org, &physio, ten + Duration::hours(1)).await;
    walk(
        &store,
        &org,
        &refused,
        ten,
        &[
            (LinkOpened, None, 0),
            (DetailsEntered, None, 1),
            (CheckFailed, Some(CheckProblem::PermissionDenied), 2),
        ],
    )
    .await;
    // 00:30 UTC is 00:30 GMT: still 30 March.
    book(&store, &org, &physio, datetime!(2025-03-30 00:30 UTC)).await;
    let (no_media, _) = book(&store, &org, &physio, ten + Duration::hours(2)).await;
    walk(
        &store,
        &org,
        &no_media,
        ten,
        &[
            (LinkOpened, None, 0),
            (DetailsEntered, None, 1),
            (CheckPassed, None, 1),
            (Waiting, None, 1),
            (Admitted, None, 3),
        ],
    )
    .await;
    let (cancelled_person, cancelled) = book(&store, &org, &physio, ten).await;
    walk(
        &store,
        &org,
        &cancelled_person,
        ten,
        &[(LinkOpened, None, 0)],
    )
    .await;
    let mut tx = store.begin().await.unwrap();
    tx.transition(&org, &cancelled, Event::Cancel, ten)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (feet, _) = book(&store, &org, &podiatry, ten).await;
    walk(
        &store,
        &org,
        &feet,
        ten,
        &[
            (LinkOpened, None, 0),
            (DetailsEntered, None, 1),
            (CheckFailed, Some(CheckProblem::NoCamera), 2),
            (Waiting, None, 2),
            (Admitted, None, 8),
            (MediaFlowing, None, 9),
        ],
    )
    .await;
    // 23:30 UTC on the 30th is 00:30 BST on the 31st.
    let late = datetime!(2025-03-30 23:30 UTC);
    let (next_day, _) = book(&store, &org, &physio, late).await;
    walk(&store, &org, &next_day, late, &[(LinkOpened, None, 0)]).await;
    // 23:30 UTC on the 29th is 23:30 GMT on the 29th.
    let before = datetime!(2025-03-29 23:30 UTC);
    let (day_before, _) = book(&store, &org, &physio, before).await;
    walk(&store, &org, &day_before, before, &[(LinkOpened, None, 0)]).await;
    let (elsewhere, _) = book(&store, &other, &theirs, ten).await;
    walk(&store, &other, &elsewhere, ten, &[(LinkOpened, None, 0)]).await;

    let sunday = day(&store, &org, date!(2025 - 03 - 30)).await;
    assert_eq!(
        sunday.len(),
        2,
        "only this organisation's clinics with bookings"
    );
    let p = of(&sunday, &physio);
    assert_eq!(p.invited, 4);
    assert_eq!(p.reached(LinkOpened), 3);
    assert_eq!(p.reached(DetailsEntered), 3);
    assert_eq!(p.reached(CheckPassed), 2);
    assert_eq!(p.reached(CheckFailed), 1);
    assert_eq!(p.reached(Waiting), 2);
    assert_eq!(p.reached(Admitted), 2);
    assert_eq!(p.working_calls(), 1);
    assert_eq!(p.reached(Ended), 1);
    assert!(
        p.failed_by_problem
            .contains(&(CheckProblem::PermissionDenied, 1))
    );
    assert!(p.failed_by_problem.contains(&(CheckProblem::NoCamera, 0)));
    assert_eq!(stopped(p, Stop::NotOpened), 1);
    assert_eq!(stopped(p, Stop::At(CheckFailed)), 1);
    assert_eq!(stopped(p, Stop::At(Admitted)), 1);
    assert_eq!(stopped(p, Stop::At(LinkOpened)), 0);
    // Admitted after 6 and 3 minutes.
    assert_eq!(p.median_to_admitted, Some(Duration::seconds(270)));
    let f = of(&sunday, &podiatry);
    assert_eq!((f.invited, f.working_calls()), (1, 1));
    assert!(f.failed_by_problem.contains(&(CheckProblem::NoCamera, 1)));
    assert_eq!(f.median_to_admitted, Some(Duration::minutes(8)));

    let monday = day(&store, &org, date!(2025 - 03 - 31)).await;
    assert_eq!(monday.len(), 1);
    assert_eq!(
        (
            of(&monday, &physio).invited,
            of(&monday, &physio).reached(LinkOpened)
        ),
        (1, 1)
    );
    let saturday = day(&store, &org, date!(2025 - 03 - 29)).await;
    assert_eq!(of(&saturday, &physio).invited, 1);
    assert!(day(&store, &org, date!(2025 - 03 - 28)).await.is_empty());
    let theirs_day = day(&store, &other, date!(2025 - 03 - 30)).await;
    assert_eq!(theirs_day.len(), 1);
    assert_eq!(of(&theirs_day, &theirs).invited, 1);
}

#[tokio::test]
async fn check_results_are_counted_per_attendee_within_their_organisation() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Hillside").await;
    let physio = clinic(&store, &org, "Physiotherapy").await;
    let (patient, _) = book(&store, &org, &physio, T0).await;
    walk(
        &store,
        &org,
        &patient,
        T0,
        &[
            (JourneyStep::LinkOpened, None, 0),
            (
                JourneyStep::CheckFailed,
                Some(CheckProblem::LowBandwidth),
                1,
            ),
            (JourneyStep::CheckPassed, None, 2),
            (JourneyStep::CheckPassed, None, 10),
        ],
    )
    .await;
    let count = |org: OrgId, since| {
        let (store, patient) = (store.clone(), patient.clone());
        async move {
            store
                .check_results_since(&org, &patient, since)
                .await
                .unwrap()
        }
    };
    assert_eq!(count(org.clone(), T0).await, 3);
    assert_eq!(count(org.clone(), T0 + Duration::minutes(5)).await, 1);
    assert_eq!(count(other, T0).await, 0);
}

#[tokio::test]
async fn staff_who_attend_signed_in_are_not_counted_as_invited() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let clinic = clinic(&store, &org, "Physiotherapy").await;
    let start = uk_time::from_local(date!(2026 - 06 - 01), Time::from_hms(10, 0, 0).unwrap());
    let (patient, consultation) = book(&store, &org, &clinic, start).await;
    let user = new_user(&store, &org, "colin@example.org").await;
    let colleague = id(AttendeeId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.add_attendee(
        &org,
        &consultation,
        &NewAttendee {
            id: &colleague,
            role: AttendeeRole::Colleague,
            name: &PersonName::parse("Colin Colleague").unwrap(),
            mobile: None,
            email: None,
            contact: Contact::Email,
            user_id: Some(&user),
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let waited = [
        (JourneyStep::Waiting, None, 0),
        (JourneyStep::Admitted, None, 1),
    ];
    walk(&store, &org, &colleague, start, &waited).await;
    walk(
        &store,
        &org,
        &patient,
        start,
        &[(JourneyStep::LinkOpened, None, 0)],
    )
    .await;

    let funnels = day(&store, &org, date!(2026 - 06 - 01)).await;
    let funnel = of(&funnels, &clinic);
    assert_eq!(funnel.invited, 1);
    assert_eq!(funnel.median_to_admitted, None);
}
