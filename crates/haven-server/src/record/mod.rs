//! The write-back to the record: one FHIR R4 transaction `Bundle` per patient of a
//! consultation, built from its finished notes and what was recorded during the call
//! (agreements, the attendance register, chat the clinician kept), offered for download
//! and posted to the configured record system.
//!
//! - [`input`] loads everything a bundle may draw on into a [`RecordInput`].
//! - [`bundle`](fn@bundle) is a pure function from that input to JSON. It decides what
//!   belongs in one patient's record ([`scope`]): in a group consultation nothing about
//!   any other attendee, not their name, presence, agreements or chat.
//! - [`worker`] posts queued bundles with retries, and [`client`] is the HTTP side of it.
//!
//! Every `urn:uuid` in a bundle is a name-based (version 5) UUID of the consultation, the
//! patient and the resource, so building the same bundle twice gives the same ids.

mod build;
pub mod client;
mod consents;
#[doc(hidden)]
pub mod examples;
pub mod input;
mod resources;
mod scope;
pub mod worker;

use std::fmt;

use sha1::{Digest, Sha1};

pub use build::bundle;
pub use input::{RecordInput, StaffMember, load};

/// The namespace of Haven's name-based UUIDs (itself a random UUID).
const NAMESPACE: [u8; 16] = [
    0x6f, 0x1c, 0x3e, 0x52, 0x8a, 0x0d, 0x4b, 0x77, 0x9e, 0x21, 0x5c, 0x46, 0xd3, 0x88, 0x0b, 0x19,
];

/// A version 5 UUID (RFC 9562) of `name` in Haven's namespace, as `urn:uuid:…`.
pub(crate) fn urn_uuid(name: &str) -> String {
    let mut hash = Sha1::new();
    hash.update(NAMESPACE);
    hash.update(name.as_bytes());
    let digest = hash.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The bearer token Haven presents to the record system. Never printed.
#[derive(Clone)]
pub struct BearerToken(String);

impl BearerToken {
    /// Takes a token as read from a file or the environment, without surrounding
    /// whitespace; the message never repeats it.
    pub fn parse(text: &str) -> Result<BearerToken, String> {
        let token = text.trim();
        if token.is_empty() {
            return Err("is empty".into());
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be one line without spaces".into());
        }
        Ok(BearerToken(token.to_string()))
    }

    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken({redacted})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_based_ids_are_stable_version_5_uuids() {
        let a = urn_uuid("consultation/patient/encounter");
        assert_eq!(a, urn_uuid("consultation/patient/encounter"));
        assert_ne!(a, urn_uuid("consultation/other/encounter"));
        let hex = a.strip_prefix("urn:uuid:").unwrap();
        assert_eq!(hex.len(), 36);
        assert_eq!(&hex[14..15], "5");
        assert!(matches!(&hex[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn tokens_are_one_line_and_never_printed() {
        let t = BearerToken::parse("  s3cret-token\n").unwrap();
        assert_eq!(t.header(), "Bearer s3cret-token");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert!(BearerToken::parse(" \n").is_err());
        assert!(BearerToken::parse("two words").is_err());
    }
}
