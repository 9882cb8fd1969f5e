//! Booking a consultation, shared by the staff pages and the JSON API: every field is
//! checked into a domain type, each problem is reported against its own field, and the
//! consultation, its patient and the audit entry are written in one transaction. The
//! checks are in `check.rs`; this file holds the inputs and the writing.

mod check;

use haven_domain::consultation::{AttendeeRole, Event};
use haven_domain::{AttendeeId, ConsultationId, OrgId};
use haven_store::Store;
use haven_store::consultations::{NewAttendee, NewConsultation};

use super::{Context, new_id};
use crate::Error;
use crate::config::InviteSettings;
use crate::invites::{self, JoinLink};
use check::check;
pub(crate) use check::field;

/// Under this age a patient's booking must say who attends with them.
pub const CHILD_UNDER_YEARS: u32 = 16;

/// When the appointment is, as each caller has it.
#[derive(Debug, Clone, Copy)]
pub enum When<'a> {
    /// A UK wall-clock date (`YYYY-MM-DD`) and time (`HH:MM`) from a form.
    Local {
        /// The date field.
        date: &'a str,
        /// The time field.
        time: &'a str,
    },
    /// An RFC 3339 instant from the API.
    Instant(&'a str),
}

/// A date of birth as each caller has it.
#[derive(Debug, Clone, Copy)]
pub enum Birth<'a> {
    /// Day, month and year fields (the GOV.UK date pattern).
    Parts {
        /// Day.
        day: &'a str,
        /// Month.
        month: &'a str,
        /// Year.
        year: &'a str,
    },
    /// `YYYY-MM-DD`.
    Iso(&'a str),
}

/// A booking as typed: unchecked text. Empty strings mean "not given".
#[derive(Debug, Clone, Copy)]
pub struct BookingInput<'a> {
    /// The clinic's id.
    pub clinic: &'a str,
    /// The clinician's id, or empty for any clinician of the clinic.
    pub clinician: &'a str,
    /// The appointment time.
    pub when: When<'a>,
    /// `one_to_one`, `with_carer`, `group` or `colleague_meeting`.
    pub kind: &'a str,
    /// The patient's full name (empty for a colleague meeting).
    pub name: &'a str,
    /// The patient's date of birth.
    pub birth: Birth<'a>,
    /// The NHS number, optional.
    pub nhs_number: &'a str,
    /// A UK mobile number, optional if an email address is given.
    pub mobile: &'a str,
    /// An email address, optional if a mobile number is given.
    pub email: &'a str,
    /// `sms` or `email`.
    pub contact: &'a str,
    /// For a patient under 16: `with_parent_or_guardian` or `alone_competent`.
    pub child_attendance: &'a str,
    /// For a colleague meeting: the staff members who attend (user ids), besides the host.
    pub colleagues: &'a [&'a str],
    /// For a group: its attendees and co-hosts (the patient fields above are not used).
    pub group: super::group::GroupInput<'a>,
}

/// What to do besides booking, in the same transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Then<'a> {
    /// Queue an invitation for each person through these settings' channel.
    pub invite: Option<&'a InviteSettings>,
    /// Make a join link for each person on this base URL and return it (the API's create
    /// response; the links are shown once and kept only as hashes).
    pub links_on: Option<&'a str>,
}

/// What was booked.
#[derive(Debug, Clone)]
pub struct Booked {
    /// The new consultation.
    pub id: ConsultationId,
    /// Its patient's attendee record, unless it is a colleague meeting or a group.
    pub patient: Option<AttendeeId>,
    /// A group's attendees, in booking order (empty for other kinds).
    pub group: Vec<AttendeeId>,
    /// Each person's join link, when asked for.
    pub links: Vec<(AttendeeId, JoinLink)>,
}

/// Books a consultation in `org` and audits it; [`Error::Invalid`] names every bad field.
pub async fn book(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    input: &BookingInput<'_>,
    then: Then<'_>,
) -> Result<Booked, Error> {
    let checked = check(store, ctx.now, org, input).await?;
    let policy = store.org(org).await?.policy;
    let id = new_id(ConsultationId::from_random);
    let mut tx = store.begin().await?;
    tx.create_consultation(
        &NewConsultation {
            id: &id,
            org_id: org,
            clinic_id: &checked.clinic,
            clinician_id: checked.clinician.as_ref(),
            kind: checked.kind,
            starts_at: checked.starts_at,
            patient: checked.patient.as_ref().map(|(p, ..)| p),
        },
        ctx.now,
    )
    .await?;
    let mut patient_id = None;
    if let Some((patient, mobile, email, contact)) = &checked.patient {
        let attendee = new_id(AttendeeId::from_random);
        tx.add_attendee(
            org,
            &id,
            &NewAttendee {
                id: &attendee,
                role: AttendeeRole::Patient,
                name: &patient.name,
                mobile: mobile.as_ref(),
                email: email.as_ref(),
                contact: *contact,
                user_id: None,
            },
            ctx.now,
        )
        .await?;
        patient_id = Some(attendee);
    }
    super::meetings::add_colleagues(&mut tx, org, &id, &checked.colleagues, ctx.now).await?;
    let group = match &checked.group {
        Some(g) => super::group::add(&mut tx, ctx, org, &id, g).await?,
        None => Vec::new(),
    };
    let mut links = Vec::new();
    for attendee in patient_id.iter().chain(&group) {
        if let Some(settings) = then.invite {
            invites::ops::enqueue_in(&mut tx, ctx, settings, org, attendee).await?;
        }
        if let Some(base) = then.links_on {
            let expires = invites::link_expiry(&policy, checked.starts_at, ctx.now);
            let link = invites::mint_link(&mut tx, base, org, attendee, expires, ctx.now).await?;
            links.push((attendee.clone(), link));
        }
    }
    // No personal data in the audit detail: the consultation id leads to it for those
    // allowed to see it.
    let mut detail = format!(
        "kind={} clinic={} starts_at={}",
        checked.kind,
        checked.clinic.as_str(),
        checked.starts_at.unix_timestamp()
    );
    if !checked.colleagues.is_empty() {
        detail.push_str(&format!(" colleagues={}", checked.colleagues.len()));
    }
    if let Some(g) = &checked.group {
        let (hosts, attendees) = g.counts();
        detail.push_str(&format!(" hosts={hosts} attendees={attendees}"));
    }
    ctx.audit(
        &mut tx,
        Some(org),
        "consultation.book",
        id.as_str(),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Booked {
        id,
        patient: patient_id,
        group,
        links,
    })
}

/// Cancels a consultation that has not started: its links die at once and its queued
/// invitations are not sent. Cancelling a cancelled one again changes nothing and is not
/// an error, so callers may retry; [`Error::Refused`] once it has started or is over.
pub async fn cancel(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    id: &ConsultationId,
) -> Result<(), Error> {
    let mut tx = store.begin().await?;
    let (before, after) = tx.transition(org, id, Event::Cancel, ctx.now).await?;
    if before != after {
        tx.revoke_consultation_invites(org, id, ctx.now).await?;
        tx.fail_queued_for_consultation(org, id, "consultation cancelled", ctx.now)
            .await?;
        ctx.audit(
            &mut tx,
            Some(org),
            "consultation.cancel",
            id.as_str(),
            &format!("from={before}"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
