//! Haven's domain: validated types and pure rules.
//!
//! Everything here is deterministic. Nothing does I/O, reads the clock or
//! draws random numbers: the current time and any random bytes are
//! parameters, so every rule can be tested with fixed inputs and the
//! callers (store, server) decide where time and randomness come from.
//!
//! A short tour:
//!
//! - [`ids`]: opaque 128-bit identifiers ([`OrgId`], [`UserId`], [`ClinicId`]).
//! - [`email`], [`name`]: personal data, parsed once at the edge; their
//!   `Debug` output is redacted so it cannot leak into logs by accident.
//! - [`role`]: staff roles and role sets.
//! - [`password`]: the password policy (length, personal information,
//!   guessability) and argon2id hashing.
//! - [`totp`]: RFC 6238 one-time codes, replay protection and recovery codes.
//! - [`throttle`]: when repeated sign-in failures lock a key out.
//! - [`session`]: idle and absolute session expiry.
//! - [`policy`]: an organisation's settings and how to describe a change.
//! - [`audit`]: the hash-chained audit log and its streaming verifier.
//! - [`consultation`]: a consultation's kind, lifecycle state machine and outcome.
//! - [`people`]: who may be added to a call, and what is asked and confirmed for each role.
//! - [`journey`]: the pre-call check's problem codes and the journey funnel's figures.
//! - [`governance`]: the governance report's rules: each point of the guidance, and
//!   whether Haven enforces it, supports it or has it off, from the policy and counts.
//! - [`retention`]: how long each kind of data is kept, within bounds.
//! - [`month`]: UK calendar months for reports and counts.
//! - [`chat`]: in-call chat: cleaning and limiting messages, spotting web addresses,
//!   the per-sender rate limit, and the file types that may be shared.
//! - [`uk_time`]: UK civil time (GMT/BST) for appointment times and link expiry.
//! - [`identity_code`]: the one-time code sent by text message to a patient's booked
//!   mobile number: drawing, hashing, checking, limits.
//! - [`nhs`], [`phone`], [`birth`]: a patient's NHS number (Modulus 11), UK mobile
//!   number and date of birth, parsed once at the edge with redacted `Debug`.
//!
//! Every parse failure is an [`Error`] whose `Display` is safe to show to
//! the person who typed the input.

pub mod audit;
pub mod birth;
pub mod chat;
pub mod consultation;
pub mod email;
pub mod governance;
pub mod group;
pub mod identity_code;
pub mod ids;
pub mod journey;
pub mod month;
pub mod name;
pub mod nhs;
pub mod password;
pub mod people;
pub mod phone;
pub mod policy;
pub mod retention;
pub mod role;
pub mod session;
pub mod throttle;
pub mod totp;
pub mod uk_time;

/// Re-exported so every crate in the workspace uses the same `time`.
pub use time;

pub use audit::{Actor, AuditRecord, BreakKind, ChainBreak, ChainVerifier, GENESIS_HASH};
pub use birth::DateOfBirth;
pub use email::Email;
pub use ids::{
    ApiKeyId, AttendeeId, ClinicId, ConsultationId, DeliveryId, MessageId, OrgId, UserId,
};
pub use month::UkMonth;
pub use name::{ClinicName, OrgName, PersonName};
pub use nhs::NhsNumber;
pub use password::{Password, PasswordHash, PasswordRejection};
pub use phone::UkMobile;
pub use policy::{ConsultationLimit, IdentityCheck, InviteLifetime, OrgPolicy, PolicyChange};
pub use retention::RetentionPolicy;
pub use role::{Role, Roles};
pub use session::{Expiry, SessionTimeouts};
pub use totp::TotpSecret;

/// Why a value could not be accepted. Every message names the field and
/// the problem, and is safe to show to a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An identifier was not 32 lowercase hexadecimal characters.
    #[error("identifier must be exactly 32 lowercase hexadecimal characters")]
    InvalidId,
    /// An email address was malformed; the text says how.
    #[error("{0}")]
    InvalidEmail(&'static str),
    /// A person, organisation or clinic name was unacceptable.
    #[error("{field} {reason}")]
    InvalidName {
        /// Which name, as a user would call it ("name", "clinic name").
        field: &'static str,
        /// What is wrong, completing a sentence that starts with the field.
        reason: &'static str,
    },
    /// A new password did not meet the password policy.
    #[error("{0}")]
    Password(PasswordRejection),
    /// A role name was not one of the known roles.
    #[error(
        "unknown role '{0}': the role must be one of admin, clinician, receptionist, ig_auditor"
    )]
    InvalidRole(String),
    /// An organisation policy setting had a value outside its allowed set.
    #[error("{field} {reason}")]
    InvalidPolicy {
        /// Which setting, as a user would call it ("invite lifetime").
        field: &'static str,
        /// What is wrong, completing a sentence that starts with the field.
        reason: &'static str,
    },
    /// A stored authenticator secret was not valid base32 of a usable length.
    #[error("authenticator secret must be unpadded base32 encoding between 16 and 64 bytes")]
    InvalidTotpSecret,
    /// A stored password hash was not an argon2id PHC string.
    #[error("stored password hash is not a valid argon2id PHC string")]
    InvalidPasswordHash,
    /// An NHS number was malformed or failed its check digit; the text says how.
    #[error("{0}")]
    InvalidNhsNumber(&'static str),
    /// A mobile number was malformed or not a UK mobile; the text says how.
    #[error("{0}")]
    InvalidPhone(&'static str),
    /// A date was impossible, in the future or implausible; the text says how.
    #[error("{0}")]
    InvalidDate(&'static str),
    /// A typed one-time code was not six digits; the text says how.
    #[error("{0}")]
    InvalidCode(&'static str),
    /// A word (kind, status, outcome…) was not one of the known ones.
    #[error("unknown {what} '{got}': expected one of {}", expected.trim_end_matches(", "))]
    UnknownWord {
        /// What was being named.
        what: &'static str,
        /// What was given, shortened.
        got: String,
        /// The accepted words, each followed by ", ".
        expected: &'static str,
    },
    /// A consultation event that cannot happen in its current status.
    #[error("a consultation that is {from} cannot {event}")]
    IllegalTransition {
        /// The status it is in.
        from: consultation::Status,
        /// What was attempted.
        event: consultation::Event,
    },
    /// An audit actor's kind and id did not fit together.
    #[error(
        "audit actor must be 'staff' with a user id, 'seat' with a seat id, 'api_key' with a key id, or 'system' with no id"
    )]
    InvalidActor,
    /// A retention period was outside the bounds for its kind of data.
    #[error("{what} must be kept for a whole number of days from {min} to {max}")]
    InvalidRetention {
        /// The kind of data, as administrators read it.
        what: &'static str,
        /// The shortest period allowed.
        min: u32,
        /// The longest period allowed.
        max: u32,
    },
}

impl From<PasswordRejection> for Error {
    fn from(rejection: PasswordRejection) -> Self {
        Error::Password(rejection)
    }
}

/// Keeps user-supplied text echoed back in an error message short, so a
/// pasted essay does not become an essay-sized error.
pub(crate) fn echo(input: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = input
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX)
        .collect();
    if input.chars().count() > MAX {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_shortens_and_strips_control_characters() {
        assert_eq!(echo("admin"), "admin");
        assert_eq!(echo("ad\nmin"), "admin");
        let long = "x".repeat(100);
        assert_eq!(echo(&long), format!("{}…", "x".repeat(40)));
    }

    #[test]
    fn error_messages_name_the_field() {
        let cases = [
            (Error::InvalidId, "identifier"),
            (Error::InvalidTotpSecret, "authenticator secret"),
            (Error::InvalidPasswordHash, "password hash"),
            (Error::InvalidActor, "audit actor"),
            (Error::InvalidRole("boss".into()), "unknown role 'boss'"),
        ];
        for (err, expected) in cases {
            assert!(err.to_string().contains(expected), "{err}");
        }
    }
}
