//! The clinician's notes and the write-back to the record.
//!
//! Notes are a draft, saved as often as the clinician likes while the consultation is
//! live and after it ends. "Finish and send to the record" needs an ended consultation
//! and a recorded outcome; it makes the notes read-only and, with a record system
//! configured, queues one bundle per patient for the delivery worker. Every step is
//! audited by who and what, never by the text.

use haven_domain::consultation::{AttendeeRole, Kind, Outcome, Status};
use haven_domain::{AttendeeId, ConsultationId, DeliveryId, OrgId, Role, UserId};
use haven_store::consultations::Consultation;
use serde_json::Value;

use super::{Context, new_id};
use crate::{AppState, Error, FieldErrors};

/// The longest notes kept (a long consultation's notes fit easily).
pub const MAX_NOTES: usize = 20_000;

/// Who may write notes and fetch bundles: a member of the consultation's clinic with a
/// clinician's role (for notes) or a clinician's or receptionist's role (for bundles).
/// Anyone else is told the consultation does not exist.
pub async fn may_use_record(
    state: &AppState,
    org: &OrgId,
    user: &UserId,
    roles: haven_domain::Roles,
    c: &Consultation,
    write: bool,
) -> Result<(), Error> {
    let allowed: &[Role] = if write {
        &[Role::Clinician]
    } else {
        &[Role::Clinician, Role::Receptionist]
    };
    let member = state
        .store
        .user_clinics(org, user)
        .await?
        .contains(&c.clinic_id);
    if member && allowed.iter().any(|r| roles.contains(*r)) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

fn refuse_colleague_meeting(c: &Consultation) -> Result<(), Error> {
    if c.kind == Kind::ColleagueMeeting {
        return Err(Error::Refused(
            "a colleague meeting has no patient, so nothing goes to a record".into(),
        ));
    }
    Ok(())
}

/// Saves the draft notes and, when given, the outcome.
pub async fn save_notes(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    by: &UserId,
    outcome: &str,
    body: &str,
) -> Result<(), Error> {
    let c = state.store.consultation(org, consultation).await?;
    refuse_colleague_meeting(&c)?;
    if !matches!(c.status, Status::InProgress | Status::Ended) {
        return Err(Error::Refused(format!(
            "notes can be written once the consultation has started; it is {}",
            c.status.as_str().replace('_', " ")
        )));
    }
    let mut errors = FieldErrors::default();
    let outcome = match outcome.trim() {
        "" => None,
        word => Outcome::parse(word)
            .map_err(|_| errors.add("outcome", "Choose how the consultation went"))
            .ok(),
    };
    let body = body.trim();
    if body.chars().count() > MAX_NOTES {
        errors.add("notes", "Keep the notes to 20,000 characters");
    }
    if body
        .chars()
        .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
    {
        errors.add("notes", "The notes contain characters that cannot be kept");
    }
    errors.into_result()?;
    let mut tx = state.store.begin().await?;
    tx.save_notes(org, consultation, body, by, ctx.now).await?;
    if let Some(o) = outcome {
        tx.set_outcome(
            org,
            consultation,
            o,
            c.outcome_note.as_deref().unwrap_or(""),
        )
        .await?;
    }
    let detail = match outcome {
        Some(o) => format!("draft saved; outcome={o}"),
        None => "draft saved".to_string(),
    };
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.notes",
        consultation.as_str(),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Finishes the notes: read-only from now on, and one bundle queued per patient when a
/// record system is configured. Returns the deliveries queued.
pub async fn finish_notes(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    by: &UserId,
) -> Result<Vec<DeliveryId>, Error> {
    let c = state.store.consultation(org, consultation).await?;
    refuse_colleague_meeting(&c)?;
    if c.status != Status::Ended {
        return Err(Error::Refused(
            "end the consultation before sending the notes to the record".into(),
        ));
    }
    if c.outcome.is_none() {
        let mut errors = FieldErrors::default();
        errors.add(
            "outcome",
            "Choose how the consultation went before finishing",
        );
        return Err(Error::Invalid(errors));
    }
    let patients: Vec<AttendeeId> = state
        .store
        .attendees(org, consultation)
        .await?
        .into_iter()
        .filter(|a| a.role == AttendeeRole::Patient)
        .map(|a| a.id)
        .collect();
    let mut tx = state.store.begin().await?;
    tx.finish_notes(org, consultation, by, ctx.now).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.notes_finished",
        consultation.as_str(),
        "",
    )
    .await?;
    let mut queued = Vec::new();
    if state.config.record.endpoint.is_some() {
        for patient in &patients {
            let id = new_id(DeliveryId::from_random);
            tx.queue_delivery(org, &id, consultation, patient, ctx.now)
                .await?;
            let detail = format!("delivery {id} for attendee {patient}");
            ctx.audit(
                &mut tx,
                Some(org),
                "record.queued",
                consultation.as_str(),
                &detail,
            )
            .await?;
            queued.push(id);
        }
    }
    tx.commit().await?;
    Ok(queued)
}

/// A patient's bundle for download, once the notes are finished; audited.
pub async fn download(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    patient: &AttendeeId,
) -> Result<Value, Error> {
    let finished = state
        .store
        .notes(org, consultation)
        .await?
        .is_some_and(|n| n.finished.is_some());
    if !finished {
        return Err(Error::Refused(
            "finish the notes first: the record is made from finished notes".into(),
        ));
    }
    let input = crate::record::load(&state.store, org, consultation, patient, ctx.now).await?;
    let bundle = crate::record::bundle(&input)?;
    let mut tx = state.store.begin().await?;
    let detail = format!("bundle for attendee {patient}");
    ctx.audit(
        &mut tx,
        Some(org),
        "record.downloaded",
        consultation.as_str(),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(bundle)
}
