//! Passing a consultation to another clinician of the same clinic. The consultation's
//! clinician changes (audited with from and to); anyone in its live room goes back to the
//! waiting area, stays connected, and is told to keep waiting for the new clinician, who
//! admits them from the clinic's waiting list.

use haven_domain::consultation::Status;
use haven_domain::{ConsultationId, OrgId, Role, UserId};
use haven_store::consultations::Consultation;
use haven_store::users::User;

use super::Context;
use crate::signal::hub::ToHub;
use crate::{AppState, Error, FieldErrors};

/// What someone in the live room is told when the consultation is passed on.
pub const TRANSFER_NOTICE: &str = "You are being passed to another clinician; please keep waiting.";

/// The form field the clinician is chosen in.
const FIELD: &str = "clinician";

/// The rule: a consultation that is not over passes to an enabled clinician who is a
/// member of its clinic and is not already its clinician. `candidate` is the chosen
/// account if it exists in the organisation; `member` whether it belongs to the clinic.
pub fn check_transfer(
    c: &Consultation,
    candidate: Option<&User>,
    member: bool,
) -> Result<UserId, FieldErrors> {
    let refuse = |message: &str| {
        let mut errors = FieldErrors::default();
        errors.add(FIELD, message);
        Err(errors)
    };
    match c.status {
        Status::Ended => return refuse("This consultation has ended, so it cannot be passed on"),
        Status::Cancelled => {
            return refuse("This consultation was cancelled, so it cannot be passed on");
        }
        Status::DidNotAttend => {
            return refuse("This consultation is over (did not attend), so it cannot be passed on");
        }
        _ => {}
    }
    let Some(user) = candidate else {
        return refuse("Choose a clinician of this clinic");
    };
    if !user.roles.contains(Role::Clinician) || user.disabled {
        return refuse("Choose a clinician: this person does not see patients in Haven");
    }
    if !member {
        return refuse("Choose a clinician who is a member of this consultation's clinic");
    }
    if c.clinician_id.as_ref() == Some(&user.id) {
        return refuse("The consultation is already with this clinician; choose another");
    }
    Ok(user.id.clone())
}

/// Passes `consultation` to the clinician `to` (a user id as the form sent it); each
/// refusal is an error on the `clinician` field.
pub async fn transfer(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    to: &str,
) -> Result<(), Error> {
    let c = state.store.consultation(org, consultation).await?;
    let candidate = match UserId::parse(to.trim()) {
        Ok(id) => match state.store.user(org, &id).await {
            Ok(user) => Some(user),
            Err(haven_store::Error::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let member = match &candidate {
        Some(user) => state
            .store
            .clinic_members(org, &c.clinic_id)
            .await?
            .contains(&user.id),
        None => false,
    };
    let to = check_transfer(&c, candidate.as_ref(), member).map_err(Error::Invalid)?;
    let from = c.clinician_id.as_ref();

    let mut tx = state.store.begin().await?;
    tx.set_clinician(org, consultation, c.status, from, &to)
        .await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.transfer",
        consultation.as_str(),
        &format!(
            "from={} to={to}",
            from.map_or("any_clinician", UserId::as_str)
        ),
    )
    .await?;
    tx.commit().await?;

    // Whoever is in the live room waits for the new clinician, still connected.
    for person in state.store.attendees(org, consultation).await? {
        let moved = ToHub::ToWaiting {
            attendee: person.id.clone(),
        };
        if !state.live.tell(consultation, moved).await {
            break;
        }
        let notice = ToHub::Notice {
            attendee: person.id,
            text: TRANSFER_NOTICE.to_owned(),
        };
        state.live.tell(consultation, notice).await;
    }
    Ok(())
}
