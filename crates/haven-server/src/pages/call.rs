//! The call panel that `web/call-ui.js` brings to life: the staff test room's host view and
//! the invitation page's guest view. Data reaches the script through `data-` attributes
//! only (the CSP allows no inline script).

use maud::{Markup, html};

/// Whose view of the call.
pub enum CallRole<'a> {
    /// The staff member hosting the test room (joins with the session): may eject and end.
    Host,
    /// A guest admitted by the seat token from a test room's invitation link.
    Guest { seat: &'a str },
    /// A clinician in a consultation (joins with the session and the consultation's id).
    Clinician { consultation: &'a str },
    /// Someone invited to a consultation, by the token of their link: they wait until
    /// admitted.
    Invited { invite: &'a str },
    /// A colleague listed for a colleague meeting (joins with the session and the
    /// meeting's id): they wait until the host admits them.
    Colleague { consultation: &'a str },
}

/// What the chat offers in this call, from the organisation's policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChatOptions {
    /// Files may be shared (`file_sharing_allowed`): without it the control does not exist.
    pub files: bool,
    /// This viewer is a clinician who may keep the chat with the record (`chat_retained`):
    /// without it the control does not exist.
    pub keep: bool,
}

/// The call with a chat that offers neither files nor keeping (test rooms, colleagues).
pub fn call_panel(role: CallRole<'_>) -> Markup {
    call_panel_with(role, ChatOptions::default())
}

/// The call: status line, join button, tiles, controls, chat and the "ended" state.
pub fn call_panel_with(role: CallRole<'_>, chat: ChatOptions) -> Markup {
    let (seat, invite, consultation, host) = match role {
        CallRole::Host => (None, None, None, true),
        CallRole::Guest { seat } => (Some(seat), None, None, false),
        CallRole::Clinician { consultation } => (None, None, Some(consultation), true),
        CallRole::Invited { invite } => (None, Some(invite), None, false),
        CallRole::Colleague { consultation } => (None, None, Some(consultation), false),
    };
    html! {
        section id="call" class="call" aria-labelledby="call-title"
            data-seat=[seat] data-invite=[invite] data-consultation=[consultation]
            data-host=(if host { "true" } else { "false" }) {
            h2 id="call-title" { "The call" }
            p id="call-status" class="call-status" role="status" aria-live="polite" {
                "You have not joined the call yet. Joining turns on your camera and microphone."
            }
            p id="call-ending" class="notice call-notice" role="alert" hidden {}
            p id="call-side-room" class="notice call-notice" role="status" aria-live="assertive" hidden {}
            noscript {
                p class="notice" { "The call needs JavaScript. Turn it on for this site, then reload the page." }
            }
            div id="call-start" class="actions" {
                // Enabled by the call's script once it listens: a press before then (a slow
                // phone still loading it) would do nothing and say nothing.
                button id="call-join" type="button" disabled {
                    @if invite.is_some() { "Start the check" } @else { "Join the call" }
                }
            }
            div id="call-waiting" class="notice" hidden {
                h2 { "You are in the waiting room" }
                p { "The clinician will let you in when they are ready. Keep this page open; you can see yourself below while you wait." }
                p id="call-notice" class="call-notice" role="status" aria-live="assertive" hidden {}
            }
            div id="call-live" hidden {
                ul id="tiles" class="tiles" aria-label="People in the call" {
                    li class="tile tile-local" {
                        video id="local-video" muted playsinline autoplay aria-label="Your camera" {}
                        p class="tile-name" { "You" @if host { " (host)" } }
                    }
                }
                div class="call-controls" role="group" aria-label="Call controls" {
                    button id="mute-audio" type="button" class="secondary" aria-pressed="false" { "Mute microphone" }
                    button id="mute-video" type="button" class="secondary" aria-pressed="false" { "Turn camera off" }
                    button id="audio-only" type="button" class="secondary" aria-pressed="false" { "Audio only" }
                    button id="leave-call" type="button" class="secondary" { "Leave the call" }
                    @if host {
                        button id="end-call" type="button" class="warning" {
                            @if consultation.is_some() { "End consultation for everyone" } @else { "End call for everyone" }
                        }
                    }
                }
                p id="call-quality" class="call-quality" data-quality="unknown" { "Connection: not measured yet" }
                (super::chat::chat_panel(chat))
                p id="call-bandwidth" class="notice" hidden {
                    "Your connection is too slow for video just now, so the video you receive is "
                    "paused. You can still hear and be heard. Video comes back by itself when the "
                    "connection improves; moving closer to your Wi-Fi router can help."
                }
            }
            div id="call-ended" class="call-ended" role="alert" hidden {
                h2 id="call-ended-title" tabindex="-1" {
                    @if invite.is_some() || consultation.is_some() {
                        "Your consultation has ended. The connection is closed."
                    } @else {
                        "The call has ended — the connection is closed"
                    }
                }
                p id="call-ended-reason" {}
            }
        }
        script type="module" src="/assets/call-ui.js" {}
    }
}
