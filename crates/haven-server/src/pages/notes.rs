//! The clinician's notes (`/consultations/{id}/notes`): a draft saved during or after the
//! call, then "Finish and send to the record", after which the notes are shown read-only;
//! each patient's FHIR bundle for download (`/consultations/{id}/record/{attendee}`) and
//! the delivery status on the consultation page. Members of the consultation's clinic
//! only; anyone else is told it does not exist.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use haven_domain::consultation::{AttendeeRole, Kind, Status};
use haven_domain::{AttendeeId, ConsultationId, Role};
use haven_store::consultations::{Attendee, Consultation};
use haven_store::deliveries::{DeliveryStatus, RecordDelivery};
use haven_store::notes::Notes;
use maud::{Markup, html};

use crate::ops::notes::{MAX_NOTES, download, finish_notes, may_use_record, save_notes};
use crate::pages::admit::{OUTCOMES, ctx};
use crate::pages::{csrf_field, error_summary, layout, when};
use crate::record::client::FHIR_JSON;
use crate::web::{ClientInfo, FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/consultations/{id}/notes", get(page).post(save))
        .route("/consultations/{id}/notes/finish", post(finish))
        .route("/consultations/{id}/record/{attendee}", get(bundle))
}

async fn load(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    write: bool,
) -> Result<Consultation, Error> {
    let id = ConsultationId::parse(id).map_err(|_| Error::NotFound)?;
    let c = state.store.consultation(&who.org.id, &id).await?;
    may_use_record(state, &who.org.id, &who.user.id, who.user.roles, &c, write).await?;
    Ok(c)
}

fn notes_page(
    who: &SignedIn,
    c: &Consultation,
    notes: Option<&Notes>,
    values: Option<&FormData>,
    errors: &FieldErrors,
) -> Markup {
    let outcome = values.map_or(c.outcome.map_or("", |o| o.as_str()), |v| v.get("outcome"));
    let text = values.map_or(notes.map_or("", |n| n.body.as_str()), |v| v.get("notes"));
    let notes_error = errors.get("notes");
    let finished = notes.and_then(|n| n.finished.as_ref());
    html! {
        h1 { "Notes and outcome" }
        p { a href={ "/consultations/" (c.id) } { "Back to the consultation" } }
        @if let Some((_, at)) = finished {
            p id="notes-status" { "Finished and sent to the record " (when(*at)) ". They can no longer be changed." }
            h2 { "Outcome" }
            p id="notes-outcome" { (OUTCOMES.iter().find(|(w, _)| *w == outcome).map_or("Not recorded", |(_, l)| *l)) }
            h2 { "Notes" }
            div id="notes-text" class="notes" {
                @for line in text.lines() { p { (line) } }
            }
        } @else {
            p id="notes-status" {
                @if let Some(n) = notes { "Draft saved " (when(n.updated_at)) ". " }
                "Only you and other clinicians of the clinic see the draft. When the consultation has ended, finish the notes to send them to the patient's record; after that they cannot be changed."
            }
            (error_summary(errors))
            form method="post" action={ "/consultations/" (c.id) "/notes" } novalidate {
                (csrf_field(&who.csrf))
                (crate::pages::form::radios("outcome", "How did it go?", None, &OUTCOMES, outcome, errors))
                div class={ "field" @if notes_error.is_some() { " field-error" } } {
                    label for="notes" { "Notes" }
                    p class="hint" id="notes-hint" { "What was discussed and agreed. At most 20,000 characters." }
                    @if let Some(e) = notes_error {
                        p class="error-message" id="notes-error" { span class="visually-hidden" { "Error: " } (e) }
                    }
                    textarea id="notes" name="notes" rows="12" maxlength=(MAX_NOTES)
                        aria-describedby={ "notes-hint" @if notes_error.is_some() { " notes-error" } }
                        aria-invalid=[notes_error.map(|_| "true")] { (text) }
                }
                button type="submit" class="secondary" { "Save draft" }
                @if c.status == Status::Ended {
                    " "
                    button type="submit" formaction={ "/consultations/" (c.id) "/notes/finish" } { "Finish and send to the record" }
                } @else {
                    p class="hint" { "You can finish the notes once the consultation has ended." }
                }
            }
        }
    }
}

async fn page(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    let c = load(&state, &who, &id, true).await?;
    let notes = state.store.notes(&who.org.id, &c.id).await?;
    Ok(layout(
        "Notes and outcome",
        Some(&who),
        notes_page(&who, &c, notes.as_ref(), None, &FieldErrors::default()),
    ))
}

/// Saves the draft; `then_finish` finishes it too, in the same request.
async fn submit(
    state: AppState,
    who: SignedIn,
    client: ClientInfo,
    id: String,
    values: FormData,
    then_finish: bool,
) -> Result<Response, Error> {
    let c = load(&state, &who, &id, true).await?;
    let ctx = ctx(&state, &who, &client);
    let org = &who.org.id;
    let saved = save_notes(
        &state,
        &ctx,
        org,
        &c.id,
        &who.user.id,
        values.get("outcome"),
        values.get("notes"),
    )
    .await;
    let done = match saved {
        Ok(()) if then_finish => finish_notes(&state, &ctx, org, &c.id, &who.user.id)
            .await
            .map(|_| ()),
        other => other,
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/consultations/{}/notes", c.id)).into_response()),
        Err(Error::Invalid(errors)) => {
            let c = state.store.consultation(org, &c.id).await?;
            let notes = state.store.notes(org, &c.id).await?;
            let page = notes_page(&who, &c, notes.as_ref(), Some(&values), &errors);
            Ok((
                StatusCode::BAD_REQUEST,
                layout("Notes and outcome", Some(&who), page),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

async fn save(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path(id): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    submit(state, who, client, id, values, false).await
}

async fn finish(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path(id): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    submit(state, who, client, id, values, true).await
}

async fn bundle(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path((id, attendee)): Path<(String, String)>,
) -> Result<Response, Error> {
    let c = load(&state, &who, &id, false).await?;
    let attendee = AttendeeId::parse(&attendee).map_err(|_| Error::NotFound)?;
    let ctx = ctx(&state, &who, &client);
    let json = download(&state, &ctx, &who.org.id, &c.id, &attendee).await?;
    let body = serde_json::to_vec_pretty(&json)
        .map_err(|e| Error::Internal(format!("a bundle could not be written: {e}")))?;
    // Ids only in the file name: it may be kept in a downloads folder.
    let disposition = format!("attachment; filename=\"record-{}-{attendee}.json\"", c.id);
    Ok((
        [
            (header::CONTENT_TYPE, FHIR_JSON.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

fn delivery_text(d: &RecordDelivery) -> String {
    match d.status {
        DeliveryStatus::Queued => match &d.reason {
            Some(r) => format!("queued, to be tried again ({r})"),
            None => "queued".to_string(),
        },
        DeliveryStatus::Delivered => match &d.location {
            Some(l) => format!("delivered {} as {l}", when(d.updated_at)),
            None => format!("delivered {}", when(d.updated_at)),
        },
        DeliveryStatus::Failed => format!(
            "failed: {}",
            d.reason.as_deref().unwrap_or("no reason recorded")
        ),
    }
}

/// The notes and record part of a consultation's page: a link to the notes, and per
/// patient the bundle to download and its delivery to the record system.
pub async fn record_section(
    state: &AppState,
    who: &SignedIn,
    c: &Consultation,
    people: &[Attendee],
) -> Result<Markup, Error> {
    if c.kind == Kind::ColleagueMeeting || !matches!(c.status, Status::InProgress | Status::Ended) {
        return Ok(html! {});
    }
    if may_use_record(state, &who.org.id, &who.user.id, who.user.roles, c, false)
        .await
        .is_err()
    {
        return Ok(html! {});
    }
    let notes = state.store.notes(&who.org.id, &c.id).await?;
    let deliveries = state.store.deliveries(&who.org.id, &c.id).await?;
    let finished = notes.as_ref().is_some_and(|n| n.finished.is_some());
    let clinician = who.user.roles.contains(Role::Clinician);
    Ok(html! {
        h2 { "Notes and the record" }
        p id="record-notes" {
            @if finished { "The notes are finished and sent to the record." }
            @else if notes.is_some() { "Draft notes are saved; they are not in the record yet." }
            @else { "No notes yet." }
            @if clinician { " " a href={ "/consultations/" (c.id) "/notes" } { @if finished { "Read the notes" } @else { "Write the notes" } } }
        }
        @if finished {
            ul id="record-bundles" {
                @for p in people.iter().filter(|a| a.role == AttendeeRole::Patient) {
                    li {
                        a href={ "/consultations/" (c.id) "/record/" (p.id) } download {
                            "Download the record for " (p.name.as_str()) " (FHIR JSON)"
                        }
                        @if let Some(d) = deliveries.iter().rev().find(|d| d.attendee_id == p.id) {
                            " — " span class="delivery-status" data-attendee=(p.id) { "Record system: " (delivery_text(d)) }
                        }
                    }
                }
            }
            @if deliveries.is_empty() && state.config.record.endpoint.is_none() {
                p class="hint" { "No record system is configured, so the record is offered for download only." }
            }
        }
    })
}
