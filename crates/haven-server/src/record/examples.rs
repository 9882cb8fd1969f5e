//! Made-up consultations, one per kind of record Haven writes, for the builder's tests and
//! for the tests that run the FHIR validators on every bundle. Nobody here is real; the
//! NHS numbers are from the range reserved for tests.

use haven_domain::consultation::{
    AttendeeRole, ChildAttendance, ConsentKind, Contact, Kind, Outcome, Status,
};
use haven_domain::time::macros::datetime;
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::{
    AttendeeId, ClinicId, ConsultationId, DateOfBirth, NhsNumber, OrgId, OrgName, PersonName,
    UserId,
};
use haven_store::consultations::{Attendee, BookedPatient, Confirmed, Consultation};
use haven_store::notes::Notes;
use haven_store::record::{ChatLine, Consent, Stay};

use super::{RecordInput, StaffMember};

/// Every scenario, by name.
pub const SCENARIOS: [&str; 7] = [
    "one_to_one",
    "carer_and_interpreter",
    "child_with_parent",
    "converted_to_telephone",
    "group_attendee",
    "saved_chat",
    "without_nhs_number",
];

/// When the made-up consultation starts.
pub const START: OffsetDateTime = datetime!(2026-03-02 10:00 UTC);

fn id(n: u8) -> [u8; 16] {
    [n; 16]
}

/// The booked clinician.
pub fn clinician() -> UserId {
    UserId::from_random(id(1))
}

/// A second host, for the group.
pub fn host() -> UserId {
    UserId::from_random(id(2))
}

/// The patient whose bundle each scenario builds.
pub fn patient() -> AttendeeId {
    AttendeeId::from_random(id(10))
}

/// Another attendee of the group, who must never appear in the patient's bundle.
pub fn other_patient() -> AttendeeId {
    AttendeeId::from_random(id(11))
}

/// The patient's carer.
pub fn carer() -> AttendeeId {
    AttendeeId::from_random(id(12))
}

/// The interpreter.
pub fn interpreter() -> AttendeeId {
    AttendeeId::from_random(id(13))
}

/// The other group attendee's carer.
pub fn other_carer() -> AttendeeId {
    AttendeeId::from_random(id(14))
}

fn name(text: &str) -> PersonName {
    PersonName::parse(text).expect("the examples' names are valid")
}

fn attendee(
    aid: AttendeeId,
    role: AttendeeRole,
    who: &str,
    at: Option<OffsetDateTime>,
) -> Attendee {
    Attendee {
        id: aid,
        consultation_id: ConsultationId::from_random(id(3)),
        role,
        name: name(who),
        mobile: None,
        email: None,
        contact: Contact::Sms,
        created_at: START - Duration::days(3),
        confirmed: at.map(|at| Confirmed {
            name: name(who),
            dob: Some(DateOfBirth::from_stored("1984-03-27").expect("a valid date")),
            at,
        }),
        user_id: None,
    }
}

/// An attendee who confirmed who they are `early` minutes before the start.
fn arrived(aid: AttendeeId, role: AttendeeRole, who: &str, early: i64) -> Attendee {
    attendee(aid, role, who, Some(START - Duration::minutes(early)))
}

fn stay(who: AttendeeId, from: i64, to: i64) -> Stay {
    Stay {
        attendee: who,
        admitted_at: START + Duration::minutes(from),
        left_at: Some(START + Duration::minutes(to)),
    }
}

fn consent(
    who: AttendeeId,
    kind: ConsentKind,
    about: Option<AttendeeId>,
    by: Option<UserId>,
    at: i64,
) -> Consent {
    Consent {
        consultation: ConsultationId::from_random(id(3)),
        attendee: who,
        kind,
        about,
        confirmed_by: by,
        given_at: START + Duration::minutes(at),
    }
}

/// A clinician's record, `at` minutes in, that `patient` agreed to `carer` being there.
fn carer_presence(patient: AttendeeId, carer: AttendeeId, by: UserId, at: i64) -> Consent {
    consent(
        patient,
        ConsentKind::CarerPresence,
        Some(carer),
        Some(by),
        at,
    )
}

/// The input for scenario `name`; `None` for a name not in [`SCENARIOS`].
pub fn scenario(name_of: &str) -> Option<RecordInput> {
    let mut input = base();
    match name_of {
        "one_to_one" => {}
        "carer_and_interpreter" => {
            input.consultation.kind = Kind::WithCarer;
            input.attendees.extend([
                arrived(carer(), AttendeeRole::Carer, "Chris Carer", 4),
                arrived(
                    interpreter(),
                    AttendeeRole::Interpreter,
                    "Ines Interpreter",
                    3,
                ),
            ]);
            input
                .consents
                .push(carer_presence(patient(), carer(), clinician(), 2));
            input.stays.push(stay(carer(), 2, 25));
            input.stays.push(stay(interpreter(), 1, 30));
        }
        "child_with_parent" => {
            let p = input
                .consultation
                .patient
                .as_mut()
                .expect("the base has a patient");
            p.child_attendance = Some(ChildAttendance::WithParentOrGuardian);
            p.dob = DateOfBirth::from_stored("2016-05-04").expect("a valid date");
        }
        "converted_to_telephone" => {
            input.consultation.outcome = Some(Outcome::ConvertedToTelephone);
            input.consultation.outcome_note = Some("Video froze; finished by phone".into());
        }
        "group_attendee" => {
            input.consultation.kind = Kind::Group;
            input.consultation.patient = None;
            input.attendees.extend([
                arrived(
                    other_patient(),
                    AttendeeRole::Patient,
                    "Olive Otherperson",
                    6,
                ),
                arrived(carer(), AttendeeRole::Carer, "Chris Carer", 4),
                arrived(other_carer(), AttendeeRole::Carer, "Oscar Othercarer", 4),
            ]);
            let mut host_attendee = attendee(
                AttendeeId::from_random(id(15)),
                AttendeeRole::Colleague,
                "Hana Host",
                None,
            );
            host_attendee.user_id = Some(host());
            input.attendees.push(host_attendee);
            input.staff.push(StaffMember {
                id: host(),
                name: name("Hana Host"),
            });
            for (who, kind) in [
                (patient(), ConsentKind::GroundRules),
                (other_patient(), ConsentKind::GroundRules),
            ] {
                input.consents.push(consent(who, kind, None, None, -5));
            }
            input.consents.extend([
                carer_presence(patient(), carer(), clinician(), 1),
                carer_presence(other_patient(), other_carer(), host(), 1),
            ]);
            input.stays = vec![
                stay(patient(), 0, 20),
                stay(patient(), 24, 40),
                stay(other_patient(), 0, 45),
                stay(carer(), 1, 40),
                stay(other_carer(), 1, 45),
                stay(AttendeeId::from_random(id(15)), 0, 45),
            ];
            input.chat = vec![
                chat(
                    0,
                    Some(patient()),
                    None,
                    "Sam",
                    "Can I ask about the exercises?",
                ),
                chat(
                    1,
                    Some(other_patient()),
                    None,
                    "Olive",
                    "Olive's own question about her knee",
                ),
                chat(2, None, Some(clinician()), "Dr Ada Lovelace", "Of course"),
            ];
        }
        "saved_chat" => {
            input.chat = vec![
                chat(
                    0,
                    None,
                    Some(clinician()),
                    "Dr Ada Lovelace",
                    "Here is the leaflet: https://example.org/leaflet",
                ),
                chat(
                    1,
                    Some(patient()),
                    None,
                    "Sam Patient",
                    "Thank you <b>very</b> much & goodbye",
                ),
            ];
        }
        "without_nhs_number" => {
            input
                .consultation
                .patient
                .as_mut()
                .expect("the base has a patient")
                .nhs_number = None;
        }
        _ => return None,
    }
    Some(input)
}

fn chat(seq: i64, a: Option<AttendeeId>, u: Option<UserId>, who: &str, body: &str) -> ChatLine {
    ChatLine {
        seq,
        sender_attendee: a,
        sender_user: u,
        sender_name: who.into(),
        sent_at: START + Duration::minutes(5 + seq),
        body: body.into(),
    }
}

/// A one-to-one video consultation with Sam Patient, ended and with finished notes.
fn base() -> RecordInput {
    let consultation = Consultation {
        id: ConsultationId::from_random(id(3)),
        org_id: OrgId::from_random(id(4)),
        clinic_id: ClinicId::from_random(id(5)),
        clinician_id: Some(clinician()),
        kind: Kind::OneToOne,
        status: Status::Ended,
        starts_at: START,
        patient: Some(BookedPatient {
            name: name("Sam Patient"),
            dob: DateOfBirth::from_stored("1984-03-27").expect("a valid date"),
            nhs_number: Some(NhsNumber::parse("9990000018").expect("a valid test number")),
            child_attendance: None,
        }),
        patient_location: Some("Home".into()),
        outcome: Some(Outcome::Completed),
        outcome_note: None,
        created_at: START - Duration::days(3),
        ended_at: Some(START + Duration::minutes(45)),
    };
    RecordInput {
        org: (
            OrgId::from_random(id(4)),
            OrgName::parse("Riverside Health Centre").expect("a valid name"),
        ),
        consultation,
        patient: patient(),
        attendees: vec![arrived(patient(), AttendeeRole::Patient, "Sam Patient", 5)],
        staff: vec![StaffMember {
            id: clinician(),
            name: name("Ada Lovelace"),
        }],
        notes: Some(Notes {
            body: "Knee pain better.\nContinue exercises; review in 6 weeks.".into(),
            updated_by: clinician(),
            updated_at: START + Duration::minutes(50),
            finished: Some((clinician(), START + Duration::minutes(52))),
        }),
        consents: Vec::new(),
        stays: vec![stay(patient(), 0, 45)],
        chat: Vec::new(),
        admitted: Vec::new(),
        built_at: START + Duration::minutes(52),
    }
}
