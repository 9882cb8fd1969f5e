//! What a group's hosts do from the consultation page: admit attendees one by one or all
//! who have passed their checks, mute an attendee, stop or allow their video, and remove
//! them. Only the group's hosts may; each change is audited in the transaction that
//! records it, then the live room applies it.
//!
//! The quick check for a group (30 people cannot each take the one-to-one checklist): an
//! attendee has passed when they accepted the ground rules and typed the booked name and
//! date of birth (`haven_domain::group::GroupCheck`); the host sees both side by side.
//! "Admit all who have passed" admits exactly those who are waiting; anyone else is
//! admitted one by one, after the host confirms they checked who it is.

use haven_domain::consultation::{ConsentKind, Event, JourneyStep, Kind};
use haven_domain::group::GroupCheck;
use haven_domain::{AttendeeId, ConsultationId, OrgId, UserId};
use haven_store::groups::GroupAttendee;

use super::Context;
use crate::signal::hub::ToHub;
use crate::{AppState, Error, FieldErrors};

/// A host's control over one attendee's media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Mute their microphone (they may unmute themselves).
    Mute,
    /// Stop their video; it stays off until a host allows it.
    StopVideo,
    /// Allow their video again.
    AllowVideo,
}

/// One attendee with how their check went, for the host's page.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The attendee and their booked details.
    pub person: GroupAttendee,
    /// Whether they accepted the ground rules.
    pub ground_rules: bool,
    /// Whether they passed the quick check.
    pub passed: bool,
}

/// Refuses anyone but a host of the organisation's group consultation.
pub async fn require_host(
    state: &AppState,
    org: &OrgId,
    consultation: &ConsultationId,
    user: &UserId,
) -> Result<(), Error> {
    let c = state.store.consultation(org, consultation).await?;
    if c.kind != Kind::Group {
        return Err(Error::NotFound);
    }
    if !state.store.is_host(org, consultation, user).await? {
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// Every attendee of a group with their check.
pub async fn checked(
    state: &AppState,
    org: &OrgId,
    consultation: &ConsultationId,
) -> Result<Vec<Checked>, Error> {
    let consents = state.store.consents(org, consultation).await?;
    let people = state.store.group_attendees(org, consultation).await?;
    Ok(people
        .into_iter()
        .map(|person| {
            let ground_rules = consents
                .iter()
                .any(|k| k.attendee == person.attendee.id && k.kind == ConsentKind::GroundRules);
            let passed = GroupCheck {
                booked_name: &person.attendee.name,
                booked_dob: person.dob,
                entered_name: person.attendee.confirmed.as_ref().map(|c| &c.name),
                entered_dob: person.attendee.confirmed.as_ref().and_then(|c| c.dob),
                ground_rules,
            }
            .passed();
            Checked {
                person,
                ground_rules,
                passed,
            }
        })
        .collect())
}

/// Who of a consultation is in its waiting area now.
pub fn waiting(state: &AppState, consultation: &ConsultationId) -> Vec<AttendeeId> {
    state
        .live
        .watch_waiting()
        .borrow()
        .get(consultation)
        .map(|(_, entries)| entries.iter().map(|e| e.attendee.clone()).collect())
        .unwrap_or_default()
}

/// Admits one waiting attendee after the host confirmed who it is.
pub async fn admit_one(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
    identity_confirmed: bool,
) -> Result<(), Error> {
    let all = checked(state, org, consultation).await?;
    let one = all
        .iter()
        .find(|c| c.person.attendee.id == *attendee)
        .ok_or(Error::NotFound)?;
    if !one.ground_rules {
        return Err(Error::Refused(
            "they have not accepted the ground rules yet".into(),
        ));
    }
    if !identity_confirmed {
        let mut errors = FieldErrors::default();
        errors.add(
            "identity_confirmed",
            "Confirm that you have checked who this is",
        );
        return Err(Error::Invalid(errors));
    }
    admit(
        state,
        ctx,
        org,
        consultation,
        std::slice::from_ref(attendee),
        "host_checked",
    )
    .await
}

/// Admits everyone waiting who has passed their checks; returns how many.
pub async fn admit_all_passed(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
) -> Result<usize, Error> {
    let waiting = waiting(state, consultation);
    let ready: Vec<AttendeeId> = checked(state, org, consultation)
        .await?
        .into_iter()
        .filter(|c| c.passed && waiting.contains(&c.person.attendee.id))
        .map(|c| c.person.attendee.id)
        .collect();
    if ready.is_empty() {
        return Err(Error::Refused(
            "nobody waiting has passed their checks yet".into(),
        ));
    }
    admit(state, ctx, org, consultation, &ready, "passed").await?;
    Ok(ready.len())
}

/// Records the admissions (the consultation under way, each attendee's journey and the
/// start of their stay in the attendance register, an audit entry each), then lets them in.
async fn admit(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    who: &[AttendeeId],
    check: &str,
) -> Result<(), Error> {
    let mut tx = state.store.begin().await?;
    tx.transition(org, consultation, Event::Admit, ctx.now)
        .await?;
    for attendee in who {
        tx.journey_step(org, attendee, JourneyStep::Admitted, None, ctx.now)
            .await?;
        tx.stay_begins(org, consultation, attendee, ctx.now).await?;
        ctx.audit(
            &mut tx,
            Some(org),
            "group.admit",
            consultation.as_str(),
            &format!("attendee={attendee} check={check}"),
        )
        .await?;
    }
    tx.commit().await?;
    for attendee in who {
        let msg = ToHub::Admit {
            attendee: attendee.clone(),
        };
        state.live.tell(consultation, msg).await;
    }
    Ok(())
}

/// Applies a host's control to an attendee in the live call, audited.
pub async fn control(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
    control: Control,
) -> Result<(), Error> {
    attendee_of(state, org, consultation, attendee).await?;
    let (action, msg) = match control {
        Control::Mute => (
            "group.mute",
            ToHub::HostMute {
                attendee: attendee.clone(),
                muted: true,
            },
        ),
        Control::StopVideo => (
            "group.stop_video",
            ToHub::StopVideo {
                attendee: attendee.clone(),
                stopped: true,
            },
        ),
        Control::AllowVideo => (
            "group.allow_video",
            ToHub::StopVideo {
                attendee: attendee.clone(),
                stopped: false,
            },
        ),
    };
    if !state.live.tell(consultation, msg).await {
        return Err(Error::Refused("this consultation is not live".into()));
    }
    let mut tx = state.store.begin().await?;
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

/// Removes an attendee: every link of theirs dies and their stay ends in the same
/// transaction as the audit entry; then the live room drops them at the media layer and
/// closes their connection.
pub async fn remove(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
) -> Result<(), Error> {
    attendee_of(state, org, consultation, attendee).await?;
    let mut tx = state.store.begin().await?;
    let revoked = tx.revoke_attendee_invites(org, attendee, ctx.now).await?;
    tx.stay_ends(org, attendee, ctx.now).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "group.remove",
        consultation.as_str(),
        &format!("attendee={attendee} links_revoked={revoked}"),
    )
    .await?;
    tx.commit().await?;
    let msg = ToHub::Remove {
        attendee: attendee.clone(),
    };
    state.live.tell(consultation, msg).await;
    Ok(())
}

async fn attendee_of(
    state: &AppState,
    org: &OrgId,
    consultation: &ConsultationId,
    attendee: &AttendeeId,
) -> Result<(), Error> {
    match state.store.group_attendee(org, attendee).await? {
        Some(g) if g.attendee.consultation_id == *consultation => Ok(()),
        _ => Err(Error::NotFound),
    }
}
