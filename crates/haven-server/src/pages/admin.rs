//! Administration: users (roles, disabling, reset links, sessions, MFA); the
//! organisation's policy settings are in `policy.rs`. Admins only; every change is audited.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use haven_domain::audit::Actor;
use haven_domain::{Role, Roles, UserId};
use maud::{Markup, html};

use crate::ops::{Context, accounts, orgs};
use crate::pages::{Input, csrf_field, error_summary, field, layout, role_checkboxes};
use crate::web::{FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The administration routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(add_user))
        .route("/admin/users/{id}", get(show_user))
        .route("/admin/users/{id}/roles", post(set_roles))
        .route("/admin/users/{id}/disable", post(disable))
        .route("/admin/users/{id}/enable", post(enable))
        .route("/admin/users/{id}/reset-link", post(reset_link))
        .route("/admin/users/{id}/sessions/end", post(end_sessions))
        .route("/admin/users/{id}/mfa/reset", post(reset_mfa))
        .merge(super::policy::routes())
}

/// The admin's context for audit entries; fails unless the user is an admin.
pub fn admin_ctx(state: &AppState, who: &SignedIn) -> Result<Context, Error> {
    who.require(Role::Admin)?;
    Ok(Context {
        actor: Actor::Staff(who.user.id.clone()),
        client_addr: Some(who.client.addr.to_string()),
        now: state.clock.now(),
    })
}

fn roles_from(form: &FormData) -> Result<Roles, Error> {
    let mut roles = Roles::default();
    for value in form.all("role") {
        roles.insert(Role::parse(value).map_err(|e| orgs::invalid("roles", e))?);
    }
    Ok(roles)
}

fn user_id(raw: &str) -> Result<UserId, Error> {
    UserId::parse(raw).map_err(|_| Error::NotFound)
}

async fn users_page(
    state: &AppState,
    who: &SignedIn,
    form: &FormData,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let users = state.store.users(&who.org.id).await?;
    let roles = if errors.is_empty() {
        Roles::default()
    } else {
        roles_from(form).unwrap_or_default()
    };
    Ok(layout(
        "Users",
        Some(who),
        html! {
            h1 { "Users" }
            div class="table-wrap" {
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Roles" } th scope="col" { "Status" } } }
                    tbody {
                        @for u in &users {
                            tr {
                                td { a href={ "/admin/users/" (u.id) } { (u.name.as_str()) } }
                                td { (u.email.as_str()) }
                                td { (u.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
                                td { @if u.disabled { "Disabled" } @else if u.totp_secret.is_some() { "Active, two-step on" } @else { "Active" } }
                            }
                        }
                    }
                }
            }
            h2 id="add" { "Add a user" }
            p { "Give the new user their initial password in person or by phone; they choose their own at first sign-in." }
            (error_summary(errors))
            form method="post" action="/admin/users" novalidate {
                (csrf_field(&who.csrf))
                (field("name", "Full name", form.get("name"), Input { autocomplete: "off", ..Input::TEXT }, errors))
                (field("email", "Work email address", form.get("email"), Input { kind: "email", autocomplete: "off", hint: None }, errors))
                (role_checkboxes(roles, errors))
                (field("password", "Initial password", "", Input { kind: "password", autocomplete: "new-password", hint: Some("At least 12 characters; not guessable, and not containing their name or email address.") }, errors))
                button type="submit" { "Add user" }
            }
        },
    ))
}

async fn list_users(State(state): State<AppState>, Staff(who): Staff) -> Result<Markup, Error> {
    who.require(Role::Admin)?;
    users_page(&state, &who, &FormData::default(), &FieldErrors::default()).await
}

async fn add_user(
    State(state): State<AppState>,
    Staff(who): Staff,
    form: FormData,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let roles = roles_from(&form)?;
    let new = accounts::NewStaff {
        email: form.get("email"),
        name: form.get("name"),
        roles,
        password: form.get("password"),
        must_change_password: true,
    };
    let errors = match accounts::add_user(&state.store, &ctx, &who.org.id, &new).await {
        Ok(id) => return Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(Error::Invalid(errors)) => errors,
        Err(Error::Conflict(_)) => {
            let mut errors = FieldErrors::default();
            errors.add("email", "A user with this email address already exists");
            errors
        }
        Err(e) => return Err(e),
    };
    Ok((
        StatusCode::BAD_REQUEST,
        users_page(&state, &who, &form, &errors).await?,
    )
        .into_response())
}

async fn user_page(
    state: &AppState,
    who: &SignedIn,
    id: &UserId,
    notice: Option<Markup>,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let user = state.store.user(&who.org.id, id).await?;
    let clinic_ids = state.store.user_clinics(&who.org.id, id).await?;
    let clinics = state.store.clinics(&who.org.id).await?;
    let base = format!("/admin/users/{id}");
    Ok(layout(
        user.name.as_str(),
        Some(who),
        html! {
            h1 { (user.name.as_str()) }
            @if let Some(notice) = notice { div class="notice" role="status" { (notice) } }
            dl {
                dt { "Email address" } dd { (user.email.as_str()) }
                dt { "Status" } dd { @if user.disabled { "Disabled" } @else { "Active" } }
                dt { "Two-step sign-in" } dd { @if user.totp_secret.is_some() { "On" } @else { "Not set up" } }
                dt { "Clinics" } dd {
                    @let names: Vec<_> = clinics.iter().filter(|c| clinic_ids.contains(&c.id)).map(|c| c.name.as_str()).collect();
                    @if names.is_empty() { "None" } @else { (names.join(", ")) }
                }
            }
            h2 { "Roles" }
            (error_summary(errors))
            form method="post" action={ (base) "/roles" } {
                (csrf_field(&who.csrf))
                (role_checkboxes(user.roles, errors))
                button type="submit" { "Save roles" }
            }
            h2 { "Access" }
            div class="actions" {
                form method="post" action={ (base) "/reset-link" } {
                    (csrf_field(&who.csrf))
                    button type="submit" class="secondary" { "Create a password reset link" }
                }
                form method="post" action={ (base) "/sessions/end" } {
                    (csrf_field(&who.csrf))
                    button type="submit" class="secondary" { "Sign out of all devices" }
                }
                @if user.totp_secret.is_some() {
                    form method="post" action={ (base) "/mfa/reset" } {
                        (csrf_field(&who.csrf))
                        button type="submit" class="secondary" { "Reset two-step sign-in" }
                    }
                }
                @if user.disabled {
                    form method="post" action={ (base) "/enable" } {
                        (csrf_field(&who.csrf))
                        button type="submit" { "Enable account" }
                    }
                } @else if user.id != who.user.id {
                    form method="post" action={ (base) "/disable" } {
                        (csrf_field(&who.csrf))
                        button type="submit" class="warning" { "Disable account" }
                    }
                }
            }
        },
    ))
}

async fn show_user(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    who.require(Role::Admin)?;
    user_page(&state, &who, &user_id(&id)?, None, &FieldErrors::default()).await
}

async fn set_roles(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
    form: FormData,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let id = user_id(&id)?;
    let result = match roles_from(&form) {
        Ok(roles) => accounts::set_roles(&state.store, &ctx, &who.org.id, &id, roles).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::BAD_REQUEST,
            user_page(&state, &who, &id, None, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn disable(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let id = user_id(&id)?;
    accounts::set_disabled(&state.store, &ctx, &who.org.id, &id, true).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

async fn enable(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let id = user_id(&id)?;
    accounts::set_disabled(&state.store, &ctx, &who.org.id, &id, false).await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

async fn reset_link(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let id = user_id(&id)?;
    let link = accounts::issue_reset_link(
        &state.store,
        &ctx,
        &state.config.public_url,
        &who.org.id,
        &id,
    )
    .await?;
    let notice = html! {
        p { "Give this link to the user in person or by phone. It works once, for one hour; it replaces any earlier link." }
        p { code { (link) } }
    };
    user_page(&state, &who, &id, Some(notice), &FieldErrors::default()).await
}

async fn end_sessions(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let id = user_id(&id)?;
    let n = accounts::end_sessions(&state.store, &ctx, &who.org.id, &id).await?;
    let notice = html! { p { "Signed out of " (n) " session(s)." } };
    user_page(&state, &who, &id, Some(notice), &FieldErrors::default()).await
}

async fn reset_mfa(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    let ctx = admin_ctx(&state, &who)?;
    let id = user_id(&id)?;
    accounts::reset_mfa(&state.store, &ctx, &who.org.id, &id).await?;
    let notice = html! { p { "Two-step sign-in was reset. The user sets it up again at their next sign-in." } };
    user_page(&state, &who, &id, Some(notice), &FieldErrors::default()).await
}
