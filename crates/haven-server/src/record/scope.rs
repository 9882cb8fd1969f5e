//! What belongs in one patient's record, and nothing more.
//!
//! - The patient's companions: in a group consultation, only the carers and interpreters
//!   whose presence this patient agreed to (a `carer_presence` agreement about them);
//!   otherwise every carer and interpreter who was in the call or is named in one of the
//!   patient's agreements. Other patients are never companions.
//! - Agreements: the patient's own only.
//! - Stays: the patient's, their companions' and staff attendees'.
//! - Chat: lines sent by the patient, their companions or staff; in a group, what other
//!   attendees wrote stays out of this patient's record.

use haven_domain::AttendeeId;
use haven_domain::consultation::{AttendeeRole, Kind};
use haven_store::consultations::Attendee;
use haven_store::record::{ChatLine, Consent, Stay};

use super::RecordInput;
use crate::Error;

/// One patient's part of a consultation.
pub(super) struct Scope<'a> {
    /// The patient.
    pub patient: &'a Attendee,
    /// Their carers and interpreters.
    pub companions: Vec<&'a Attendee>,
    /// Staff who joined as attendees (colleagues, hosts).
    pub staff_attendees: Vec<&'a Attendee>,
    /// The patient's own agreements.
    pub consents: Vec<&'a Consent>,
    /// The stays of the people above.
    pub stays: Vec<&'a Stay>,
    /// The chat lines of the people above and of staff.
    pub chat: Vec<&'a ChatLine>,
}

impl<'a> Scope<'a> {
    /// The part of `input` that belongs in its patient's record.
    pub fn of(input: &'a RecordInput) -> Result<Scope<'a>, Error> {
        let patient = input
            .attendees
            .iter()
            .find(|a| a.id == input.patient && a.role == AttendeeRole::Patient)
            .ok_or(Error::NotFound)?;
        let consents: Vec<&Consent> = input
            .consents
            .iter()
            .filter(|c| c.attendee == patient.id)
            .collect();
        let agreed_about = |a: &Attendee| consents.iter().any(|c| c.about.as_ref() == Some(&a.id));
        let stayed = |a: &Attendee| input.stays.iter().any(|s| s.attendee == a.id);
        let group = input.consultation.kind == Kind::Group;
        let companions: Vec<&Attendee> = input
            .attendees
            .iter()
            .filter(|a| matches!(a.role, AttendeeRole::Carer | AttendeeRole::Interpreter))
            .filter(|a| a.user_id.is_none())
            .filter(|a| agreed_about(a) || (!group && stayed(a)))
            .collect();
        let staff_attendees: Vec<&Attendee> = input
            .attendees
            .iter()
            .filter(|a| a.user_id.is_some() && stayed(a))
            .collect();
        let mine = |id: &AttendeeId| {
            *id == patient.id
                || companions.iter().any(|a| a.id == *id)
                || staff_attendees.iter().any(|a| a.id == *id)
        };
        let stays = input.stays.iter().filter(|s| mine(&s.attendee)).collect();
        let chat = input
            .chat
            .iter()
            .filter(|l| match &l.sender_attendee {
                Some(a) => mine(a),
                None => l.sender_user.is_some(),
            })
            .collect();
        Ok(Scope {
            patient,
            companions,
            staff_attendees,
            consents,
            stays,
            chat,
        })
    }

    /// The stays of one attendee in this scope.
    pub fn stays_of(&self, id: &AttendeeId) -> impl Iterator<Item = &&'a Stay> {
        self.stays.iter().filter(move |s| s.attendee == *id)
    }
}
