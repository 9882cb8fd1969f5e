//! More people in a consultation: a clinician invites a carer or family member, an
//! interpreter or a colleague during the call (each with their own link, through the same
//! join page, pre-call check and waiting area), admits each of them after the checks their
//! role calls for (for a carer, the patient's agreement, kept as a consent), removes
//! anyone (their links die at once and the media room drops them), and talks privately
//! with one person while the others are held. Every change is audited; the attendance
//! register records each stay in the call.

use haven_domain::consultation::{AttendeeRole, ConsentKind, Contact, Event, JourneyStep};
use haven_domain::people::{Check, admission_checks, may_be_added};
use haven_domain::{AttendeeId, ConsultationId, Email, OrgId, PersonName, UkMobile, UserId};
use haven_store::Tx;
use haven_store::consultations::{Attendee, Consultation, NewAttendee};
use haven_store::record::Consent;
use tokio::sync::oneshot;

use super::{Context, new_id};
use crate::error::capitalise;
use crate::invites::{self, JoinLink};
use crate::signal::hub::ToHub;
use crate::{AppState, Error, FieldErrors};

/// Someone to add, as typed. Empty strings mean "not given".
#[derive(Debug, Clone, Copy)]
pub struct NewPerson<'a> {
    /// `carer`, `interpreter` or `colleague`.
    pub role: &'a str,
    /// For a colleague on the organisation's staff: their user id (they join signed in).
    pub staff: &'a str,
    /// The person's full name (not for a staff colleague).
    pub name: &'a str,
    /// A UK mobile number, for a text message.
    pub mobile: &'a str,
    /// An email address, for an email.
    pub email: &'a str,
    /// How their link goes to them: `sms`, `email`, or `copy` (shown once, to pass on).
    pub send: &'a str,
}

/// Who was added.
#[derive(Debug, Clone)]
pub struct Added {
    /// Their attendee record.
    pub attendee: AttendeeId,
    /// Their link, when the clinician chose to copy it (the only copy of the token).
    pub link: Option<JoinLink>,
}

/// How an added person's link reaches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Through the outbox, by text message or email.
    Message(Contact),
    /// Shown once to the clinician.
    Copy,
    /// Not at all: a staff colleague joins with their sign-in.
    SignIn,
}

/// The consultation, if it may still have people added or moved; refused once it is over.
async fn open_consultation(
    state: &AppState,
    org: &OrgId,
    consultation: &ConsultationId,
) -> Result<Consultation, Error> {
    let c = state.store.consultation(org, consultation).await?;
    if c.status.is_final() {
        return Err(Error::Refused(format!(
            "this consultation is {}: nobody can be added, removed or moved",
            c.status.as_str().replace('_', " ")
        )));
    }
    Ok(c)
}

/// The attendee, if they belong to the consultation; not found otherwise.
async fn attendee_of(
    state: &AppState,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
) -> Result<Attendee, Error> {
    let person = state.store.attendee(org, attendee).await?;
    if person.consultation_id != *consultation {
        return Err(Error::NotFound);
    }
    Ok(person)
}

/// Invites one more person to a consultation that is not over, and audits it;
/// [`Error::Invalid`] names every bad field.
pub async fn add_person(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    input: &NewPerson<'_>,
) -> Result<Added, Error> {
    let c = open_consultation(state, org, consultation).await?;
    let (role, name, mobile, email, send, user) = check(state, ctx, org, &c, input).await?;
    let attendee = new_id(AttendeeId::from_random);
    let contact = match send {
        Delivery::Message(contact) => contact,
        // Kept for a later "send again"; a copied link was not sent at all.
        Delivery::Copy | Delivery::SignIn if mobile.is_some() => Contact::Sms,
        Delivery::Copy | Delivery::SignIn => Contact::Email,
    };
    let mut tx = state.store.begin().await?;
    tx.add_attendee(
        org,
        consultation,
        &NewAttendee {
            id: &attendee,
            role,
            name: &name,
            mobile: mobile.as_ref(),
            email: email.as_ref(),
            contact,
            user_id: user.as_ref(),
        },
        ctx.now,
    )
    .await?;
    let mut link = None;
    match send {
        Delivery::Message(_) => {
            invites::ops::enqueue_in(&mut tx, ctx, &state.config.invites, org, &attendee).await?;
        }
        Delivery::Copy => {
            let policy = state.store.org(org).await?.policy;
            let expires = invites::link_expiry(&policy, c.starts_at, ctx.now);
            let base = &state.config.public_url;
            link = Some(invites::mint_link(&mut tx, base, org, &attendee, expires, ctx.now).await?);
        }
        Delivery::SignIn => {}
    }
    let how = match send {
        Delivery::Message(contact) => contact.as_str(),
        Delivery::Copy => "copy",
        Delivery::SignIn => "sign_in",
    };
    // No name or contact in the audit detail: the attendee id leads to them.
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.add_person",
        consultation.as_str(),
        &format!("attendee={attendee} role={role} link={how}"),
    )
    .await?;
    tx.commit().await?;
    Ok(Added { attendee, link })
}

type Checked = (
    AttendeeRole,
    PersonName,
    Option<UkMobile>,
    Option<Email>,
    Delivery,
    Option<UserId>,
);

async fn check(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    c: &Consultation,
    input: &NewPerson<'_>,
) -> Result<Checked, Error> {
    let mut errors = FieldErrors::default();
    let role = match AttendeeRole::parse(input.role.trim()) {
        Ok(role) if may_be_added(role) => Some(role),
        _ => {
            errors.add(
                "role",
                "Choose who you are inviting: a carer or family member, an interpreter, or a colleague",
            );
            None
        }
    };
    let staff = input.staff.trim();
    if role == Some(AttendeeRole::Colleague) && !staff.is_empty() {
        let user = check_staff(state, ctx, org, c, staff, &mut errors).await?;
        errors.into_result()?;
        return match user {
            Some((id, name)) => Ok((
                AttendeeRole::Colleague,
                name,
                None,
                None,
                Delivery::SignIn,
                Some(id),
            )),
            None => Err(Error::Internal(
                "a staff colleague passed its check without a value".into(),
            )),
        };
    }
    if !staff.is_empty() {
        errors.add(
            "staff",
            "Only a colleague can be chosen from your organisation's staff",
        );
    }
    let name = PersonName::parse(input.name)
        .map_err(|e| errors.add("name", capitalise(&e.to_string())))
        .ok();
    let mobile = match input.mobile.trim() {
        "" => Some(None),
        text => UkMobile::parse(text)
            .map_err(|e| errors.add("mobile", capitalise(&e.to_string())))
            .ok()
            .map(Some),
    };
    let email = match input.email.trim() {
        "" => Some(None),
        text => Email::parse(text)
            .map_err(|e| errors.add("email", capitalise(&e.to_string())))
            .ok()
            .map(Some),
    };
    let send = match input.send.trim() {
        "sms" if matches!(mobile, Some(None)) => {
            errors.add(
                "mobile",
                "Enter a UK mobile number to send their link by text message",
            );
            None
        }
        "email" if matches!(email, Some(None)) => {
            errors.add(
                "email",
                "Enter an email address to send their link by email",
            );
            None
        }
        "sms" => Some(Delivery::Message(Contact::Sms)),
        "email" => Some(Delivery::Message(Contact::Email)),
        "copy" => Some(Delivery::Copy),
        _ => {
            errors.add(
                "send",
                "Choose how to give them their link: text message, email, or copy it",
            );
            None
        }
    };
    errors.into_result()?;
    match (role, name, mobile, email, send) {
        (Some(role), Some(name), Some(mobile), Some(email), Some(send)) => {
            Ok((role, name, mobile, email, send, None))
        }
        _ => Err(Error::Internal(
            "a new person passed their checks without values".into(),
        )),
    }
}

/// A staff colleague to add: an active member of the organisation, not the clinician
/// acting or booked, and not already in the consultation.
async fn check_staff(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    c: &Consultation,
    staff: &str,
    errors: &mut FieldErrors,
) -> Result<Option<(UserId, PersonName)>, Error> {
    let users = state.store.users(org).await?;
    let user = UserId::parse(staff)
        .ok()
        .and_then(|id| users.into_iter().find(|u| u.id == id && !u.disabled));
    let Some(user) = user else {
        errors.add(
            "staff",
            "Choose a colleague from your organisation's active staff",
        );
        return Ok(None);
    };
    let acting = matches!(&ctx.actor, haven_domain::audit::Actor::Staff(u) if *u == user.id);
    if acting || c.clinician_id.as_ref() == Some(&user.id) {
        errors.add(
            "staff",
            "They are already hosting this consultation: choose someone else",
        );
        return Ok(None);
    }
    if state
        .store
        .attendee_of_user(org, &c.id, &user.id)
        .await?
        .is_some()
    {
        errors.add("staff", "They are already invited to this consultation");
        return Ok(None);
    }
    Ok(Some((user.id, user.name)))
}

/// What the clinician confirmed before admitting a carer, an interpreter or an outside
/// colleague, by [`Check`].
pub type Confirmed<'a> = &'a [Check];

/// Admits a carer, interpreter or colleague who joined by link, once every check their
/// role calls for is confirmed (each missing one is a field error). A carer's admission
/// records the patient's agreement to their presence, with who confirmed it.
pub async fn admit_person(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
    confirmed: Confirmed<'_>,
) -> Result<(), Error> {
    let person = attendee_of(state, org, consultation, attendee).await?;
    if person.role == AttendeeRole::Patient || person.user_id.is_some() {
        return Err(Error::BadRequest(
            "the patient and staff colleagues are admitted through their own checks".into(),
        ));
    }
    let mut errors = FieldErrors::default();
    for check in admission_checks(person.role) {
        if !confirmed.contains(check) {
            errors.add(check.field(), missing(*check, &person));
        }
    }
    errors.into_result()?;
    let patient = match person.role {
        AttendeeRole::Carer => {
            let people = state.store.attendees(org, consultation).await?;
            let patient = people.into_iter().find(|a| a.role == AttendeeRole::Patient);
            match patient {
                Some(p) => Some(p.id),
                None => {
                    return Err(Error::Refused(
                        "this consultation has no patient whose agreement could be recorded".into(),
                    ));
                }
            }
        }
        _ => None,
    };
    let by = match &ctx.actor {
        haven_domain::audit::Actor::Staff(user) => Some(user.clone()),
        _ => None,
    };
    let mut tx = state.store.begin().await?;
    tx.transition(org, consultation, Event::Admit, ctx.now)
        .await?;
    tx.journey_step(org, attendee, JourneyStep::Admitted, None, ctx.now)
        .await?;
    stay_begins(&mut tx, org, consultation, attendee, ctx.now).await?;
    let mut detail = format!(
        "attendee={attendee} role={} identity_confirmed=yes",
        person.role
    );
    if let Some(patient) = patient {
        tx.record_consent(
            org,
            &Consent {
                consultation: consultation.clone(),
                attendee: patient,
                kind: ConsentKind::CarerPresence,
                about: Some(attendee.clone()),
                confirmed_by: by,
                given_at: ctx.now,
            },
        )
        .await?;
        detail.push_str(" patient_agrees=yes");
    }
    if confirmed.contains(&Check::PrivateSpace) {
        detail.push_str(" private_space=yes");
    }
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.admit",
        consultation.as_str(),
        &detail,
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

/// The field error for a check left unconfirmed.
fn missing(check: Check, person: &Attendee) -> String {
    match check {
        Check::IdentityConfirmed => format!(
            "Confirm that you have checked who {} is by asking them",
            person.name.as_str()
        ),
        Check::RecordOpen => "Confirm that the right patient record is open".into(),
        Check::PrivateSpace => "Confirm that they are in a private space".into(),
        Check::PatientAgrees => format!(
            "Ask the patient whether they agree to {} being present, and confirm it: a carer is \
             not admitted without the patient's agreement",
            person.name.as_str()
        ),
    }
}

/// An attendee's stay in the call begins: the attendance register. Every admission calls
/// this in its own transaction.
pub(crate) async fn stay_begins(
    tx: &mut Tx,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
    at: haven_domain::time::OffsetDateTime,
) -> Result<(), Error> {
    tx.stay_begins(org, consultation, attendee, at).await?;
    Ok(())
}

/// Removes anyone from a consultation: their links die and the removal is recorded and
/// audited in one transaction, their stay in the call ends, then the live room drops them
/// from the media and closes their connection. [`Error::Refused`] if they were already
/// removed.
pub async fn remove_person(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
) -> Result<(), Error> {
    open_consultation(state, org, consultation).await?;
    let person = attendee_of(state, org, consultation, attendee).await?;
    let haven_domain::audit::Actor::Staff(by) = &ctx.actor else {
        return Err(Error::Forbidden);
    };
    let mut tx = state.store.begin().await?;
    match tx.record_removal(org, attendee, by, ctx.now).await {
        Ok(()) => {}
        Err(haven_store::Error::Conflict(_)) => {
            return Err(Error::Refused(format!(
                "{} was already removed from this consultation",
                person.name.as_str()
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let links = tx.revoke_attendee_invites(org, attendee, ctx.now).await?;
    tx.fail_queued_for_attendee(org, attendee, "removed from the consultation", ctx.now)
        .await?;
    tx.stay_ends(org, attendee, ctx.now).await?;
    tx.journey_step(org, attendee, JourneyStep::Ended, None, ctx.now)
        .await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.remove",
        consultation.as_str(),
        &format!(
            "attendee={attendee} role={} links_revoked={links}",
            person.role
        ),
    )
    .await?;
    tx.commit().await?;
    state
        .live
        .tell(
            consultation,
            ToHub::Remove {
                attendee: attendee.clone(),
            },
        )
        .await;
    Ok(())
}

/// Opens a private side-room with one admitted attendee (`Some`: everyone else who is not
/// a host is held apart in the media room and told why) or brings everyone back (`None`).
/// Audited: who and when, never what was said.
pub async fn side_room(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    with: Option<&AttendeeId>,
) -> Result<(), Error> {
    open_consultation(state, org, consultation).await?;
    if let Some(attendee) = with {
        attendee_of(state, org, consultation, attendee).await?;
    }
    let (reply, answer) = oneshot::channel();
    let msg = ToHub::SideRoom {
        with: with.cloned(),
        reply,
    };
    if !state.live.tell(consultation, msg).await {
        return Err(Error::Refused("this consultation is not live".into()));
    }
    match answer.await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return Err(Error::Refused(capitalise(&why))),
        Err(_) => return Err(Error::Refused("this consultation is not live".into())),
    }
    let (action, detail) = match with {
        Some(attendee) => ("consultation.side_room", format!("with={attendee}")),
        None => ("consultation.side_room_end", String::new()),
    };
    let mut tx = state.store.begin().await?;
    ctx.audit(&mut tx, Some(org), action, consultation.as_str(), &detail)
        .await?;
    tx.commit().await?;
    Ok(())
}
