//! The one-time code page of the patient's link: `/join/{token}/code` asks for the code
//! sent by text message (where the organisation's identity check asks for one) and
//! `/join/{token}/code/new` sends another. A wrong code says how many tries are left, an
//! expired one says to ask for a new one, and the last wrong try ends with "call your
//! clinic": the person cannot go on, and the clinician sees why.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use haven_domain::audit::Actor;
use haven_domain::identity_code::{CodeStatus, LIFETIME, Verdict};
use haven_store::invites::Invite;
use haven_store::outbox::MessageStatus;
use maud::{Markup, html};
use serde::Deserialize;

use super::join::invite_or_page;
use crate::ops::Context;
use crate::ops::identity_code::{check, request, status};
use crate::pages::{csrf_field, error_summary, layout};
use crate::web::{ClientInfo, CsrfToken, FormData};
use crate::{AppState, Error, FieldErrors};

/// The code routes, merged into the join routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/join/{token}/code", get(show).post(enter))
        .route("/join/{token}/code/new", post(send_new))
}

/// The context of something the person with the link did: no account, so the audit names
/// the system acting for the link, with the client's address.
pub(super) fn patient_ctx(state: &AppState, client: &ClientInfo) -> Context {
    Context {
        actor: Actor::System,
        client_addr: Some(client.addr.to_string()),
        now: state.clock.now(),
    }
}

/// `?sent=new` after asking for another code.
#[derive(Deserialize)]
struct Shown {
    sent: Option<String>,
}

/// The live invitation of `token` and where its holder stands with the code, or the page
/// to answer with instead: a dead link's, back to the details when they are not entered,
/// on to the check when no code is needed or it was passed.
async fn at_code_step(
    state: &AppState,
    client: &ClientInfo,
    token: &str,
) -> Result<Result<(Invite, CodeStatus), Response>, Error> {
    let invite = match invite_or_page(state, client, token).await? {
        Ok(invite) => invite,
        Err(page) => return Ok(Err(page)),
    };
    if invite.attendee.confirmed.is_none() {
        return Ok(Err(Redirect::to(&format!("/join/{token}")).into_response()));
    }
    let org = &invite.consultation.org_id;
    let status = status(&state.store, org, &invite.attendee).await?;
    if status.may_wait() {
        return Ok(Err(
            Redirect::to(&format!("/join/{token}/check")).into_response()
        ));
    }
    Ok(Ok((invite, status)))
}

async fn show(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, Error> {
    let (invite, status) = match at_code_step(&state, &client, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    if let CodeStatus::LockedOut(_) = status {
        return Ok(locked_page().into_response());
    }
    let note = if shown.sent.as_deref() == Some("new") {
        Note::NewSent
    } else {
        Note::None
    };
    let page = code_page(&state, &invite, &csrf.0, note, &FieldErrors::default()).await?;
    Ok(page.into_response())
}

async fn enter(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    let (invite, _) = match at_code_step(&state, &client, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let org = &invite.consultation.org_id;
    let ctx = patient_ctx(&state, &client);
    let mut errors = FieldErrors::default();
    let verdict = match check(&state, &ctx, org, &invite.attendee, values.get("code")).await {
        Ok(verdict) => verdict,
        Err(Error::Invalid(e)) => {
            errors = e;
            Verdict::NotSent
        }
        Err(e) => return Err(e),
    };
    if errors.is_empty() {
        match verdict {
            Verdict::Passed | Verdict::AlreadyPassed => {
                return Ok(Redirect::to(&format!("/join/{token}/check")).into_response());
            }
            Verdict::LockedOut | Verdict::Wrong { attempts_left: 0 } => {
                return Ok((StatusCode::FORBIDDEN, locked_page()).into_response());
            }
            Verdict::Wrong { attempts_left } => errors.add(
                "code",
                format!(
                    "That code is not right. Check the text message and try again: you have {attempts_left} {} left",
                    if attempts_left == 1 { "try" } else { "tries" }
                ),
            ),
            Verdict::Expired => errors.add(
                "code",
                "That code has expired: codes work for 10 minutes. Ask for a new code below",
            ),
            Verdict::NotSent => errors.add(
                "code",
                "No code has been sent to you yet. Wait for the text message, or ask for a new code below",
            ),
        }
    }
    let page = code_page(&state, &invite, &csrf.0, Note::None, &errors).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

async fn send_new(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    let (invite, status) = match at_code_step(&state, &client, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let org = &invite.consultation.org_id;
    if let CodeStatus::LockedOut(_) = status {
        return Ok((StatusCode::FORBIDDEN, locked_page()).into_response());
    }
    let ctx = patient_ctx(&state, &client);
    match request(&state, &ctx, org, &invite.attendee).await {
        Ok(_) => Ok(Redirect::to(&format!("/join/{token}/code?sent=new")).into_response()),
        Err(Error::TooManyAttempts { minutes }) => {
            let note = Note::TooManySends { minutes };
            let page = code_page(&state, &invite, &csrf.0, note, &FieldErrors::default()).await?;
            Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// A message above the form.
enum Note {
    None,
    NewSent,
    TooManySends { minutes: i64 },
}

async fn code_page(
    state: &AppState,
    invite: &Invite,
    csrf: &str,
    note: Note,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let org = &invite.consultation.org_id;
    let latest = state
        .store
        .latest_code_message(org, &invite.attendee.id)
        .await?;
    let failed = latest
        .as_ref()
        .is_some_and(|m| m.status == MessageStatus::Failed);
    let error = errors.get("code");
    let minutes = LIFETIME.whole_minutes();
    Ok(layout(
        "Enter the code we sent you",
        None,
        html! {
            h1 { "Enter the code we sent you" }
            @match note {
                Note::NewSent => p class="notice" role="status" { "We have sent you a new code. Codes sent before it no longer work." },
                Note::TooManySends { minutes } => div class="notice" role="alert" {
                    p { "You have asked for 3 codes in the last hour, which is as many as we can send. Wait " (minutes) " minute(s) and ask again, or call your clinic." }
                },
                Note::None => {},
            }
            @if failed {
                p class="notice" role="alert" { "We could not send the text message. Call your clinic, using the phone number on your appointment letter: they can check who you are another way." }
            }
            p { "To check it is you, we have sent a text message with a 6-digit code to the mobile phone number your clinic has for you. It can take a minute to arrive. The code works for " (minutes) " minutes." }
            (error_summary(errors))
            form method="post" novalidate {
                (csrf_field(csrf))
                div class={ "field" @if error.is_some() { " field-error" } } {
                    label for="code" { "Code from the text message" }
                    p class="hint" id="code-hint" { "6 digits, for example 123456" }
                    @if let Some(error) = error {
                        p class="error-message" id="code-error" {
                            span class="visually-hidden" { "Error: " } (error)
                        }
                    }
                    input id="code" name="code" type="text" inputmode="numeric"
                        autocomplete="one-time-code" maxlength="12" size="8" spellcheck="false"
                        aria-describedby={ "code-hint" @if error.is_some() { " code-error" } }
                        aria-invalid=[error.map(|_| "true")];
                }
                button type="submit" { "Continue" }
            }
            h2 { "No code?" }
            p { "Check that your phone has signal. If no code arrives after a few minutes, ask for a new one. You can ask for up to 3 codes in an hour." }
            form method="post" action="code/new" {
                (csrf_field(csrf))
                button type="submit" class="secondary" { "Send a new code" }
            }
        },
    ))
}

fn locked_page() -> Markup {
    layout(
        "Too many wrong codes",
        None,
        html! {
            h1 { "Too many wrong codes" }
            p { "For your safety, you cannot join with this link any more: the code was entered wrongly too many times." }
            h2 { "What to do" }
            ul {
                li { "Call your clinic, using the phone number on your appointment letter or their website. They can check who you are another way and help you join." }
                li { "If you need urgent medical help, call 111, or 999 in an emergency." }
            }
        },
    )
}
