//! One consultation's page: its summary, the people invited with their invitations
//! and one-time codes, the live and record sections, and its actions (cancel, resend an
//! invitation).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use haven_domain::consultation::{Event, Kind};
use haven_domain::{AttendeeId, ConsultationId, uk_time};
use maud::{Markup, html};

use super::{booking_staff, kind_label, staff_ctx, status_label, status_label_word};
use crate::invites::ops::{resend, status_text};
use crate::pages::{csrf_field, layout};
use crate::web::{ClientInfo, Staff};
use crate::{AppState, Error};

pub(super) async fn show(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    booking_staff(&who)?;
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    let org = &who.org.id;
    let c = state.store.consultation(org, &id).await?;
    let people = state.store.attendees(org, &id).await?;
    let messages = state.store.messages_for_consultation(org, &id).await?;
    let mut codes = Vec::with_capacity(people.len());
    for a in &people {
        codes.push(crate::ops::identity_code::status(&state.store, org, a).await?);
    }
    let clinic = state.store.clinic(org, &c.clinic_id).await?;
    let clinician = match &c.clinician_id {
        Some(u) => Some(state.store.user(org, u).await?.name),
        None => None,
    };
    let cancellable = c.status.after(Event::Cancel).is_ok_and(|s| s != c.status);
    let group = crate::pages::group_host::view(&state, &who, &c).await?;
    let record = crate::pages::notes::record_section(&state, &who, &c, &people).await?;
    let register = crate::pages::people::section(&state, &who, &c, &people).await?;
    // Someone removed is gone for good: no new link, and nothing to put on hold, resume
    // or send back.
    let removed = state.store.removals(org, &id).await?;
    let is_removed = |a: &AttendeeId| removed.iter().any(|r| r.attendee == *a);
    let present: Vec<_> = people
        .iter()
        .filter(|a| !is_removed(&a.id))
        .cloned()
        .collect();
    Ok(layout(
        "Consultation",
        Some(&who),
        html! {
            h1 { @if c.kind == Kind::ColleagueMeeting { "Colleague meeting" } @else { (kind_label(c.kind)) " consultation" } }
            dl class="summary" {
                dt { "When" } dd { (uk_time::describe(c.starts_at)) }
                dt { "Clinic" } dd { (clinic.name.as_str()) }
                dt { "Clinician" } dd { (clinician.as_ref().map_or("Any clinician of the clinic", |n| n.as_str())) }
                dt { "Status" } dd id="status" { (status_label(c.status)) }
                @if let Some(o) = c.outcome {
                    dt { "Outcome" } dd id="outcome" { (status_label_word(o.as_str())) @if let Some(n) = &c.outcome_note { @if !n.is_empty() { ": " (n) } } }
                }
                @if let Some(p) = &c.patient {
                    dt { "Patient" } dd { (p.name.as_str()) }
                    dt { "Date of birth" } dd { (p.dob.iso()) }
                    dt { "NHS number" } dd { (p.nhs_number.as_ref().map_or("Not given".to_owned(), |n| n.formatted())) }
                    @if let Some(a) = p.child_attendance {
                        dt { "Under 16" } dd { (match a { haven_domain::consultation::ChildAttendance::WithParentOrGuardian => "A parent or guardian attends", haven_domain::consultation::ChildAttendance::AloneCompetent => "Attends alone by their own competent decision" }) }
                    }
                }
            }
            h2 { "People invited" }
            @if people.is_empty() { p { "Nobody is invited yet." } }
            @for (a, code) in people.iter().zip(&codes) {
                @let latest = messages.iter().rev().find(|m| m.attendee_id == a.id);
                section class="attendee" aria-labelledby={ "attendee-" (a.id) } {
                    h3 id={ "attendee-" (a.id) } { (a.name.as_str()) " (" (a.role.as_str()) ")" }
                    @if a.user_id.is_some() {
                        p class="invite-status" data-attendee=(a.id) { "Joins signed in to Haven: no invitation is sent." }
                    } @else {
                        p class="invite-status" data-attendee=(a.id) {
                            "Invitation: " (latest.map_or("not sent".to_owned(), status_text))
                        }
                    }
                    @if *code != haven_domain::identity_code::CodeStatus::NotRequired {
                        p class="code-status" { "One-time code: " (crate::ops::identity_code::describe(*code)) }
                    }
                    @if !c.status.is_final() && a.user_id.is_none() && !is_removed(&a.id) {
                        form method="post" action={ "/consultations/" (c.id) "/attendees/" (a.id) "/resend" } {
                            (csrf_field(&who.csrf))
                            button type="submit" class="secondary" { "Send the invitation again" }
                        }
                    }
                }
            }
            @if let Some(g) = &group {
                (crate::pages::group_host::section(&who, &c, g))
            } @else {
                (crate::pages::admit::live_section(&state, &who, &c, &present))
            }
            (register)
            (crate::pages::admit::outcome_section(&who, &c))
            (record)
            @if cancellable {
                h2 { "Cancel" }
                form method="post" action={ "/consultations/" (c.id) "/cancel" } {
                    (csrf_field(&who.csrf))
                    button type="submit" class="warning" { "Cancel this consultation" }
                }
                p class="hint" { "Every invitation link stops working at once." }
            }
        },
    ))
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(client): axum::Extension<ClientInfo>,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    booking_staff(&who)?;
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    let ctx = staff_ctx(&state, &who, &client);
    crate::ops::booking::cancel(&state.store, &ctx, &who.org.id, &id).await?;
    Ok(Redirect::to(&format!("/consultations/{id}")).into_response())
}

pub(super) async fn resend_invite(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(client): axum::Extension<ClientInfo>,
    Path((id, attendee)): Path<(String, String)>,
) -> Result<Response, Error> {
    booking_staff(&who)?;
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    let attendee = AttendeeId::parse(&attendee).map_err(|_| Error::NotFound)?;
    let person = state.store.attendee(&who.org.id, &attendee).await?;
    if person.consultation_id != id {
        return Err(Error::NotFound);
    }
    let ctx = staff_ctx(&state, &who, &client);
    resend(&state, &ctx, &who.org.id, &attendee).await?;
    Ok(Redirect::to(&format!("/consultations/{id}")).into_response())
}
