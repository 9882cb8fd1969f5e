//! Clinics and their members. Admins only; every change is audited.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use haven_domain::{ClinicId, Role, UserId};
use maud::{Markup, html};

use crate::ops::orgs;
use crate::pages::admin::admin_ctx;
use crate::pages::{Input, csrf_field, error_summary, field, layout};
use crate::web::{FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The clinic routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/clinics", get(list).post(create))
        .route("/admin/clinics/{id}", get(show))
        .route("/admin/clinics/{id}/members", post(add_member))
        .route(
            "/admin/clinics/{id}/members/{user}/remove",
            post(remove_member),
        )
}

async fn list_page(
    state: &AppState,
    who: &SignedIn,
    name: &str,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let clinics = state.store.clinics(&who.org.id).await?;
    Ok(layout(
        "Clinics",
        Some(who),
        html! {
            h1 { "Clinics" }
            @if clinics.is_empty() { p { "There are no clinics yet." } }
            ul { @for c in &clinics { li { a href={ "/admin/clinics/" (c.id) } { (c.name.as_str()) } } } }
            h2 { "Add a clinic" }
            (error_summary(errors))
            form method="post" action="/admin/clinics" novalidate {
                (csrf_field(&who.csrf))
                (field("name", "Clinic name", name, Input { hint: Some("For example, Physiotherapy or Diabetes clinic"), ..Input::TEXT }, errors))
                button type="submit" { "Add clinic" }
            }
        },
    ))
}

async fn list(State(state): State<AppState>, Staff(who): Staff) -> Result<Markup, Error> {
    who.require(Role::Admin)?;
    list_page(&state, &who, "", &FieldErrors::default()).await
}

async fn create(
    State(state): State<AppState>,
    Staff(who): Staff,
    form: FormData,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let errors = match orgs::create_clinic(&state.store, &ctx, &who.org.id, form.get("name")).await
    {
        Ok(id) => return Ok(Redirect::to(&format!("/admin/clinics/{id}")).into_response()),
        Err(Error::Invalid(errors)) => errors,
        Err(Error::Conflict(_)) => {
            let mut errors = FieldErrors::default();
            errors.add("name", "A clinic with this name already exists");
            errors
        }
        Err(e) => return Err(e),
    };
    Ok((
        StatusCode::BAD_REQUEST,
        list_page(&state, &who, form.get("name"), &errors).await?,
    )
        .into_response())
}

fn clinic_id(raw: &str) -> Result<ClinicId, Error> {
    ClinicId::parse(raw).map_err(|_| Error::NotFound)
}

async fn show(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    who.require(Role::Admin)?;
    let clinic = state.store.clinic(&who.org.id, &clinic_id(&id)?).await?;
    let member_ids = state.store.clinic_members(&who.org.id, &clinic.id).await?;
    let users = state.store.users(&who.org.id).await?;
    let (members, others): (Vec<_>, Vec<_>) = users
        .iter()
        .filter(|u| !u.disabled)
        .partition(|u| member_ids.contains(&u.id));
    let base = format!("/admin/clinics/{}", clinic.id);
    Ok(layout(
        clinic.name.as_str(),
        Some(&who),
        html! {
            h1 { (clinic.name.as_str()) }
            h2 { "Members" }
            @if members.is_empty() { p { "No members yet." } }
            div class="table-wrap" {
                table {
                    tbody {
                        @for u in &members {
                            tr {
                                td { (u.name.as_str()) }
                                td { (u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
                                td {
                                    form method="post" action={ (base) "/members/" (u.id) "/remove" } {
                                        (csrf_field(&who.csrf))
                                        button type="submit" class="link-button" { "Remove" span class="visually-hidden" { " " (u.name.as_str()) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !others.is_empty() {
                h2 { "Add a member" }
                form method="post" action={ (base) "/members" } {
                    (csrf_field(&who.csrf))
                    div class="field" {
                        label for="user" { "Staff member" }
                        select id="user" name="user" {
                            @for u in &others { option value=(u.id) { (u.name.as_str()) } }
                        }
                    }
                    button type="submit" { "Add to clinic" }
                }
            }
        },
    ))
}

async fn add_member(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let clinic = clinic_id(&id)?;
    let user = UserId::parse(form.get("user"))
        .map_err(|_| orgs::invalid("user", "choose a staff member"))?;
    orgs::set_membership(&state, &ctx, &who.org.id, &clinic, &user, true).await?;
    Ok(Redirect::to(&format!("/admin/clinics/{clinic}")).into_response())
}

async fn remove_member(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path((id, user)): Path<(String, String)>,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let clinic = clinic_id(&id)?;
    let user = UserId::parse(&user).map_err(|_| Error::NotFound)?;
    orgs::set_membership(&state, &ctx, &who.org.id, &clinic, &user, false).await?;
    Ok(Redirect::to(&format!("/admin/clinics/{clinic}")).into_response())
}
