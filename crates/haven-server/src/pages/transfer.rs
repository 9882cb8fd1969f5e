//! Passing a consultation to another clinician of its clinic (`ops::transfer`): a form
//! listing the clinic's other clinicians; a refusal is shown on the field.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use haven_domain::{ConsultationId, Role, uk_time};
use haven_store::consultations::Consultation;
use maud::{Markup, html};

use crate::ops::transfer::transfer;
use crate::pages::admit::ctx;
use crate::pages::consultations::booking_staff;
use crate::pages::form::select;
use crate::pages::{csrf_field, error_summary, layout};
use crate::web::{ClientInfo, FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/consultations/{id}/transfer", get(form).post(submit))
}

async fn load(state: &AppState, who: &SignedIn, id: &str) -> Result<Consultation, Error> {
    booking_staff(who)?;
    let id = ConsultationId::parse(id).map_err(|_| Error::NotFound)?;
    Ok(state.store.consultation(&who.org.id, &id).await?)
}

/// The form, offering the clinic's enabled clinicians other than the current one.
async fn page(
    state: &AppState,
    who: &SignedIn,
    c: &Consultation,
    chosen: &str,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let org = &who.org.id;
    let members = state.store.clinic_members(org, &c.clinic_id).await?;
    let clinic = state.store.clinic(org, &c.clinic_id).await?;
    let options: Vec<(String, String)> = state
        .store
        .users(org)
        .await?
        .into_iter()
        .filter(|u| u.roles.contains(Role::Clinician) && !u.disabled && members.contains(&u.id))
        .filter(|u| c.clinician_id.as_ref() != Some(&u.id))
        .map(|u| (u.id.as_str().to_owned(), u.name.as_str().to_owned()))
        .collect();
    Ok(layout(
        "Pass to another clinician",
        Some(who),
        html! {
            h1 { "Pass to another clinician" }
            p { "The consultation at " (uk_time::describe(c.starts_at)) " in " (clinic.name.as_str()) ". Anyone waiting or in the call goes back to the waiting room, stays connected, and is told to keep waiting for the new clinician." }
            (error_summary(errors))
            form method="post" novalidate {
                (csrf_field(&who.csrf))
                (select("clinician", "Clinician", Some("Choose a clinician"), &options, chosen, errors))
                button type="submit" { "Pass the consultation on" }
            }
            p { a href={ "/consultations/" (c.id) } { "Back to the consultation" } }
        },
    ))
}

async fn form(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    let c = load(&state, &who, &id).await?;
    page(&state, &who, &c, "", &FieldErrors::default()).await
}

async fn submit(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path(id): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    let c = load(&state, &who, &id).await?;
    let ctx = ctx(&state, &who, &client);
    match transfer(&state, &ctx, &who.org.id, &c.id, values.get("clinician")).await {
        Ok(()) => Ok(Redirect::to(&format!("/consultations/{}", c.id)).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::BAD_REQUEST,
            page(&state, &who, &c, values.get("clinician"), &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
