//! The staff test room: `POST /rooms/test` opens a live room hosted by the signed-in staff
//! member and shows an invitation link (`/r/{seat token}`) for a colleague or a second tab.
//! The link is shown once: only the token's hash is kept. `POST /rooms/test/invite` issues
//! one more link to the same room. Both pages carry the call client (`pages::call`).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::live::LiveError;
use super::seats::SeatToken;
use super::ws;
use crate::pages::call::{CallRole, call_panel};
use crate::pages::{csrf_field, layout};
use crate::web::Staff;
use crate::{AppState, Error};

/// `/ws`, `/rooms/test`, `/rooms/test/invite` and `/r/{token}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ws", get(ws::upgrade))
        .route("/rooms/test", post(open_test_room))
        .route("/rooms/test/invite", post(invite_another))
        .route("/r/{token}", get(invitation))
}

async fn open_test_room(State(state): State<AppState>, who: Staff) -> Result<Markup, Error> {
    let (room, token) = state
        .live
        .open_test_room(who.user.id.clone(), state.clock.now())
        .map_err(|e| match e {
            LiveError::NoMedia => Error::Internal("the media server is not running".into()),
            other => Error::Internal(other.to_string()),
        })?;
    let link = format!("{}/r/{}", state.config.public_url, token.as_str());
    Ok(layout(
        "Test room",
        Some(&who),
        html! {
            h1 { "Test room" }
            p { "Your test room " (room.get()) " is open for four hours, or until you end it." }
            h2 { "Invite someone" }
            p {
                "Send this link to a colleague, or open it in a second tab. It admits one person, "
                "and it is shown only now."
            }
            p { a id="invite-link" href=(link) { (link) } }
            form method="post" action="/rooms/test/invite" target="_blank" {
                (csrf_field(&who.csrf))
                button type="submit" class="secondary" { "Invite another person (opens in a new tab)" }
            }
            (call_panel(CallRole::Host))
        },
    ))
}

/// Another invitation link to the room the staff member hosts.
async fn invite_another(State(state): State<AppState>, who: Staff) -> Result<Markup, Error> {
    let token = state
        .live
        .invite(&who.user.id, state.clock.now())
        .map_err(|_| Error::NotFound)?;
    let link = format!("{}/r/{}", state.config.public_url, token.as_str());
    Ok(layout(
        "Another invitation",
        Some(&who),
        html! {
            h1 { "Another invitation" }
            p { "This link admits one more person to your test room. It is shown only now." }
            p { a id="invite-link" href=(link) { (link) } }
        },
    ))
}

async fn invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Markup, Error> {
    let token = SeatToken::parse(&token).map_err(|_| Error::NotFound)?;
    state.live.seat_room(&token).ok_or(Error::NotFound)?;
    Ok(layout(
        "Invitation to a test call",
        None,
        html! {
            h1 { "You are invited to a test call" }
            p { "This link admits you to a test call in Haven. Keep it to yourself: it works for one person." }
            (call_panel(CallRole::Guest { seat: token.as_str() }))
        },
    ))
}
