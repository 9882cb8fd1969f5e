//! Booking a group consultation (a class, a support group): its hosts and up to
//! [`MAX_ATTENDEES`] patients, each with their own details, contact and link.
//!
//! Rules, each a field error: at least one attendee and at most 30; every attendee 16 or
//! over (a young person's attendance is recorded per consultation, so they are booked one
//! to one or with a carer); no mobile number or email address twice (each person's link
//! must reach only them); co-hosts are active clinicians of the clinic, at most
//! [`MAX_HOSTS`] hosts in all.

use std::sync::LazyLock;

use haven_domain::consultation::{AttendeeRole, Contact};
use haven_domain::group::{MAX_ATTENDEES, MAX_HOSTS};
use haven_domain::time::OffsetDateTime;
use haven_domain::{
    AttendeeId, ClinicId, ConsultationId, DateOfBirth, Email, NhsNumber, OrgId, PersonName, Role,
    UkMobile, UserId, uk_time,
};
use haven_store::consultations::NewAttendee;
use haven_store::{Store, Tx};

use super::booking::{Birth, CHILD_UNDER_YEARS, field};
use super::{Context, new_id};
use crate::{Error, FieldErrors};

/// One attendee of a group as typed. A row with every field empty is skipped (the form
/// shows spare rows).
#[derive(Debug, Clone, Copy)]
pub struct GroupPersonInput<'a> {
    /// Full name.
    pub name: &'a str,
    /// Date of birth.
    pub birth: Birth<'a>,
    /// NHS number, optional.
    pub nhs_number: &'a str,
    /// UK mobile number, optional if an email address is given.
    pub mobile: &'a str,
    /// Email address, optional if a mobile number is given.
    pub email: &'a str,
    /// `sms` or `email`.
    pub contact: &'a str,
}

impl GroupPersonInput<'_> {
    /// Whether nothing was typed in the row.
    pub(crate) fn is_blank(&self) -> bool {
        let birth_blank = match self.birth {
            Birth::Parts { day, month, year } => {
                [day, month, year].iter().all(|t| t.trim().is_empty())
            }
            Birth::Iso(t) => t.trim().is_empty(),
        };
        birth_blank
            && [self.name, self.nhs_number, self.mobile, self.email]
                .iter()
                .all(|t| t.trim().is_empty())
    }
}

/// The group part of a booking; empty for other kinds.
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupInput<'a> {
    /// The attendees, in the order shown.
    pub attendees: &'a [GroupPersonInput<'a>],
    /// Clinicians of the clinic who host besides the booking clinician (user ids).
    pub cohosts: &'a [&'a str],
}

/// The fields of one attendee row, as forms and the API name them.
pub const ROW_FIELDS: [&str; 6] = [
    "name",
    "date_of_birth",
    "nhs_number",
    "mobile",
    "email",
    "contact",
];

/// Field names `attendees.{row}.{field}` for error messages, made once: field errors
/// carry `'static` names.
static ROW_NAMES: LazyLock<Vec<[&'static str; 6]>> = LazyLock::new(|| {
    (0..=MAX_ATTENDEES)
        .map(|row| ROW_FIELDS.map(|f| &*Box::leak(format!("attendees.{row}.{f}").into_boxed_str())))
        .collect()
});

/// The error name of `field` (an entry of [`ROW_FIELDS`]) in attendee row `row`.
pub fn row_field(row: usize, field: &str) -> &'static str {
    let col = ROW_FIELDS.iter().position(|f| *f == field).unwrap_or(0);
    ROW_NAMES[row.min(MAX_ATTENDEES)][col]
}

/// A checked group attendee.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    name: PersonName,
    dob: DateOfBirth,
    nhs_number: Option<NhsNumber>,
    mobile: Option<UkMobile>,
    email: Option<Email>,
    contact: Contact,
}

/// A checked group: hosts first the booking clinician, then co-hosts.
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckedGroup {
    hosts: Vec<UserId>,
    members: Vec<Member>,
}

/// The rest of the booking, already checked, that the group's checks depend on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Around<'a> {
    /// The clinic, if it was valid.
    pub clinic: Option<&'a ClinicId>,
    /// The booking clinician, who hosts first.
    pub host: Option<&'a UserId>,
    /// The appointment time, if it was valid.
    pub starts_at: Option<OffsetDateTime>,
    /// Now.
    pub now: OffsetDateTime,
}

/// Checks the group part of a booking; problems go on `attendees`, their rows' fields and
/// `cohosts`.
pub(crate) async fn check(
    store: &Store,
    org: &OrgId,
    around: Around<'_>,
    input: &GroupInput<'_>,
    errors: &mut FieldErrors,
) -> Result<CheckedGroup, Error> {
    let Around {
        clinic,
        host,
        starts_at,
        now,
    } = around;
    let mut group = CheckedGroup::default();
    match host {
        Some(h) => group.hosts.push(h.clone()),
        None => errors.add("clinician", "Choose the clinician who hosts the group"),
    }
    check_cohosts(
        store,
        org,
        clinic,
        host,
        input.cohosts,
        &mut group.hosts,
        errors,
    )
    .await?;
    let rows: Vec<(usize, &GroupPersonInput<'_>)> = input
        .attendees
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_blank())
        .collect();
    if rows.is_empty() {
        errors.add("attendees", "Add at least one attendee to the group");
        return Ok(group);
    }
    if rows.len() > MAX_ATTENDEES {
        errors.add(
            "attendees",
            format!(
                "A group may have at most {MAX_ATTENDEES} attendees; you added {}",
                rows.len()
            ),
        );
        return Ok(group);
    }
    let today = uk_time::local(now).date();
    for (row, person) in rows {
        if let Some(member) = check_member(row, person, today, starts_at, errors) {
            let f = |name| row_field(row, name);
            let same_mobile =
                member.mobile.is_some() && group.members.iter().any(|m| m.mobile == member.mobile);
            let same_email =
                member.email.is_some() && group.members.iter().any(|m| m.email == member.email);
            if same_mobile {
                errors.add(f("mobile"), "This mobile number is already given for another attendee: each person's invitation must reach only them");
            }
            if same_email {
                errors.add(f("email"), "This email address is already given for another attendee: each person's invitation must reach only them");
            }
            group.members.push(member);
        }
    }
    Ok(group)
}

fn check_member(
    row: usize,
    p: &GroupPersonInput<'_>,
    today: haven_domain::time::Date,
    starts_at: Option<OffsetDateTime>,
    errors: &mut FieldErrors,
) -> Option<Member> {
    let f = |name| row_field(row, name);
    let name = field(errors, f("name"), PersonName::parse(p.name));
    let dob = field(
        errors,
        f("date_of_birth"),
        match p.birth {
            Birth::Parts { day, month, year } => DateOfBirth::from_parts(day, month, year, today),
            Birth::Iso(text) => DateOfBirth::parse_iso(text, today),
        },
    );
    if let (Some(d), Some(at)) = (dob, starts_at)
        && d.age_on(uk_time::local(at).date()) < CHILD_UNDER_YEARS
    {
        errors.add(
            f("date_of_birth"),
            "Group attendees must be 16 or over: book a young person one to one or with a carer",
        );
    }
    let nhs_number = match p.nhs_number.trim() {
        "" => Some(None),
        text => field(errors, f("nhs_number"), NhsNumber::parse(text)).map(Some),
    };
    let mobile = match p.mobile.trim() {
        "" => Some(None),
        text => field(errors, f("mobile"), UkMobile::parse(text)).map(Some),
    };
    let email = match p.email.trim() {
        "" => Some(None),
        text => field(errors, f("email"), Email::parse(text)).map(Some),
    };
    let contact = match Contact::parse(p.contact.trim()) {
        Ok(Contact::Sms) if matches!(mobile, Some(None)) => {
            errors.add(
                f("mobile"),
                "Enter a UK mobile number to send the invitation by text message",
            );
            None
        }
        Ok(Contact::Email) if matches!(email, Some(None)) => {
            errors.add(
                f("email"),
                "Enter an email address to send the invitation by email",
            );
            None
        }
        Ok(c) => Some(c),
        Err(_) => {
            errors.add(
                f("contact"),
                "Choose how to send the invitation: text message or email",
            );
            None
        }
    };
    Some(Member {
        name: name?,
        dob: dob?,
        nhs_number: nhs_number?,
        mobile: mobile?,
        email: email?,
        contact: contact?,
    })
}

async fn check_cohosts(
    store: &Store,
    org: &OrgId,
    clinic: Option<&ClinicId>,
    host: Option<&UserId>,
    chosen: &[&str],
    hosts: &mut Vec<UserId>,
    errors: &mut FieldErrors,
) -> Result<(), Error> {
    let chosen: Vec<&str> = chosen
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    if chosen.is_empty() {
        return Ok(());
    }
    let Some(clinic) = clinic else {
        return Ok(());
    };
    let members = store.clinic_members(org, clinic).await?;
    let staff = store.users(org).await?;
    for text in chosen {
        let user = UserId::parse(text).ok().and_then(|id| {
            staff.iter().find(|u| {
                u.id == id
                    && !u.disabled
                    && u.roles.contains(Role::Clinician)
                    && members.contains(&u.id)
            })
        });
        match user {
            Some(u) if Some(&u.id) == host || hosts.contains(&u.id) => {}
            Some(u) => hosts.push(u.id.clone()),
            None => {
                errors.add("cohosts", "Choose co-hosts from the clinic's clinicians");
                return Ok(());
            }
        }
    }
    if hosts.len() > MAX_HOSTS {
        errors.add(
            "cohosts",
            format!("A group may have at most {MAX_HOSTS} hosts, the clinician included"),
        );
    }
    Ok(())
}

/// Writes the checked group into the booking's transaction: its hosts, and each attendee
/// with their details. Returns the attendees' new ids, in order.
pub(crate) async fn add(
    tx: &mut Tx,
    ctx: &Context,
    org: &OrgId,
    consultation: &ConsultationId,
    group: &CheckedGroup,
) -> Result<Vec<AttendeeId>, Error> {
    for (position, user) in group.hosts.iter().enumerate() {
        tx.add_host(org, consultation, user, position as i64, ctx.now)
            .await?;
    }
    let mut ids = Vec::with_capacity(group.members.len());
    for (position, m) in group.members.iter().enumerate() {
        let attendee = new_id(AttendeeId::from_random);
        tx.add_attendee(
            org,
            consultation,
            &NewAttendee {
                id: &attendee,
                role: AttendeeRole::Patient,
                name: &m.name,
                mobile: m.mobile.as_ref(),
                email: m.email.as_ref(),
                contact: m.contact,
                user_id: None,
            },
            ctx.now,
        )
        .await?;
        tx.add_group_details(
            org,
            &attendee,
            position as i64,
            m.dob,
            m.nhs_number.as_ref(),
        )
        .await?;
        ids.push(attendee);
    }
    Ok(ids)
}

impl CheckedGroup {
    /// How many hosts and attendees, for the audit entry (no personal data).
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.hosts.len(), self.members.len())
    }
}
