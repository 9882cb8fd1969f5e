//! Colleague meetings: the host names internal participants from the organisation's active
//! staff when booking; each joins with their own sign-in (no invitation link, no name and
//! date-of-birth check) and waits until the host admits them with a plain "Admit" — the
//! identity checklist is for patients.

use haven_domain::consultation::{AttendeeRole, Contact, Event, JourneyStep, Kind};
use haven_domain::{AttendeeId, ConsultationId, OrgId, PersonName, UserId};
use haven_store::consultations::NewAttendee;
use haven_store::{Store, Tx};

use super::{Context, new_id};
use crate::signal::hub::ToHub;
use crate::{AppState, Error, FieldErrors};

/// The most colleagues one meeting may name.
pub const MAX_COLLEAGUES: usize = 50;

/// A colleague chosen for a meeting, checked.
#[derive(Debug, Clone)]
pub(crate) struct Colleague {
    user: UserId,
    name: PersonName,
}

/// Checks the colleagues chosen for a booking of `kind` hosted by `host`: each must be an
/// active staff member of `org` other than the host; only colleague meetings have them.
/// Problems go on the `colleagues` field.
pub(crate) async fn check_colleagues(
    store: &Store,
    org: &OrgId,
    kind: Option<Kind>,
    host: Option<&UserId>,
    chosen: &[&str],
    errors: &mut FieldErrors,
) -> Result<Vec<Colleague>, Error> {
    let chosen: Vec<&str> = chosen
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    if kind != Some(Kind::ColleagueMeeting) {
        errors.add(
            "colleagues",
            "Colleagues can be chosen only for a colleague meeting",
        );
        return Ok(Vec::new());
    }
    if chosen.len() > MAX_COLLEAGUES {
        errors.add(
            "colleagues",
            format!("Choose at most {MAX_COLLEAGUES} colleagues"),
        );
        return Ok(Vec::new());
    }
    let staff = store.users(org).await?;
    let mut colleagues: Vec<Colleague> = Vec::new();
    for text in chosen {
        let user = UserId::parse(text)
            .ok()
            .and_then(|id| staff.iter().find(|u| u.id == id && !u.disabled));
        match user {
            Some(u) if Some(&u.id) == host => errors.add(
                "colleagues",
                "The host is already in the meeting: choose the other colleagues",
            ),
            Some(u) => {
                if !colleagues.iter().any(|c| c.user == u.id) {
                    colleagues.push(Colleague {
                        user: u.id.clone(),
                        name: u.name.clone(),
                    });
                }
            }
            None => errors.add(
                "colleagues",
                "Choose colleagues from your organisation's active staff",
            ),
        }
    }
    Ok(colleagues)
}

/// Lists the colleagues as the meeting's attendees, in the booking's transaction.
pub(crate) async fn add_colleagues(
    tx: &mut Tx,
    org: &OrgId,
    meeting: &ConsultationId,
    colleagues: &[Colleague],
    now: haven_domain::time::OffsetDateTime,
) -> Result<(), Error> {
    for c in colleagues {
        tx.add_attendee(
            org,
            meeting,
            &NewAttendee {
                id: &new_id(AttendeeId::from_random),
                role: AttendeeRole::Colleague,
                name: &c.name,
                mobile: None,
                email: None,
                // Never used: colleagues are not sent invitations.
                contact: Contact::Email,
                user_id: Some(&c.user),
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Admits a colleague waiting in a colleague meeting: no identity checklist (they signed
/// in as themselves), but audited like any admission. [`Error::NotFound`] for anyone who
/// is not a listed colleague of this meeting.
pub async fn admit_colleague(
    state: &AppState,
    ctx: &Context,
    org: &OrgId,
    meeting: &ConsultationId,
    attendee: &AttendeeId,
) -> Result<(), Error> {
    let person = state.store.attendee(org, attendee).await?;
    if person.consultation_id != *meeting
        || person.role != AttendeeRole::Colleague
        || person.user_id.is_none()
    {
        return Err(Error::NotFound);
    }
    let mut tx = state.store.begin().await?;
    tx.transition(org, meeting, Event::Admit, ctx.now).await?;
    tx.journey_step(org, attendee, JourneyStep::Admitted, None, ctx.now)
        .await?;
    super::people::stay_begins(&mut tx, org, meeting, attendee, ctx.now).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.admit",
        meeting.as_str(),
        &format!("attendee={attendee} colleague=yes"),
    )
    .await?;
    tx.commit().await?;
    state
        .live
        .tell(
            meeting,
            ToHub::Admit {
                attendee: attendee.clone(),
            },
        )
        .await;
    Ok(())
}
