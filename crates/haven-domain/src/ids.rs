//! Opaque identifiers: 128 random bits written as 32 lowercase hex digits.
//!
//! Random rather than sequential ids so that an id reveals nothing about
//! how many organisations or users exist and cannot be guessed. The random
//! bytes are supplied by the caller; this crate never generates them.

use std::fmt;

use crate::Error;

/// Number of characters in the text form of every id.
pub const ID_LEN: usize = 32;

fn is_valid_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Accepts exactly 32 lowercase hexadecimal characters. Uppercase
            /// is refused rather than folded so that each id has one
            /// spelling and string comparison in the store is exact.
            pub fn parse(s: &str) -> Result<Self, Error> {
                if is_valid_id(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(Error::InvalidId)
                }
            }

            /// Builds an id from 16 random bytes drawn by the caller.
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(hex::encode(bytes))
            }

            /// The 32-character text form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

define_id!(
    /// Identifies an organisation (a practice, trust or care provider).
    OrgId
);
define_id!(
    /// Identifies a staff user account.
    UserId
);
define_id!(
    /// Identifies a clinic within an organisation.
    ClinicId
);
define_id!(
    /// Identifies a consultation.
    ConsultationId
);
define_id!(
    /// Identifies one person invited to a consultation (patient, carer, interpreter,
    /// colleague).
    AttendeeId
);
define_id!(
    /// Identifies one message in the outbox.
    MessageId
);
define_id!(
    /// Identifies an organisation's API key.
    ApiKeyId
);
define_id!(
    /// Identifies one patient's record bundle on its way to the record system.
    DeliveryId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_32_lowercase_hex() {
        let cases: &[(&str, bool)] = &[
            ("0123456789abcdef0123456789abcdef", true),
            ("00000000000000000000000000000000", true),
            ("ffffffffffffffffffffffffffffffff", true),
            ("", false),
            ("0123456789abcdef0123456789abcde", false),
            ("0123456789abcdef0123456789abcdef0", false),
            ("0123456789ABCDEF0123456789abcdef", false),
            ("0123456789abcdef0123456789abcdeg", false),
            (" 0123456789abcdef0123456789abcdef", false),
            ("0123456789abcdef0123456789abcde\u{e9}", false),
        ];
        for &(input, ok) in cases {
            assert_eq!(OrgId::parse(input).is_ok(), ok, "{input:?}");
            assert_eq!(UserId::parse(input).is_ok(), ok, "{input:?}");
            assert_eq!(ClinicId::parse(input).is_ok(), ok, "{input:?}");
        }
        assert_eq!(UserId::parse("nope"), Err(Error::InvalidId));
    }

    #[test]
    fn from_random_round_trips_through_parse() {
        let id = UserId::from_random([0xab; 16]);
        assert_eq!(id.as_str(), "abababababababababababababababab");
        assert_eq!(UserId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(id.to_string(), id.as_str());
    }

    #[test]
    fn ordering_follows_the_text_form() {
        let low = ClinicId::from_random([0; 16]);
        let high = ClinicId::from_random([1; 16]);
        assert!(low < high);
    }
}
