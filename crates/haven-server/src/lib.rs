//! Haven's server: the HTTP routes and pages, staff sign-in, and the operations that the
//! web pages and the command line share.
//!
//! A tour:
//! - [`Config`] is the server's configuration as a value; the binary builds it from flags,
//!   environment and file. [`AppState`] is what every request handler sees.
//! - [`router`] builds the whole axum `Router`; [`serve`] runs it on a socket (plain HTTP,
//!   or HTTPS with rustls).
//! - [`ops`] holds the operations shared by pages and the command line (create an
//!   organisation, add a user, verify the audit log…), each writing its audit entry in the
//!   same transaction as its change.
//! - [`web`] holds request plumbing: security headers, CSRF, client addresses, sessions.
//! - [`pages`] renders the server-side HTML pages (maud); no page has an inline script.
//! - [`pii`] wraps personal data so it cannot reach a log by accident.
//! - [`media`] is the media transport; [`signal`] the WebSocket signalling that drives it
//!   (`/ws`) and the staff test room.
//! - [`invites`] makes each participant's link and delivers invitations through the outbox
//!   (console, GOV.UK Notify, SMTP), with Notify's delivery receipts.
//! - [`record`] builds each patient's FHIR R4 bundle from a consultation's finished notes
//!   and delivers it to the configured record system (or for download).

pub mod api;
pub mod clock;
mod config;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod invites;
pub mod media;
pub mod ops;
mod pages;
pub mod pii;
pub mod record;
mod serve;
pub mod signal;
pub mod web;

use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    Config, DEFAULT_INVITE_POLL, DEFAULT_RECONNECT_GRACE, FhirEndpoint, InviteChannel,
    InviteSettings, MediaSettings, NotifySettings, RecordSettings, SmtpSettings, TlsFiles,
    TrustedProxies,
};
pub use error::{Error, FieldErrors};
pub use serve::{router, serve};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: haven_store::Store,
    /// The source of "now"; tests use a [`ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// The server configuration.
    pub config: Arc<Config>,
    /// Live calls: the media server (started by [`serve`]), rooms, seats and connections.
    pub live: Arc<signal::Live>,
}

impl AppState {
    /// A state for `store` with `config` and the given clock.
    pub fn new(store: haven_store::Store, config: Config, clock: Arc<dyn Clock>) -> AppState {
        let live = Arc::new(signal::Live::new(
            config.media.clone(),
            clock.clone(),
            store.clone(),
        ));
        AppState {
            store,
            clock,
            config: Arc::new(config),
            live,
        }
    }
}
