//! Booking in tests: a one-to-one consultation with a made-up patient, through the same
//! operation the pages and the API use, with its join links and no invitation sent.

use haven_domain::time::Date;
use haven_domain::{AttendeeId, ClinicId, ConsultationId, OrgId, UserId};
use haven_server::ops::booking::{Birth, Booked, BookingInput, Then, When, book};
use haven_server::ops::group::GroupInput;

use super::{Browser, TestApp};

/// What a test books. [`Appointment::new`] gives the usual patient; tests change the rest.
pub struct Appointment<'a> {
    pub clinic: &'a ClinicId,
    /// A clinician's user id, or empty for none.
    pub clinician: &'a str,
    pub day: Date,
    /// UK time, `HH:MM`.
    pub time: &'a str,
    pub name: &'a str,
    /// `YYYY-MM-DD`.
    pub birth: &'a str,
    /// Empty to invite by email instead.
    pub mobile: &'a str,
    pub child_attendance: &'a str,
    /// `one_to_one` unless a test books another kind.
    pub kind: &'a str,
    /// For a group: its attendees and co-hosts, instead of the patient fields.
    pub group: GroupInput<'a>,
}

impl<'a> Appointment<'a> {
    /// Sam Patient, born 27 March 1984, invited by text message, in `clinic` on `day` at
    /// `time`, with no clinician named.
    pub fn new(clinic: &'a ClinicId, day: Date, time: &'a str) -> Self {
        Appointment {
            clinic,
            clinician: "",
            day,
            time,
            name: "Sam Patient",
            birth: "1984-03-27",
            mobile: "07700 900123",
            child_attendance: "",
            kind: "one_to_one",
            group: GroupInput::default(),
        }
    }
}

impl TestApp {
    /// Books the appointment in `org`; panics if it is refused.
    pub async fn book(&self, org: &OrgId, a: &Appointment<'_>) -> Booked {
        let date = a.day.to_string();
        let by_email = a.mobile.is_empty();
        // A group's people are its attendee rows: the patient fields stay empty.
        let (name, birth, mobile) = match a.kind {
            "group" => ("", "", ""),
            _ => (a.name, a.birth, a.mobile),
        };
        let input = BookingInput {
            clinic: a.clinic.as_str(),
            clinician: a.clinician,
            when: When::Local {
                date: &date,
                time: a.time,
            },
            kind: a.kind,
            name,
            birth: Birth::Iso(birth),
            nhs_number: "",
            mobile,
            email: if by_email && a.kind != "group" {
                "sam@example.org"
            } else {
                ""
            },
            contact: if by_email { "email" } else { "sms" },
            child_attendance: a.child_attendance,
            colleagues: &[],
            group: a.group,
        };
        let then = Then {
            invite: None,
            links_on: Some(&self.base),
        };
        book(&self.store, &self.system(), org, &input, then)
            .await
            .expect("booked")
    }

    /// The path (`/join/TOKEN`) of the first link of a booking.
    pub fn link_path(&self, booked: &Booked) -> String {
        booked.links[0]
            .1
            .as_str()
            .strip_prefix(&self.base)
            .expect("on Haven's URL")
            .to_owned()
    }
}

/// A clinician's password in tests that sign one in.
pub const PASSWORD: &str = "copper lantern orchard wisdom";

/// A consultation booked with its clinician signed in.
pub struct Consult {
    pub app: TestApp,
    pub org: OrgId,
    pub id: ConsultationId,
    /// The patient's link token.
    pub token: String,
    pub patient: AttendeeId,
    pub clinician: Browser,
    pub doctor: UserId,
}

/// A one-to-one consultation booked for later today with Dana Doctor signed in.
pub async fn consult() -> Consult {
    let app = super::spawn_app().await;
    let org = app.create_org("Riverside Health").await;
    let clinic = app.create_clinic(&org, "Physiotherapy").await;
    let doctor = app.add_doctor(&org).await;
    let clinician = app.browser();
    app.sign_in(&clinician, &doctor.email, &doctor.password)
        .await
        .assert_home();
    let day = (app.now() + haven_domain::time::Duration::hours(1)).date();
    let done = app
        .book(&org, &Appointment::new(&clinic, day, "23:59"))
        .await;
    let token = done.links[0].1.token().to_owned();
    Consult {
        org,
        id: done.id,
        token,
        patient: done.patient.expect("a patient"),
        clinician,
        doctor: doctor.id,
        app,
    }
}
