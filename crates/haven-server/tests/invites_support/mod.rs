//! The invitation tests' harness: a real Haven server with a fresh database and a
//! [`ManualClock`], a booked consultation with a patient (text message) and a carer
//! (email), and the outside parts each test starts for itself: a stand-in for GOV.UK
//! Notify ([`notify`]), a real SMTP server ([`smtp`], aiosmtpd) and the official Notify
//! Python client ([`python`]).

// Each test file uses a different part of the harness.
#![allow(dead_code)]

pub mod logs;
pub mod notify;
pub mod python;
pub mod smtp;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use haven_domain::audit::{Actor, AuditRecord};
use haven_domain::consultation::{AttendeeRole, Contact, Event, Kind};
use haven_domain::time::macros::datetime;
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::{
    AttendeeId, ClinicId, ConsultationId, DateOfBirth, Email, MessageId, OrgId, PersonName,
    UkMobile,
};
use haven_server::invites::worker::Worker;
use haven_server::ops::{self, Context};
use haven_server::{AppState, Clock, Config, ManualClock};
use haven_store::Store;
use haven_store::audit::AuditFilter;
use haven_store::consultations::{BookedPatient, NewAttendee, NewConsultation};
use haven_store::outbox::OutboxMessage;
use haven_store::testing::{TestDatabase, fresh_database};

/// A Tuesday morning in winter (GMT), so "when" reads plainly.
pub const START: OffsetDateTime = datetime!(2026-11-24 09:00 UTC);
/// The appointment: 2:30pm the same day.
pub const STARTS_AT: OffsetDateTime = datetime!(2026-11-24 14:30 UTC);
pub const WHEN: &str = "Tuesday 24 November 2026 at 2:30pm";
pub const CLINIC: &str = "Riverside Physiotherapy";

/// Personal data that must never reach a log.
pub const PATIENT_NAME: &str = "Samira Okonkwo-Whitfield";
pub const PATIENT_FIRST: &str = "Samira";
pub const PATIENT_MOBILE: &str = "07700 900321";
pub const PATIENT_E164: &str = "+447700900321";
pub const PATIENT_EMAIL: &str = "samira.ow@patients.example.org";
pub const CARER_NAME: &str = "Peregrine Carer";
pub const CARER_EMAIL: &str = "peregrine.carer@families.example.org";

/// A running server and what the tests reach behind it.
pub struct Harness {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    /// The database's URL, to read tables directly.
    pub db_url: String,
    _db: TestDatabase,
}

/// A consultation with a patient and a carer.
pub struct Booking {
    pub org: OrgId,
    pub clinic: ClinicId,
    pub consultation: ConsultationId,
    pub patient: AttendeeId,
    pub carer: AttendeeId,
}

/// Starts Haven on a free loopback port with the test configuration, changed by `configure`.
pub async fn start(configure: impl FnOnce(&mut Config)) -> Harness {
    let db = fresh_database().await;
    let store = Store::connect(&db.url)
        .await
        .expect("a fresh test database accepts connections and migrations");
    let clock = Arc::new(ManualClock::new(START));
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    let addr: SocketAddr = listener
        .local_addr()
        .expect("a bound socket has an address");
    let mut config = Config::for_tests(addr);
    configure(&mut config);
    let state = AppState::new(store.clone(), config, clock.clone());
    tokio::spawn(haven_server::serve(state.clone(), listener));
    Harness {
        base: format!("http://{addr}"),
        store,
        clock,
        state,
        db_url: db.url.clone(),
        _db: db,
    }
}

impl Harness {
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// What operations run by "the system" (the command line, the booking API) use.
    pub fn system(&self) -> Context {
        Context {
            actor: Actor::System,
            client_addr: None,
            now: self.now(),
        }
    }

    /// The worker with the configured transport.
    pub fn worker(&self) -> Worker {
        Worker::new(&self.state).expect("the test configuration builds a transport")
    }

    /// Books a consultation at [`STARTS_AT`]: the patient asked for a text message (or an
    /// email, with `patient_contact`), the carer for an email.
    pub async fn book(&self, patient_contact: Contact) -> Booking {
        // Organisation names are unique: a test may book for several.
        let name = format!("Riverside Health {}", rand::random::<u32>());
        let org = ops::orgs::create_org(&self.store, &self.system(), &name)
            .await
            .expect("a new organisation");
        let clinic = ops::orgs::create_clinic(&self.store, &self.system(), &org, CLINIC)
            .await
            .expect("a new clinic");
        let consultation = ConsultationId::from_random(rand::random());
        let (patient, carer) = (
            AttendeeId::from_random(rand::random()),
            AttendeeId::from_random(rand::random()),
        );
        let booked = BookedPatient {
            name: PersonName::parse(PATIENT_NAME).unwrap(),
            dob: DateOfBirth::parse_iso("1984-02-29", START.date()).unwrap(),
            nhs_number: None,
            child_attendance: None,
        };
        let mobile = UkMobile::parse(PATIENT_MOBILE).unwrap();
        let email = Email::parse(PATIENT_EMAIL).unwrap();
        let carer_email = Email::parse(CARER_EMAIL).unwrap();
        let carer_name = PersonName::parse(CARER_NAME).unwrap();
        let mut tx = self.store.begin().await.unwrap();
        tx.create_consultation(
            &NewConsultation {
                id: &consultation,
                org_id: &org,
                clinic_id: &clinic,
                clinician_id: None,
                kind: Kind::WithCarer,
                starts_at: STARTS_AT,
                patient: Some(&booked),
            },
            self.now(),
        )
        .await
        .unwrap();
        for (id, role, name, contact) in [
            (
                &patient,
                AttendeeRole::Patient,
                &booked.name,
                patient_contact,
            ),
            (&carer, AttendeeRole::Carer, &carer_name, Contact::Email),
        ] {
            let is_patient = role == AttendeeRole::Patient;
            let new = NewAttendee {
                id,
                role,
                name,
                mobile: is_patient.then_some(&mobile),
                email: Some(if is_patient { &email } else { &carer_email }),
                contact,
                user_id: None,
            };
            tx.add_attendee(&org, &consultation, &new, self.now())
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        Booking {
            org,
            clinic,
            consultation,
            patient,
            carer,
        }
    }

    /// Queues an invitation as the booking API does, in a transaction of its own.
    pub async fn enqueue(&self, org: &OrgId, attendee: &AttendeeId) -> MessageId {
        let mut tx = self.store.begin().await.unwrap();
        let id = haven_server::invites::ops::enqueue_in(
            &mut tx,
            &self.system(),
            &self.state.config.invites,
            org,
            attendee,
        )
        .await
        .expect("queueing for our own attendee works");
        tx.commit().await.unwrap();
        id
    }

    pub async fn message(&self, org: &OrgId, id: &MessageId) -> OutboxMessage {
        self.store
            .message(org, id)
            .await
            .expect("the message exists")
    }

    /// Cancels the consultation and kills its links, as the booking pages will.
    pub async fn cancel(&self, b: &Booking) {
        let mut tx = self.store.begin().await.unwrap();
        tx.transition(&b.org, &b.consultation, Event::Cancel, self.now())
            .await
            .unwrap();
        tx.revoke_consultation_invites(&b.org, &b.consultation, self.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Every audit entry whose action starts with `prefix`, oldest first.
    pub async fn audit_of(&self, prefix: &str) -> Vec<AuditRecord> {
        let filter = AuditFilter {
            action_prefix: Some(prefix.to_string()),
            ..AuditFilter::default()
        };
        let mut all = self.store.audit_entries(&filter, 1000, 0).await.unwrap();
        all.reverse();
        all
    }

    /// Whether a link's token opens an invitation now, and for whom.
    pub async fn opens(&self, link: &str) -> Option<AttendeeId> {
        let token = token_of(link);
        let hash = haven_server::invites::token_hash(token);
        self.store
            .invite(&hash, self.now())
            .await
            .unwrap()
            .map(|invite| invite.attendee.id)
    }
}

/// The token at the end of a `…/join/{token}` link, checked for shape: 43 characters of
/// unpadded base64url (256 bits).
pub fn token_of(link: &str) -> &str {
    let token = link
        .rsplit_once("/join/")
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("{link:?} is not a join link"));
    assert_eq!(token.len(), 43, "{link}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{link}"
    );
    token
}
