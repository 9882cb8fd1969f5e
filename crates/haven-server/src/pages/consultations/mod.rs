//! Staff pages for consultations: a clinic's day, booking, and one consultation with its
//! people, their invitations (status and resend) and cancellation. Clinicians,
//! receptionists and administrators only. One consultation's page is in `consultation.rs`.

mod consultation;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use haven_domain::audit::Actor;
use haven_domain::consultation::Kind;
use haven_domain::time::Duration;
use haven_domain::{Role, uk_time};
use maud::{Markup, html};
use serde::Deserialize;

use crate::ops::Context;
use crate::ops::booking::{Birth, BookingInput, Then, When, book};
use crate::ops::group::GroupInput;
use crate::pages::form::{checkboxes, date_parts, radios, select};
use crate::pages::group_form;
use crate::pages::{Input, csrf_field, error_summary, field, layout};
use crate::web::{ClientInfo, FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The consultation routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/consultations", get(day))
        .route("/consultations/new", get(new_form).post(create))
        .route("/consultations/{id}", get(consultation::show))
        .route("/consultations/{id}/cancel", post(consultation::cancel))
        .route(
            "/consultations/{id}/attendees/{attendee}/resend",
            post(consultation::resend_invite),
        )
}

const KINDS: [(&str, &str); 4] = [
    ("one_to_one", "One to one"),
    ("with_carer", "With a carer or family member"),
    ("group", "Group"),
    ("colleague_meeting", "Colleague meeting (no patient)"),
];

/// Who may book and see consultations.
pub(crate) fn booking_staff(who: &SignedIn) -> Result<(), Error> {
    let roles = who.user.roles;
    if [Role::Clinician, Role::Receptionist, Role::Admin]
        .iter()
        .any(|r| roles.contains(*r))
    {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

fn staff_ctx(state: &AppState, who: &SignedIn, client: &ClientInfo) -> Context {
    Context {
        actor: Actor::Staff(who.user.id.clone()),
        client_addr: Some(client.addr.to_string()),
        now: state.clock.now(),
    }
}

#[derive(Deserialize)]
struct DayQuery {
    #[serde(default)]
    clinic: String,
    #[serde(default)]
    date: String,
}

async fn day(
    State(state): State<AppState>,
    Staff(who): Staff,
    Query(q): Query<DayQuery>,
) -> Result<Markup, Error> {
    booking_staff(&who)?;
    let clinics = state.store.clinics(&who.org.id).await?;
    let mine = state.store.user_clinics(&who.org.id, &who.user.id).await?;
    let clinic = clinics
        .iter()
        .find(|c| c.id.as_str() == q.clinic)
        .or_else(|| clinics.iter().find(|c| mine.contains(&c.id)))
        .or(clinics.first());
    let format = haven_domain::time::macros::format_description!("[year]-[month]-[day]");
    let today = uk_time::local(state.clock.now()).date();
    let date = haven_domain::time::Date::parse(&q.date, format).unwrap_or(today);
    let from = uk_time::from_local(date, haven_domain::time::Time::MIDNIGHT);
    let to = from + Duration::days(1);
    let list = match clinic {
        Some(c) => {
            state
                .store
                .consultations_between(&who.org.id, &c.id, from, to)
                .await?
        }
        None => Vec::new(),
    };
    let date_text = date.format(format).unwrap_or_default();
    let waiting_visible = match clinic {
        Some(c) => crate::pages::waiting::may_see(&state, &who, &c.id)
            .await
            .is_ok(),
        None => false,
    };
    let clinicians: std::collections::HashMap<_, _> = state
        .store
        .users(&who.org.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok(layout(
        "Consultations",
        Some(&who),
        html! {
            h1 { "Consultations" }
            p { a class="button" href="/consultations/new" { "Book a consultation" } }
            @if clinics.is_empty() {
                p { "Your organisation has no clinics yet. An administrator adds them under Clinics." }
            } @else {
                form method="get" action="/consultations" class="inline-form" {
                    (select("clinic", "Clinic", None, &clinics.iter().map(|c| (c.id.as_str().to_owned(), c.name.as_str().to_owned())).collect::<Vec<_>>(), clinic.map(|c| c.id.as_str()).unwrap_or(""), &FieldErrors::default()))
                    (field("date", "Day", &date_text, Input { kind: "date", autocomplete: "off", hint: None }, &FieldErrors::default()))
                    button type="submit" class="secondary" { "Show" }
                }
                @if let (Some(c), true) = (clinic, waiting_visible) {
                    p { a href={ "/clinics/" (c.id) "/waiting" } { "Who is waiting in " (c.name.as_str()) " now" } }
                }
                @if list.is_empty() {
                    p { "No consultations are booked for this day." }
                } @else {
                    div class="table-wrap" tabindex="0" {
                        table {
                            caption class="visually-hidden" { "Consultations on " (date_text) }
                            thead { tr { th scope="col" { "Time" } th scope="col" { "Patient" } th scope="col" { "Clinician" } th scope="col" { "Kind" } th scope="col" { "Status" } } }
                            tbody {
                                @for c in &list {
                                    tr {
                                        td { a href={ "/consultations/" (c.id) } { (clock_time(c.starts_at)) } }
                                        td { (c.patient.as_ref().map_or("—", |p| p.name.as_str())) }
                                        td { (c.clinician_id.as_ref().and_then(|u| clinicians.get(u)).map_or("Any", |n| n.as_str())) }
                                        td { (kind_label(c.kind)) }
                                        td { (status_label(c.status)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

fn clock_time(t: haven_domain::time::OffsetDateTime) -> String {
    let t = uk_time::local(t);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn kind_label(kind: Kind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind.as_str())
        .map_or("", |(_, label)| label)
}

fn status_label(status: haven_domain::consultation::Status) -> String {
    status_label_word(status.as_str())
}

/// A stored word as people read it: "in_progress" → "In progress".
fn status_label_word(word: &str) -> String {
    let text = word.replace('_', " ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn booking_form(
    state: &AppState,
    who: &SignedIn,
    values: &FormData,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let clinics: Vec<(String, String)> = state
        .store
        .clinics(&who.org.id)
        .await?
        .into_iter()
        .map(|c| (c.id.as_str().to_owned(), c.name.as_str().to_owned()))
        .collect();
    let clinicians: Vec<(String, String)> = state
        .store
        .users(&who.org.id)
        .await?
        .into_iter()
        .filter(|u| u.roles.contains(Role::Clinician) && !u.disabled)
        .map(|u| (u.id.as_str().to_owned(), u.name.as_str().to_owned()))
        .collect();
    let staff: Vec<(String, String)> = state
        .store
        .users(&who.org.id)
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| (u.id.as_str().to_owned(), u.name.as_str().to_owned()))
        .collect();
    let staff: Vec<(&str, &str)> = staff
        .iter()
        .map(|(v, l)| (v.as_str(), l.as_str()))
        .collect();
    let chosen: Vec<&str> = values.all("colleagues").collect();
    let send = values.get("send") != "no";
    let clinician_choices: Vec<(&str, &str)> = clinicians
        .iter()
        .map(|(v, l)| (v.as_str(), l.as_str()))
        .collect();
    let rows = group_form::shown(values);
    Ok(layout(
        "Book a consultation",
        Some(who),
        html! {
            h1 { "Book a consultation" }
            (error_summary(errors))
            form method="post" action="/consultations/new" novalidate {
                (csrf_field(&who.csrf))
                (select("clinic", "Clinic", Some("Choose a clinic"), &clinics, values.get("clinic"), errors))
                (select("clinician", "Clinician (optional)", Some("Any clinician of the clinic"), &clinicians, values.get("clinician"), errors))
                fieldset id="starts_at" class={ "field" @if errors.get("starts_at").is_some() { " field-error" } } {
                    legend { "When (UK time)" }
                    @if let Some(e) = errors.get("starts_at") {
                        p class="error-message" id="starts_at-error" { span class="visually-hidden" { "Error: " } (e) }
                    }
                    (field("date", "Date", values.get("date"), Input { kind: "date", autocomplete: "off", hint: None }, &FieldErrors::default()))
                    (field("time", "Time", values.get("time"), Input { kind: "time", autocomplete: "off", hint: None }, &FieldErrors::default()))
                }
                (radios("kind", "Kind of consultation", None, &KINDS, values.get("kind"), errors))
                (checkboxes("colleagues", "Colleagues attending (colleague meetings only)", Some("They see the meeting on their home page, join signed in, and wait until the host admits them. The host is the clinician above, or you if you are a clinician."), &staff, &chosen, errors))
                h2 { "The patient" }
                p class="hint" { "Leave empty for a colleague meeting or a group." }
                (field("name", "Full name", values.get("name"), Input::TEXT, errors))
                (date_parts("date_of_birth", "Date of birth", Some("For example, 27 3 1984"), (values.get("date_of_birth-day"), values.get("date_of_birth-month"), values.get("date_of_birth-year")), false, errors))
                (field("nhs_number", "NHS number (optional)", values.get("nhs_number"), Input { hint: Some("10 digits, for example 943 476 5919"), ..Input::TEXT }, errors))
                (field("mobile", "UK mobile number", values.get("mobile"), Input { kind: "tel", autocomplete: "off", hint: Some("For the invitation by text message, for example 07700 900123") }, errors))
                (field("email", "Email address", values.get("email"), Input { kind: "email", autocomplete: "off", hint: None }, errors))
                (radios("contact", "Send the invitation by", None, &[("sms", "Text message"), ("email", "Email")], values.get("contact"), errors))
                (radios("child_attendance", "If the patient is under 16", Some("Who attends with them. The join page tells them."), &[("with_parent_or_guardian", "A parent or guardian attends"), ("alone_competent", "The young person attends alone, by their own competent decision")], values.get("child_attendance"), errors))
                (group_form::section(values, rows, &clinician_choices, errors))
                div class="checkbox" {
                    input type="checkbox" id="send" name="send" value="yes" checked[send];
                    label for="send" { "Send the invitation now" }
                }
                button type="submit" { "Book consultation" }
            }
        },
    ))
}

async fn new_form(State(state): State<AppState>, Staff(who): Staff) -> Result<Markup, Error> {
    booking_staff(&who)?;
    booking_form(&state, &who, &FormData::default(), &FieldErrors::default()).await
}

async fn create(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(client): axum::Extension<ClientInfo>,
    values: FormData,
) -> Result<Response, Error> {
    booking_staff(&who)?;
    if group_form::adding_row(&values) {
        return Ok(booking_form(&state, &who, &values, &FieldErrors::default())
            .await?
            .into_response());
    }
    let colleagues: Vec<&str> = values.all("colleagues").collect();
    let attendees = group_form::attendees(&values);
    let cohosts: Vec<&str> = values.all("cohosts").collect();
    // A colleague meeting or group booked by a clinician without naming one is theirs to
    // host.
    let hosted = [Kind::ColleagueMeeting.as_str(), Kind::Group.as_str()];
    let host_self = hosted.contains(&values.get("kind"))
        && values.get("clinician").trim().is_empty()
        && who.user.roles.contains(Role::Clinician);
    let input = BookingInput {
        clinic: values.get("clinic"),
        clinician: if host_self {
            who.user.id.as_str()
        } else {
            values.get("clinician")
        },
        when: When::Local {
            date: values.get("date"),
            time: values.get("time"),
        },
        kind: values.get("kind"),
        name: values.get("name"),
        birth: Birth::Parts {
            day: values.get("date_of_birth-day"),
            month: values.get("date_of_birth-month"),
            year: values.get("date_of_birth-year"),
        },
        nhs_number: values.get("nhs_number"),
        mobile: values.get("mobile"),
        email: values.get("email"),
        contact: values.get("contact"),
        child_attendance: values.get("child_attendance"),
        colleagues: &colleagues,
        group: GroupInput {
            attendees: &attendees,
            cohosts: &cohosts,
        },
    };
    let ctx = staff_ctx(&state, &who, &client);
    let then = Then {
        invite: (values.get("send") == "yes").then_some(&state.config.invites),
        links_on: None,
    };
    match book(&state.store, &ctx, &who.org.id, &input, then).await {
        Ok(booked) => Ok(Redirect::to(&format!("/consultations/{}", booked.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::BAD_REQUEST,
            booking_form(&state, &who, &values, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
