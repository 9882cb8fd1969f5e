//! The governance report's counts and the national counts of consultations held, on both
//! engines: held means first admitted in the month (UK time), whatever came after;
//! consultations that ended unadmitted, cancelled ones, colleague meetings and other
//! organisations stay out.

use haven_domain::audit::Actor;
use haven_domain::consultation::{AttendeeRole, ConsentKind, Contact, Event, Kind, Outcome};
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::{
    AttendeeId, ClinicId, ConsultationId, DeliveryId, OrgId, PersonName, Role, UkMonth,
};
use haven_store::Store;
use haven_store::audit::NewAudit;
use haven_store::consultations::{NewAttendee, NewConsultation};
use haven_store::deliveries::DeliveryResult;
use haven_store::record::{ChatLine, Consent};
use haven_store::testing::fresh_database;
use time::macros::datetime;

use crate::common::{T0, connect, create_user_in, id, new_org};
use crate::consultations::new_clinic;

/// A consultation of `kind` with its patient (or colleague), booked at T0.
pub(crate) async fn booked(
    store: &Store,
    org: &OrgId,
    clinic: &ClinicId,
    kind: Kind,
) -> (ConsultationId, AttendeeId) {
    booked_at(store, org, clinic, kind, T0).await
}

/// A consultation of `kind` starting at `starts_at`, with its patient (or colleague).
pub(crate) async fn booked_at(
    store: &Store,
    org: &OrgId,
    clinic: &ClinicId,
    kind: Kind,
    starts_at: OffsetDateTime,
) -> (ConsultationId, AttendeeId) {
    let consultation = id(ConsultationId::from_random);
    let attendee = id(AttendeeId::from_random);
    let mut tx = store.begin().await.unwrap();
    tx.create_consultation(
        &NewConsultation {
            id: &consultation,
            org_id: org,
            clinic_id: clinic,
            clinician_id: None,
            kind,
            starts_at,
            patient: None,
        },
        T0,
    )
    .await
    .unwrap();
    let role = if kind == Kind::ColleagueMeeting {
        AttendeeRole::Colleague
    } else {
        AttendeeRole::Patient
    };
    tx.add_attendee(
        org,
        &consultation,
        &NewAttendee {
            id: &attendee,
            role,
            name: &PersonName::parse("Sam Patient").unwrap(),
            mobile: None,
            email: None,
            contact: Contact::Email,
            user_id: None,
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (consultation, attendee)
}

/// Runs `events` on a consultation at `at`.
pub(crate) async fn happen(
    store: &Store,
    org: &OrgId,
    c: &ConsultationId,
    events: &[Event],
    at: OffsetDateTime,
) {
    let mut tx = store.begin().await.unwrap();
    for e in events {
        tx.transition(org, c, *e, at).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The admission's audit entry with the checklist's answers, as `ops::admission` writes it.
async fn audit_admit(
    store: &Store,
    org: &OrgId,
    c: &ConsultationId,
    detail: &str,
    at: OffsetDateTime,
) {
    let mut tx = store.begin().await.unwrap();
    tx.audit(
        &NewAudit {
            actor: &Actor::System,
            action: "consultation.admit",
            object: c.as_str(),
            org_id: Some(org),
            client_addr: None,
            detail,
        },
        at,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn month(text: &str) -> UkMonth {
    UkMonth::parse(text).unwrap()
}

#[tokio::test]
async fn consultations_held_are_counted_in_the_uk_month_of_their_first_admission() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside Practice").await;
    let other = new_org(&store, "Another Trust").await;
    let clinic = new_clinic(&store, &org, "Physio").await;
    let other_clinic = new_clinic(&store, &other, "Clinic").await;
    let (arrive, admit, end) = (Event::Arrive, Event::Admit, Event::End);

    // Held in August 2026 (UK): 23:30 UTC on 31 July is 00:30 BST on 1 August.
    let (a, _) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(
        &store,
        &org,
        &a,
        &[arrive, admit],
        datetime!(2026-07-31 23:30 UTC),
    )
    .await;
    // Admitted again and ended in September: still counted once, in August.
    happen(
        &store,
        &org,
        &a,
        &[admit, end],
        datetime!(2026-09-02 10:00 UTC),
    )
    .await;
    let (b, _) = booked(&store, &org, &clinic, Kind::WithCarer).await;
    happen(
        &store,
        &org,
        &b,
        &[arrive, admit],
        datetime!(2026-08-10 10:00 UTC),
    )
    .await;
    // Held in July.
    let (c, _) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(
        &store,
        &org,
        &c,
        &[arrive, admit, end],
        datetime!(2026-07-31 22:30 UTC),
    )
    .await;
    // Not held: ended before anyone was admitted; cancelled; a colleague meeting.
    let (d, _) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(
        &store,
        &org,
        &d,
        &[arrive, end],
        datetime!(2026-08-11 10:00 UTC),
    )
    .await;
    let (e, _) = booked(&store, &org, &clinic, Kind::OneToOne).await;
    happen(
        &store,
        &org,
        &e,
        &[Event::Cancel],
        datetime!(2026-08-11 10:00 UTC),
    )
    .await;
    let (f, _) = booked(&store, &org, &clinic, Kind::ColleagueMeeting).await;
    happen(
        &store,
        &org,
        &f,
        &[arrive, admit],
        datetime!(2026-08-11 10:00 UTC),
    )
    .await;
    // Another organisation's.
    let (g, _) = booked(&store, &other, &other_clinic, Kind::Group).await;
    happen(
        &store,
        &other,
        &g,
        &[arrive, admit],
        datetime!(2026-08-12 10:00 UTC),
    )
    .await;

    let aug = month("2026-08");
    let counts = store
        .held_counts(None, aug.start(), aug.end())
        .await
        .unwrap();
    let seen: Vec<(&str, Kind, u64)> = counts
        .iter()
        .map(|c| (c.org_name.as_str(), c.kind, c.held))
        .collect();
    assert_eq!(
        seen,
        [
            ("Another Trust", Kind::Group, 1),
            ("Riverside Practice", Kind::OneToOne, 1),
            ("Riverside Practice", Kind::WithCarer, 1),
        ]
    );
    let mine = store
        .held_counts(Some(&org), aug.start(), aug.end())
        .await
        .unwrap();
    assert_eq!(
        mine.iter().map(|c| c.held).sum::<u64>(),
        2,
        "only this organisation's"
    );
    let jul = month("2026-07");
    let july = store
        .held_counts(Some(&org), jul.start(), jul.end())
        .await
        .unwrap();
    assert_eq!(july.len(), 1);
    assert_eq!((july[0].kind, july[0].held), (Kind::OneToOne, 1));

    let facts = store
        .governance_facts(&org, aug.start(), aug.end())
        .await
        .unwrap();
    assert_eq!(facts.held, 2);
    assert_eq!(facts.record.ended, 1, "a, held in August, has ended since");
    let names = store.org_names().await.unwrap();
    assert_eq!(names.len(), 2);
}

#[tokio::test]
async fn the_report_counts_the_checklist_consents_record_chat_and_staff() {
    let db = fresh_database().await;
    let store = connect(&db.url).await;
    let org = new_org(&store, "Riverside Practice").await;
    let clinic = new_clinic(&store, &org, "Physio").await;
    let at = datetime!(2026-11-10 10:00 UTC);
    let nov = month("2026-11");
    let mut held = Vec::new();
    for _ in 0..3 {
        let (c, patient) = booked(&store, &org, &clinic, Kind::WithCarer).await;
        happen(&store, &org, &c, &[Event::Arrive, Event::Admit], at).await;
        held.push((c, patient));
    }
    // The checklist in full for two admissions; the third's entry lacks it (another path).
    for (c, _) in &held[..2] {
        audit_admit(
            &store,
            &org,
            c,
            "attendee=x identity_confirmed=yes record_open=yes private_space=yes location=noted",
            at,
        )
        .await;
    }
    audit_admit(&store, &org, &held[2].0, "attendee=x", at).await;
    // Two patients accepted their invitation; one consultation ended with an outcome, one
    // with an outcome and a note.
    let mut tx = store.begin().await.unwrap();
    for (_, patient) in &held[..2] {
        let dob = haven_domain::DateOfBirth::parse_iso("1980-01-02", at.date()).unwrap();
        tx.confirm_identity(
            &org,
            patient,
            &PersonName::parse("Sam Patient").unwrap(),
            dob,
            at,
        )
        .await
        .unwrap();
    }
    tx.set_outcome(&org, &held[0].0, Outcome::Completed, "")
        .await
        .unwrap();
    tx.set_outcome(&org, &held[1].0, Outcome::Completed, "Reviewed exercises.")
        .await
        .unwrap();
    for (kind, c) in [
        (ConsentKind::CarerPresence, 0),
        (ConsentKind::CarerPresence, 1),
        (ConsentKind::Recording, 1),
    ] {
        tx.record_consent(
            &org,
            &Consent {
                consultation: held[c].0.clone(),
                attendee: held[c].1.clone(),
                kind,
                about: None,
                confirmed_by: None,
                given_at: at,
            },
        )
        .await
        .unwrap();
    }
    let line = |seq| ChatLine {
        seq,
        sender_attendee: None,
        sender_user: None,
        sender_name: "Dr Who".into(),
        sent_at: at,
        body: "hello".into(),
    };
    tx.save_chat(&org, &held[0].0, &[line(0), line(1)])
        .await
        .unwrap();
    // Staff: one enrolled, one with a temporary password, one disabled.
    create_user_in(&mut tx, &org, "a@example.org", &[Role::Admin]).await;
    let temp = create_user_in(&mut tx, &org, "b@example.org", &[Role::Clinician]).await;
    let gone = create_user_in(&mut tx, &org, "c@example.org", &[Role::Clinician]).await;
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    tx.set_password(&temp, crate::common::password_hash(), true)
        .await
        .unwrap();
    tx.set_disabled(&gone, true).await.unwrap();
    tx.commit().await.unwrap();
    happen(
        &store,
        &org,
        &held[0].0,
        &[Event::End],
        at + Duration::hours(1),
    )
    .await;
    happen(
        &store,
        &org,
        &held[1].0,
        &[Event::End],
        at + Duration::hours(1),
    )
    .await;

    // held[0]'s notes are written on the notes page and finished, but its bundle's
    // delivery failed; held[1]'s reached the record system.
    let mut tx = store.begin().await.unwrap();
    let end = at + Duration::hours(2);
    tx.save_notes(&org, &held[0].0, "Seen by video", &temp, end)
        .await
        .unwrap();
    tx.finish_notes(&org, &held[0].0, &temp, end).await.unwrap();
    for (i, result) in [
        DeliveryResult::Failed { reason: "400" },
        DeliveryResult::Delivered {
            location: Some("Bundle/1"),
        },
    ]
    .into_iter()
    .enumerate()
    {
        let delivery = crate::common::id(DeliveryId::from_random);
        let (consultation, patient) = &held[i];
        tx.queue_delivery(&org, &delivery, consultation, patient, end)
            .await
            .unwrap();
        assert!(
            tx.delivery_result(&org, &delivery, result, end)
                .await
                .unwrap()
        );
    }
    tx.commit().await.unwrap();

    let f = store
        .governance_facts(&org, nov.start(), nov.end())
        .await
        .unwrap();
    assert_eq!(f.held, 3);
    assert_eq!((f.identity_confirmed, f.private_space_confirmed), (2, 2));
    assert_eq!(f.patient_joined, 2);
    assert_eq!((f.carer_consents, f.recording_consents), (2, 1));
    assert_eq!(
        (
            f.record.ended,
            f.record.outcome_recorded,
            f.record.note_written,
            f.record.notes_finished,
            f.record.delivered,
            f.record.delivery_failed
        ),
        (2, 2, 2, 1, 1, 1),
        "notes on the notes page count as written"
    );
    assert_eq!(f.chat_saved, 1);
    assert_eq!((f.active_staff, f.own_password, f.mfa_enrolled), (2, 1, 0));

    // Another month sees none of it but the staff, who are counted as they are now.
    let dec = month("2026-12");
    let later = store
        .governance_facts(&org, dec.start(), dec.end())
        .await
        .unwrap();
    assert_eq!(
        (later.held, later.identity_confirmed, later.chat_saved),
        (0, 0, 0)
    );
    assert_eq!(later.active_staff, 2);
}
