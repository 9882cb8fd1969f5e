//! Booking a consultation, shared by the staff pages and the JSON API: every field is
//! checked into a domain type, each problem is reported against its own field, and the
//! consultation, its patient and the audit entry are written in one transaction.

use haven_domain::consultation::{AttendeeRole, ChildAttendance, Contact, Event, Kind};
use haven_domain::time::{Date, Duration, OffsetDateTime, Time};
use haven_domain::{
    AttendeeId, ClinicId, ConsultationId, DateOfBirth, Email, NhsNumber, OrgId, PersonName, Role,
    UkMobile, UserId, uk_time,
};
use haven_store::Store;
use haven_store::consultations::{BookedPatient, NewAttendee, NewConsultation};

use super::{Context, new_id};
use crate::config::InviteSettings;
use crate::error::capitalise;
use crate::invites::{self, JoinLink};
use crate::{Error, FieldErrors};

/// Under this age a patient's booking must say who attends with them.
pub const CHILD_UNDER_YEARS: u32 = 16;
/// How far in the past an appointment may be booked: "see them now" bookings are made a
/// few minutes late; older times are typing mistakes.
const PAST_GRACE: Duration = Duration::minutes(15);

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

/// The checked booking.
struct Checked {
    clinic: ClinicId,
    clinician: Option<UserId>,
    starts_at: OffsetDateTime,
    kind: Kind,
    patient: Option<(BookedPatient, Option<UkMobile>, Option<Email>, Contact)>,
    colleagues: Vec<super::meetings::Colleague>,
    group: Option<super::group::CheckedGroup>,
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

async fn check(
    store: &Store,
    now: OffsetDateTime,
    org: &OrgId,
    input: &BookingInput<'_>,
) -> Result<Checked, Error> {
    let mut errors = FieldErrors::default();
    let clinic = match ClinicId::parse(input.clinic.trim()) {
        Ok(id) if store.clinic(org, &id).await.is_ok() => Some(id),
        _ => {
            errors.add("clinic", "Choose a clinic");
            None
        }
    };
    let clinician = match input.clinician.trim() {
        "" => None,
        text => match UserId::parse(text) {
            Ok(id) => match store.user(org, &id).await {
                Ok(user) if user.roles.contains(Role::Clinician) && !user.disabled => Some(id),
                _ => {
                    errors.add("clinician", "Choose a clinician of your organisation");
                    None
                }
            },
            Err(_) => {
                errors.add("clinician", "Choose a clinician of your organisation");
                None
            }
        },
    };
    let starts_at = match parse_when(input.when) {
        Ok(t) if t < now - PAST_GRACE => {
            errors.add("starts_at", "The appointment time must not be in the past");
            None
        }
        Ok(t) => Some(t),
        Err(message) => {
            errors.add("starts_at", message);
            None
        }
    };
    let kind = Kind::parse(input.kind.trim()).map_err(|_| ()).ok();
    if kind.is_none() {
        errors.add(
            "kind",
            "Choose the kind of consultation: one to one, with a carer, group, or colleague meeting",
        );
    }
    let patient = match kind {
        Some(Kind::ColleagueMeeting | Kind::Group) | None => None,
        Some(_) => check_patient(input, now, starts_at, &mut errors),
    };
    let group = match kind {
        Some(Kind::Group) => Some(
            super::group::check(
                store,
                org,
                super::group::Around {
                    clinic: clinic.as_ref(),
                    host: clinician.as_ref(),
                    starts_at,
                    now,
                },
                &input.group,
                &mut errors,
            )
            .await?,
        ),
        _ => {
            if input.group.attendees.iter().any(|p| !p.is_blank())
                || !input.group.cohosts.is_empty()
            {
                errors.add(
                    "attendees",
                    "Attendees and co-hosts can be added only to a group consultation",
                );
            }
            None
        }
    };
    let colleagues = super::meetings::check_colleagues(
        store,
        org,
        kind,
        clinician.as_ref(),
        input.colleagues,
        &mut errors,
    )
    .await?;
    errors.into_result()?;
    match (clinic, starts_at, kind) {
        (Some(clinic), Some(starts_at), Some(kind)) => Ok(Checked {
            clinic,
            clinician,
            starts_at,
            kind,
            patient,
            colleagues,
            group,
        }),
        _ => Err(Error::Internal(
            "booking checks passed without values".into(),
        )),
    }
}

fn check_patient(
    input: &BookingInput<'_>,
    now: OffsetDateTime,
    starts_at: Option<OffsetDateTime>,
    errors: &mut FieldErrors,
) -> Option<(BookedPatient, Option<UkMobile>, Option<Email>, Contact)> {
    let today = uk_time::local(now).date();
    let name = field(errors, "name", PersonName::parse(input.name));
    let dob = field(
        errors,
        "date_of_birth",
        match input.birth {
            Birth::Parts { day, month, year } => DateOfBirth::from_parts(day, month, year, today),
            Birth::Iso(text) => DateOfBirth::parse_iso(text, today),
        },
    );
    let nhs_number = match input.nhs_number.trim() {
        "" => Some(None),
        text => field(errors, "nhs_number", NhsNumber::parse(text)).map(Some),
    };
    let mobile = match input.mobile.trim() {
        "" => Some(None),
        text => field(errors, "mobile", UkMobile::parse(text)).map(Some),
    };
    let email = match input.email.trim() {
        "" => Some(None),
        text => field(errors, "email", Email::parse(text)).map(Some),
    };
    let contact = match Contact::parse(input.contact.trim()) {
        Ok(Contact::Sms) if matches!(mobile, Some(None)) => {
            errors.add(
                "mobile",
                "Enter a UK mobile number to send the invitation by text message",
            );
            None
        }
        Ok(Contact::Email) if matches!(email, Some(None)) => {
            errors.add(
                "email",
                "Enter an email address to send the invitation by email",
            );
            None
        }
        Ok(c) => Some(c),
        Err(_) => {
            errors.add(
                "contact",
                "Choose how to send the invitation: text message or email",
            );
            None
        }
    };
    let child = match (dob, starts_at) {
        (Some(dob), Some(at)) if dob.age_on(uk_time::local(at).date()) < CHILD_UNDER_YEARS => {
            match ChildAttendance::parse(input.child_attendance.trim()) {
                Ok(c) => Some(Some(c)),
                Err(_) => {
                    errors.add(
                        "child_attendance",
                        "The patient is under 16: say whether a parent or guardian attends, or \
                         the young person attends alone by their own competent decision",
                    );
                    None
                }
            }
        }
        _ => Some(None),
    };
    Some((
        BookedPatient {
            name: name?,
            dob: dob?,
            nhs_number: nhs_number?,
            child_attendance: child?,
        },
        mobile?,
        email?,
        contact?,
    ))
}

/// Reads the appointment time; the error completes "The appointment time…".
fn parse_when(when: When<'_>) -> Result<OffsetDateTime, &'static str> {
    match when {
        When::Local { date, time } => {
            let date_format = haven_domain::time::macros::format_description!("[year]-[month]-[day]");
            let time_format = haven_domain::time::macros::format_description!("[hour]:[minute]");
            let date = Date::parse(date.trim(), date_format)
                .map_err(|_| "Enter the appointment date as a real date, for example 2026-11-24")?;
            let time = Time::parse(time.trim(), time_format)
                .map_err(|_| "Enter the appointment time as hours and minutes, for example 14:30")?;
            Ok(uk_time::from_local(date, time))
        }
        When::Instant(text) => OffsetDateTime::parse(
            text.trim(),
            &haven_domain::time::format_description::well_known::Rfc3339,
        )
        .map_err(|_| "The appointment time must be an RFC 3339 date and time, for example 2026-11-24T14:30:00Z"),
    }
}

/// A parsed field, or its problem noted against it.
pub(crate) fn field<T>(
    errors: &mut FieldErrors,
    name: &'static str,
    result: Result<T, haven_domain::Error>,
) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            errors.add(name, capitalise(&e.to_string()));
            None
        }
    }
}
