//! More people in a consultation: who may be added during a call, what each person is
//! asked on joining, and what the clinician confirms before admitting each of them.
//!
//! The identity checklist that compares a person's answers with the booking is for the
//! patient alone: only the patient was booked. A carer, interpreter or outside colleague
//! gives their own name; the clinician confirms who they are by asking them (a carer's
//! relationship to the patient, an interpreter's agency or badge), and for a carer that
//! the patient agrees to them being present, which is kept as the patient's consent.

use crate::consultation::AttendeeRole;

/// Something the clinician confirms before admitting someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// They checked who the person is by asking them.
    IdentityConfirmed,
    /// The right patient record is open.
    RecordOpen,
    /// The person is somewhere private.
    PrivateSpace,
    /// The patient agrees to this person being present (their consent is recorded).
    PatientAgrees,
}

impl Check {
    /// The form field that carries it.
    pub fn field(self) -> &'static str {
        match self {
            Check::IdentityConfirmed => "identity_confirmed",
            Check::RecordOpen => "record_open",
            Check::PrivateSpace => "private_space",
            Check::PatientAgrees => "patient_agrees",
        }
    }
}

/// Whether someone in `role` may be invited while a consultation is on.
pub fn may_be_added(role: AttendeeRole) -> bool {
    !matches!(role, AttendeeRole::Patient)
}

/// Whether someone in `role` is asked their date of birth on joining: only the patient,
/// whose answers are compared with the booking.
pub fn asks_date_of_birth(role: AttendeeRole) -> bool {
    matches!(role, AttendeeRole::Patient)
}

/// What the clinician confirms before admitting someone in `role` who joined by link (a
/// staff colleague signed in as themselves and confirms nothing).
pub fn admission_checks(role: AttendeeRole) -> &'static [Check] {
    match role {
        AttendeeRole::Patient => &[
            Check::IdentityConfirmed,
            Check::RecordOpen,
            Check::PrivateSpace,
        ],
        AttendeeRole::Carer => &[Check::IdentityConfirmed, Check::PatientAgrees],
        AttendeeRole::Interpreter | AttendeeRole::Colleague => {
            &[Check::IdentityConfirmed, Check::PrivateSpace]
        }
    }
}

/// Whether the patient's location is noted when admitting someone in `role` (for
/// emergencies: the patient's, not a helper's).
pub fn notes_location(role: AttendeeRole) -> bool {
    matches!(role, AttendeeRole::Patient)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_patient_is_compared_with_the_booking() {
        for role in AttendeeRole::ALL {
            let patient = *role == AttendeeRole::Patient;
            assert_eq!(asks_date_of_birth(*role), patient, "{role}");
            assert_eq!(notes_location(*role), patient, "{role}");
            assert_eq!(
                admission_checks(*role).contains(&Check::RecordOpen),
                patient,
                "{role}"
            );
            assert_eq!(may_be_added(*role), !patient, "{role}");
            assert!(admission_checks(*role).contains(&Check::IdentityConfirmed));
        }
    }

    #[test]
    fn a_carer_needs_the_patients_agreement_and_nobody_else_does() {
        for role in AttendeeRole::ALL {
            assert_eq!(
                admission_checks(*role).contains(&Check::PatientAgrees),
                *role == AttendeeRole::Carer,
                "{role}"
            );
        }
    }
}
