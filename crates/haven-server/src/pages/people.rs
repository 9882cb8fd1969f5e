//! More people in a consultation, from the clinician's side: inviting a carer, an
//! interpreter or a colleague during the call, removing anyone, the private side-room, and
//! the attendance register (each person's role and times in the call) on the
//! consultation's page. Also the page a removed person sees when they open their link.

use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use haven_domain::consultation::AttendeeRole;
use haven_domain::{AttendeeId, ConsultationId, Role, uk_time};
use haven_store::consultations::{Attendee, Consultation};
use maud::{Markup, html};

use crate::ops::people::{NewPerson, add_person, remove_person, side_room};
use crate::pages::admit::ctx;
use crate::pages::form::{radios, select};
use crate::pages::{Input, csrf_field, error_summary, field, layout};
use crate::web::{ClientInfo, FormData, SignedIn, Staff};
use crate::{AppState, Error, FieldErrors};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/consultations/{id}/people/new",
            get(add_form).post(add_submit),
        )
        .route(
            "/consultations/{id}/attendees/{attendee}/remove",
            post(remove),
        )
        .route("/consultations/{id}/side-room", post(side_room_open))
        .route("/consultations/{id}/side-room/end", post(side_room_end))
}

const ROLES: [(&str, &str); 3] = [
    ("carer", "A carer or family member"),
    ("interpreter", "An interpreter"),
    ("colleague", "A colleague"),
];

const SENDS: [(&str, &str); 3] = [
    ("sms", "Text message"),
    ("email", "Email"),
    ("copy", "Show me the link to copy and pass on"),
];

/// How a role reads on the page.
pub(crate) fn role_label(role: AttendeeRole) -> &'static str {
    match role {
        AttendeeRole::Patient => "Patient",
        AttendeeRole::Carer => "Carer or family member",
        AttendeeRole::Interpreter => "Interpreter",
        AttendeeRole::Colleague => "Colleague",
    }
}

fn clinician(who: &SignedIn) -> Result<(), Error> {
    who.require(Role::Clinician)
}

async fn consultation(state: &AppState, who: &SignedIn, id: &str) -> Result<Consultation, Error> {
    let id = ConsultationId::parse(id).map_err(|_| Error::NotFound)?;
    Ok(state.store.consultation(&who.org.id, &id).await?)
}

async fn add_page(
    state: &AppState,
    who: &SignedIn,
    c: &Consultation,
    values: &FormData,
    errors: &FieldErrors,
) -> Result<Markup, Error> {
    let staff: Vec<(String, String)> = state
        .store
        .users(&who.org.id)
        .await?
        .into_iter()
        .filter(|u| !u.disabled && u.id != who.user.id)
        .map(|u| (u.id.as_str().to_owned(), u.name.as_str().to_owned()))
        .collect();
    Ok(layout(
        "Invite someone to the consultation",
        Some(who),
        html! {
            h1 { "Invite someone to the consultation" }
            p { "They get their own link, go through the same checks and wait in the waiting room until you admit them." }
            (error_summary(errors))
            form method="post" action={ "/consultations/" (c.id) "/people/new" } novalidate {
                (csrf_field(&who.csrf))
                (radios("role", "Who are you inviting?", None, &ROLES, values.get("role"), errors))
                (select("staff", "A colleague on your organisation's staff (optional)", Some("Someone from outside: send them a link"), &staff, values.get("staff"), errors))
                p class="hint" { "A colleague on your staff joins signed in to Haven, from their home page; leave the fields below empty for them." }
                (field("name", "Their full name", values.get("name"), Input::TEXT, errors))
                (field("mobile", "UK mobile number", values.get("mobile"), Input { kind: "tel", autocomplete: "off", hint: Some("For a text message, for example 07700 900123") }, errors))
                (field("email", "Email address", values.get("email"), Input { kind: "email", autocomplete: "off", hint: None }, errors))
                (radios("send", "Give them their link by", None, &SENDS, values.get("send"), errors))
                button type="submit" { "Invite" }
            }
            p { a href={ "/consultations/" (c.id) } { "Back to the consultation" } }
        },
    ))
}

async fn add_form(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    clinician(&who)?;
    let c = consultation(&state, &who, &id).await?;
    add_page(
        &state,
        &who,
        &c,
        &FormData::default(),
        &FieldErrors::default(),
    )
    .await
}

async fn add_submit(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path(id): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    clinician(&who)?;
    let c = consultation(&state, &who, &id).await?;
    let input = NewPerson {
        role: values.get("role"),
        staff: values.get("staff"),
        name: values.get("name"),
        mobile: values.get("mobile"),
        email: values.get("email"),
        send: values.get("send"),
    };
    let ctx = ctx(&state, &who, &client);
    match add_person(&state, &ctx, &who.org.id, &c.id, &input).await {
        Ok(added) => match added.link {
            // The only copy of the token: shown once, never stored.
            Some(link) => Ok(layout(
                "Their link",
                Some(&who),
                html! {
                    h1 { "Their link" }
                    p { "Pass this link on to them. It is shown only once; to give them a new one, use \"Send the invitation again\" on the consultation's page." }
                    label for="link" { "Link for " (values.get("name").trim()) }
                    input id="link" type="text" readonly name="link" value=(link.as_str());
                    p { a class="button" href={ "/consultations/" (c.id) } { "Back to the consultation" } }
                },
            )
            .into_response()),
            None => Ok(Redirect::to(&format!("/consultations/{}", c.id)).into_response()),
        },
        Err(Error::Invalid(errors)) => Ok((
            StatusCode::BAD_REQUEST,
            add_page(&state, &who, &c, &values, &errors).await?,
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

async fn remove(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path((id, attendee)): Path<(String, String)>,
) -> Result<Response, Error> {
    clinician(&who)?;
    let c = consultation(&state, &who, &id).await?;
    let attendee = AttendeeId::parse(&attendee).map_err(|_| Error::NotFound)?;
    let ctx = ctx(&state, &who, &client);
    remove_person(&state, &ctx, &who.org.id, &c.id, &attendee).await?;
    Ok(Redirect::to(&format!("/consultations/{}", c.id)).into_response())
}

async fn side_room_open(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path(id): Path<String>,
    values: FormData,
) -> Result<Response, Error> {
    clinician(&who)?;
    let c = consultation(&state, &who, &id).await?;
    let attendee = AttendeeId::parse(values.get("attendee").trim())
        .map_err(|_| Error::BadRequest("choose who to talk with privately".into()))?;
    let ctx = ctx(&state, &who, &client);
    side_room(&state, &ctx, &who.org.id, &c.id, Some(&attendee)).await?;
    Ok(Redirect::to(&format!("/consultations/{}", c.id)).into_response())
}

async fn side_room_end(
    State(state): State<AppState>,
    Staff(who): Staff,
    Extension(client): Extension<ClientInfo>,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    clinician(&who)?;
    let c = consultation(&state, &who, &id).await?;
    let ctx = ctx(&state, &who, &client);
    side_room(&state, &ctx, &who.org.id, &c.id, None).await?;
    Ok(Redirect::to(&format!("/consultations/{}", c.id)).into_response())
}

/// The consultation page's people section: the attendance register (role, and each stay
/// in the call from admission to leaving) and, for clinicians while it is on, inviting,
/// removing and the side-room.
pub async fn section(
    state: &AppState,
    who: &SignedIn,
    c: &Consultation,
    people: &[Attendee],
) -> Result<Markup, Error> {
    let org = &who.org.id;
    let stays = state.store.stays(org, &c.id).await?;
    let removals = state.store.removals(org, &c.id).await?;
    let acts = who.user.roles.contains(Role::Clinician) && !c.status.is_final();
    let name_of = |a: &AttendeeId| {
        people
            .iter()
            .find(|p| p.id == *a)
            .map_or("Someone", |p| p.name.as_str())
    };
    Ok(html! {
        h2 id="register-heading" { "Attendance register" }
        @if stays.is_empty() { p id="register-none" { "Nobody has been admitted yet." } }
        @else {
            div class="table-wrap" role="region" aria-labelledby="register-heading" tabindex="0" {
                table id="register" aria-labelledby="register-heading" {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Admitted" } th scope="col" { "Left" } } }
                    tbody {
                        @for s in &stays {
                            @let role = people.iter().find(|p| p.id == s.attendee).map(|p| p.role);
                            tr data-attendee=(s.attendee) {
                                td { (name_of(&s.attendee)) }
                                td { (role.map_or("", role_label)) }
                                td { (uk_time::describe(s.admitted_at)) }
                                td { (s.left_at.map_or("Still in the call".to_owned(), uk_time::describe)) }
                            }
                        }
                    }
                }
            }
        }
        @if !removals.is_empty() {
            p id="removed" { "Removed: " @for (i, r) in removals.iter().enumerate() { @if i > 0 { ", " } (name_of(&r.attendee)) " (" (uk_time::describe(r.at)) ")" } "." }
        }
        @if acts {
            h2 { "People in the call" }
            p { a class="button" href={ "/consultations/" (c.id) "/people/new" } { "Invite a carer, interpreter or colleague" } }
            @for a in people.iter().filter(|a| !removals.iter().any(|r| r.attendee == a.id)) {
                div class="person" data-attendee=(a.id) {
                    span { (a.name.as_str()) " (" (role_label(a.role)) ") " }
                    form method="post" action={ "/consultations/" (c.id) "/side-room" } class="inline-form" {
                        (csrf_field(&who.csrf))
                        input type="hidden" name="attendee" value=(a.id);
                        button type="submit" class="secondary" { "Talk privately with " (a.name.as_str()) }
                    }
                    form method="post" action={ "/consultations/" (c.id) "/attendees/" (a.id) "/remove" } class="inline-form" {
                        (csrf_field(&who.csrf))
                        button type="submit" class="warning" { "Remove " (a.name.as_str()) }
                    }
                }
            }
            form method="post" action={ "/consultations/" (c.id) "/side-room/end" } {
                (csrf_field(&who.csrf))
                button type="submit" class="secondary" { "Bring everyone back" }
            }
            p class="hint" { "While you talk privately with one person, everyone else is held: they see and hear nothing until you bring everyone back." }
        }
    })
}

/// The page for a removed person's link, if the link's holder was removed (their link is
/// dead; this says why and whom to contact instead of "it may have expired").
pub(crate) async fn removed_page(state: &AppState, token: &str) -> Result<Option<Response>, Error> {
    let hash = crate::invites::token_hash(token);
    let Some(removal) = state.store.removal_by_link(&hash).await? else {
        return Ok(None);
    };
    let c = state
        .store
        .consultation(&removal.org, &removal.consultation)
        .await?;
    let clinic = state.store.clinic(&removal.org, &c.clinic_id).await?;
    let org = state.store.org(&removal.org).await?;
    let page = layout(
        "You were removed from this consultation",
        None,
        html! {
            h1 { "You were removed from this consultation" }
            p { "The clinician removed you from this video consultation, so your link no longer works." }
            h2 { "What to do" }
            ul {
                li { "If you think this is a mistake, contact " (clinic.name.as_str()) ", " (org.name.as_str()) ", using the phone number on your appointment letter or their website." }
                li { "If you need urgent medical help, call 111, or 999 in an emergency." }
            }
        },
    );
    Ok(Some((StatusCode::GONE, page).into_response()))
}
