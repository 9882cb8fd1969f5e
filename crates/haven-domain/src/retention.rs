//! How long an organisation keeps each kind of data, and what the daily retention job
//! removes when the time is up.
//!
//! Haven is not the patient's record: outcomes and notes belong in the health and care
//! record, so Haven keeps consultation data only as long as staff need it to follow up.
//! When a consultation's period is up its personal data (names, contact details, what
//! people confirmed on joining, the patient's location, NHS number, notes) is removed,
//! while the consultation row itself stays with its kind, status and times, so that the
//! national counts of consultations held survive. Saved chat and journey steps are
//! deleted outright. Audit entries are deleted oldest first, leaving a checkpoint of the
//! chain so what remains still verifies.

use crate::{Error, PolicyChange};

/// One kind of data with a retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// The personal data of consultations that are over.
    Consultation,
    /// Chat saved to the record.
    Chat,
    /// Each attendee's journey steps.
    Journey,
    /// Entries of the audit log.
    Audit,
}

/// The bounds and default of one period, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The shortest period allowed.
    pub min: u32,
    /// The longest period allowed.
    pub max: u32,
    /// The period an organisation starts with.
    pub default: u32,
}

impl DataKind {
    /// Every kind, in the order the policy page shows them.
    pub const ALL: [DataKind; 4] = [
        DataKind::Consultation,
        DataKind::Chat,
        DataKind::Journey,
        DataKind::Audit,
    ];

    /// The stable word, used in form fields, the audit log and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Consultation => "consultation_data",
            DataKind::Chat => "saved_chat",
            DataKind::Journey => "journey_steps",
            DataKind::Audit => "audit_entries",
        }
    }

    /// What administrators read.
    pub fn label(self) -> &'static str {
        match self {
            DataKind::Consultation => "Personal data of consultations that are over",
            DataKind::Chat => "Chat saved to the record",
            DataKind::Journey => "Journey steps (for the funnel)",
            DataKind::Audit => "Audit log entries",
        }
    }

    /// The allowed range and the default. Audit entries are kept at least a year, so a
    /// short period cannot be used to wipe the evidence of recent actions; the other
    /// minimums leave time to follow a consultation up.
    pub fn bounds(self) -> Bounds {
        match self {
            DataKind::Consultation => Bounds {
                min: 30,
                max: 3650,
                default: 365,
            },
            DataKind::Chat => Bounds {
                min: 1,
                max: 3650,
                default: 90,
            },
            DataKind::Journey => Bounds {
                min: 30,
                max: 3650,
                default: 180,
            },
            DataKind::Audit => Bounds {
                min: 365,
                max: 7300,
                default: 2922,
            },
        }
    }

    /// A period of `days` for this kind, if within its bounds.
    pub fn days(self, days: u32) -> Result<u32, Error> {
        let b = self.bounds();
        if (b.min..=b.max).contains(&days) {
            Ok(days)
        } else {
            Err(Error::InvalidRetention {
                what: self.label(),
                min: b.min,
                max: b.max,
            })
        }
    }

    /// Text typed into a form: digits only, surrounding spaces ignored.
    pub fn parse_days(self, text: &str) -> Result<u32, Error> {
        let text = text.trim();
        let canonical =
            !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit());
        let days = if canonical { text.parse().ok() } else { None };
        self.days(days.unwrap_or(0))
    }
}

/// An organisation's retention periods, in days. Build with [`RetentionPolicy::new`] so
/// the bounds are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    consultation: u32,
    chat: u32,
    journey: u32,
    audit: u32,
}

impl RetentionPolicy {
    /// A policy with each period checked against its bounds.
    pub fn new(consultation: u32, chat: u32, journey: u32, audit: u32) -> Result<Self, Error> {
        Ok(RetentionPolicy {
            consultation: DataKind::Consultation.days(consultation)?,
            chat: DataKind::Chat.days(chat)?,
            journey: DataKind::Journey.days(journey)?,
            audit: DataKind::Audit.days(audit)?,
        })
    }

    /// The period for one kind of data, in days.
    pub fn days(&self, kind: DataKind) -> u32 {
        match kind {
            DataKind::Consultation => self.consultation,
            DataKind::Chat => self.chat,
            DataKind::Journey => self.journey,
            DataKind::Audit => self.audit,
        }
    }

    /// The periods that differ between `self` and `new`, for the audit log.
    pub fn changes(&self, new: &RetentionPolicy) -> Vec<PolicyChange> {
        DataKind::ALL
            .into_iter()
            .filter(|k| self.days(*k) != new.days(*k))
            .map(|k| PolicyChange {
                field: k.as_str(),
                old: format!("{} days", self.days(k)),
                new: format!("{} days", new.days(k)),
            })
            .collect()
    }
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            consultation: DataKind::Consultation.bounds().default,
            chat: DataKind::Chat.bounds().default,
            journey: DataKind::Journey.bounds().default,
            audit: DataKind::Audit.bounds().default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_lie_within_their_bounds() {
        let policy = RetentionPolicy::default();
        for kind in DataKind::ALL {
            let b = kind.bounds();
            assert!(b.min <= b.default && b.default <= b.max, "{kind:?}");
            assert_eq!(policy.days(kind), b.default);
        }
        assert_eq!(policy.days(DataKind::Audit), 2922, "eight years");
    }

    #[test]
    fn periods_outside_their_bounds_are_refused_with_the_range() {
        assert_eq!(DataKind::Chat.parse_days(" 7 "), Ok(7));
        assert_eq!(DataKind::Audit.parse_days("365"), Ok(365));
        let err = DataKind::Audit.parse_days("30").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Audit log entries must be kept for a whole number of days from 365 to 7300"
        );
        for bad in ["0", "", "-5", "+5", "1.5", "ten", "99999999999", "3651"] {
            assert!(DataKind::Consultation.parse_days(bad).is_err(), "{bad:?}");
        }
        assert!(RetentionPolicy::new(29, 90, 180, 2922).is_err());
        assert!(RetentionPolicy::new(30, 1, 30, 365).is_ok());
    }

    #[test]
    fn changes_name_each_period_that_changed() {
        let old = RetentionPolicy::default();
        assert!(old.changes(&old).is_empty());
        let new = RetentionPolicy::new(365, 7, 180, 3650).unwrap();
        let changes = old.changes(&new);
        let fields: Vec<_> = changes
            .iter()
            .map(|c| (c.field, c.old.as_str(), c.new.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("saved_chat", "90 days", "7 days"),
                ("audit_entries", "2922 days", "3650 days")
            ]
        );
    }
}
