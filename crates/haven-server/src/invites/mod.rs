//! Invitations: each participant's own link, and its delivery through the outbox.
//!
//! A tour:
//! - A link is `{public_url}/join/{token}`: 256 random bits in unpadded base64url, kept
//!   only as its SHA-256 ([`mint_link`], [`token_hash`]). It works until the organisation's
//!   link lifetime runs out ([`link_expiry`]; the appointment day by default) and dies when
//!   the consultation ends or is cancelled (the store checks both on every look-up).
//! - [`ops`] queues an invitation ([`ops::enqueue_in`], inside a booking's transaction) or
//!   a resend ([`ops::resend`]); each is audited. An outbox row holds no link and no text.
//! - [`worker`] delivers: its [`worker::Worker::step`] claims due rows, mints a fresh link
//!   per send, sends through the configured [`transport`] (console, [`notify`], [`smtp`])
//!   and records sent, retry (with backoff) or failed. [`worker::spawn`] runs it under
//!   `serve`.
//! - [`callbacks`] takes GOV.UK Notify's delivery receipts (`POST /callbacks/notify`).
//!
//! Nothing here logs a link, a token, a name or a contact detail: links go only to the
//! provider (or standard output for the console channel), reasons shown to staff name
//! status codes and error types only.

pub mod callbacks;
pub mod code;
pub mod notify;
pub mod ops;
pub mod smtp;
pub mod transport;
pub mod worker;

use std::fmt;

use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, OrgId, OrgPolicy};
use haven_store::Tx;

use crate::Error;

/// An invitation link. `Debug` never prints it: the token in it opens a consultation.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinLink {
    url: String,
    token_start: usize,
}

impl JoinLink {
    /// The whole link, to send or show once.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The token at its end.
    pub fn token(&self) -> &str {
        &self.url[self.token_start..]
    }
}

impl fmt::Debug for JoinLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinLink({redacted})")
    }
}

/// The bearer token GOV.UK Notify presents on delivery receipts. `Debug` never prints it.
#[derive(Clone)]
pub struct CallbackToken(String);

impl CallbackToken {
    /// Checks the token as Notify does (at least 10 characters); the message never repeats
    /// it.
    pub fn parse(text: &str) -> Result<CallbackToken, String> {
        if text.chars().count() < 10 || text.chars().any(char::is_whitespace) {
            return Err("must be at least 10 characters, without spaces".into());
        }
        Ok(CallbackToken(text.to_string()))
    }

    /// Whether `presented` is this token, in time that does not depend on where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        crate::web::secrets_equal(&self.0, presented)
    }
}

impl fmt::Debug for CallbackToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackToken({redacted})")
    }
}

/// The hex SHA-256 of a link's token: what the database keeps, and what the join page
/// looks up (`Store::invite`).
pub fn token_hash(token: &str) -> String {
    crate::web::token_hash(token)
}

/// When a link sent now for an appointment at `starts_at` stops working, by the
/// organisation's policy.
pub fn link_expiry(
    policy: &OrgPolicy,
    starts_at: OffsetDateTime,
    now: OffsetDateTime,
) -> OffsetDateTime {
    haven_domain::uk_time::invite_expiry(policy.invite_lifetime, starts_at, now)
}

/// Makes a new link for an attendee of the organisation and stores its hash in `tx`;
/// the returned link is the only copy of the token. [`Error::NotFound`] if the attendee
/// belongs to another organisation.
pub async fn mint_link(
    tx: &mut Tx,
    public_url: &str,
    org: &OrgId,
    attendee: &AttendeeId,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<JoinLink, Error> {
    let token = crate::web::random_token();
    tx.add_invite_token(org, attendee, &token_hash(&token), now, expires_at)
        .await?;
    let url = format!("{}/join/{token}", public_url.trim_end_matches('/'));
    Ok(JoinLink {
        token_start: url.len() - token.len(),
        url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_tokens_are_long_enough_and_compared_whole() {
        assert!(CallbackToken::parse("short").is_err());
        let token = CallbackToken::parse("a-long-callback-token").unwrap();
        assert!(token.matches("a-long-callback-token"));
        assert!(!token.matches("a-long-callback-tokeN"));
        assert!(!token.matches("a-long-callback-token-"));
        assert!(!format!("{token:?}").contains("callback"));
    }
}
