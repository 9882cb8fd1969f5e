//! The record tests' world: a small FHIR receiver on loopback standing in for a record
//! system, and a consultation that has ended with a clinician of its clinic signed in.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use haven_domain::consultation::Event;
use haven_domain::{ClinicId, ConsultationId, OrgId};
use haven_server::record::BearerToken;
use haven_server::record::worker::{DeliveryWorker, StepReport};
use haven_server::{Config, FhirEndpoint};
use serde_json::{Value, json};

use crate::common::booking::Appointment;
use crate::common::{self, Account, Browser, TestApp};

pub const TOKEN: &str = "record-system-token-5f2a";
pub const PASSWORD: &str = "copper lantern orchard wisdom";

/// One post the receiver took.
#[derive(Debug, Clone)]
pub struct Arrived {
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub bundle: Value,
}

/// What the receiver saw and how it will answer next.
#[derive(Default)]
struct Inbox {
    // Locked only to push or pop, never across an await.
    arrived: Mutex<Vec<Arrived>>,
    answers: Mutex<VecDeque<u16>>,
}

/// A FHIR endpoint on 127.0.0.1 that checks the bearer token and the media type, keeps
/// what arrives, and answers with the statuses it is given (201 once they run out).
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inbox: Arc<Inbox>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inbox = Arc::new(Inbox::default());
        let app = Router::new()
            .route("/fhir", post(take))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("http://{}/fhir", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inbox }
    }

    /// Answers the next posts with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.inbox.answers.lock().unwrap().extend(statuses);
    }

    pub fn arrived(&self) -> Vec<Arrived> {
        self.inbox.arrived.lock().unwrap().clone()
    }
}

async fn take(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: String) -> Response {
    let get = |h: header::HeaderName| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = get(header::AUTHORIZATION);
    let content_type = get(header::CONTENT_TYPE);
    let bundle: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let n = {
        let mut arrived = inbox.arrived.lock().unwrap();
        arrived.push(Arrived {
            authorization: authorization.clone(),
            content_type: content_type.clone(),
            bundle,
        });
        arrived.len()
    };
    if authorization.as_deref() != Some(&format!("Bearer {TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, "no").into_response();
    }
    if content_type.as_deref() != Some("application/fhir+json") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "fhir+json only").into_response();
    }
    let status = inbox.answers.lock().unwrap().pop_front().unwrap_or(201);
    let status = StatusCode::from_u16(status).unwrap();
    if status.is_success() {
        (status, [(header::LOCATION, format!("Bundle/{n}"))], "{}").into_response()
    } else if status.is_client_error() {
        let outcome = json!({ "resourceType": "OperationOutcome", "issue": [
            { "severity": "error", "code": "invalid", "diagnostics": "Encounter.class is not allowed here" }
        ]});
        (
            status,
            [(header::CONTENT_TYPE, "application/fhir+json")],
            outcome.to_string(),
        )
            .into_response()
    } else {
        (status, "busy").into_response()
    }
}

/// An ended consultation with its clinician signed in.
pub struct Ended {
    pub app: TestApp,
    pub receiver: Receiver,
    pub org: OrgId,
    pub clinic: ClinicId,
    pub id: ConsultationId,
    pub doctor: Account,
    pub clinician: Browser,
}

/// The test configuration with the receiver as the record system.
pub fn with_receiver(receiver: &Receiver) -> impl FnOnce(&mut Config) {
    let url = receiver.url.clone();
    move |c: &mut Config| {
        c.record.endpoint = Some(FhirEndpoint {
            url,
            token: BearerToken::parse(TOKEN).unwrap(),
        });
    }
}

/// A booked one-to-one consultation taken through arrival and admission; ended unless
/// `end` is false.
pub async fn consultation(end: bool) -> Ended {
    let receiver = Receiver::start().await;
    let app = common::spawn_app_with(with_receiver(&receiver)).await;
    let org = app.create_org("Riverside Health").await;
    let clinic = app.create_clinic(&org, "Physiotherapy").await;
    let doctor = app.add_doctor(&org).await;
    haven_server::ops::orgs::set_membership(
        &app.state,
        &app.system(),
        &org,
        &clinic,
        &doctor.id,
        true,
    )
    .await
    .expect("adding a member works");
    let clinician = app.browser();
    app.sign_in(&clinician, &doctor.email, PASSWORD)
        .await
        .assert_home();
    let id = book(&app, &org, &clinic, end).await;
    Ended {
        app,
        receiver,
        org,
        clinic,
        id,
        doctor,
        clinician,
    }
}

/// Books a consultation in `clinic` and moves it to in progress (and ended).
pub async fn book(app: &TestApp, org: &OrgId, clinic: &ClinicId, end: bool) -> ConsultationId {
    let day = (app.now() + haven_domain::time::Duration::hours(1)).date();
    let booked = app.book(org, &Appointment::new(clinic, day, "23:59")).await;
    let mut tx = app.store.begin().await.unwrap();
    let events: &[Event] = if end {
        &[Event::Arrive, Event::Admit, Event::End]
    } else {
        &[Event::Arrive, Event::Admit]
    };
    for e in events {
        tx.transition(org, &booked.id, *e, app.now()).await.unwrap();
    }
    tx.commit().await.unwrap();
    booked.id
}

impl Ended {
    /// Saves notes and an outcome, then finishes them.
    pub async fn finish(&self, notes: &str) -> common::Page {
        let path = format!("/consultations/{}/notes/finish", self.id);
        self.clinician
            .post_form(&path, &[("outcome", "completed"), ("notes", notes)])
            .await
    }

    /// One step of the delivery worker at the test clock's now.
    pub async fn deliver(&self) -> StepReport {
        let worker = DeliveryWorker::new(&self.app.state)
            .unwrap()
            .expect("a record system is configured");
        worker.step(self.app.now()).await.unwrap()
    }
}
