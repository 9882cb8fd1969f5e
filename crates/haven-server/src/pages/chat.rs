//! The call's chat panel, which `web/chat.js` brings to life. The notice above it is
//! permanent; the controls for files and for keeping the chat exist only when the
//! organisation's policy (and, for keeping, the viewer's role) allows them.

use haven_domain::chat::{MAX_CHARS, MAX_FILE_BYTES};
use maud::{Markup, html};

use super::call::ChatOptions;

/// The chat: notice, messages (a polite live region), message box, and the optional
/// controls.
pub fn chat_panel(options: ChatOptions) -> Markup {
    html! {
        section id="chat" class="chat" aria-labelledby="chat-title" hidden {
            h3 id="chat-title" { "Chat" }
            p class="chat-notice" {
                strong { "Everyone in the call sees these messages, " }
                "including anyone who leaves the call later. Web addresses are never links: "
                "do not open one unless you are sure who sent it."
            }
            p id="chat-kept" class="notice" role="status" hidden {}
            div id="chat-log" class="chat-log" role="log" aria-live="polite" aria-label="Chat messages" tabindex="0" {
                ol id="chat-list" {}
            }
            form id="chat-form" class="chat-form" novalidate {
                label for="chat-text" { "Message" }
                p id="chat-help" class="hint" {
                    "Enter sends; Shift and Enter starts a new line. Up to " (MAX_CHARS) " characters."
                }
                p id="chat-error" class="error-message" role="alert" hidden {}
                textarea id="chat-text" name="text" rows="2" aria-describedby="chat-help chat-error" autocomplete="off" {}
                button type="submit" { "Send" }
            }
            @if options.files {
                div id="chat-files" class="chat-files" hidden {
                    label for="chat-file" { "Share a file" }
                    p id="chat-file-help" class="hint" {
                        "A PDF, PNG or JPEG of up to " (MAX_FILE_BYTES / (1024 * 1024)) " MB. "
                        "Everyone in the call can download it until the call ends."
                    }
                    input id="chat-file" type="file" accept=".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg" aria-describedby="chat-file-help";
                    button id="chat-share" type="button" class="secondary" { "Share the file" }
                }
            }
            @if options.keep {
                div class="chat-keep" {
                    button id="chat-keep" type="button" class="secondary" aria-describedby="chat-keep-status" {
                        "Save this chat to the record"
                    }
                    p id="chat-keep-status" class="hint" role="status" {
                        "Not saved: the chat is discarded when the consultation ends unless you save it."
                    }
                }
            }
        }
    }
}
