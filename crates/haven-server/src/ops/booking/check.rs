//! A booking's checks: every field read into a domain type, each problem reported
//! against its own field, and all of them reported at once.

use haven_domain::consultation::{ChildAttendance, Contact, Kind};
use haven_domain::time::{Date, Duration, OffsetDateTime, Time};
use haven_domain::{
    ClinicId, DateOfBirth, Email, NhsNumber, OrgId, PersonName, Role, UkMobile, UserId, uk_time,
};
use haven_store::Store;
use haven_store::consultations::BookedPatient;

use super::{Birth, BookingInput, CHILD_UNDER_YEARS, When};
use crate::error::capitalise;
use crate::{Error, FieldErrors};

/// How far in the past an appointment may be booked: "see them now" bookings are made a
/// few minutes late; older times are typing mistakes.
const PAST_GRACE: Duration = Duration::minutes(15);

/// The checked booking.
pub(super) struct Checked {
    pub(super) clinic: ClinicId,
    pub(super) clinician: Option<UserId>,
    pub(super) starts_at: OffsetDateTime,
    pub(super) kind: Kind,
    pub(super) patient: Option<(BookedPatient, Option<UkMobile>, Option<Email>, Contact)>,
    pub(super) colleagues: Vec<crate::ops::meetings::Colleague>,
    pub(super) group: Option<crate::ops::group::CheckedGroup>,
}

/// Checks every field of a booking; [`Error::Invalid`] names each bad one.
pub(super) async fn check(
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
            crate::ops::group::check(
                store,
                org,
                crate::ops::group::Around {
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
    let colleagues = crate::ops::meetings::check_colleagues(
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
