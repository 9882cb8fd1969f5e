//! Group consultations keep their hosts in order, each attendee's booked details and
//! chosen name, and stay inside their organisation on both engines.

use haven_domain::consultation::{AttendeeRole, Contact, Kind};
use haven_domain::group::ShownName;
use haven_domain::{AttendeeId, ConsultationId, DateOfBirth, NhsNumber, OrgId, PersonName};
use haven_store::consultations::{NewAttendee, NewConsultation};
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};
use time::Duration;
use time::macros::date;

use crate::common::{T0, connect, id, new_org, new_user};
use crate::consultations::new_clinic;

fn dob(text: &str) -> DateOfBirth {
    DateOfBirth::parse_iso(text, date!(2025 - 01 - 06)).unwrap()
}

async fn group_with(
    store: &Store,
    org: &OrgId,
    names: &[&str],
) -> (ConsultationId, Vec<AttendeeId>) {
    let clinic = new_clinic(store, org, "Antenatal class").await;
    let consultation = id(ConsultationId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.create_consultation(
        &NewConsultation {
            id: &consultation,
            org_id: org,
            clinic_id: &clinic,
            clinician_id: None,
            kind: Kind::Group,
            starts_at: T0 + Duration::hours(1),
            patient: None,
        },
        T0,
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let attendee = id(AttendeeId::from_random);
        tx.add_attendee(
            org,
            &consultation,
            &NewAttendee {
                id: &attendee,
                role: AttendeeRole::Patient,
                name: &PersonName::parse(name).unwrap(),
                mobile: None,
                email: Some(&haven_domain::Email::parse(&format!("p{i}@example.org")).unwrap()),
                contact: Contact::Email,
                user_id: None,
            },
            T0 + Duration::seconds(i as i64),
        )
        .await
        .unwrap();
        let nhs = (i == 0).then(|| NhsNumber::parse("999 000 0018").unwrap());
        tx.add_group_details(org, &attendee, i as i64, dob("1990-02-03"), nhs.as_ref())
            .await
            .unwrap();
        ids.push(attendee);
    }
    tx.commit().await.unwrap();
    (consultation, ids)
}

#[tokio::test]
async fn hosts_attendee_details_and_chosen_names_read_back() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let lead = new_user(&store, &org, "lead@example.org").await;
    let cohost = new_user(&store, &org, "cohost@example.org").await;
    let bystander = new_user(&store, &org, "other@example.org").await;
    let (group, ids) = group_with(&store, &org, &["Aisha Khan", "Ben Jones"]).await;

    let mut tx = store.begin().await.unwrap();
    tx.add_host(&org, &group, &cohost, 1, T0).await.unwrap();
    tx.add_host(&org, &group, &lead, 0, T0).await.unwrap();
    tx.set_shown_name(&org, &ids[1], &ShownName::parse("B").unwrap())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        store.hosts(&org, &group).await.unwrap(),
        vec![lead.clone(), cohost]
    );
    assert!(store.is_host(&org, &group, &lead).await.unwrap());
    assert!(!store.is_host(&org, &group, &bystander).await.unwrap());

    let people = store.group_attendees(&org, &group).await.unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(people[0].attendee.name.as_str(), "Aisha Khan");
    assert_eq!(people[0].shown_name().as_str(), "Aisha");
    assert_eq!(people[0].dob, dob("1990-02-03"));
    assert_eq!(
        people[0].nhs_number.as_ref().map(NhsNumber::as_str),
        Some("9990000018")
    );
    assert_eq!(people[1].shown_name().as_str(), "B");
    assert_eq!(people[1].nhs_number, None);
    let one = store.group_attendee(&org, &ids[1]).await.unwrap().unwrap();
    assert_eq!(one.attendee.id, ids[1]);
}

#[tokio::test]
async fn another_organisations_group_is_not_found() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Hillside").await;
    let outsider = new_user(&store, &other, "outsider@example.org").await;
    let (group, ids) = group_with(&store, &org, &["Aisha Khan"]).await;

    assert!(
        store
            .group_attendees(&other, &group)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .group_attendee(&other, &ids[0])
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.hosts(&other, &group).await.unwrap().is_empty());

    let mut tx = store.begin().await.unwrap();
    let refused = tx.add_host(&org, &group, &outsider, 0, T0).await;
    assert!(matches!(refused, Err(Error::NotFound)), "{refused:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let refused = tx
        .set_shown_name(&other, &ids[0], &ShownName::parse("X").unwrap())
        .await;
    assert!(matches!(refused, Err(Error::NotFound)), "{refused:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let refused = tx
        .add_group_details(&other, &ids[0], 0, dob("1990-02-03"), None)
        .await;
    assert!(matches!(refused, Err(Error::NotFound)), "{refused:?}");
}

#[tokio::test]
async fn retention_removes_each_attendees_booked_details_with_the_groups_personal_data() {
    use haven_domain::consultation::Event;

    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let (group, people) = group_with(&store, &org, &["Ann Attendee", "Bea Attendee"]).await;
    crate::governance::happen(&store, &org, &group, &[Event::Cancel], T0).await;
    let remove_before = |cutoff| {
        let store = store.clone();
        let org = org.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            let n = tx
                .remove_consultation_data(&org, cutoff, T0 + Duration::days(1))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            n
        }
    };

    assert_eq!(
        remove_before(T0).await,
        0,
        "over at the cutoff, not before it"
    );
    for a in &people {
        assert!(store.group_attendee(&org, a).await.unwrap().is_some());
    }
    assert_eq!(remove_before(T0 + Duration::seconds(1)).await, 1);
    for a in &people {
        assert!(
            store.group_attendee(&org, a).await.unwrap().is_none(),
            "date of birth, NHS number and chosen name go"
        );
    }
}
