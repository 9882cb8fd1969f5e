//! The dashboard: the user's clinics and what their roles let them do.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use haven_domain::Role;
use maud::{Markup, html};

use crate::pages::{csrf_field, layout};
use crate::web::Staff;
use crate::{AppState, Error};

/// The home route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home(State(state): State<AppState>, Staff(who): Staff) -> Result<Markup, Error> {
    let ids = state.store.user_clinics(&who.org.id, &who.user.id).await?;
    let clinics = state.store.clinics(&who.org.id).await?;
    let mine: Vec<_> = clinics.iter().filter(|c| ids.contains(&c.id)).collect();
    // Those who work in the clinic's waiting area (see `pages::waiting::may_see`).
    let staff = [Role::Clinician, Role::Receptionist, Role::Admin]
        .iter()
        .any(|r| who.user.roles.contains(*r));
    let meetings = crate::pages::meetings::upcoming(&state, &who).await?;
    Ok(layout(
        "Home",
        Some(&who),
        html! {
            h1 { "Hello, " (who.user.name.as_str()) }
            p { (who.org.name.as_str()) }
            h2 { "Your clinics" }
            @if mine.is_empty() {
                p { "You are not a member of any clinic yet. An administrator can add you to one." }
            } @else {
                ul {
                    @for c in &mine {
                        li {
                            (c.name.as_str())
                            @if staff {
                                " — " a href={ "/clinics/" (c.id) "/waiting" } { "waiting room" }
                                " · " a href={ "/consultations?clinic=" (c.id) } { "today's consultations" }
                            }
                        }
                    }
                }
            }
            (meetings)
            h2 { "Calls" }
            p { "Try a video call: open a test room, then invite a colleague or a second tab." }
            form method="post" action="/rooms/test" {
                (csrf_field(&who.csrf))
                button type="submit" { "Open a test room" }
            }
            @if who.user.roles.contains(Role::Admin) {
                h2 { "Administration" }
                ul {
                    li { a href="/admin/users" { "Manage users" } }
                    li { a href="/admin/clinics" { "Manage clinics" } }
                    li { a href="/admin/policy" { "Organisation policy" } }
                }
            }
            @if who.user.roles.contains(Role::IgAuditor) {
                h2 { "Governance" }
                ul { li { a href="/audit" { "Audit log" } } }
            }
        },
    ))
}
