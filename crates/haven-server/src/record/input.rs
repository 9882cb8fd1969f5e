//! Everything a patient's bundle may draw on, loaded in one place so that building the
//! bundle is a pure function and its tests need no database.

use haven_domain::consultation::JourneyStep;
use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, ConsultationId, OrgId, OrgName, PersonName, UserId};
use haven_store::Store;
use haven_store::consultations::{Attendee, Consultation};
use haven_store::notes::Notes;
use haven_store::record::{ChatLine, Consent, Stay};

use crate::Error;

/// A member of staff who may appear in a bundle (a clinician, a host, whoever confirmed
/// an agreement or wrote in the chat).
#[derive(Debug, Clone)]
pub struct StaffMember {
    /// Their account.
    pub id: UserId,
    /// Their name.
    pub name: PersonName,
}

/// The consultation as a whole; [`crate::record::bundle`] picks one patient's part.
#[derive(Debug, Clone)]
pub struct RecordInput {
    /// The organisation (the record's custodian and the consents' organisation).
    pub org: (OrgId, OrgName),
    /// The consultation.
    pub consultation: Consultation,
    /// The patient whose bundle this is (an attendee with the patient role).
    pub patient: AttendeeId,
    /// Everyone invited, of every role.
    pub attendees: Vec<Attendee>,
    /// Staff who may be named.
    pub staff: Vec<StaffMember>,
    /// The clinician's notes (finished, for a bundle sent to the record).
    pub notes: Option<Notes>,
    /// Every agreement recorded in the consultation.
    pub consents: Vec<Consent>,
    /// The whole attendance register.
    pub stays: Vec<Stay>,
    /// The chat the clinician kept, if any.
    pub chat: Vec<ChatLine>,
    /// When each attendee was first admitted by the journey's record, for an attendee
    /// with no stay in the register.
    pub admitted: Vec<(AttendeeId, OffsetDateTime)>,
    /// When the bundle is built.
    pub built_at: OffsetDateTime,
}

/// Loads the input for `patient`'s bundle of an organisation's consultation;
/// [`Error::NotFound`] if the patient is not a patient of that consultation.
pub async fn load(
    store: &Store,
    org: &OrgId,
    consultation: &ConsultationId,
    patient: &AttendeeId,
    now: OffsetDateTime,
) -> Result<RecordInput, Error> {
    let c = store.consultation(org, consultation).await?;
    let attendees = store.attendees(org, consultation).await?;
    if !attendees
        .iter()
        .any(|a| a.id == *patient && a.role == haven_domain::consultation::AttendeeRole::Patient)
    {
        return Err(Error::NotFound);
    }
    let notes = store.notes(org, consultation).await?;
    let consents = store.consents(org, consultation).await?;
    let stays = store.stays(org, consultation).await?;
    let chat = store.saved_chat(org, consultation).await?;

    let mut users: Vec<UserId> = Vec::new();
    let mut add = |u: &UserId| {
        if !users.contains(u) {
            users.push(u.clone());
        }
    };
    c.clinician_id.iter().for_each(&mut add);
    if let Some(n) = &notes {
        add(&n.updated_by);
        if let Some((by, _)) = &n.finished {
            add(by);
        }
    }
    consents
        .iter()
        .filter_map(|k| k.confirmed_by.as_ref())
        .for_each(&mut add);
    chat.iter()
        .filter_map(|l| l.sender_user.as_ref())
        .for_each(&mut add);
    attendees
        .iter()
        .filter_map(|a| a.user_id.as_ref())
        .for_each(&mut add);
    let mut staff = Vec::with_capacity(users.len());
    for id in users {
        let user = store.user(org, &id).await?;
        staff.push(StaffMember {
            id,
            name: user.name,
        });
    }

    let mut admitted = Vec::new();
    for a in &attendees {
        let steps = store.journey(org, &a.id).await?;
        if let Some(s) = steps.iter().find(|s| s.step == JourneyStep::Admitted) {
            admitted.push((a.id.clone(), s.at));
        }
    }
    let org_name = store.org(org).await?.name;
    Ok(RecordInput {
        org: (org.clone(), org_name),
        consultation: c,
        patient: patient.clone(),
        attendees,
        staff,
        notes,
        consents,
        stays,
        chat,
        admitted,
        built_at: now,
    })
}
