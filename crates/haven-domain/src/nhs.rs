//! NHS numbers: ten digits, the last a Modulus 11 check digit.
//!
//! People type them with spaces ("943 476 5919"), hyphens or none; all are accepted and
//! stored as ten digits. The check digit catches almost every single mistyped digit and
//! transposition, which is why a wrong one is refused outright rather than stored: a
//! consultation written to the wrong patient's record is worse than none.

use std::fmt;

use crate::Error;

/// A valid NHS number (ten digits, correct check digit).
///
/// No `Display`: it identifies a patient, so writing it out is an explicit `as_str()` or
/// `formatted()`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Parses a number as a person types it: digits, optionally grouped with spaces or
    /// hyphens.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::InvalidNhsNumber("NHS number must not be empty"));
        }
        if trimmed
            .chars()
            .any(|c| !(c.is_ascii_digit() || c == ' ' || c == '-'))
        {
            return Err(Error::InvalidNhsNumber(
                "NHS number must contain only digits (spaces between groups are fine)",
            ));
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 10 {
            return Err(Error::InvalidNhsNumber("NHS number must be 10 digits long"));
        }
        if check_digit(&digits) != digits.as_bytes().get(9).map(|d| d - b'0') {
            return Err(Error::InvalidNhsNumber(
                "NHS number is not valid: please check each digit (the last one is a check digit)",
            ));
        }
        Ok(Self(digits))
    }

    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number grouped 3-3-4, as it is printed on NHS letters.
    pub fn formatted(&self) -> String {
        format!("{} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..])
    }
}

impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber({redacted})")
    }
}

/// The Modulus 11 check digit for the first nine digits: weights 10 down to 2, then
/// 11 − (sum mod 11), where 11 means 0 and 10 means no valid number has these nine digits.
fn check_digit(digits: &str) -> Option<u8> {
    let sum: u32 = digits
        .bytes()
        .take(9)
        .zip((2..=10).rev())
        .map(|(d, weight)| u32::from(d - b'0') * weight)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        check => u8::try_from(check).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_test_numbers_are_valid_in_any_grouping() {
        for raw in ["9990000018", "999 000 0026", "943-476-5919", " 9000000009 "] {
            let n = NhsNumber::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(n.as_str().len(), 10);
        }
        assert_eq!(
            NhsNumber::parse("9434765919").unwrap().formatted(),
            "943 476 5919"
        );
    }

    #[test]
    fn a_wrong_check_digit_or_a_mistyped_digit_is_refused() {
        let e = NhsNumber::parse("9434765918").unwrap_err();
        assert!(e.to_string().contains("check digit"), "{e}");
        // One digit changed, and two neighbours swapped.
        assert!(NhsNumber::parse("9434765929").is_err());
        assert!(NhsNumber::parse("9437465919").is_err());
    }

    #[test]
    fn nine_digits_whose_check_would_be_ten_have_no_valid_number() {
        // 000000006: sum 6*2 = 12, 12 mod 11 = 1, 11 - 1 = 10: no check digit exists.
        for last in 0..=9 {
            assert!(NhsNumber::parse(&format!("000000006{last}")).is_err());
        }
        // A sum divisible by 11 gives 11, which means 0 (nine zeros sum to 0).
        assert_eq!(check_digit("000000000"), Some(0));
    }

    #[test]
    fn malformed_input_says_what_is_wrong() {
        let cases = [
            ("", "empty"),
            ("12345", "10 digits"),
            ("12345678901", "10 digits"),
            ("943476591X", "only digits"),
            ("943.476.5919", "only digits"),
        ];
        for (raw, expected) in cases {
            let e = NhsNumber::parse(raw).unwrap_err().to_string();
            assert!(e.contains(expected), "{raw:?}: {e}");
        }
    }

    #[test]
    fn debug_output_is_redacted() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert!(!format!("{n:?}").contains("943"));
    }
}
