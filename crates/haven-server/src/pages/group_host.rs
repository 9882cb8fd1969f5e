//! The hosts' part of a group consultation's page: who hosts it, every attendee with
//! their full details next to what they typed, whether they passed their checks, where
//! they are (waiting, in the call), the attendance register, and the controls (admit one
//! or all who passed, mute, stop or allow video, remove). Other staff see the list
//! without the controls.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use haven_domain::consultation::Kind;
use haven_domain::{AttendeeId, ConsultationId};
use haven_store::consultations::Consultation;
use haven_store::record::Stay;
use maud::{Markup, html};

use crate::ops::group_host::{self, Checked, Control};
use crate::pages::{csrf_field, when};
use crate::web::{ClientInfo, FormData, SignedIn, Staff};
use crate::{AppState, Error};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/consultations/{id}/group/admit-all", post(admit_all))
        .route("/consultations/{id}/group/{attendee}/{action}", post(act))
}

/// Everything the section shows, read before rendering.
pub struct View {
    hosts: Vec<String>,
    people: Vec<Checked>,
    waiting: Vec<AttendeeId>,
    stays: Vec<Stay>,
    is_host: bool,
}

/// Reads what the group section shows; `None` for other kinds.
pub async fn view(
    state: &AppState,
    who: &SignedIn,
    c: &Consultation,
) -> Result<Option<View>, Error> {
    if c.kind != Kind::Group {
        return Ok(None);
    }
    let org = &who.org.id;
    let mut hosts = Vec::new();
    for h in state.store.hosts(org, &c.id).await? {
        hosts.push(state.store.user(org, &h).await?.name.as_str().to_owned());
    }
    Ok(Some(View {
        hosts,
        people: group_host::checked(state, org, &c.id).await?,
        waiting: group_host::waiting(state, &c.id),
        stays: state.store.stays(org, &c.id).await?,
        is_host: state.store.is_host(org, &c.id, &who.user.id).await?,
    }))
}

/// The section.
pub fn section(who: &SignedIn, c: &Consultation, v: &View) -> Markup {
    let live = !c.status.is_final();
    let base = format!("/consultations/{}/group", c.id);
    let passed_waiting = v
        .people
        .iter()
        .filter(|p| p.passed && v.waiting.contains(&p.person.attendee.id))
        .count();
    html! {
        h2 { "Hosts" }
        ul id="hosts" { @for h in &v.hosts { li { (h) } } }
        h2 { "Attendees" }
        p class="hint" { "Full details are for hosts. Attendees see each other only by first name or the name they chose." }
        @if v.is_host && live {
            p { a class="button" href={ "/consultations/" (c.id) "/call" } { "Open the call" } }
            form method="post" action={ (base) "/admit-all" } {
                (csrf_field(&who.csrf))
                button type="submit" id="admit-all" { "Admit all who have passed their checks (" (passed_waiting) " waiting)" }
            }
        }
        @for p in &v.people {
            @let a = &p.person.attendee;
            @let waiting = v.waiting.contains(&a.id);
            section class="group-attendee" aria-labelledby={ "group-" (a.id) } data-attendee=(a.id) {
                h3 id={ "group-" (a.id) } { (a.name.as_str()) }
                dl class="summary" {
                    dt { "Booked" } dd { (a.name.as_str()) ", born " (p.person.dob.iso()) ", NHS number " (p.person.nhs_number.as_ref().map_or("not given".to_owned(), |n| n.formatted())) }
                    dt { "They typed" } dd { @match &a.confirmed { Some(k) => { (k.name.as_str()) ", born " (k.dob.map(|d| d.iso()).unwrap_or_default()) }, None => "Not joined yet" } }
                    dt { "Shown to the group as" } dd { (p.person.shown_name().as_str()) }
                    dt { "Ground rules" } dd { @if p.ground_rules { "Accepted" } @else { "Not accepted yet" } }
                    dt { "Checks" } dd class="check" { @if p.passed { "Passed" } @else { "Not passed: check with them before admitting" } }
                    dt { "Now" } dd class="where" { @if waiting { "Waiting" } @else { "Not waiting" } }
                    dt { "Attendance" } dd class="register" { (register(&v.stays, &a.id)) }
                }
                @if v.is_host && live {
                    @if waiting {
                        form method="post" action={ (base) "/" (a.id) "/admit" } class="inline-form" {
                            (csrf_field(&who.csrf))
                            div class="checkbox" {
                                input type="checkbox" id={ "identity-" (a.id) } name="identity_confirmed" value="yes";
                                label for={ "identity-" (a.id) } { "I have checked who this is" }
                            }
                            button type="submit" { "Admit " (a.name.as_str()) }
                        }
                    }
                    form method="post" action={ (base) "/" (a.id) "/mute" } class="inline-form" {
                        (csrf_field(&who.csrf))
                        button type="submit" class="secondary" { "Mute " (a.name.as_str()) }
                        button type="submit" class="secondary" formaction={ (base) "/" (a.id) "/stop-video" } { "Stop video" }
                        button type="submit" class="secondary" formaction={ (base) "/" (a.id) "/allow-video" } { "Allow video" }
                        button type="submit" class="warning" formaction={ (base) "/" (a.id) "/remove" } { "Remove " (a.name.as_str()) }
                    }
                }
            }
        }
    }
}

/// The page instead of the one-to-one checklist (reached from the clinic's waiting room):
/// a group's attendees are admitted by its hosts, from the group's page.
pub fn admit_elsewhere(who: &SignedIn, c: &Consultation) -> Markup {
    crate::pages::layout(
        "Admit group attendees",
        Some(who),
        html! {
            h1 { "Admit group attendees" }
            p { "This is a group consultation: its hosts check and admit attendees from the group's page, one by one or all who have passed their checks." }
            p { a class="button" href={ "/consultations/" (c.id) } { "Go to the group's page" } }
        },
    )
}

/// An attendee's stays, "from – to", or that they have not attended.
fn register(stays: &[Stay], attendee: &AttendeeId) -> Markup {
    let mine: Vec<&Stay> = stays.iter().filter(|s| s.attendee == *attendee).collect();
    html! {
        @if mine.is_empty() { "Not attended" }
        @for (i, s) in mine.iter().enumerate() {
            @if i > 0 { "; " }
            (when(s.admitted_at)) " to " (s.left_at.map_or("now".to_owned(), when))
        }
    }
}

async fn admit_all(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(client): axum::Extension<ClientInfo>,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    group_host::require_host(&state, &who.org.id, &id, &who.user.id).await?;
    let ctx = crate::pages::admit::ctx(&state, &who, &client);
    group_host::admit_all_passed(&state, &ctx, &who.org.id, &id).await?;
    Ok(Redirect::to(&format!("/consultations/{id}")).into_response())
}

async fn act(
    State(state): State<AppState>,
    Staff(who): Staff,
    axum::Extension(client): axum::Extension<ClientInfo>,
    Path((id, attendee, action)): Path<(String, String, String)>,
    values: FormData,
) -> Result<Response, Error> {
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    let attendee = AttendeeId::parse(&attendee).map_err(|_| Error::NotFound)?;
    let org = &who.org.id;
    group_host::require_host(&state, org, &id, &who.user.id).await?;
    let ctx = crate::pages::admit::ctx(&state, &who, &client);
    match action.as_str() {
        "admit" => {
            let confirmed = values.get("identity_confirmed") == "yes";
            group_host::admit_one(&state, &ctx, org, &id, &attendee, confirmed).await?;
        }
        "mute" => group_host::control(&state, &ctx, org, &id, &attendee, Control::Mute).await?,
        "stop-video" => {
            group_host::control(&state, &ctx, org, &id, &attendee, Control::StopVideo).await?;
        }
        "allow-video" => {
            group_host::control(&state, &ctx, org, &id, &attendee, Control::AllowVideo).await?;
        }
        "remove" => group_host::remove(&state, &ctx, org, &id, &attendee).await?,
        _ => return Err(Error::NotFound),
    }
    Ok(Redirect::to(&format!("/consultations/{id}")).into_response())
}
