//! UK mobile numbers, for invitations and one-time codes by text message.
//!
//! Only mobiles: a landline cannot receive the text that carries the link, and finding
//! out at send time is too late for the patient. UK mobiles are 07 followed by nine digits
//! (Ofcom's 071–075 and 077–079 ranges; 076 is pagers except 07624, the Isle of Man).
//! People type them as "07700 900123", "+44 7700 900123", "(0)7700…" and so on; all are
//! accepted and kept in E.164 form, which is what GOV.UK Notify and every SMS gateway take.

use std::fmt;

use crate::Error;

/// A UK mobile number, normalised to E.164 (`+447…`, 13 characters).
///
/// No `Display`: it is personal data.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UkMobile(String);

impl UkMobile {
    /// Parses a number as a person types it.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::InvalidPhone("mobile number must not be empty"));
        }
        if trimmed
            .chars()
            .any(|c| !(c.is_ascii_digit() || " -().+".contains(c)))
        {
            return Err(Error::InvalidPhone(
                "mobile number must contain only digits, spaces and a leading +44",
            ));
        }
        let plus = trimmed.starts_with('+');
        if trimmed.chars().skip(1).any(|c| c == '+') {
            return Err(Error::InvalidPhone(
                "mobile number may only have a + at the start",
            ));
        }
        // "+44 (0)7700 900123": the bracketed trunk zero is written but not dialled.
        let without_trunk = trimmed.replace("(0)", "");
        let digits: String = without_trunk.chars().filter(char::is_ascii_digit).collect();
        let national = if let Some(rest) = digits.strip_prefix("44") {
            format!("0{rest}")
        } else if let Some(rest) = digits.strip_prefix("0044") {
            format!("0{rest}")
        } else if plus {
            return Err(Error::InvalidPhone(
                "mobile number must be a UK number (+44); Haven cannot text numbers abroad",
            ));
        } else {
            digits
        };
        if national.len() != 11 {
            return Err(Error::InvalidPhone(
                "mobile number must be 11 digits, starting 07 (for example 07700 900123)",
            ));
        }
        if !is_mobile_range(&national) {
            return Err(Error::InvalidPhone(
                "mobile number must be a UK mobile starting 07; a landline cannot receive texts",
            ));
        }
        Ok(Self(format!("+44{}", &national[1..])))
    }

    /// The E.164 form, `+447700900123`.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The national form people recognise, `07700 900123`.
    pub fn national(&self) -> String {
        let digits = &self.0[3..];
        format!("0{} {}", &digits[..4], &digits[4..])
    }
}

impl fmt::Debug for UkMobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UkMobile({redacted})")
    }
}

/// Ofcom's mobile ranges: 071–075 and 077–079, and 07624 (Isle of Man); the rest of 076 is
/// pagers and 070 is personal numbering, neither of which takes texts reliably.
fn is_mobile_range(national: &str) -> bool {
    let Some(third) = national.as_bytes().get(2) else {
        return false;
    };
    national.starts_with("07")
        && (matches!(third, b'1'..=b'5' | b'7'..=b'9') || national.starts_with("07624"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_people_write_a_mobile_all_normalise_to_e164() {
        for raw in [
            "07700 900123",
            "07700900123",
            "+44 7700 900123",
            "+44 (0)7700 900123",
            "0044 7700 900 123",
            "447700900123",
            "(07700) 900-123",
        ] {
            let m = UkMobile::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(m.e164(), "+447700900123", "{raw}");
            assert_eq!(m.national(), "07700 900123");
        }
        assert!(UkMobile::parse("07624 123456").is_ok(), "Isle of Man");
    }

    #[test]
    fn landlines_foreign_and_malformed_numbers_say_what_is_wrong() {
        let cases = [
            ("", "empty"),
            ("020 7946 0000", "landline"),
            ("07600 123456", "landline"),
            ("07000 123456", "landline"),
            ("+33 6 12 34 56 78", "abroad"),
            ("0770090012", "11 digits"),
            ("077009001234", "11 digits"),
            ("07700 9OO123", "only digits"),
            ("07700+900123", "+"),
        ];
        for (raw, expected) in cases {
            let e = UkMobile::parse(raw).unwrap_err().to_string();
            assert!(e.contains(expected), "{raw:?}: {e}");
        }
    }

    #[test]
    fn debug_output_is_redacted() {
        let m = UkMobile::parse("07700 900123").unwrap();
        assert!(!format!("{m:?}").contains("7700"));
    }
}
