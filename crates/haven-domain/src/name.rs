//! Names of people, organisations and clinics.
//!
//! Names are free text: no rules about letters or capitals, because real
//! names break every such rule. Only what would corrupt display or logs is
//! refused.

use std::fmt;

use crate::Error;

/// Longest accepted name, in characters after whitespace is collapsed.
pub const MAX_NAME_CHARS: usize = 100;

/// Trims, collapses runs of whitespace (including tabs and newlines from a
/// paste) to one space, then checks length and content.
fn normalise(raw: &str, field: &'static str) -> Result<String, Error> {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars = collapsed.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(Error::InvalidName {
            field,
            reason: "must be between 1 and 100 characters",
        });
    }
    if collapsed.chars().any(char::is_control) {
        return Err(Error::InvalidName {
            field,
            reason: "must not contain control characters",
        });
    }
    // Bidirectional overrides can make a name display as something other
    // than what it is (for example in an audit view), so they are refused.
    if collapsed.chars().any(is_bidi_control) {
        return Err(Error::InvalidName {
            field,
            reason: "must not contain text-direction control characters",
        });
    }
    Ok(collapsed)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A person's full name as they wish it shown. Personal data: its `Debug`
/// is redacted and it has no `Display`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    /// Parses a name typed by a person.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        normalise(raw, "name").map(Self)
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The words of the name in lowercase, for matching (for example to
    /// stop a password containing the person's own name).
    pub fn words(&self) -> impl Iterator<Item = String> + '_ {
        self.0.split(' ').map(str::to_lowercase)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName({redacted})")
    }
}

macro_rules! define_name {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Parses a ", $field, " typed by a person.")]
            pub fn parse(raw: &str) -> Result<Self, Error> {
                normalise(raw, $field).map(Self)
            }

            /// The normalised name.
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

define_name!(
    /// An organisation's name, such as "Riverside Medical Practice".
    OrgName,
    "organisation name"
);
define_name!(
    /// A clinic's name, such as "Tuesday diabetes clinic".
    ClinicName,
    "clinic name"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_whitespace() {
        let cases = [
            ("Jo Bloggs", "Jo Bloggs"),
            ("  Jo   Bloggs  ", "Jo Bloggs"),
            ("Jo\tBloggs\n", "Jo Bloggs"),
            ("Siân  O'Neil-Ng", "Siân O'Neil-Ng"),
            ("X", "X"),
        ];
        for (input, expected) in cases {
            let name = PersonName::parse(input).expect("valid name");
            assert_eq!(name.as_str(), expected);
            assert_eq!(OrgName::parse(input).expect("valid").as_str(), expected);
            assert_eq!(ClinicName::parse(input).expect("valid").as_str(), expected);
        }
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert!(PersonName::parse(&"é".repeat(101)).is_err());
        // Collapsing happens before counting.
        let padded = format!("{}     {}", "a".repeat(49), "b".repeat(50));
        assert_eq!(
            PersonName::parse(&padded).expect("fits").as_str().len(),
            100
        );
    }

    #[test]
    fn rejections_name_the_field() {
        let long = "a".repeat(101);
        let cases: &[(&str, &str)] = &[
            ("", "must be between 1 and 100 characters"),
            ("   \t ", "must be between 1 and 100 characters"),
            (&long, "must be between 1 and 100 characters"),
            ("Jo\u{0}Bloggs", "must not contain control characters"),
            ("Jo\u{1b}[31mBloggs", "must not contain control characters"),
            (
                "Jo\u{202E}sggolB",
                "must not contain text-direction control characters",
            ),
        ];
        for &(input, reason) in cases {
            let person = PersonName::parse(input).expect_err("invalid");
            assert_eq!(person.to_string(), format!("name {reason}"));
            let org = OrgName::parse(input).expect_err("invalid");
            assert_eq!(org.to_string(), format!("organisation name {reason}"));
            let clinic = ClinicName::parse(input).expect_err("invalid");
            assert_eq!(clinic.to_string(), format!("clinic name {reason}"));
        }
    }

    #[test]
    fn person_name_is_redacted_and_has_words() {
        let name = PersonName::parse("Mary  Anne SMITH").expect("valid");
        assert_eq!(format!("{name:?}"), "PersonName({redacted})");
        assert_eq!(name.words().collect::<Vec<_>>(), ["mary", "anne", "smith"]);
        let org = OrgName::parse("Riverside").expect("valid");
        assert!(format!("{org:?}").contains("Riverside"));
        assert_eq!(org.to_string(), "Riverside");
    }
}
