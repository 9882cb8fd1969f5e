//! Signing in and out: the password step, the second-factor step, and sign-out.

use axum::Extension;
use axum::Router;
use axum::extract::{FromRequest, FromRequestParts};
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use haven_domain::audit::Actor;
use haven_store::auth::SessionStage;
use maud::{Markup, html};
use serde::Deserialize;

use crate::ops::Context;
use crate::ops::signin::{self, Refused};
use crate::pages::{Input, csrf_field, error_summary, field, layout};
use crate::web::session::load;
use crate::web::{ClientInfo, CsrfToken, FormData, SignedIn, cookies, random_token};
use crate::{AppState, Error, FieldErrors};

/// The sign-in routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(show).post(submit))
        .route("/signin/mfa", get(show_mfa).post(submit_mfa))
        .route("/signout", post(sign_out))
}

#[derive(Deserialize, Default)]
struct Notice {
    setup: Option<String>,
    reset: Option<String>,
}

const WRONG: &str = "The email address or password is not right. Check them and try again.";

fn page(csrf: &str, email: &str, notice: Option<&str>, errors: &FieldErrors) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(notice) = notice { p class="notice" role="status" { (notice) } }
            (error_summary(errors))
            form method="post" action="/signin" novalidate {
                (csrf_field(csrf))
                (field("email", "Email address", email, Input { kind: "email", autocomplete: "username", hint: None }, errors))
                (field("password", "Password", "", Input { kind: "password", autocomplete: "current-password", hint: None }, errors))
                button type="submit" { "Sign in" }
            }
            p { "Forgotten your password? Ask an administrator of your organisation for a reset link." }
        },
    )
}

async fn show(Extension(csrf): Extension<CsrfToken>, Query(q): Query<Notice>) -> Markup {
    let notice = if q.setup.is_some() {
        Some("Your organisation is set up. Sign in with the email address and password you chose.")
    } else if q.reset.is_some() {
        Some("Your password has been changed. Sign in with your new password.")
    } else {
        None
    };
    page(&csrf.0, "", notice, &FieldErrors::default())
}

/// Replaces the CSRF cookie and sets the session cookie: a new session gets a new token,
/// so a token planted before sign-in is worthless after it.
fn start_session(https: bool, token: &str, next: &str) -> Response {
    let mut resp = Redirect::to(next).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::set(cookies::session_name(https), token, https),
    );
    h.append(
        header::SET_COOKIE,
        cookies::set(cookies::csrf_name(https), &random_token(), https),
    );
    resp
}

async fn submit(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(client): Extension<ClientInfo>,
    form: FormData,
) -> Result<Response, Error> {
    let email = form.get("email").trim();
    let now = state.clock.now();
    let mut errors = FieldErrors::default();
    if email.is_empty() {
        errors.add("email", "Enter your email address");
    }
    if form.get("password").is_empty() {
        errors.add("password", "Enter your password");
    }
    if !errors.is_empty() {
        return Ok((StatusCode::BAD_REQUEST, page(&csrf.0, email, None, &errors)).into_response());
    }
    match signin::password(&state.store, client.addr, now, email, form.get("password")).await {
        Ok(started) => Ok(start_session(client.https, &started.token, started.next)),
        Err(Refused::Wrong) => {
            errors.add("email", WRONG);
            Ok((
                StatusCode::UNAUTHORIZED,
                page(&csrf.0, email, None, &errors),
            )
                .into_response())
        }
        Err(Refused::Locked { minutes }) => Err(Error::TooManyAttempts { minutes }),
        Err(Refused::Internal(e)) => Err(e),
    }
}

fn mfa_page(csrf: &str, errors: &FieldErrors) -> Markup {
    layout(
        "Enter your code",
        None,
        html! {
            h1 { "Enter your code" }
            p { "Open your authenticator app and enter the 6-digit code it shows for Haven." }
            (error_summary(errors))
            form method="post" action="/signin/mfa" novalidate {
                (csrf_field(csrf))
                (field("code", "Code", "", Input { kind: "text", autocomplete: "one-time-code", hint: Some("If you have lost your phone, enter one of your recovery codes instead.") }, errors))
                button type="submit" { "Continue" }
            }
        },
    )
}

async fn show_mfa(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    req: Request,
) -> Result<Response, Error> {
    let (mut parts, _) = req.into_parts();
    match load(&parts, &state).await? {
        Some(l) if l.session.stage == SessionStage::NeedsMfa && l.user.totp_secret.is_some() => {
            Ok(mfa_page(&csrf.0, &FieldErrors::default()).into_response())
        }
        Some(_) => Ok(SignedIn::from_request_parts(&mut parts, &state)
            .await
            .map(|_| Redirect::to("/").into_response())
            .unwrap_or_else(|r| r)),
        None => Ok(Redirect::to("/signin").into_response()),
    }
}

async fn submit_mfa(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(client): Extension<ClientInfo>,
    req: Request,
) -> Result<Response, Error> {
    let (parts, body) = req.into_parts();
    let Some(loaded) = load(&parts, &state).await? else {
        return Ok(Redirect::to("/signin").into_response());
    };
    if loaded.session.stage != SessionStage::NeedsMfa {
        return Ok(Redirect::to("/").into_response());
    }
    let form = FormData::from_request(Request::from_parts(parts, body), &state).await?;
    let now = state.clock.now();
    match signin::second_factor(
        &state.store,
        client.addr,
        now,
        &loaded.hash,
        &loaded.user,
        form.get("code"),
    )
    .await
    {
        Ok(next) => Ok(Redirect::to(next).into_response()),
        Err(Refused::Wrong) => {
            let mut errors = FieldErrors::default();
            errors.add(
                "code",
                "That code is not right, or has been used already. Enter the current code.",
            );
            Ok((StatusCode::UNAUTHORIZED, mfa_page(&csrf.0, &errors)).into_response())
        }
        Err(Refused::Locked { minutes }) => Err(Error::TooManyAttempts { minutes }),
        Err(Refused::Internal(e)) => Err(e),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    req: Request,
) -> Result<Response, Error> {
    let (parts, _) = req.into_parts();
    if let Some(loaded) = load(&parts, &state).await? {
        let ctx = Context {
            actor: Actor::Staff(loaded.user.id.clone()),
            client_addr: Some(client.addr.to_string()),
            now: state.clock.now(),
        };
        let mut tx = state.store.begin().await?;
        tx.delete_session(&loaded.hash).await?;
        ctx.audit(
            &mut tx,
            Some(&loaded.user.org_id),
            "staff.sign_out",
            &format!("user:{}", loaded.user.id),
            "",
        )
        .await?;
        tx.commit().await?;
    }
    let https = client.https;
    let mut resp = Redirect::to("/signin").into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookies::clear(cookies::session_name(https), https),
    );
    h.append(
        header::SET_COOKIE,
        cookies::set(cookies::csrf_name(https), &random_token(), https),
    );
    Ok(resp)
}
