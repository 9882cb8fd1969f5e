//! `POST /api/v1/consultations`, `GET /api/v1/consultations/{id}`,
//! `POST /api/v1/consultations/{id}/cancel`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haven_domain::audit::Actor;
use haven_domain::time::OffsetDateTime;
use haven_domain::time::format_description::well_known::Rfc3339;
use haven_domain::{ConsultationId, Email, NhsNumber, UkMobile};
use haven_store::consultations::{Attendee, Consultation};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiCaller, ApiError};
use crate::AppState;
use crate::invites::JoinLink;
use crate::ops::Context;
use crate::ops::booking::{Birth, BookingInput, Then, When, book};
use crate::ops::group::{GroupInput, GroupPersonInput};

/// The body of `POST /api/v1/consultations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConsultation {
    clinic_id: String,
    #[serde(default)]
    clinician_id: Option<String>,
    starts_at: String,
    kind: String,
    #[serde(default)]
    patient: Option<NewPatient>,
    /// A group's attendees (required for a group, refused for other kinds).
    #[serde(default)]
    attendees: Option<Vec<NewAttendee>>,
    /// A group's co-hosts besides the clinician: clinicians of the clinic.
    #[serde(default)]
    cohost_ids: Option<Vec<String>>,
    /// Whether Haven sends the invitations itself (the default) or the caller delivers
    /// the join links from the response.
    #[serde(default = "yes")]
    send_invitations: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPatient {
    name: String,
    date_of_birth: String,
    #[serde(default)]
    nhs_number: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
    #[serde(default)]
    email: Option<String>,
    preferred_contact: String,
    #[serde(default)]
    child_attendance: Option<String>,
}

/// One attendee of a group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAttendee {
    name: String,
    date_of_birth: String,
    #[serde(default)]
    nhs_number: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
    #[serde(default)]
    email: Option<String>,
    preferred_contact: String,
}

fn yes() -> bool {
    true
}

fn context(state: &AppState, caller: &ApiCaller) -> Context {
    Context {
        actor: Actor::ApiKey(caller.key.clone()),
        client_addr: None,
        now: state.clock.now(),
    }
}

/// Parses a JSON body strictly: wrong types, unknown fields and missing fields are named.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Malformed(format!("the request body is not a valid booking: {e}")))
}

fn parse_id(text: &str) -> Result<ConsultationId, ApiError> {
    ConsultationId::parse(text).map_err(|_| ApiError::NotFound)
}

pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new: NewConsultation = parse_body(&body)?;
    // Neither a colleague meeting nor a group has one patient.
    let colleague_meeting = new.kind == "colleague_meeting" || new.kind == "group";
    let patient = match (&new.patient, colleague_meeting) {
        (Some(p), false) => p,
        (Some(_), true) => {
            return Err(ApiError::Invalid(vec![(
                "patient".into(),
                format!(
                    "A {} has no single patient: leave \"patient\" out{}",
                    new.kind.replace('_', " "),
                    if new.kind == "group" {
                        " and list the \"attendees\""
                    } else {
                        ""
                    }
                ),
            )]));
        }
        (None, false) => {
            return Err(ApiError::Invalid(vec![(
                "patient".into(),
                "Give the patient's details: name, date_of_birth and preferred_contact".into(),
            )]));
        }
        (None, true) => &NewPatient {
            name: String::new(),
            date_of_birth: String::new(),
            nhs_number: None,
            mobile: None,
            email: None,
            preferred_contact: String::new(),
            child_attendance: None,
        },
    };
    let rows: Vec<GroupPersonInput<'_>> = new
        .attendees
        .iter()
        .flatten()
        .map(|a| GroupPersonInput {
            name: &a.name,
            birth: Birth::Iso(&a.date_of_birth),
            nhs_number: a.nhs_number.as_deref().unwrap_or(""),
            mobile: a.mobile.as_deref().unwrap_or(""),
            email: a.email.as_deref().unwrap_or(""),
            contact: &a.preferred_contact,
        })
        .collect();
    let cohosts: Vec<&str> = new
        .cohost_ids
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let input = BookingInput {
        clinic: &new.clinic_id,
        clinician: new.clinician_id.as_deref().unwrap_or(""),
        when: When::Instant(&new.starts_at),
        kind: &new.kind,
        name: &patient.name,
        birth: Birth::Iso(&patient.date_of_birth),
        nhs_number: patient.nhs_number.as_deref().unwrap_or(""),
        mobile: patient.mobile.as_deref().unwrap_or(""),
        email: patient.email.as_deref().unwrap_or(""),
        contact: &patient.preferred_contact,
        child_attendance: patient.child_attendance.as_deref().unwrap_or(""),
        colleagues: &[],
        group: GroupInput {
            attendees: &rows,
            cohosts: &cohosts,
        },
    };
    let ctx = context(&state, &caller);
    let then = Then {
        invite: new.send_invitations.then_some(&state.config.invites),
        links_on: Some(&state.config.public_url),
    };
    let booked = book(&state.store, &ctx, &caller.org, &input, then).await?;
    let body = representation(&state, &caller, &booked.id, &booked.links).await?;
    tracing::info!("consultation booked through the API");
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub(super) async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(representation(&state, &caller, &id, &[]).await?))
}

/// Cancels a consultation that has not started. Cancelling a cancelled one again is a
/// success with the same answer, so a booking system may retry safely.
pub(super) async fn cancel(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let ctx = context(&state, &caller);
    crate::ops::booking::cancel(&state.store, &ctx, &caller.org, &id).await?;
    Ok(Json(representation(&state, &caller, &id, &[]).await?))
}

/// The consultation as the API shows it; `links` adds each person's new join link.
async fn representation(
    state: &AppState,
    caller: &ApiCaller,
    id: &ConsultationId,
    links: &[(haven_domain::AttendeeId, JoinLink)],
) -> Result<Value, ApiError> {
    let c = state.store.consultation(&caller.org, id).await?;
    let people = state.store.attendees(&caller.org, id).await?;
    let group = state.store.group_attendees(&caller.org, id).await?;
    // A group's attendees in booking order, then anyone else.
    let mut people = people;
    people.sort_by_key(|a| {
        group
            .iter()
            .position(|g| g.attendee.id == a.id)
            .unwrap_or(usize::MAX)
    });
    let participants: Vec<Value> = people
        .iter()
        .map(|a| {
            let link = links.iter().find(|(id, _)| *id == a.id).map(|(_, l)| l);
            let mut value = participant(a, link);
            if let Some(g) = group.iter().find(|g| g.attendee.id == a.id) {
                value["date_of_birth"] = Value::String(g.dob.iso());
                value["nhs_number"] = g
                    .nhs_number
                    .as_ref()
                    .map_or(Value::Null, |n| Value::String(n.as_str().to_owned()));
            }
            value
        })
        .collect();
    let hosts = state.store.hosts(&caller.org, id).await?;
    let mut value = consultation(&c, participants);
    value["host_ids"] = hosts
        .iter()
        .map(|h| Value::String(h.as_str().to_owned()))
        .collect();
    Ok(value)
}

fn time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn consultation(c: &Consultation, participants: Vec<Value>) -> Value {
    let patient = c.patient.as_ref().map(|p| {
        json!({
            "name": p.name.as_str(),
            "date_of_birth": p.dob.iso(),
            "nhs_number": p.nhs_number.as_ref().map(NhsNumber::as_str),
            "child_attendance": p.child_attendance.map(|a| a.as_str()),
        })
    });
    json!({
        "id": c.id.as_str(),
        "status": c.status.as_str(),
        "kind": c.kind.as_str(),
        "clinic_id": c.clinic_id.as_str(),
        "clinician_id": c.clinician_id.as_ref().map(|u| u.as_str()),
        "starts_at": time(c.starts_at),
        "created_at": time(c.created_at),
        "ended_at": c.ended_at.map(time),
        "outcome": c.outcome.map(|o| o.as_str()),
        "patient": patient,
        "participants": participants,
    })
}

fn participant(a: &Attendee, link: Option<&JoinLink>) -> Value {
    let mut value = json!({
        "id": a.id.as_str(),
        "role": a.role.as_str(),
        "name": a.name.as_str(),
        "mobile": a.mobile.as_ref().map(UkMobile::e164),
        "email": a.email.as_ref().map(Email::as_str),
        "preferred_contact": a.contact.as_str(),
    });
    if let Some(link) = link {
        value["join_link"] = Value::String(link.as_str().to_owned());
    }
    value
}
