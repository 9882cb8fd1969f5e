//! The user's own account: password change (forced after an admin set the password), MFA
//! enrolment with a QR code and recovery codes, and password reset links.

use axum::Extension;
use axum::Router;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use haven_domain::audit::Actor;
use haven_domain::totp::{self, TotpSecret};
use haven_store::auth::SessionStage;
use maud::{Markup, PreEscaped, html};

use crate::ops::Context;
use crate::ops::accounts;
use crate::pages::{Input, csrf_field, error_summary, field, layout, message_page};
use crate::web::session::load;
use crate::web::{ClientInfo, CsrfToken, FormData, SignedIn, Staff, random_bytes};
use crate::{AppState, Error, FieldErrors};

/// How many recovery codes a user gets at enrolment.
const RECOVERY_CODES: usize = 10;

/// The account routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(overview))
        .route(
            "/account/password",
            get(show_password).post(submit_password),
        )
        .route("/account/mfa", get(show_enrol).post(submit_enrol))
        .route("/account/sessions/end", post(end_my_sessions))
        .route("/reset/{token}", get(show_reset).post(submit_reset))
}

fn ctx(who: &SignedIn, now: haven_domain::time::OffsetDateTime) -> Context {
    Context {
        actor: Actor::Staff(who.user.id.clone()),
        client_addr: Some(who.client.addr.to_string()),
        now,
    }
}

async fn overview(Staff(who): Staff) -> Markup {
    layout(
        "Your account",
        Some(&who),
        html! {
            h1 { "Your account" }
            dl {
                dt { "Name" } dd { (who.user.name.as_str()) }
                dt { "Email address" } dd { (who.user.email.as_str()) }
                dt { "Organisation" } dd { (who.org.name.as_str()) }
                dt { "Roles" } dd { (who.user.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join(", ")) }
                dt { "Two-step sign-in" } dd { @if who.user.totp_secret.is_some() { "On (authenticator app)" } @else { "Off" } }
            }
            ul {
                li { a href="/account/password" { "Change your password" } }
                li { a href="/account/mfa" { @if who.user.totp_secret.is_some() { "Set up a new authenticator app" } @else { "Turn on two-step sign-in" } } }
            }
            form method="post" action="/account/sessions/end" {
                (csrf_field(&who.csrf))
                button type="submit" class="secondary" { "Sign out everywhere" }
            }
        },
    )
}

fn password_page(who: &SignedIn, errors: &FieldErrors) -> Markup {
    let forced = who.user.must_change_password;
    layout(
        "Change your password",
        Some(who),
        html! {
            h1 { "Change your password" }
            @if forced {
                p class="notice" { "Your password was set by an administrator. Choose your own before you continue." }
            }
            (error_summary(errors))
            form method="post" action="/account/password" novalidate {
                (csrf_field(&who.csrf))
                (field("current", "Current password", "", Input { kind: "password", autocomplete: "current-password", hint: None }, errors))
                (field("password", "New password", "", Input { kind: "password", autocomplete: "new-password", hint: Some("At least 12 characters. A passphrase of three or more random words is strong and easy to remember. Do not use your name or email address.") }, errors))
                button type="submit" { "Change password" }
            }
        },
    )
}

async fn show_password(who: SignedIn) -> Markup {
    password_page(&who, &FieldErrors::default())
}

async fn submit_password(
    State(state): State<AppState>,
    who: SignedIn,
    form: FormData,
) -> Result<Response, Error> {
    let ctx = ctx(&who, state.clock.now());
    match accounts::change_password(
        &state.store,
        &ctx,
        &who.user,
        form.get("current"),
        form.get("password"),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(Error::Invalid(errors)) => {
            Ok((StatusCode::BAD_REQUEST, password_page(&who, &errors)).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn end_my_sessions(
    State(state): State<AppState>,
    Staff(who): Staff,
) -> Result<Response, Error> {
    let ctx = ctx(&who, state.clock.now());
    accounts::end_sessions(&state.store, &ctx, &who.user.org_id, &who.user.id).await?;
    Ok(Redirect::to("/signin").into_response())
}

/// The QR code of an `otpauth:` URI as inline SVG (markup, not script: allowed by the CSP).
fn qr_svg(uri: &str) -> Markup {
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(224, 224)
                .build()
        })
        .unwrap_or_default();
    let start = svg.find("<svg").unwrap_or(0);
    PreEscaped(svg[start..].replacen(
        "<svg",
        "<svg role=\"img\" aria-label=\"QR code for your authenticator app\"",
        1,
    ))
}

fn enrol_page(csrf: &str, who_name: &str, secret: &TotpSecret, errors: &FieldErrors) -> Markup {
    let uri = secret.otpauth_uri("Haven", who_name);
    let text = secret.to_base32();
    let grouped = text
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    layout(
        "Set up two-step sign-in",
        None,
        html! {
            h1 { "Set up two-step sign-in" }
            p { "Your organisation asks for a code from an authenticator app each time you sign in, so that a stolen password is not enough." }
            ol {
                li { "Install an authenticator app on your phone if you do not have one (for example Microsoft Authenticator or Google Authenticator)." }
                li { "In the app, add an account and scan this QR code." }
            }
            div class="qr" { (qr_svg(&uri)) }
            p { "If you cannot scan it, enter this key instead: " span class="secret" { (grouped) } }
            (error_summary(errors))
            form method="post" action="/account/mfa" novalidate {
                (csrf_field(csrf))
                input type="hidden" name="secret" value=(text);
                (field("code", "Enter the 6-digit code the app shows", "", Input { kind: "text", autocomplete: "one-time-code", hint: None }, errors))
                button type="submit" { "Turn on two-step sign-in" }
            }
        },
    )
}

/// Who may enrol: a session waiting for MFA whose user has none yet, or anyone signed in.
async fn enrolling(
    state: &AppState,
    req: Request,
) -> Result<Result<(haven_store::users::User, String, SessionStage, Request), Response>, Error> {
    let (parts, body) = req.into_parts();
    let Some(loaded) = load(&parts, state).await? else {
        return Ok(Err(Redirect::to("/signin").into_response()));
    };
    if loaded.session.stage == SessionStage::NeedsMfa && loaded.user.totp_secret.is_some() {
        return Ok(Err(Redirect::to("/signin/mfa").into_response()));
    }
    Ok(Ok((
        loaded.user,
        loaded.hash,
        loaded.session.stage,
        Request::from_parts(parts, body),
    )))
}

async fn show_enrol(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    req: Request,
) -> Result<Response, Error> {
    let (user, _, _, _) = match enrolling(&state, req).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let secret = TotpSecret::from_bytes(random_bytes::<20>());
    Ok(enrol_page(
        &csrf.0,
        user.email.as_str(),
        &secret,
        &FieldErrors::default(),
    )
    .into_response())
}

async fn submit_enrol(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(client): Extension<ClientInfo>,
    req: Request,
) -> Result<Response, Error> {
    let (user, hash, stage, req) = match enrolling(&state, req).await? {
        Ok(found) => found,
        Err(redirect) => return Ok(redirect),
    };
    let form = FormData::from_request(req, &state).await?;
    let secret = TotpSecret::from_base32(form.get("secret")).map_err(|_| {
        Error::BadRequest("the enrolment form was changed; reload the page and start again".into())
    })?;
    let now = state.clock.now();
    let Some(step) = totp::verify(&secret, form.get("code"), now.unix_timestamp(), None) else {
        let mut errors = FieldErrors::default();
        errors.add(
            "code",
            "That code is not right. Check the app shows Haven, and enter the current code.",
        );
        return Ok((
            StatusCode::BAD_REQUEST,
            enrol_page(&csrf.0, user.email.as_str(), &secret, &errors),
        )
            .into_response());
    };
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| totp::recovery_code_from_bytes(random_bytes::<10>()))
        .collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| totp::recovery_code_hash(&totp::normalise_recovery_code(c)))
        .collect();
    let ctx = Context {
        actor: Actor::Staff(user.id.clone()),
        client_addr: Some(client.addr.to_string()),
        now,
    };
    let object = format!("user:{}", user.id);
    let mut tx = state.store.begin().await?;
    tx.enrol_totp(&user.id, &secret, step, &hashes).await?;
    ctx.audit(
        &mut tx,
        Some(&user.org_id),
        "user.mfa_enrol",
        &object,
        "authenticator app",
    )
    .await?;
    if stage == SessionStage::NeedsMfa {
        tx.set_session_stage(&hash, SessionStage::Complete).await?;
        ctx.audit(
            &mut tx,
            Some(&user.org_id),
            "staff.sign_in",
            &object,
            "password and new authenticator",
        )
        .await?;
    }
    tx.commit().await?;
    let next = if user.must_change_password {
        "/account/password"
    } else {
        "/"
    };
    Ok(layout("Save your recovery codes", None, html! {
        h1 { "Save your recovery codes" }
        p { "Two-step sign-in is on. If you lose your phone, each of these codes lets you sign in once. Keep them somewhere safe, away from your phone. They will not be shown again." }
        ul class="codes" { @for code in &codes { li { (code) } } }
        p { a class="button" href=(next) { "I have saved my codes – continue" } }
    }).into_response())
}

fn reset_page(csrf: &str, errors: &FieldErrors) -> Markup {
    layout(
        "Choose a new password",
        None,
        html! {
            h1 { "Choose a new password" }
            (error_summary(errors))
            form method="post" novalidate {
                (csrf_field(csrf))
                (field("password", "New password", "", Input { kind: "password", autocomplete: "new-password", hint: Some("At least 12 characters. A passphrase of three or more random words is strong and easy to remember.") }, errors))
                button type="submit" { "Set password" }
            }
        },
    )
}

fn dead_reset_link() -> Response {
    (StatusCode::NOT_FOUND, message_page(
        "This link cannot be used",
        "Password reset links work once, for one hour. Ask an administrator of your organisation for a new one.",
    )).into_response()
}

async fn show_reset(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Path(token): Path<String>,
) -> Result<Response, Error> {
    if !accounts::reset_link_is_live(&state.store, &token, state.clock.now()).await? {
        return Ok(dead_reset_link());
    }
    Ok(reset_page(&csrf.0, &FieldErrors::default()).into_response())
}

async fn submit_reset(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Extension(client): Extension<ClientInfo>,
    Path(token): Path<String>,
    form: FormData,
) -> Result<Response, Error> {
    let now = state.clock.now();
    match accounts::complete_reset(
        &state.store,
        now,
        Some(client.addr.to_string()),
        &token,
        form.get("password"),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/signin?reset=done").into_response()),
        Err(Error::Invalid(errors)) => {
            Ok((StatusCode::BAD_REQUEST, reset_page(&csrf.0, &errors)).into_response())
        }
        Err(Error::NotFound) => Ok(dead_reset_link()),
        Err(e) => Err(e),
    }
}
