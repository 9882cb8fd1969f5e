//! The patient's way in: `GET /join/{token}` says, in plain language, who the appointment
//! is with and when, what happens, that joining means agreeing to be seen and heard, and
//! to find a private place; the person then confirms their name and date of birth (and,
//! where the organisation asks for it, enters a code sent to their phone: `join_code`). No
//! account, no app. A bad or expired link gets a page that says what to do, and many bad
//! links from one address are slowed down.

use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use haven_domain::consultation::{ChildAttendance, JourneyStep};
use haven_domain::identity_code::CodeStatus;
use haven_domain::people::asks_date_of_birth;
use haven_domain::throttle::{WINDOW, lockout, minutes_to_wait};
use haven_domain::{DateOfBirth, PersonName, uk_time};
use haven_store::invites::Invite;
use maud::{Markup, html};

use crate::error::capitalise;
use crate::invites::token_hash;
use crate::ops::identity_code;
use crate::pages::call::{CallRole, ChatOptions, call_panel_with};
use crate::pages::form::date_parts;
use crate::pages::group_join;
use crate::pages::{Input, csrf_field, error_summary, field, layout};
use crate::web::{ClientInfo, CsrfToken, FormData};
use crate::{AppState, Error, FieldErrors};

/// The join routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/join/{token}", get(landing).post(confirm))
        .route("/join/{token}/check", get(check))
        .route("/privacy", get(privacy))
        .merge(super::join_code::routes())
}

/// Looks up a link, counting a miss against the caller's address: guessing links is
/// hopeless (256 bits) but must also be slow.
pub(crate) async fn invite_or_page(
    state: &AppState,
    client: &ClientInfo,
    token: &str,
) -> Result<Result<Invite, Response>, Error> {
    let now = state.clock.now();
    let key = format!("join:{}", client.addr);
    let failures = state.store.failures_since(&key, now - WINDOW).await?;
    if let Some(wait) = lockout(&failures, now) {
        let minutes = minutes_to_wait(wait);
        return Ok(Err((
            StatusCode::TOO_MANY_REQUESTS,
            dead_link_page(
                "Too many links tried",
                &format!(
                    "Several links that do not work were opened from this connection. Wait \
                     {minutes} minute(s), then open the link from your invitation again."
                ),
            ),
        )
            .into_response()));
    }
    let invite = if token.len() > 200 {
        None
    } else {
        state.store.invite(&token_hash(token), now).await?
    };
    match invite {
        Some(invite) => Ok(Ok(invite)),
        None if token.len() <= 200 => match super::people::removed_page(state, token).await? {
            Some(page) => Ok(Err(page)),
            None => dead_link(state, &key, now).await,
        },
        None => dead_link(state, &key, now).await,
    }
}

/// Counts a miss against the caller's address and says the link does not work.
async fn dead_link(
    state: &AppState,
    key: &str,
    now: haven_domain::time::OffsetDateTime,
) -> Result<Result<Invite, Response>, Error> {
    let mut tx = state.store.begin().await?;
    tx.record_failure(key, now, now - WINDOW).await?;
    tx.commit().await?;
    Ok(Err((
        StatusCode::NOT_FOUND,
        dead_link_page(
            "This link does not work",
            "It may have expired, the appointment may have been cancelled or has \
             ended, or the link was copied incompletely. Check that you opened the \
             whole link from your text message or email.",
        ),
    )
        .into_response()))
}

pub(super) fn dead_link_page(title: &str, reason: &str) -> Markup {
    layout(
        title,
        None,
        html! {
            h1 { (title) }
            p { (reason) }
            h2 { "What to do" }
            ul {
                li { "If your appointment is today, contact the clinic or practice that booked it, using the phone number on your appointment letter or their website. They can send you a new link." }
                li { "If you need urgent medical help, call 111, or 999 in an emergency." }
            }
        },
    )
}

/// The patient's first name, for a friendly greeting (nothing more is shown before the
/// person confirms who they are).
fn first_name(invite: &Invite) -> &str {
    invite
        .attendee
        .name
        .as_str()
        .split_whitespace()
        .next()
        .unwrap_or("")
}

async fn landing(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    let invite = match invite_or_page(&state, &client, &token).await? {
        Ok(invite) => invite,
        Err(page) => return Ok(page),
    };
    let org = &invite.consultation.org_id;
    let mut tx = state.store.begin().await?;
    tx.journey_step(
        org,
        &invite.attendee.id,
        JourneyStep::LinkOpened,
        None,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    let page = landing_page(
        &state,
        &invite,
        &csrf.0,
        &FormData::default(),
        &FieldErrors::default(),
    )
    .await?;
    Ok(page.into_response())
}

async fn landing_page(
    state: &AppState,
    invite: &Invite,
    csrf: &str,
    values: &FormData,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let c = &invite.consultation;
    let clinic = state.store.clinic(&c.org_id, &c.clinic_id).await?;
    let org = state.store.org(&c.org_id).await?;
    let clinician = match &c.clinician_id {
        Some(id) => Some(state.store.user(&c.org_id, id).await?.name),
        None => None,
    };
    let child = c.patient.as_ref().and_then(|p| p.child_attendance);
    let asks_dob = asks_date_of_birth(invite.attendee.role);
    let code_step = !matches!(
        identity_code::status(&state.store, &c.org_id, &invite.attendee).await?,
        CodeStatus::NotRequired | CodeStatus::NoMobile
    );
    Ok(layout(
        "Your video appointment",
        None,
        html! {
            h1 { "Your video appointment" }
            p { "Hello " (first_name(invite)) "." }
            dl class="summary" {
                dt { "With" }
                dd { (clinician.as_ref().map_or(clinic.name.as_str(), |n| n.as_str())) ", " (clinic.name.as_str()) ", " (org.name.as_str()) }
                dt { "When" }
                dd { (uk_time::describe(c.starts_at)) }
            }
            h2 { "What will happen" }
            ol {
                li { @if asks_dob { "You confirm your name and date of birth." } @else { "You give your name, so the clinician knows who is joining." } @if code_step { " We then send a code by text message to your mobile phone, for you to enter." } }
                li { "Haven checks your camera, microphone, speaker and connection, and tells you how to fix anything that does not work." }
                li { "You wait in a virtual waiting room until the clinician is ready. They will check who you are before the consultation starts." }
            }
            div class="notice" {
                p { strong { "Find a private, quiet place" } " where you will not be overheard, as you would for a visit in person." }
                p { "By joining, you agree to be seen and heard by the clinician, as in a face-to-face appointment. Nothing is recorded unless you are asked and agree. "
                    a href="/privacy" { "How we use your information" } }
            }
            @match child {
                Some(ChildAttendance::WithParentOrGuardian) => p class="notice" { "This appointment is for a young person: a parent or guardian should be with them." },
                Some(ChildAttendance::AloneCompetent) => p class="notice" { "This appointment is for a young person who has chosen to attend on their own." },
                None => {},
            }
            h2 { "Confirm who you are" }
            (error_summary(errors))
            form method="post" novalidate {
                (csrf_field(csrf))
                (field("name", "Your full name", values.get("name"), Input { autocomplete: "name", ..Input::TEXT }, errors))
                @if asks_dob {
                    (date_parts("date_of_birth", "Your date of birth", Some("For example, 27 3 1984"), (values.get("date_of_birth-day"), values.get("date_of_birth-month"), values.get("date_of_birth-year")), true, errors))
                }
                @if group_join::is_group(invite) { (group_join::fields(invite, values, errors)) }
                button type="submit" { "Continue" }
            }
        },
    ))
}

async fn confirm(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    let invite = match invite_or_page(&state, &client, &token).await? {
        Ok(invite) => invite,
        Err(page) => return Ok(page),
    };
    let now = state.clock.now();
    let mut errors = FieldErrors::default();
    let name = PersonName::parse(values.get("name"))
        .map_err(|e| errors.add("name", capitalise(&e.to_string())))
        .ok();
    let today = uk_time::local(now).date();
    // Only the patient is asked their date of birth: a carer or interpreter gives their
    // name, and the clinician checks who they are by asking them.
    let dob = if asks_date_of_birth(invite.attendee.role) {
        DateOfBirth::from_parts(
            values.get("date_of_birth-day"),
            values.get("date_of_birth-month"),
            values.get("date_of_birth-year"),
            today,
        )
        .map_err(|e| errors.add("date_of_birth", capitalise(&e.to_string())))
        .ok()
        .map(Some)
    } else {
        Some(None)
    };
    let group = group_join::is_group(&invite).then(|| group_join::check(&values, &mut errors));
    let (Some(name), Some(dob), true) = (name, dob, errors.is_empty()) else {
        let page = landing_page(&state, &invite, &csrf.0, &values, &errors).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    let org = &invite.consultation.org_id;
    let accepted_before = match group {
        Some(_) => group_join::accepted(&state.store, &invite).await?,
        None => false,
    };
    let mut tx = state.store.begin().await?;
    if let Some(Some(answer)) = &group {
        group_join::record(&mut tx, &invite, answer, accepted_before, now).await?;
    }
    // What they typed is kept as typed: a mismatch is for the clinician to see and ask
    // about, never a reason to turn the patient away.
    match dob {
        Some(dob) => {
            tx.confirm_identity(org, &invite.attendee.id, &name, dob, now)
                .await?
        }
        None => {
            tx.confirm_name(org, &invite.attendee.id, &name, now)
                .await?
        }
    }
    tx.journey_step(
        org,
        &invite.attendee.id,
        JourneyStep::DetailsEntered,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    let ctx = super::join_code::patient_ctx(&state, &client);
    let code = identity_code::after_details(&state, &ctx, org, &invite.attendee).await?;
    let next = if code.may_wait() { "check" } else { "code" };
    Ok(Redirect::to(&format!("/join/{token}/{next}")).into_response())
}

/// The pre-call check and the waiting room: one page, one connection. Joining starts the
/// camera and microphone and connects to the media server for real, so what the check
/// measures is the call's own path; the person then waits on the same connection, which
/// is why admission starts the call at once.
async fn check(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    let invite = match invite_or_page(&state, &client, &token).await? {
        Ok(invite) => invite,
        Err(page) => return Ok(page),
    };
    let rules_missing =
        group_join::is_group(&invite) && !group_join::accepted(&state.store, &invite).await?;
    if invite.attendee.confirmed.is_none() || rules_missing {
        return Ok(Redirect::to(&format!("/join/{token}")).into_response());
    }
    let org = &invite.consultation.org_id;
    if !identity_code::status(&state.store, org, &invite.attendee)
        .await?
        .may_wait()
    {
        return Ok(Redirect::to(&format!("/join/{token}/code")).into_response());
    }
    let chat = ChatOptions {
        files: state.store.org(org).await?.policy.file_sharing_allowed,
        keep: false,
    };
    Ok(layout(
        "Check your camera and join the waiting room",
        None,
        html! {
            h1 { "Check your camera, microphone and connection" }
            (crate::pages::precheck::panel(&csrf.0))
            (call_panel_with(CallRole::Invited { invite: &token }, chat))
            script type="module" src="/assets/precall.js" {}
        },
    )
    .into_response())
}

async fn privacy() -> Markup {
    layout(
        "How we use your information",
        None,
        html! {
            h1 { "How we use your information" }
            p { "Haven is run by the organisation that invited you, which is responsible for your information." }
            ul {
                li { "Your video and sound go through this organisation's own server to the clinician and nobody else. They are not recorded unless you are asked and agree." }
                li { "Your name and date of birth are used to check it is you. What was discussed is written in your health record, as for any appointment." }
                li { "No advertising or tracking. The pages load nothing from other websites." }
                li { "Chat messages are discarded at the end unless the clinician saves them to your record, which they will tell you about." }
            }
            p { "To ask about your information or make a complaint, contact the organisation that invited you." }
        },
    )
}
