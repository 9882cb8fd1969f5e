//! The clinician's side of a live consultation: who is waiting (with what they entered
//! beside what was booked, and whether they passed the one-time code), the admission checklist, the call, hold, back to waiting, and
//! notices to people waiting.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use haven_domain::audit::Actor;
use haven_domain::consultation::AttendeeRole;
use haven_domain::identity_code::CodeStatus;
use haven_domain::{AttendeeId, ConsultationId, Role, uk_time};
use haven_store::consultations::{Attendee, Consultation};
use maud::{Markup, html};

use crate::ops::Context;
use crate::ops::admission::{Checklist, Move, admit, move_attendee, notify_waiting};
use crate::ops::identity_code::{describe, status as code_status};
use crate::ops::meetings::admit_colleague;
use crate::pages::call::{CallRole, ChatOptions, call_panel_with};
use crate::pages::{Input, csrf_field, error_summary, field, layout};
use crate::web::{ClientInfo, FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/consultations/{id}/call", get(call))
        .route(
            "/consultations/{id}/attendees/{attendee}/admit",
            get(admit_form).post(admit_submit),
        )
        .route(
            "/consultations/{id}/attendees/{attendee}/{change}",
            post(change),
        )
        .route("/consultations/{id}/outcome", post(outcome))
}

fn clinician(who: &SignedIn) -> Result<(), Error> {
    who.require(Role::Clinician)
}

/// Who is acting, from where, and when, for the audit log.
pub(crate) fn ctx(state: &AppState, who: &SignedIn, client: &ClientInfo) -> Context {
    Context {
        actor: Actor::Staff(who.user.id.clone()),
        client_addr: Some(client.addr.to_string()),
        now: state.clock.now(),
    }
}

async fn load(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    attendee: &str,
) -> Result<(Consultation, Attendee), Error> {
    let id = ConsultationId::parse(id).map_err(|_| Error::NotFound)?;
    let attendee = AttendeeId::parse(attendee).map_err(|_| Error::NotFound)?;
    let c = state.store.consultation(&who.org.id, &id).await?;
    let a = state.store.attendee(&who.org.id, &attendee).await?;
    if a.consultation_id != c.id {
        return Err(Error::NotFound);
    }
    Ok((c, a))
}

/// The people waiting in a consultation now, for its page.
pub fn waiting_now(state: &AppState, c: &Consultation) -> Vec<(AttendeeId, String)> {
    let board = state.live.watch_waiting();
    let board = board.borrow();
    board
        .get(&c.id)
        .map(|(_, entries)| {
            entries
                .iter()
                .map(|e| {
                    let mins = (state.clock.now() - e.since).whole_minutes().max(0);
                    let note = if e.connected { "" } else { ", reconnecting" };
                    (e.attendee.clone(), format!("waiting {mins} min{note}"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The outcomes a clinician chooses from, with their labels.
pub(crate) const OUTCOMES: [(&str, &str); 4] = [
    ("completed", "Completed by video"),
    (
        "converted_to_telephone",
        "Converted to a telephone consultation",
    ),
    ("did_not_attend", "Did not attend"),
    (
        "technical_failure",
        "Could not take place: technical failure",
    ),
];

/// The outcome form (clinicians), with the outcome recorded so far.
pub fn outcome_section(who: &SignedIn, c: &Consultation) -> Markup {
    let current = c.outcome.map_or("", |o| o.as_str());
    html! {
        @if who.user.roles.contains(Role::Clinician) && matches!(c.status, haven_domain::consultation::Status::InProgress | haven_domain::consultation::Status::Ended) {
            h2 { "Outcome" }
            form method="post" action={ "/consultations/" (c.id) "/outcome" } novalidate {
                (csrf_field(&who.csrf))
                (crate::pages::form::radios("outcome", "How did it go?", None, &OUTCOMES, current, &FieldErrors::default()))
                (field("note", "Note (optional)", c.outcome_note.as_deref().unwrap_or(""), Input::TEXT, &FieldErrors::default()))
                button type="submit" { "Record the outcome" }
            }
        }
    }
}

/// The live part of a consultation's page.
pub fn live_section(
    state: &AppState,
    who: &SignedIn,
    c: &Consultation,
    people: &[Attendee],
) -> Markup {
    let waiting = waiting_now(state, c);
    let is_clinician = who.user.roles.contains(Role::Clinician);
    html! {
        @if !c.status.is_final() {
            h2 { "Waiting room" }
            @if waiting.is_empty() { p id="waiting-none" { "Nobody is waiting." } }
            ul id="waiting" {
                @for (attendee, since) in &waiting {
                    @let name = people.iter().find(|a| a.id == *attendee).map_or("Someone", |a| a.name.as_str());
                    li data-attendee=(attendee) {
                        (name) " — " (since) " "
                        @let colleague = people.iter().any(|a| a.id == *attendee && a.user_id.is_some());
                        @if is_clinician && colleague {
                            form method="post" action={ "/consultations/" (c.id) "/attendees/" (attendee) "/admit" } class="inline-form" {
                                (csrf_field(&who.csrf))
                                button type="submit" { "Admit " (name) }
                            }
                        } @else if is_clinician {
                            a class="button" href={ "/consultations/" (c.id) "/attendees/" (attendee) "/admit" } { "Check identity and admit" }
                        }
                        form method="post" action={ "/consultations/" (c.id) "/attendees/" (attendee) "/notice" } class="inline-form" {
                            (csrf_field(&who.csrf))
                            (field("notice", "Message to show them", "", Input { hint: Some("For example: running 10 minutes late"), ..Input::TEXT }, &FieldErrors::default()))
                            button type="submit" class="secondary" { "Send message" }
                        }
                    }
                }
            }
            p {
                a href={ "/clinics/" (c.clinic_id) "/waiting" } { "The clinic's waiting room" }
                " · "
                a href={ "/consultations/" (c.id) "/transfer" } { "Pass to another clinician" }
            }
            @if is_clinician {
                p { a class="button" href={ "/consultations/" (c.id) "/call" } { "Open the call" } }
                @for a in people {
                    form method="post" action={ "/consultations/" (c.id) "/attendees/" (a.id) "/hold" } class="inline-form" {
                        (csrf_field(&who.csrf))
                        button type="submit" class="secondary" { "Put " (a.name.as_str()) " on hold" }
                        button type="submit" class="secondary" formaction={ "/consultations/" (c.id) "/attendees/" (a.id) "/resume" } { "Resume" }
                        button type="submit" class="secondary" formaction={ "/consultations/" (c.id) "/attendees/" (a.id) "/waiting" } { "Back to the waiting room" }
                    }
                }
            }
        }
    }
}

async fn call(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    clinician(&who)?;
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    let c = state.store.consultation(&who.org.id, &id).await?;
    let policy = state.store.org(&who.org.id).await?.policy;
    let chat = ChatOptions {
        files: policy.file_sharing_allowed,
        keep: policy.chat_retained,
    };
    Ok(layout(
        "Consultation call",
        Some(&who),
        html! {
            h1 { "Consultation" }
            p { (uk_time::describe(c.starts_at)) " · " a href={ "/consultations/" (c.id) } target="_blank" { "Waiting room and details (new tab)" } }
            (call_panel_with(CallRole::Clinician { consultation: c.id.as_str() }, chat))
        },
    ))
}

fn admit_page(
    who: &SignedIn,
    (c, a, code): (&Consultation, &Attendee, CodeStatus),
    values: &FormData,
    errors: &FieldErrors,
) -> Markup {
    let booked = c.patient.as_ref();
    let entered = a.confirmed.as_ref();
    let name_matches = match (booked, entered) {
        (Some(b), Some(e)) => normalise(b.name.as_str()) == normalise(e.name.as_str()),
        _ => false,
    };
    let dob_matches = matches!((booked, entered), (Some(b), Some(e)) if Some(b.dob) == e.dob);
    let check = |name: &str| values.get(name) == "yes";
    html! {
        h1 { "Check identity and admit" }
        table {
            caption { "What was booked, and what they entered" }
            thead { tr { th scope="col" { "" } th scope="col" { "Booked" } th scope="col" { "They entered" } th scope="col" { "" } } }
            tbody {
                tr {
                    th scope="row" { "Name" }
                    td { (booked.map_or(a.name.as_str(), |b| b.name.as_str())) }
                    td { (entered.map_or("Not entered", |e| e.name.as_str())) }
                    td class="match" { @if name_matches { "Matches" } @else { strong { "Does not match — ask them" } } }
                }
                tr {
                    th scope="row" { "Date of birth" }
                    td { (booked.map_or("—".to_owned(), |b| b.dob.iso())) }
                    td { (entered.and_then(|e| e.dob).map_or("Not entered".to_owned(), |d| d.iso())) }
                    td class="match" { @if dob_matches { "Matches" } @else { strong { "Does not match — ask them" } } }
                }
                tr id="code-status" {
                    th scope="row" { "One-time code" }
                    td colspan="3" {
                        @if matches!(code, CodeStatus::Passed(_) | CodeStatus::NotRequired) { (describe(code)) }
                        @else { strong { (describe(code)) } }
                    }
                }
            }
        }
        (error_summary(errors))
        form method="post" novalidate {
            (csrf_field(&who.csrf))
            fieldset class="field" {
                legend { "Before you admit them, confirm:" }
                @for (name, label) in [
                    ("identity_confirmed", "I have confirmed who they are by asking them"),
                    ("record_open", "The right patient record is open"),
                    ("private_space", "They are in a private space where they can talk freely"),
                ] {
                    div class={ "checkbox" @if errors.get(name).is_some() { " field-error" } } id=(name) {
                        @if let Some(e) = errors.get(name) { p class="error-message" id={ (name) "-error" } { span class="visually-hidden" { "Error: " } (e) } }
                        input type="checkbox" id={ (name) "-box" } name=(name) value="yes" checked[check(name)];
                        label for={ (name) "-box" } { (label) }
                    }
                }
            }
            (field("location", "Where are they now?", values.get("location"), Input { hint: Some("An address or description, in case you need to call emergency services"), ..Input::TEXT }, errors))
            button type="submit" { "Admit" }
        }
    }
}

/// Names compared as people write them: case, spacing and punctuation aside.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

async fn admit_form(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((id, attendee)): Path<(String, String)>,
) -> Result<Markup, Error> {
    clinician(&who)?;
    let (c, a) = load(&state, &who, &id, &attendee).await?;
    if c.kind == haven_domain::consultation::Kind::Group {
        return Ok(crate::pages::group_host::admit_elsewhere(&who, &c));
    }
    if a.user_id.is_some() {
        return Ok(layout(
            "Admit a colleague",
            Some(&who),
            html! {
                h1 { "Admit " (a.name.as_str()) }
                p { "They signed in to Haven as themselves, so there is no identity check." }
                form method="post" {
                    (csrf_field(&who.csrf))
                    button type="submit" { "Admit" }
                }
            },
        ));
    }
    if a.role != AttendeeRole::Patient {
        return Ok(super::people_admit::page(
            &who,
            (&c, &a),
            &FormData::default(),
            &FieldErrors::default(),
        ));
    }
    let code = code_status(&state.store, &who.org.id, &a).await?;
    Ok(layout(
        "Check identity and admit",
        Some(&who),
        admit_page(
            &who,
            (&c, &a, code),
            &FormData::default(),
            &FieldErrors::default(),
        ),
    ))
}

async fn admit_submit(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path((id, attendee)): Path<(String, String)>,
    values: FormData,
) -> Result<Response, Error> {
    clinician(&who)?;
    let (c, a) = load(&state, &who, &id, &attendee).await?;
    if c.kind == haven_domain::consultation::Kind::Group {
        return Err(Error::Refused(
            "a group's hosts admit its attendees from the group's page".into(),
        ));
    }
    let ctx = ctx(&state, &who, &client);
    if a.user_id.is_some() {
        // A colleague signed in as themselves: no identity checklist.
        admit_colleague(&state, &ctx, &who.org.id, &c.id, &a.id).await?;
        return Ok(Redirect::to(&format!("/consultations/{}", c.id)).into_response());
    }
    if a.role != AttendeeRole::Patient {
        return super::people_admit::submit(&state, &who, &client, (&c, &a), &values).await;
    }
    let checklist = Checklist {
        identity_confirmed: values.get("identity_confirmed") == "yes",
        record_open: values.get("record_open") == "yes",
        private_space: values.get("private_space") == "yes",
        location: values.get("location"),
    };
    match admit(&state, &ctx, &who.org.id, &c.id, &a.id, &checklist).await {
        Ok(()) => Ok(Redirect::to(&format!("/consultations/{}/call", c.id)).into_response()),
        Err(Error::Invalid(errors)) => {
            let code = code_status(&state.store, &who.org.id, &a).await?;
            Ok((
                StatusCode::BAD_REQUEST,
                layout(
                    "Check identity and admit",
                    Some(&who),
                    admit_page(&who, (&c, &a, code), &values, &errors),
                ),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

async fn change(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path((id, attendee, change)): Path<(String, String, String)>,
    values: FormData,
) -> Result<Response, Error> {
    let (c, a) = load(&state, &who, &id, &attendee).await?;
    let ctx = ctx(&state, &who, &client);
    match change.as_str() {
        "notice" => {
            crate::pages::consultations::booking_staff(&who)?;
            notify_waiting(&state, &who.org.id, &c.id, &a.id, values.get("notice")).await?;
            // Sent from the clinic's waiting list: back there.
            if values.get("back") == "clinic" {
                let to = format!("/clinics/{}/waiting", c.clinic_id);
                return Ok(Redirect::to(&to).into_response());
            }
        }
        "hold" | "resume" | "waiting" => {
            clinician(&who)?;
            let m = match change.as_str() {
                "hold" => Move::Hold(true),
                "resume" => Move::Hold(false),
                _ => Move::ToWaiting,
            };
            move_attendee(&state, &ctx, &who.org.id, &c.id, &a.id, m).await?;
        }
        _ => return Err(Error::NotFound),
    }
    Ok(Redirect::to(&format!("/consultations/{}", c.id)).into_response())
}

async fn outcome(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path(id): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    clinician(&who)?;
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    let ctx = ctx(&state, &who, &client);
    crate::ops::admission::record_outcome(
        &state,
        &ctx,
        &who.org.id,
        &id,
        values.get("outcome"),
        values.get("note"),
    )
    .await?;
    Ok(Redirect::to(&format!("/consultations/{id}")).into_response())
}
