//! The one-time code that shows a patient holds the mobile phone the booking names.
//!
//! Where an organisation's identity check asks for it, a 6-digit code goes by text message
//! to the booked mobile number after the patient confirms their name and date of birth,
//! and they must type it before they can wait for the clinician. A code lives
//! [`LIFETIME`]; [`ATTEMPTS`] wrong entries lock the person out for good (they call their
//! clinic); at most [`SENDS_PER_WINDOW`] codes are sent per [`SEND_WINDOW`]. A new code
//! replaces the old one and brings fresh attempts.
//!
//! Only a hash of a code is kept ([`OneTimeCode::hash`]). With a million possible codes a
//! hash alone would not resist a search of a stolen database; it keeps the value out of
//! sight of anyone reading the table, and a code is worthless ten minutes later anyway.

use std::fmt;

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::policy::IdentityCheck;
use crate::{AttendeeId, Error};

/// How long a code works after it is sent.
pub const LIFETIME: Duration = Duration::minutes(10);
/// Wrong entries allowed per code; the last one locks the person out.
pub const ATTEMPTS: i64 = 5;
/// Codes sent per person within [`SEND_WINDOW`].
pub const SENDS_PER_WINDOW: usize = 3;
/// The window over which sends are counted.
pub const SEND_WINDOW: Duration = Duration::hours(1);

/// Codes are drawn below this multiple of a million, so every code is equally likely.
const UNBIASED_LIMIT: u32 = (u32::MAX / 1_000_000) * 1_000_000;

/// A 6-digit code. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

impl OneTimeCode {
    /// A code from four random bytes, or `None` when they fall in the small range above
    /// the last whole million (which would make low codes likelier): draw again.
    pub fn from_random(bytes: [u8; 4]) -> Option<OneTimeCode> {
        let n = u32::from_le_bytes(bytes);
        (n < UNBIASED_LIMIT).then(|| OneTimeCode(format!("{:06}", n % 1_000_000)))
    }

    /// What a person typed: six digits, with spaces and hyphens ignored (people copy
    /// "123 456" as they read it).
    pub fn parse(text: &str) -> Result<OneTimeCode, Error> {
        let digits: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.is_empty() {
            return Err(Error::InvalidCode(
                "enter the 6-digit code from the text message",
            ));
        }
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidCode(
                "the code is the 6 digits in the text message, for example 123456",
            ));
        }
        Ok(OneTimeCode(digits))
    }

    /// The digits, to send.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the hex SHA-256 of the code bound to the attendee, so the same code
    /// sent to two people is stored differently.
    pub fn hash(&self, attendee: &AttendeeId) -> String {
        let mut h = Sha256::new();
        h.update(b"haven identity code\0");
        h.update(attendee.as_str().as_bytes());
        h.update(b"\0");
        h.update(self.0.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode({redacted})")
    }
}

/// An attendee's code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// The hash of the latest code sent; `None` until the first is sent.
    pub code_hash: Option<String>,
    /// When the latest code stops working.
    pub expires_at: Option<OffsetDateTime>,
    /// Wrong entries still allowed for the latest code.
    pub attempts_left: i64,
    /// When the right code was entered.
    pub passed_at: Option<OffsetDateTime>,
    /// When the last allowed wrong entry was made.
    pub locked_at: Option<OffsetDateTime>,
}

/// What an entered code amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The right code, in time.
    Passed,
    /// A wrong code; so many tries remain (none: the person is now locked out).
    Wrong {
        /// Wrong entries still allowed.
        attempts_left: i64,
    },
    /// The code's ten minutes are over; nothing was counted.
    Expired,
    /// No code has been sent yet; nothing was counted.
    NotSent,
    /// Already passed; nothing to do.
    AlreadyPassed,
    /// Locked out earlier; nothing more is accepted.
    LockedOut,
}

impl CodeRecord {
    /// Judges `entered` (hashed for `attendee`) at `now`.
    pub fn check(
        &self,
        attendee: &AttendeeId,
        entered: &OneTimeCode,
        now: OffsetDateTime,
    ) -> Verdict {
        if self.passed_at.is_some() {
            return Verdict::AlreadyPassed;
        }
        if self.locked_at.is_some() || self.attempts_left <= 0 {
            return Verdict::LockedOut;
        }
        let (Some(hash), Some(expires_at)) = (&self.code_hash, self.expires_at) else {
            return Verdict::NotSent;
        };
        if now >= expires_at {
            return Verdict::Expired;
        }
        if equal(hash, &entered.hash(attendee)) {
            Verdict::Passed
        } else {
            Verdict::Wrong {
                attempts_left: self.attempts_left - 1,
            }
        }
    }
}

/// Compares two hashes in time that does not depend on where they differ.
fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// How long until another code may be sent, given when the recent ones were asked for;
/// `None` when one may be sent now.
pub fn send_wait(sends: &[OffsetDateTime], now: OffsetDateTime) -> Option<Duration> {
    let mut recent: Vec<OffsetDateTime> = sends
        .iter()
        .copied()
        .filter(|t| now - *t < SEND_WINDOW)
        .collect();
    if recent.len() < SENDS_PER_WINDOW {
        return None;
    }
    recent.sort_unstable();
    Some(SEND_WINDOW - (now - recent[recent.len() - SENDS_PER_WINDOW]))
}

/// Where a person stands with the code, for the join pages and the clinician.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeStatus {
    /// The organisation does not ask for a code.
    NotRequired,
    /// A code is asked for but no mobile number was booked: the person goes on without.
    NoMobile,
    /// A code is asked for and has not been entered yet.
    Pending,
    /// The right code was entered at this time.
    Passed(OffsetDateTime),
    /// Too many wrong codes, the last at this time: the person cannot go on.
    LockedOut(OffsetDateTime),
}

impl CodeStatus {
    /// The status under the organisation's `check`, for a person with or without a
    /// booked mobile number and their stored code, if any. A stored code decides even if
    /// the policy changed since: what happened is what the clinician should see.
    pub fn of(check: IdentityCheck, has_mobile: bool, record: Option<&CodeRecord>) -> CodeStatus {
        match record {
            Some(CodeRecord {
                passed_at: Some(at),
                ..
            }) => CodeStatus::Passed(*at),
            Some(CodeRecord {
                locked_at: Some(at),
                ..
            }) => CodeStatus::LockedOut(*at),
            _ if check != IdentityCheck::NameDateOfBirthAndSmsCode => CodeStatus::NotRequired,
            _ if !has_mobile => CodeStatus::NoMobile,
            _ => CodeStatus::Pending,
        }
    }

    /// Whether the person may go on to the check and the waiting room.
    pub fn may_wait(self) -> bool {
        matches!(
            self,
            CodeStatus::NotRequired | CodeStatus::NoMobile | CodeStatus::Passed(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

    fn attendee() -> AttendeeId {
        AttendeeId::from_random([7; 16])
    }

    fn sent(code: &OneTimeCode) -> CodeRecord {
        CodeRecord {
            code_hash: Some(code.hash(&attendee())),
            expires_at: Some(NOW + LIFETIME),
            attempts_left: ATTEMPTS,
            passed_at: None,
            locked_at: None,
        }
    }

    #[test]
    fn codes_are_six_digits_uniformly_drawn() {
        let code = |n: u32| OneTimeCode::from_random(n.to_le_bytes());
        assert_eq!(code(0).unwrap().as_str(), "000000");
        assert_eq!(code(1_234_567).unwrap().as_str(), "234567");
        assert_eq!(code(UNBIASED_LIMIT - 1).unwrap().as_str(), "999999");
        // The tail above the last whole million is redrawn, not folded onto low codes.
        assert!(code(UNBIASED_LIMIT).is_none() && code(u32::MAX).is_none());
        assert!(!format!("{:?}", code(123_456).unwrap()).contains("123456"));
    }

    #[test]
    fn typed_codes_are_parsed_with_a_clear_message() {
        for (typed, ok) in [
            ("123456", Some("123456")),
            (" 123 456 ", Some("123456")),
            ("123-456", Some("123456")),
            ("12345", None),
            ("1234567", None),
            ("12345a", None),
            ("١٢٣٤٥٦", None),
            ("", None),
        ] {
            match (OneTimeCode::parse(typed), ok) {
                (Ok(code), Some(want)) => assert_eq!(code.as_str(), want),
                (Err(e), None) => assert!(e.to_string().contains("code"), "{e}"),
                (got, want) => panic!("{typed:?}: {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn a_code_passes_until_it_expires_and_wrong_ones_count_down() {
        let code = OneTimeCode::parse("402913").unwrap();
        let other = OneTimeCode::parse("402914").unwrap();
        let record = sent(&code);
        assert_eq!(record.check(&attendee(), &code, NOW), Verdict::Passed);
        // Bound to the attendee: the same digits for someone else do not match.
        let stranger = AttendeeId::from_random([8; 16]);
        assert_ne!(code.hash(&stranger), code.hash(&attendee()));
        assert_eq!(
            record.check(&attendee(), &other, NOW),
            Verdict::Wrong { attempts_left: 4 }
        );
        assert_eq!(
            record.check(&attendee(), &code, NOW + LIFETIME),
            Verdict::Expired
        );
        let last = CodeRecord {
            attempts_left: 1,
            ..record.clone()
        };
        assert_eq!(
            last.check(&attendee(), &other, NOW),
            Verdict::Wrong { attempts_left: 0 }
        );
        let locked = CodeRecord {
            attempts_left: 0,
            locked_at: Some(NOW),
            ..record.clone()
        };
        assert_eq!(locked.check(&attendee(), &code, NOW), Verdict::LockedOut);
        let unsent = CodeRecord {
            code_hash: None,
            expires_at: None,
            ..record
        };
        assert_eq!(unsent.check(&attendee(), &code, NOW), Verdict::NotSent);
    }

    #[test]
    fn at_most_three_sends_an_hour() {
        let m = Duration::minutes;
        assert_eq!(send_wait(&[], NOW), None);
        assert_eq!(send_wait(&[NOW - m(50), NOW - m(5)], NOW), None);
        let three = [NOW - m(50), NOW - m(20), NOW - m(5)];
        assert_eq!(send_wait(&three, NOW), Some(m(10)));
        assert_eq!(send_wait(&three, NOW + m(10)), None);
    }

    #[test]
    fn the_status_follows_policy_phone_and_record() {
        use IdentityCheck::*;
        let sms = NameDateOfBirthAndSmsCode;
        let code = OneTimeCode::parse("111111").unwrap();
        let passed = CodeRecord {
            passed_at: Some(NOW),
            ..sent(&code)
        };
        let locked = CodeRecord {
            locked_at: Some(NOW),
            attempts_left: 0,
            ..sent(&code)
        };
        let pending = sent(&code);
        let cases = [
            (
                NameAndDateOfBirth,
                true,
                None,
                CodeStatus::NotRequired,
                true,
            ),
            (sms, false, None, CodeStatus::NoMobile, true),
            (sms, true, None, CodeStatus::Pending, false),
            (sms, true, Some(&pending), CodeStatus::Pending, false),
            (sms, true, Some(&passed), CodeStatus::Passed(NOW), true),
            (sms, true, Some(&locked), CodeStatus::LockedOut(NOW), false),
            // The policy relaxed after a lock-out: still locked out.
            (
                NameAndDateOfBirth,
                true,
                Some(&locked),
                CodeStatus::LockedOut(NOW),
                false,
            ),
        ];
        for (check, mobile, record, want, may_wait) in cases {
            let status = CodeStatus::of(check, mobile, record);
            assert_eq!(status, want);
            assert_eq!(status.may_wait(), may_wait, "{want:?}");
        }
    }
}
