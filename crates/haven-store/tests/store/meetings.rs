//! Colleague meetings: staff attendees are linked to their accounts, each staff member
//! finds the meetings they attend or host (and only their organisation's), and a listed
//! colleague's place in a meeting is found by their account.

use haven_domain::consultation::{AttendeeRole, Contact, Kind};
use haven_domain::{AttendeeId, ClinicId, ClinicName, ConsultationId, OrgId, PersonName, UserId};
use haven_store::consultations::{NewAttendee, NewConsultation};
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};
use time::Duration;

use crate::common::{T0, connect, id, new_org, new_user};

async fn meeting(
    store: &Store,
    org: &OrgId,
    host: &UserId,
    colleagues: &[&UserId],
    starts_in: Duration,
) -> Result<ConsultationId, Error> {
    let clinic = id(ClinicId::from_random);
    let meeting = id(ConsultationId::from_random);
    let mut tx = store.begin().await?;
    tx.create_clinic(
        org,
        &clinic,
        &ClinicName::parse(&format!("MDT {}", clinic.as_str())).unwrap(),
        T0,
    )
    .await?;
    tx.create_consultation(
        &NewConsultation {
            id: &meeting,
            org_id: org,
            clinic_id: &clinic,
            clinician_id: Some(host),
            kind: Kind::ColleagueMeeting,
            starts_at: T0 + starts_in,
            patient: None,
        },
        T0,
    )
    .await?;
    for user in colleagues {
        tx.add_attendee(
            org,
            &meeting,
            &NewAttendee {
                id: &id(AttendeeId::from_random),
                role: AttendeeRole::Colleague,
                name: &PersonName::parse("Colin Colleague").unwrap(),
                mobile: None,
                email: None,
                contact: Contact::Email,
                user_id: Some(user),
            },
            T0,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(meeting)
}

#[tokio::test]
async fn staff_find_the_meetings_they_attend_or_host_and_their_place_in_them() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let host = new_user(&store, &org, "host@example.org").await;
    let colleague = new_user(&store, &org, "colleague@example.org").await;
    let bystander = new_user(&store, &org, "other@example.org").await;

    let soon = meeting(&store, &org, &host, &[&colleague], Duration::hours(1))
        .await
        .unwrap();
    let later = meeting(
        &store,
        &org,
        &host,
        &[&colleague, &bystander],
        Duration::days(2),
    )
    .await
    .unwrap();

    let day = |from: Duration| (T0 + from, T0 + from + Duration::days(1));
    let (from, to) = day(Duration::ZERO);
    let ids = |list: Vec<haven_store::consultations::Consultation>| {
        list.into_iter().map(|c| c.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.meetings_of(&org, &colleague, from, to).await.unwrap()),
        std::slice::from_ref(&soon)
    );
    assert_eq!(
        ids(store.meetings_of(&org, &host, from, to).await.unwrap()),
        std::slice::from_ref(&soon),
        "the host sees the meetings they host"
    );
    assert!(
        store
            .meetings_of(&org, &bystander, from, to)
            .await
            .unwrap()
            .is_empty()
    );
    let week = (T0, T0 + Duration::days(7));
    assert_eq!(
        ids(store
            .meetings_of(&org, &colleague, week.0, week.1)
            .await
            .unwrap()),
        [soon.clone(), later.clone()],
        "earliest first"
    );

    let place = store
        .attendee_of_user(&org, &soon, &colleague)
        .await
        .unwrap()
        .expect("the colleague is listed");
    assert_eq!(place.user_id.as_ref(), Some(&colleague));
    assert_eq!(place.role, AttendeeRole::Colleague);
    assert_eq!(
        store.attendee(&org, &place.id).await.unwrap().user_id,
        Some(colleague.clone())
    );
    assert!(
        store
            .attendee_of_user(&org, &soon, &bystander)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .attendee_of_user(&org, &soon, &host)
            .await
            .unwrap()
            .is_none(),
        "the host is not an attendee"
    );

    // Another organisation sees none of it, and cannot link its meeting to these staff.
    let other = new_org(&store, "Hillside").await;
    assert!(
        store
            .meetings_of(&other, &colleague, week.0, week.1)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .attendee_of_user(&other, &soon, &colleague)
            .await
            .unwrap()
            .is_none()
    );
    let their_host = new_user(&store, &other, "host@hillside.example.org").await;
    assert!(matches!(
        meeting(
            &store,
            &other,
            &their_host,
            &[&colleague],
            Duration::hours(1)
        )
        .await,
        Err(Error::NotFound)
    ));
    assert!(
        store
            .meetings_of(&other, &their_host, week.0, week.1)
            .await
            .unwrap()
            .is_empty(),
        "the refused meeting was not kept"
    );
}
