//! Admitting a carer, an interpreter or an outside colleague who joined by link. The
//! identity checklist that compares answers with the booking is for the patient; for
//! these people the clinician sees the name they gave and confirms what their role calls
//! for (`haven_domain::people::admission_checks`): who they are, by asking them; for a
//! carer, that the patient agrees to them being present (kept as the patient's consent);
//! for an interpreter or colleague, that they are somewhere private.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use haven_domain::consultation::AttendeeRole;
use haven_domain::people::{Check, admission_checks};
use haven_store::consultations::{Attendee, Consultation};
use maud::{Markup, html};

use crate::ops::people::admit_person;
use crate::pages::people::role_label;
use crate::pages::{csrf_field, error_summary, layout};
use crate::web::{ClientInfo, FormData, SignedIn};
use crate::{AppState, Error, FieldErrors};

/// What the clinician confirms, for someone of this name.
fn label(check: Check, name: &str) -> String {
    match check {
        Check::IdentityConfirmed => format!(
            "I have checked who {name} is by asking them (for a carer, how they know the \
             patient; for an interpreter or colleague, their organisation or badge)"
        ),
        Check::RecordOpen => "The right patient record is open".to_owned(),
        Check::PrivateSpace => {
            format!("{name} is in a private space where the consultation cannot be overheard")
        }
        Check::PatientAgrees => format!(
            "I have asked the patient, and they agree to {name} being present (recorded as \
             the patient's consent, with your name)"
        ),
    }
}

/// Why these checks, in a sentence for the clinician.
fn why(role: AttendeeRole) -> &'static str {
    match role {
        AttendeeRole::Carer => {
            "A carer or family member joins with the patient's agreement. The name and date of \
             birth check is for the patient only."
        }
        _ => {
            "The name and date of birth check is for the patient only: confirm who this person \
             is and that the consultation cannot be overheard where they are."
        }
    }
}

/// The admission page for someone who is not the patient.
pub fn page(
    who: &SignedIn,
    (c, a): (&Consultation, &Attendee),
    values: &FormData,
    errors: &FieldErrors,
) -> Markup {
    let name = a.name.as_str();
    let gave = a.confirmed.as_ref().map(|e| e.name.as_str());
    layout(
        "Check and admit",
        Some(who),
        html! {
            h1 { "Check and admit " (name) }
            dl class="summary" {
                dt { "Role" } dd { (role_label(a.role)) }
                dt { "Invited as" } dd { (name) }
                dt { "Name they gave" } dd id="name-given" { (gave.unwrap_or("Not given yet")) }
            }
            p { (why(a.role)) }
            (error_summary(errors))
            form method="post" action={ "/consultations/" (c.id) "/attendees/" (a.id) "/admit" } novalidate {
                (csrf_field(&who.csrf))
                fieldset class="field" {
                    legend { "Before you admit them, confirm:" }
                    @for check in admission_checks(a.role) {
                        @let field = check.field();
                        div class={ "checkbox" @if errors.get(field).is_some() { " field-error" } } id=(field) {
                            @if let Some(e) = errors.get(field) { p class="error-message" id={ (field) "-error" } { span class="visually-hidden" { "Error: " } (e) } }
                            input type="checkbox" id={ (field) "-box" } name=(field) value="yes" checked[values.get(field) == "yes"];
                            label for={ (field) "-box" } { (label(*check, name)) }
                        }
                    }
                }
                button type="submit" { "Admit" }
            }
        },
    )
}

/// Admits them once every check is confirmed; otherwise the page again with the errors.
pub async fn submit(
    state: &AppState,
    who: &SignedIn,
    client: &ClientInfo,
    (c, a): (&Consultation, &Attendee),
    values: &FormData,
) -> Result<Response, Error> {
    let confirmed: Vec<Check> = admission_checks(a.role)
        .iter()
        .copied()
        .filter(|check| values.get(check.field()) == "yes")
        .collect();
    let ctx = crate::pages::admit::ctx(state, who, client);
    match admit_person(state, &ctx, &who.org.id, &c.id, &a.id, &confirmed).await {
        Ok(()) => Ok(Redirect::to(&format!("/consultations/{}/call", c.id)).into_response()),
        Err(Error::Invalid(errors)) => {
            Ok((StatusCode::BAD_REQUEST, page(who, (c, a), values, &errors)).into_response())
        }
        Err(e) => Err(e),
    }
}
