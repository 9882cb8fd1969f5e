//! An organisation's policy: the settings its administrators choose.
//!
//! The defaults are the safest choices (MFA on, recording and file sharing
//! off, chat not kept), so an organisation that never visits its settings
//! is still configured sensibly.

use std::fmt;

use crate::Error;

/// How a patient proves who they are before joining a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityCheck {
    /// The patient confirms their name and date of birth.
    NameAndDateOfBirth,
    /// As above, plus a code sent by text message to their phone.
    NameDateOfBirthAndSmsCode,
}

impl IdentityCheck {
    /// Every option, in the order they are offered.
    pub const ALL: [IdentityCheck; 2] = [
        IdentityCheck::NameAndDateOfBirth,
        IdentityCheck::NameDateOfBirthAndSmsCode,
    ];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityCheck::NameAndDateOfBirth => "name_dob",
            IdentityCheck::NameDateOfBirthAndSmsCode => "name_dob_sms",
        }
    }

    /// The stored form back into a value.
    pub fn parse(s: &str) -> Result<Self, Error> {
        IdentityCheck::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(Error::InvalidPolicy {
                field: "identity check",
                reason: "must be 'name_dob' or 'name_dob_sms'",
            })
    }

    /// The description shown to administrators.
    pub fn label(self) -> &'static str {
        match self {
            IdentityCheck::NameAndDateOfBirth => "Name and date of birth",
            IdentityCheck::NameDateOfBirthAndSmsCode => {
                "Name, date of birth and a code sent by text message"
            }
        }
    }
}

/// How long a patient's invitation link stays usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InviteLifetime {
    /// Until the end of the day of the appointment.
    AppointmentDay,
    /// A number of hours after the invitation is sent, from 1 to 168 (a
    /// week). Build with [`InviteLifetime::hours`] to have the range checked.
    Hours(u16),
}

/// Longest invitation lifetime in hours: a week.
pub const MAX_INVITE_HOURS: u16 = 168;

const INVITE_REASON: &str = "must be 'appointment_day' or 'hours:N' with N from 1 to 168";

impl InviteLifetime {
    /// A lifetime of `hours` hours, if within 1 to 168.
    pub fn hours(hours: u16) -> Result<Self, Error> {
        if (1..=MAX_INVITE_HOURS).contains(&hours) {
            Ok(InviteLifetime::Hours(hours))
        } else {
            Err(Error::InvalidPolicy {
                field: "invite lifetime",
                reason: "must be between 1 and 168 hours",
            })
        }
    }

    /// The stored form: "appointment_day" or "hours:N".
    pub fn encode(&self) -> String {
        match self {
            InviteLifetime::AppointmentDay => "appointment_day".to_owned(),
            InviteLifetime::Hours(h) => format!("hours:{h}"),
        }
    }

    /// The stored form back into a value. Only the exact form `encode`
    /// writes is accepted (no leading zeros or signs), so each value has
    /// one spelling.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = Error::InvalidPolicy {
            field: "invite lifetime",
            reason: INVITE_REASON,
        };
        if s == "appointment_day" {
            return Ok(InviteLifetime::AppointmentDay);
        }
        let digits = s.strip_prefix("hours:").ok_or(invalid.clone())?;
        let canonical = !digits.is_empty()
            && digits.len() <= 3
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !canonical {
            return Err(invalid);
        }
        let hours: u16 = digits.parse().map_err(|_| invalid.clone())?;
        InviteLifetime::hours(hours).map_err(|_| invalid)
    }

    /// The description shown to administrators.
    pub fn label(&self) -> String {
        match self {
            InviteLifetime::AppointmentDay => "Until the end of the appointment day".to_owned(),
            InviteLifetime::Hours(1) => "1 hour after it is sent".to_owned(),
            InviteLifetime::Hours(h) => format!("{h} hours after it is sent"),
        }
    }
}

impl fmt::Display for InviteLifetime {
    /// The stored form, as [`InviteLifetime::encode`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// How long a consultation may run once it has started before it ends by itself, in
/// whole minutes from 15 to 240 (default 90). Everyone in the call is warned
/// [`ConsultationLimit::WARNING_MINUTES`] minutes before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConsultationLimit(u16);

impl ConsultationLimit {
    /// The shortest limit: long enough for the warning to come after the start.
    pub const MIN_MINUTES: u16 = 15;
    /// The longest limit: four hours.
    pub const MAX_MINUTES: u16 = 240;
    /// How long before the end everyone is warned.
    pub const WARNING_MINUTES: u16 = 5;

    /// A limit of `minutes`, if within 15 to 240.
    pub fn minutes(minutes: u16) -> Result<Self, Error> {
        if (Self::MIN_MINUTES..=Self::MAX_MINUTES).contains(&minutes) {
            Ok(ConsultationLimit(minutes))
        } else {
            Err(Error::InvalidPolicy {
                field: "consultation time limit",
                reason: "must be a whole number of minutes from 15 to 240",
            })
        }
    }

    /// Text as typed into a form: digits only, surrounding spaces ignored.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let canonical = !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
        let minutes = if canonical { s.parse().ok() } else { None };
        Self::minutes(minutes.unwrap_or(0))
    }

    /// The limit in minutes.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl Default for ConsultationLimit {
    fn default() -> Self {
        ConsultationLimit(90)
    }
}

/// The settings an organisation's administrators control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgPolicy {
    /// Staff must use a second factor to sign in.
    pub mfa_required: bool,
    /// Consultations may be recorded.
    pub recording_allowed: bool,
    /// Files (PDF, PNG, JPEG) may be shared in a consultation's chat.
    pub file_sharing_allowed: bool,
    /// A clinician may keep a consultation's chat with its record. Chat is never kept
    /// unless a clinician chooses to; when this is off it is always discarded at the end.
    pub chat_retained: bool,
    /// How long invitation links last.
    pub invite_lifetime: InviteLifetime,
    /// How patients prove who they are.
    pub identity_check: IdentityCheck,
    /// How long a consultation may run before it ends by itself.
    pub consultation_limit: ConsultationLimit,
}

impl Default for OrgPolicy {
    fn default() -> Self {
        OrgPolicy {
            mfa_required: true,
            recording_allowed: false,
            file_sharing_allowed: false,
            chat_retained: false,
            invite_lifetime: InviteLifetime::AppointmentDay,
            identity_check: IdentityCheck::NameAndDateOfBirth,
            consultation_limit: ConsultationLimit::default(),
        }
    }
}

/// One setting that changed, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyChange {
    /// The setting's name, as in [`OrgPolicy`].
    pub field: &'static str,
    /// The previous value, in stored form.
    pub old: String,
    /// The new value, in stored form.
    pub new: String,
}

impl OrgPolicy {
    /// The settings that differ between `self` and `new`, in field order.
    pub fn changes(&self, new: &OrgPolicy) -> Vec<PolicyChange> {
        let old = self.fields();
        let new = new.fields();
        old.into_iter()
            .zip(new)
            .filter(|((_, a), (_, b))| a != b)
            .map(|((field, old), (_, new))| PolicyChange { field, old, new })
            .collect()
    }

    /// Every setting as (name, stored form). Destructuring makes adding a
    /// field without adding it here a compile error, so no change can
    /// escape the audit log.
    fn fields(&self) -> [(&'static str, String); 7] {
        let OrgPolicy {
            mfa_required,
            recording_allowed,
            file_sharing_allowed,
            chat_retained,
            invite_lifetime,
            identity_check,
            consultation_limit,
        } = self;
        [
            ("mfa_required", mfa_required.to_string()),
            ("recording_allowed", recording_allowed.to_string()),
            ("file_sharing_allowed", file_sharing_allowed.to_string()),
            ("chat_retained", chat_retained.to_string()),
            ("invite_lifetime", invite_lifetime.encode()),
            ("identity_check", identity_check.as_str().to_owned()),
            (
                "consultation_limit_minutes",
                consultation_limit.get().to_string(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_check_round_trips() {
        for check in IdentityCheck::ALL {
            assert_eq!(IdentityCheck::parse(check.as_str()), Ok(check));
            assert!(!check.label().is_empty());
        }
        assert_eq!(IdentityCheck::NameAndDateOfBirth.as_str(), "name_dob");
        assert_eq!(
            IdentityCheck::NameDateOfBirthAndSmsCode.as_str(),
            "name_dob_sms"
        );
        let err = IdentityCheck::parse("sms").expect_err("not an option");
        assert!(
            err.to_string().starts_with("identity check must be"),
            "{err}"
        );
    }

    #[test]
    fn invite_lifetime_parse_cases() {
        let cases: &[(&str, Option<InviteLifetime>)] = &[
            ("appointment_day", Some(InviteLifetime::AppointmentDay)),
            ("hours:1", Some(InviteLifetime::Hours(1))),
            ("hours:24", Some(InviteLifetime::Hours(24))),
            ("hours:168", Some(InviteLifetime::Hours(168))),
            ("hours:0", None),
            ("hours:169", None),
            ("hours:024", None),
            ("hours:+24", None),
            ("hours:", None),
            ("hours:65537", None),
            ("hours:99999999999999999999", None),
            ("hours: 24", None),
            ("Hours:24", None),
            ("24", None),
            ("", None),
        ];
        for &(input, expected) in cases {
            let parsed = InviteLifetime::parse(input);
            match expected {
                Some(value) => {
                    assert_eq!(parsed, Ok(value), "{input:?}");
                    assert_eq!(value.encode(), input);
                    assert_eq!(value.to_string(), input);
                }
                None => {
                    let err = parsed.expect_err(input);
                    assert!(err.to_string().starts_with("invite lifetime must be"));
                }
            }
        }
    }

    #[test]
    fn invite_lifetime_labels_and_constructor() {
        assert_eq!(
            InviteLifetime::hours(1).map(|l| l.label()),
            Ok("1 hour after it is sent".into())
        );
        assert_eq!(
            InviteLifetime::Hours(48).label(),
            "48 hours after it is sent"
        );
        assert!(
            InviteLifetime::AppointmentDay
                .label()
                .contains("appointment day")
        );
        assert!(InviteLifetime::hours(0).is_err());
        assert!(InviteLifetime::hours(169).is_err());
    }

    #[test]
    fn default_is_the_safe_choice() {
        let p = OrgPolicy::default();
        assert!(p.mfa_required);
        assert!(!p.recording_allowed);
        assert!(!p.file_sharing_allowed);
        assert!(!p.chat_retained);
        assert_eq!(p.invite_lifetime, InviteLifetime::AppointmentDay);
        assert_eq!(p.identity_check, IdentityCheck::NameAndDateOfBirth);
        assert_eq!(p.consultation_limit.get(), 90);
    }

    #[test]
    fn consultation_limit_accepts_15_to_240_minutes_only() {
        for (input, expected) in [
            ("15", Some(15)),
            ("90", Some(90)),
            (" 240 ", Some(240)),
            ("14", None),
            ("241", None),
            ("0", None),
            ("-30", None),
            ("+30", None),
            ("1.5", None),
            ("", None),
            ("sixty", None),
            ("99999999999999999999", None),
        ] {
            let parsed = ConsultationLimit::parse(input).map(ConsultationLimit::get);
            match expected {
                Some(m) => assert_eq!(parsed, Ok(m), "{input:?}"),
                None => {
                    let err = parsed.expect_err(input);
                    assert_eq!(
                        err.to_string(),
                        "consultation time limit must be a whole number of minutes from 15 to 240"
                    );
                }
            }
        }
    }

    #[test]
    fn changes_lists_only_what_changed() {
        let old = OrgPolicy::default();
        assert_eq!(old.changes(&old), []);
        let new = OrgPolicy {
            recording_allowed: true,
            invite_lifetime: InviteLifetime::Hours(24),
            identity_check: IdentityCheck::NameDateOfBirthAndSmsCode,
            ..old.clone()
        };
        let change = |field, old: &str, new: &str| PolicyChange {
            field,
            old: old.into(),
            new: new.into(),
        };
        assert_eq!(
            old.changes(&new),
            [
                change("recording_allowed", "false", "true"),
                change("invite_lifetime", "appointment_day", "hours:24"),
                change("identity_check", "name_dob", "name_dob_sms"),
            ]
        );
        let everything = OrgPolicy {
            mfa_required: false,
            file_sharing_allowed: true,
            chat_retained: true,
            ..new.clone()
        };
        assert_eq!(old.changes(&everything).len(), 6);
        let longer = OrgPolicy {
            consultation_limit: ConsultationLimit::minutes(120).unwrap(),
            ..old.clone()
        };
        assert_eq!(
            old.changes(&longer),
            [change("consultation_limit_minutes", "90", "120")]
        );
    }
}
