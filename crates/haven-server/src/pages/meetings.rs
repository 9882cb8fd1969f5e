//! Colleague meetings from a colleague's side: their upcoming meetings (on the home page)
//! and the page where they join one with their own sign-in and wait for the host to admit
//! them. Only listed colleagues reach a meeting's page; to anyone else it does not exist.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use haven_domain::time::{Duration, Time};
use haven_domain::{ConsultationId, uk_time};
use maud::{Markup, html};

use crate::pages::call::{CallRole, call_panel};
use crate::pages::layout;
use crate::web::{SignedIn, Staff};
use crate::{AppState, Error};

/// How far ahead the home page lists meetings.
const AHEAD: Duration = Duration::days(14);

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/meetings/{id}", get(meeting))
}

/// The signed-in staff member's colleague meetings from today for two weeks, not yet over:
/// those they attend link to the meeting's page, those they host to the consultation page.
pub async fn upcoming(state: &AppState, who: &SignedIn) -> Result<Markup, Error> {
    let today = uk_time::local(state.clock.now()).date();
    let from = uk_time::from_local(today, Time::MIDNIGHT);
    let list = state
        .store
        .meetings_of(&who.org.id, &who.user.id, from, from + AHEAD)
        .await?;
    let list: Vec<_> = list.iter().filter(|c| !c.status.is_final()).collect();
    Ok(html! {
        h2 { "Your colleague meetings" }
        @if list.is_empty() {
            p { "You have no colleague meetings in the next two weeks." }
        } @else {
            ul id="meetings" {
                @for c in list {
                    @let hosting = c.clinician_id.as_ref() == Some(&who.user.id);
                    li {
                        @if hosting {
                            a href={ "/consultations/" (c.id) } { (uk_time::describe(c.starts_at)) }
                            " (you host it)"
                        } @else {
                            a href={ "/meetings/" (c.id) } { (uk_time::describe(c.starts_at)) }
                        }
                    }
                }
            }
        }
    })
}

async fn meeting(
    State(state): State<AppState>,
    Staff(who): Staff,
    Path(id): Path<String>,
) -> Result<Markup, Error> {
    let id = ConsultationId::parse(&id).map_err(|_| Error::NotFound)?;
    let org = &who.org.id;
    // Not listed is not found: the meeting's existence is not revealed.
    state
        .store
        .attendee_of_user(org, &id, &who.user.id)
        .await?
        .ok_or(Error::NotFound)?;
    let c = state.store.consultation(org, &id).await?;
    let host = match &c.clinician_id {
        Some(u) => Some(state.store.user(org, u).await?.name),
        None => None,
    };
    Ok(layout(
        "Colleague meeting",
        Some(&who),
        html! {
            h1 { "Colleague meeting" }
            dl class="summary" {
                dt { "When" } dd { (uk_time::describe(c.starts_at)) }
                dt { "Host" } dd { (host.as_ref().map_or("A clinician of the clinic", |n| n.as_str())) }
            }
            @if c.status.is_final() {
                p { "This meeting is over." }
            } @else {
                p { "When you join you wait until the host lets you in." }
                (call_panel(CallRole::Colleague { consultation: c.id.as_str() }))
            }
        },
    ))
}
