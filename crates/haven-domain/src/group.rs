//! Group consultations: how many may attend, the name attendees know each other by, and
//! when an attendee has passed the checks that let a host admit them with the others.
//!
//! Attendees of a group see each other by a shown name only (their first name, or a name
//! they choose on joining); full names, dates of birth and NHS numbers are for the hosts.

use crate::name::PersonName;
use crate::{DateOfBirth, Error};

/// The most patients one group consultation may have.
pub const MAX_ATTENDEES: usize = 30;
/// The most hosts one group consultation may have, the booking clinician included.
pub const MAX_HOSTS: usize = 5;
/// The longest name an attendee may choose to be shown by.
pub const MAX_SHOWN_NAME_CHARS: usize = 30;

/// The name other attendees see. Not personal data in the sense of a record (it may be a
/// nickname), but still never logged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ShownName(String);

impl ShownName {
    /// Parses a name an attendee chose: trimmed, inner whitespace collapsed, 1 to 30
    /// characters, no control or text-direction characters.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let chars = collapsed.chars().count();
        if chars == 0 || chars > MAX_SHOWN_NAME_CHARS {
            return Err(Error::InvalidName {
                field: "name to show",
                reason: "must be between 1 and 30 characters",
            });
        }
        // The same characters a full name refuses.
        PersonName::parse(&collapsed).map_err(|_| Error::InvalidName {
            field: "name to show",
            reason: "must not contain control or text-direction characters",
        })?;
        Ok(ShownName(collapsed))
    }

    /// The first word of a booked full name: what others see unless the attendee chooses.
    pub fn first_name_of(name: &PersonName) -> ShownName {
        let first = name.as_str().split(' ').next().unwrap_or_default();
        // A parsed name is never empty, so its first word is not either; cut to length.
        ShownName(first.chars().take(MAX_SHOWN_NAME_CHARS).collect())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ShownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShownName({redacted})")
    }
}

/// What an attendee entered on joining, as far as the quick group check needs it.
#[derive(Debug, Clone, Copy)]
pub struct GroupCheck<'a> {
    /// The name booked for them.
    pub booked_name: &'a PersonName,
    /// The date of birth booked for them.
    pub booked_dob: DateOfBirth,
    /// The name they typed, if they have joined.
    pub entered_name: Option<&'a PersonName>,
    /// The date of birth they typed.
    pub entered_dob: Option<DateOfBirth>,
    /// Whether they accepted the ground rules.
    pub ground_rules: bool,
}

impl GroupCheck<'_> {
    /// Whether the attendee passed their checks: they accepted the ground rules and typed
    /// the booked date of birth and the booked name (ignoring case and spacing). Anyone
    /// else is admitted one by one, after a host has looked at what they typed.
    pub fn passed(&self) -> bool {
        let same_name = self
            .entered_name
            .is_some_and(|n| n.as_str().to_lowercase() == self.booked_name.as_str().to_lowercase());
        self.ground_rules && same_name && self.entered_dob == Some(self.booked_dob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_names_are_trimmed_and_limited() {
        assert_eq!(ShownName::parse("  Sam   J ").unwrap().as_str(), "Sam J");
        for bad in ["", "   ", &"a".repeat(31), "Sam\u{202E}", "Sam\u{7}"] {
            assert!(ShownName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(ShownName::parse(&"a".repeat(30)).is_ok());
    }

    #[test]
    fn the_first_name_is_the_first_word() {
        let name = PersonName::parse("Aisha  Khan-Patel").unwrap();
        assert_eq!(ShownName::first_name_of(&name).as_str(), "Aisha");
    }

    #[test]
    fn passing_needs_rules_name_and_date() {
        let booked = PersonName::parse("Aisha Khan").unwrap();
        let typed = PersonName::parse("aisha  KHAN").unwrap();
        let other = PersonName::parse("Aisha Smith").unwrap();
        let today = time::macros::date!(2026 - 11 - 21);
        let dob = DateOfBirth::parse_iso("1990-02-03", today).unwrap();
        let wrong = DateOfBirth::parse_iso("1990-03-02", today).unwrap();
        let check = |name, dob, rules| GroupCheck {
            booked_name: &booked,
            booked_dob: DateOfBirth::parse_iso("1990-02-03", today).unwrap(),
            entered_name: name,
            entered_dob: dob,
            ground_rules: rules,
        };
        assert!(check(Some(&typed), Some(dob), true).passed());
        assert!(!check(Some(&typed), Some(dob), false).passed());
        assert!(!check(Some(&other), Some(dob), true).passed());
        assert!(!check(Some(&typed), Some(wrong), true).passed());
        assert!(!check(None, None, true).passed());
    }
}
