//! Consultations round-trip every field on both engines, stay inside their organisation,
//! and change status only as the domain's lifecycle allows; their links work until they
//! expire, are revoked, or the consultation is over; API keys work until revoked.

use haven_domain::consultation::{
    AttendeeRole, ChildAttendance, Contact, Event, JourneyStep, Kind, Outcome, Status,
};
use haven_domain::{
    ApiKeyId, AttendeeId, ClinicId, ClinicName, ConsultationId, DateOfBirth, Email, NhsNumber,
    OrgId, PersonName, UkMobile, UserId,
};
use haven_store::consultations::{BookedPatient, NewAttendee, NewConsultation};
use haven_store::testing::fresh_database;
use haven_store::{Error, Store};
use time::Duration;
use time::macros::date;

use crate::common::{T0, connect, id, new_org, new_user};

pub(crate) async fn new_clinic(store: &Store, org: &OrgId, name: &str) -> ClinicId {
    let clinic = id(ClinicId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.create_clinic(org, &clinic, &ClinicName::parse(name).unwrap(), T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    clinic
}

fn patient() -> BookedPatient {
    BookedPatient {
        name: PersonName::parse("Sam Patient").unwrap(),
        dob: DateOfBirth::parse_iso("2012-05-04", date!(2025 - 01 - 06)).unwrap(),
        nhs_number: Some(NhsNumber::parse("999 000 0018").unwrap()),
        child_attendance: Some(ChildAttendance::WithParentOrGuardian),
    }
}

pub(crate) async fn book(
    store: &Store,
    org: &OrgId,
    clinic: &ClinicId,
    clinician: Option<&UserId>,
) -> Result<ConsultationId, Error> {
    let id = id(ConsultationId::from_random);
    let patient = patient();
    let mut tx = store.begin().await?;
    tx.create_consultation(
        &NewConsultation {
            id: &id,
            org_id: org,
            clinic_id: clinic,
            clinician_id: clinician,
            kind: Kind::WithCarer,
            starts_at: T0 + Duration::hours(2),
            patient: Some(&patient),
        },
        T0,
    )
    .await?;
    let mobile = UkMobile::parse("07700 900123").unwrap();
    tx.add_attendee(
        org,
        &id,
        &NewAttendee {
            id: &crate::common::id(AttendeeId::from_random),
            role: AttendeeRole::Patient,
            name: &patient.name,
            mobile: Some(&mobile),
            email: None,
            contact: Contact::Sms,
            user_id: None,
        },
        T0,
    )
    .await?;
    let email = Email::parse("carer@example.org").unwrap();
    tx.add_attendee(
        org,
        &id,
        &NewAttendee {
            id: &crate::common::id(AttendeeId::from_random),
            role: AttendeeRole::Carer,
            name: &PersonName::parse("Pat Carer").unwrap(),
            mobile: None,
            email: Some(&email),
            contact: Contact::Email,
            user_id: None,
        },
        T0 - Duration::minutes(1),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[tokio::test]
async fn a_booking_reads_back_field_for_field() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let clinician = new_user(&store, &org, "ann@example.org").await;
    let id = book(&store, &org, &clinic, Some(&clinician)).await.unwrap();

    let c = store.consultation(&org, &id).await.unwrap();
    assert_eq!(c.clinic_id, clinic);
    assert_eq!(c.clinician_id, Some(clinician));
    assert_eq!(c.kind, Kind::WithCarer);
    assert_eq!(c.status, Status::Booked);
    assert_eq!(c.starts_at, T0 + Duration::hours(2));
    assert_eq!(c.patient, Some(patient()));
    assert_eq!(c.created_at, T0);
    assert!(c.ended_at.is_none() && c.outcome.is_none() && c.patient_location.is_none());

    // The patient comes first even though the carer was added earlier.
    let people = store.attendees(&org, &id).await.unwrap();
    let roles: Vec<AttendeeRole> = people.iter().map(|a| a.role).collect();
    assert_eq!(roles, [AttendeeRole::Patient, AttendeeRole::Carer]);
    assert_eq!(
        people[0].mobile.as_ref().map(UkMobile::e164),
        Some("+447700900123")
    );
    assert_eq!(people[0].contact, Contact::Sms);
    assert_eq!(
        people[1].email.as_ref().map(Email::as_str),
        Some("carer@example.org")
    );
    let one = store.attendee(&org, &people[1].id).await.unwrap();
    assert_eq!(one.name.as_str(), "Pat Carer");

    let day = store
        .consultations_between(&org, &clinic, T0, T0 + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(day.len(), 1);
    let tomorrow = store
        .consultations_between(
            &org,
            &clinic,
            T0 + Duration::days(1),
            T0 + Duration::days(2),
        )
        .await
        .unwrap();
    assert!(tomorrow.is_empty());
}

#[tokio::test]
async fn another_organisations_consultation_clinic_and_clinician_are_not_found() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let riverside = new_org(&store, "Riverside").await;
    let hillside = new_org(&store, "Hillside").await;
    let their_clinic = new_clinic(&store, &hillside, "Dermatology").await;
    let our_clinic = new_clinic(&store, &riverside, "Physiotherapy").await;
    let their_clinician = new_user(&store, &hillside, "bob@example.org").await;

    assert!(matches!(
        book(&store, &riverside, &their_clinic, None).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        book(&store, &riverside, &our_clinic, Some(&their_clinician)).await,
        Err(Error::NotFound)
    ));
    let ours = book(&store, &riverside, &our_clinic, None).await.unwrap();
    assert!(matches!(
        store.consultation(&hillside, &ours).await,
        Err(Error::NotFound)
    ));
    assert!(store.attendees(&hillside, &ours).await.unwrap().is_empty());
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.transition(&hillside, &ours, Event::Cancel, T0).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        tx.set_outcome(&hillside, &ours, Outcome::Completed, "")
            .await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn status_follows_the_lifecycle_and_final_states_record_when() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let id = book(&store, &org, &clinic, None).await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.transition(&org, &id, Event::End, T0).await,
        Err(Error::Refused(reason)) if reason.contains("booked")
    ));
    for (event, want) in [
        (Event::Invite, Status::Invited),
        (Event::Arrive, Status::Waiting),
        (Event::Admit, Status::InProgress),
        (Event::End, Status::Ended),
    ] {
        let (_, after) = tx.transition(&org, &id, event, T0).await.unwrap();
        assert_eq!(after, want);
    }
    tx.set_patient_location(&org, &id, "home address as booked")
        .await
        .unwrap();
    tx.set_outcome(&org, &id, Outcome::ConvertedToTelephone, "video froze")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let c = store.consultation(&org, &id).await.unwrap();
    assert_eq!(c.status, Status::Ended);
    assert_eq!(c.ended_at, Some(T0));
    assert_eq!(c.outcome, Some(Outcome::ConvertedToTelephone));
    assert_eq!(c.outcome_note.as_deref(), Some("video froze"));
    assert_eq!(
        c.patient_location.as_deref(),
        Some("home address as booked")
    );

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.transition(&org, &id, Event::Admit, T0).await,
        Err(Error::Refused(_))
    ));
}

#[tokio::test]
async fn a_link_works_until_it_expires_is_revoked_or_the_consultation_is_over() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Hillside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let id = book(&store, &org, &clinic, None).await.unwrap();
    let people = store.attendees(&org, &id).await.unwrap();
    let (patient, carer) = (&people[0].id, &people[1].id);
    let expires = T0 + Duration::hours(10);

    let mut tx = store.begin().await.unwrap();
    tx.add_invite_token(&org, patient, "hash-one", T0, expires)
        .await
        .unwrap();
    tx.add_invite_token(&org, patient, "hash-two", T0, expires)
        .await
        .unwrap();
    tx.add_invite_token(&org, carer, "hash-carer", T0, expires)
        .await
        .unwrap();
    assert!(matches!(
        tx.add_invite_token(&other, patient, "hash-x", T0, expires)
            .await,
        Err(Error::NotFound)
    ));
    tx.commit().await.unwrap();
    // A failed statement ends a PostgreSQL transaction: each refusal gets its own.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.add_invite_token(&org, carer, "hash-one", T0, expires)
            .await,
        Err(Error::Conflict(_))
    ));
    drop(tx);

    let invite = store.invite("hash-two", T0).await.unwrap().expect("live");
    assert_eq!(&invite.attendee.id, patient);
    assert_eq!(invite.consultation.id, id);
    assert_eq!(invite.expires_at, expires);
    assert!(
        store.invite("hash-one", expires).await.unwrap().is_none(),
        "expired"
    );
    assert!(store.invite("no-such-hash", T0).await.unwrap().is_none());

    // Removing the carer kills the carer's link only.
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.revoke_attendee_invites(&other, carer, T0).await.unwrap(),
        0
    );
    assert_eq!(
        tx.revoke_attendee_invites(&org, carer, T0).await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
    assert!(store.invite("hash-carer", T0).await.unwrap().is_none());
    assert!(store.invite("hash-one", T0).await.unwrap().is_some());

    // A cancelled consultation's links are dead even before they are revoked.
    let mut tx = store.begin().await.unwrap();
    tx.transition(&org, &id, Event::Cancel, T0).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.invite("hash-one", T0).await.unwrap().is_none());
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.revoke_consultation_invites(&org, &id, T0).await.unwrap(),
        2
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_api_key_acts_for_its_organisation_until_revoked() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Hillside").await;
    let key = id(ApiKeyId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.create_api_key(&org, &key, "GP booking", "key-hash", T0)
        .await
        .unwrap();
    tx.create_api_key(&other, &id(ApiKeyId::from_random), "GP booking", "h3", T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.create_api_key(&org, &id(ApiKeyId::from_random), "GP booking", "h2", T0)
            .await,
        Err(Error::Conflict(_))
    ));
    drop(tx);

    let found = store.api_key("key-hash").await.unwrap().expect("live");
    assert_eq!(
        (found.id.clone(), found.org_id.clone()),
        (key.clone(), org.clone())
    );
    assert_eq!(store.api_keys(&org).await.unwrap(), [found]);

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.revoke_api_key(&other, &key, T0).await,
        Err(Error::NotFound)
    ));
    tx.revoke_api_key(&org, &key, T0).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.api_key("key-hash").await.unwrap().is_none());
    assert_eq!(store.api_keys(&org).await.unwrap()[0].revoked_at, Some(T0));
}

#[tokio::test]
async fn a_colleague_meeting_has_no_patient() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let id = id(ConsultationId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.create_consultation(
        &NewConsultation {
            id: &id,
            org_id: &org,
            clinic_id: &clinic,
            clinician_id: None,
            kind: Kind::ColleagueMeeting,
            starts_at: T0,
            patient: None,
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let c = store.consultation(&org, &id).await.unwrap();
    assert_eq!((c.kind, c.patient), (Kind::ColleagueMeeting, None));
}

#[tokio::test]
async fn a_persons_answers_and_journey_are_kept_within_their_organisation() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside").await;
    let other = new_org(&store, "Hillside").await;
    let clinic = new_clinic(&store, &org, "Physiotherapy").await;
    let id = book(&store, &org, &clinic, None).await.unwrap();
    let patient = store.attendees(&org, &id).await.unwrap()[0].id.clone();
    let name = PersonName::parse("Sam Patient").unwrap();
    let dob = DateOfBirth::parse_iso("2012-05-05", date!(2025 - 01 - 06)).unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        tx.confirm_identity(&other, &patient, &name, dob, T0).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        tx.journey_step(&other, &patient, JourneyStep::LinkOpened, None, T0)
            .await,
        Err(Error::NotFound)
    ));
    tx.confirm_identity(&org, &patient, &name, dob, T0)
        .await
        .unwrap();
    tx.journey_step(
        &org,
        &patient,
        JourneyStep::CheckFailed,
        Some("camera_denied"),
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let confirmed = store.attendee(&org, &patient).await.unwrap().confirmed;
    assert_eq!(
        confirmed.map(|c| (c.name, c.dob, c.at)),
        Some((name, Some(dob), T0))
    );
}
