//! Admitting someone from the waiting area: the clinician confirms the identity checklist
//! (identity confirmed verbally, the right record open, a private space, where the patient
//! is), which is audited with who confirmed what; then the live room lets them in. Also
//! the other moves a clinician makes from the consultation page: back to waiting, hold and
//! resume, and a notice to someone waiting.

use haven_domain::consultation::{Event, JourneyStep};
use haven_domain::{AttendeeId, ConsultationId, OrgId};

use super::Context;
use crate::signal::hub::ToHub;
use crate::{AppState, Error, FieldErrors};

/// The longest location note kept.
const MAX_LOCATION: usize = 300;
/// The longest notice to someone waiting.
pub const MAX_NOTICE: usize = 300;

/// What the clinician confirmed before admitting.
#[derive(Debug, Clone, Copy)]
pub struct Checklist<'a> {
    /// They confirmed the person's identity by asking them.
    pub identity_confirmed: bool,
    /// The right patient record is open.
    pub record_open: bool,
    /// The person is somewhere private.
    pub private_space: bool,
    /// Where the person is now, for emergencies.
    pub location: &'a str,
}

/// Admits `attendee` into `consultation` once every item is confirmed; each missing item
/// is a field error, and nothing is admitted without all of them.
pub async fn admit(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
    checklist: &Checklist<'_>,
) -> Result<(), Error> {
    let person = state.store.attendee(org, attendee).await?;
    if person.consultation_id != *consultation {
        return Err(Error::NotFound);
    }
    let mut errors = FieldErrors::default();
    if !checklist.identity_confirmed {
        errors.add(
            "identity_confirmed",
            "Confirm that you have checked who this is",
        );
    }
    if !checklist.record_open {
        errors.add(
            "record_open",
            "Confirm that the right patient record is open",
        );
    }
    if !checklist.private_space {
        errors.add("private_space", "Confirm that they are in a private space");
    }
    let location = checklist.location.trim();
    if location.is_empty() {
        errors.add(
            "location",
            "Note where they are now, in case of an emergency",
        );
    } else if location.chars().count() > MAX_LOCATION || location.chars().any(char::is_control) {
        errors.add(
            "location",
            "Keep the location to one line of at most 300 characters",
        );
    }
    errors.into_result()?;

    let mut tx = state.store.begin().await?;
    tx.transition(org, consultation, Event::Admit, ctx.now)
        .await?;
    tx.set_patient_location(org, consultation, location).await?;
    tx.journey_step(org, attendee, JourneyStep::Admitted, None, ctx.now)
        .await?;
    super::people::stay_begins(&mut tx, org, consultation, attendee, ctx.now).await?;
    // Who confirmed what, and when (the entry's time); the location itself is personal
    // data and stays with the consultation.
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.admit",
        consultation.as_str(),
        &format!(
            "attendee={attendee} identity_confirmed=yes record_open=yes private_space=yes location=noted"
        ),
    )
    .await?;
    tx.commit().await?;
    state
        .live
        .tell(
            consultation,
            ToHub::Admit {
                attendee: attendee.clone(),
            },
        )
        .await;
    Ok(())
}

/// A clinician's move for someone already admitted or waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Put on hold (nothing sent either way) or resume.
    Hold(bool),
    /// Back to the waiting area.
    ToWaiting,
}

/// Applies a move and audits it.
pub async fn move_attendee(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
    change: Move,
) -> Result<(), Error> {
    let person = state.store.attendee(org, attendee).await?;
    if person.consultation_id != *consultation {
        return Err(Error::NotFound);
    }
    let (action, msg) = match change {
        Move::Hold(on) => (
            if on {
                "consultation.hold"
            } else {
                "consultation.resume"
            },
            ToHub::Hold {
                attendee: attendee.clone(),
                on,
            },
        ),
        Move::ToWaiting => (
            "consultation.to_waiting",
            ToHub::ToWaiting {
                attendee: attendee.clone(),
            },
        ),
    };
    if !state.live.tell(consultation, msg).await {
        return Err(Error::Refused("this consultation is not live".into()));
    }
    let mut tx = state.store.begin().await?;
    if change == Move::ToWaiting {
        // Back in the waiting area is out of the call, for the attendance register.
        tx.stay_ends(org, attendee, ctx.now).await?;
    }
    ctx.audit(
        &mut tx,
        Some(org),
        action,
        consultation.as_str(),
        &format!("attendee={attendee}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Shows a short message to someone waiting.
pub async fn notify_waiting(
    state: &AppState,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
    text: &str,
) -> Result<(), Error> {
    let person = state.store.attendee(org, attendee).await?;
    if person.consultation_id != *consultation {
        return Err(Error::NotFound);
    }
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTICE {
        let mut errors = FieldErrors::default();
        errors.add("notice", "Write a message of 1 to 300 characters");
        return Err(Error::Invalid(errors));
    }
    let msg = ToHub::Notice {
        attendee: attendee.clone(),
        text: text.to_owned(),
    };
    if !state.live.tell(consultation, msg).await {
        return Err(Error::Refused(
            "nobody is waiting in this consultation now".into(),
        ));
    }
    Ok(())
}

/// The longest outcome note kept.
const MAX_NOTE: usize = 2000;

/// Records (or corrects) how the consultation went: a coded outcome and a free-text note,
/// audited (the note itself stays with the consultation: it is clinical).
pub async fn record_outcome(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    outcome: &str,
    note: &str,
) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    let outcome = haven_domain::consultation::Outcome::parse(outcome.trim())
        .map_err(|_| errors.add("outcome", "Choose how the consultation went"))
        .ok();
    let note = note.trim();
    if note.chars().count() > MAX_NOTE {
        errors.add(
            "note",
            "Keep the note to 2,000 characters; the full notes go in the record",
        );
    }
    errors.into_result()?;
    let Some(outcome) = outcome else {
        return Err(Error::Internal(
            "an outcome passed its check without a value".into(),
        ));
    };
    let c = state.store.consultation(org, consultation).await?;
    if !matches!(
        c.status,
        haven_domain::consultation::Status::InProgress | haven_domain::consultation::Status::Ended
    ) {
        return Err(Error::Refused(format!(
            "a consultation that is {} has no outcome yet",
            c.status.as_str().replace('_', " ")
        )));
    }
    let finished = state.store.notes(org, consultation).await?;
    if finished.is_some_and(|n| n.finished.is_some()) {
        return Err(Error::Refused(haven_store::notes::FINISHED.into()));
    }
    let mut tx = state.store.begin().await?;
    tx.set_outcome(org, consultation, outcome, note).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.outcome",
        consultation.as_str(),
        &format!("outcome={outcome}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
