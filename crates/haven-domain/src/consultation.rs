//! A consultation's kind, its lifecycle and its outcome.
//!
//! Every change of a consultation's status goes through [`Status::after`]: the store
//! writes (and audits) only what it returns, so an illegal transition (admitting to an
//! ended consultation, cancelling one in progress) cannot happen by accident anywhere.

use std::fmt;

use crate::Error;

/// What sort of consultation it is; the kind decides who is invited and how the call and
/// the record look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A clinician and a patient.
    OneToOne,
    /// A clinician, a patient and the patient's carer or family member.
    WithCarer,
    /// Hosts and a group of patients (a class, a support group).
    Group,
    /// Staff only.
    ColleagueMeeting,
}

/// The lifecycle of a consultation.
///
/// ```text
/// booked ─▶ invited ─▶ waiting ─▶ in_progress ─▶ ended
///   │  ╲       │  ╲       │  ╲
///   │   ╲      │   ╲      │   ╲─▶ ended (ended before anyone was admitted)
///   ▼    ▼     ▼    ▼     ▼
/// cancelled   did_not_attend   cancelled
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Booked; no invitation sent yet.
    Booked,
    /// At least one invitation was sent.
    Invited,
    /// Someone is in the waiting area.
    Waiting,
    /// Someone was admitted: the call is on.
    InProgress,
    /// Over; every link is dead.
    Ended,
    /// Called off before it happened; every link is dead.
    Cancelled,
    /// The patient never came.
    DidNotAttend,
}

/// What happens to a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// Invitations were sent (or sent again).
    Invite,
    /// Someone arrived in the waiting area.
    Arrive,
    /// A clinician admitted someone.
    Admit,
    /// A clinician ended it.
    End,
    /// Staff or a booking system cancelled it.
    Cancel,
    /// Staff recorded that the patient did not come.
    MarkDidNotAttend,
}

impl Status {
    /// The status after `event`, or why the event cannot happen now. The same status back
    /// means nothing changes (a second invitation, another arrival, another admission).
    pub fn after(self, event: Event) -> Result<Status, Error> {
        use Event as E;
        use Status as S;
        let next = match (self, event) {
            (S::Booked | S::Invited, E::Invite) => S::Invited,
            (S::Waiting | S::InProgress, E::Invite) => self,
            (S::Booked | S::Invited, E::Arrive) => S::Waiting,
            (S::Waiting | S::InProgress, E::Arrive) => self,
            (S::Waiting | S::InProgress, E::Admit) => S::InProgress,
            (S::Waiting | S::InProgress, E::End) => S::Ended,
            (S::Booked | S::Invited | S::Waiting, E::Cancel) => S::Cancelled,
            (S::Cancelled, E::Cancel) => S::Cancelled,
            (S::Booked | S::Invited, E::MarkDidNotAttend) => S::DidNotAttend,
            _ => return Err(Error::IllegalTransition { from: self, event }),
        };
        Ok(next)
    }

    /// Whether the consultation is over: links dead, nothing more can happen but an
    /// outcome and notes.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Ended | Status::Cancelled | Status::DidNotAttend
        )
    }
}

/// How the consultation went, as the clinician records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It took place by video as planned.
    Completed,
    /// Video did not work out; it continued by telephone.
    ConvertedToTelephone,
    /// The patient did not attend.
    DidNotAttend,
    /// It could not take place for technical reasons.
    TechnicalFailure,
}

/// Who an attendee is in the consultation; the record shows each person's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttendeeRole {
    /// The patient or service user the consultation is about.
    Patient,
    /// A carer or family member.
    Carer,
    /// An interpreter.
    Interpreter,
    /// A member of staff joining a colleague.
    Colleague,
}

/// A step of one person's way into a consultation, recorded with its time for the
/// journey funnel (how many invited people reached a working call, and where the others
/// stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JourneyStep {
    /// They opened their link.
    LinkOpened,
    /// They confirmed their name and date of birth.
    DetailsEntered,
    /// The pre-call check passed.
    CheckPassed,
    /// The pre-call check found a problem (the detail names which).
    CheckFailed,
    /// They reached the waiting area.
    Waiting,
    /// A clinician admitted them.
    Admitted,
    /// Their media flowed both ways.
    MediaFlowing,
    /// Their part in the call ended.
    Ended,
}

/// An agreement kept with the record. The implied consent on joining and a parent's
/// consent for a child are not kept this way: they follow from what the person confirmed
/// on joining and from the booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentKind {
    /// The patient agrees to a carer or family member being present; a clinician
    /// confirms it.
    CarerPresence,
    /// A group attendee accepted the group's ground rules.
    GroundRules,
    /// A participant agreed to the call being recorded.
    Recording,
}

/// How a patient prefers to receive their invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contact {
    /// A text message to their mobile.
    Sms,
    /// An email.
    Email,
}

/// For a patient under 16: who attends with them, recorded at booking and shown on the
/// join page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildAttendance {
    /// A parent or guardian attends with the young person.
    WithParentOrGuardian,
    /// The young person attends alone, by their own competent decision.
    AloneCompetent,
}

/// The text forms, used in the store, the API, forms and the audit log.
macro_rules! words {
    ($ty:ident, $what:literal, $($variant:ident = $word:literal),+ $(,)?) => {
        impl $ty {
            /// Every value, in order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stable word for this value.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $word),+ }
            }

            /// Parses the stable word.
            pub fn parse(text: &str) -> Result<Self, Error> {
                match text { $($word => Ok($ty::$variant),)+
                    other => Err(Error::UnknownWord {
                        what: $what,
                        got: crate::echo(other),
                        expected: concat!($($word, ", "),+),
                    }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use words;

words!(
    Kind,
    "consultation kind",
    OneToOne = "one_to_one",
    WithCarer = "with_carer",
    Group = "group",
    ColleagueMeeting = "colleague_meeting"
);
words!(
    Status,
    "consultation status",
    Booked = "booked",
    Invited = "invited",
    Waiting = "waiting",
    InProgress = "in_progress",
    Ended = "ended",
    Cancelled = "cancelled",
    DidNotAttend = "did_not_attend"
);
words!(
    Outcome,
    "outcome",
    Completed = "completed",
    ConvertedToTelephone = "converted_to_telephone",
    DidNotAttend = "did_not_attend",
    TechnicalFailure = "technical_failure"
);
words!(Contact, "preferred contact", Sms = "sms", Email = "email");
words!(
    JourneyStep,
    "journey step",
    LinkOpened = "link_opened",
    DetailsEntered = "details_entered",
    CheckPassed = "check_passed",
    CheckFailed = "check_failed",
    Waiting = "waiting",
    Admitted = "admitted",
    MediaFlowing = "media_flowing",
    Ended = "ended"
);
words!(
    AttendeeRole,
    "attendee role",
    Patient = "patient",
    Carer = "carer",
    Interpreter = "interpreter",
    Colleague = "colleague"
);
words!(
    ConsentKind,
    "consent kind",
    CarerPresence = "carer_presence",
    GroundRules = "ground_rules",
    Recording = "recording"
);
words!(
    ChildAttendance,
    "attendance",
    WithParentOrGuardian = "with_parent_or_guardian",
    AloneCompetent = "alone_competent"
);

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Invite => "invite",
            Event::Arrive => "arrive",
            Event::Admit => "admit",
            Event::End => "end",
            Event::Cancel => "cancel",
            Event::MarkDidNotAttend => "mark as did not attend",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [Event; 6] = [
        Event::Invite,
        Event::Arrive,
        Event::Admit,
        Event::End,
        Event::Cancel,
        Event::MarkDidNotAttend,
    ];

    #[test]
    fn the_happy_path_runs_from_booked_to_ended() {
        let mut s = Status::Booked;
        for (event, want) in [
            (Event::Invite, Status::Invited),
            (Event::Arrive, Status::Waiting),
            (Event::Admit, Status::InProgress),
            (Event::Arrive, Status::InProgress),
            (Event::Admit, Status::InProgress),
            (Event::End, Status::Ended),
        ] {
            s = s.after(event).unwrap();
            assert_eq!(s, want, "after {event}");
        }
    }

    #[test]
    fn final_states_accept_nothing_but_a_repeated_cancel() {
        for s in [Status::Ended, Status::Cancelled, Status::DidNotAttend] {
            assert!(s.is_final());
            for e in EVENTS {
                let allowed = s == Status::Cancelled && e == Event::Cancel;
                assert_eq!(s.after(e).is_ok(), allowed, "{s} + {e}");
            }
        }
    }

    #[test]
    fn a_call_in_progress_cannot_be_cancelled_or_marked_not_attended() {
        for e in [Event::Cancel, Event::MarkDidNotAttend] {
            let err = Status::InProgress.after(e).unwrap_err().to_string();
            assert!(err.contains("in_progress"), "{err}");
        }
        assert!(Status::Waiting.after(Event::MarkDidNotAttend).is_err());
        assert!(Status::Booked.after(Event::Admit).is_err());
        assert!(Status::Invited.after(Event::End).is_err());
    }

    #[test]
    fn words_round_trip_and_unknown_words_list_the_choices() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Ok(*k));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(*s));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Ok(*o));
        }
        let e = Kind::parse("webinar").unwrap_err().to_string();
        assert!(
            e.ends_with(
                "'webinar': expected one of one_to_one, with_carer, group, colleague_meeting"
            ),
            "{e}"
        );
        assert_eq!(Contact::parse("email"), Ok(Contact::Email));
        assert!(ChildAttendance::parse("alone").is_err());
    }
}
