//! Consultations and the people invited to them.
//!
//! A status changes only through [`Tx::transition`], which takes the domain's
//! [`Event`](haven_domain::consultation::Event) and writes the status
//! [`Status::after`] allows, guarded by the status it read: two clinicians pressing
//! "admit" and "end" at once cannot both win.

use haven_domain::consultation::{
    AttendeeRole, ChildAttendance, Contact, Event, Kind, Outcome, Status,
};
use haven_domain::time::OffsetDateTime;
use haven_domain::{
    AttendeeId, ClinicId, ConsultationId, DateOfBirth, Email, NhsNumber, OrgId, PersonName,
    UkMobile, UserId,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// A booked consultation.
#[derive(Debug, Clone)]
pub struct Consultation {
    /// Its opaque id.
    pub id: ConsultationId,
    /// The organisation it belongs to.
    pub org_id: OrgId,
    /// The clinic whose waiting area it uses.
    pub clinic_id: ClinicId,
    /// The clinician it is booked with, if one was named.
    pub clinician_id: Option<UserId>,
    /// One to one, with a carer, group, or colleague meeting.
    pub kind: Kind,
    /// Where it is in its lifecycle.
    pub status: Status,
    /// The appointment time.
    pub starts_at: OffsetDateTime,
    /// The patient as booked; none for a colleague meeting.
    pub patient: Option<BookedPatient>,
    /// Where the patient is during the call, noted at admission.
    pub patient_location: Option<String>,
    /// How it went, once recorded.
    pub outcome: Option<Outcome>,
    /// The clinician's note on the outcome.
    pub outcome_note: Option<String>,
    /// When it was booked.
    pub created_at: OffsetDateTime,
    /// When it ended, was cancelled or was marked as not attended.
    pub ended_at: Option<OffsetDateTime>,
}

/// The patient's details as booked, against which their answers on joining are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookedPatient {
    /// Full name.
    pub name: PersonName,
    /// Date of birth.
    pub dob: DateOfBirth,
    /// NHS number, when known.
    pub nhs_number: Option<NhsNumber>,
    /// For a patient under 16: whether a parent or guardian attends.
    pub child_attendance: Option<ChildAttendance>,
}

/// Someone invited to a consultation.
#[derive(Debug, Clone)]
pub struct Attendee {
    /// Its opaque id.
    pub id: AttendeeId,
    /// The consultation.
    pub consultation_id: ConsultationId,
    /// Patient, carer, interpreter or colleague.
    pub role: AttendeeRole,
    /// Their name, as staff entered it.
    pub name: PersonName,
    /// Their UK mobile number, if given.
    pub mobile: Option<UkMobile>,
    /// Their email address, if given.
    pub email: Option<Email>,
    /// How they prefer to be invited.
    pub contact: Contact,
    /// When they were added.
    pub created_at: OffsetDateTime,
    /// What they entered about themselves on joining, if they have.
    pub confirmed: Option<Confirmed>,
    /// The staff member this is, for a colleague at a colleague meeting: they join with
    /// their own sign-in, not a link.
    pub user_id: Option<UserId>,
}

/// A person's own answers on joining, which the clinician compares with the booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    /// The name they typed.
    pub name: PersonName,
    /// The date of birth they typed; only the patient is asked for it.
    pub dob: Option<DateOfBirth>,
    /// When.
    pub at: OffsetDateTime,
}

/// A consultation to book.
#[derive(Debug)]
pub struct NewConsultation<'a> {
    /// Its new id.
    pub id: &'a ConsultationId,
    /// The organisation.
    pub org_id: &'a OrgId,
    /// The clinic (of the same organisation).
    pub clinic_id: &'a ClinicId,
    /// The clinician, if named (of the same organisation).
    pub clinician_id: Option<&'a UserId>,
    /// Its kind.
    pub kind: Kind,
    /// The appointment time.
    pub starts_at: OffsetDateTime,
    /// The patient; none for a colleague meeting.
    pub patient: Option<&'a BookedPatient>,
}

/// Someone to invite.
#[derive(Debug)]
pub struct NewAttendee<'a> {
    /// Its new id.
    pub id: &'a AttendeeId,
    /// Their role.
    pub role: AttendeeRole,
    /// Their name.
    pub name: &'a PersonName,
    /// Their mobile, if any.
    pub mobile: Option<&'a UkMobile>,
    /// Their email address, if any.
    pub email: Option<&'a Email>,
    /// How to invite them.
    pub contact: Contact,
    /// The staff member, for a colleague (who joins signed in, with no link).
    pub user_id: Option<&'a UserId>,
}

pub(crate) const COLUMNS: &str = "id, org_id, clinic_id, clinician_id, kind, status, starts_at, \
     patient_name, patient_dob, nhs_number, child_attendance, patient_location, outcome, \
     outcome_note, created_at, ended_at";

pub(crate) const ATTENDEE_COLUMNS: &str = "id, consultation_id, role, name, mobile, email, contact, \
     created_at, confirmed_name, confirmed_dob, confirmed_at, user_id";

/// Reads an optional stored column through a parser, naming the column if it is corrupt.
pub(crate) fn optional<T, E: std::fmt::Display>(
    row: &AnyRow,
    col: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> Result<Option<T>> {
    row.try_get::<Option<String>, _>(col)?
        .map(|text| parse(&text).map_err(|e| Error::corrupt(col, e)))
        .transpose()
}

pub(crate) fn required<T, E: std::fmt::Display>(
    row: &AnyRow,
    col: &str,
    parse: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> Result<T> {
    parse(&row.try_get::<String, _>(col)?).map_err(|e| Error::corrupt(col, e))
}

pub(crate) fn consultation_from_row(row: &AnyRow) -> Result<Consultation> {
    Ok(Consultation {
        id: required(row, "id", ConsultationId::parse)?,
        org_id: required(row, "org_id", OrgId::parse)?,
        clinic_id: required(row, "clinic_id", ClinicId::parse)?,
        clinician_id: optional(row, "clinician_id", UserId::parse)?,
        kind: required(row, "kind", Kind::parse)?,
        status: required(row, "status", Status::parse)?,
        starts_at: from_micros(row.try_get("starts_at")?),
        patient: match optional(row, "patient_name", PersonName::parse)? {
            None => None,
            Some(name) => Some(BookedPatient {
                name,
                dob: required(row, "patient_dob", DateOfBirth::from_stored)?,
                nhs_number: optional(row, "nhs_number", NhsNumber::parse)?,
                child_attendance: optional(row, "child_attendance", ChildAttendance::parse)?,
            }),
        },
        patient_location: row.try_get("patient_location")?,
        outcome: optional(row, "outcome", Outcome::parse)?,
        outcome_note: row.try_get("outcome_note")?,
        created_at: from_micros(row.try_get("created_at")?),
        ended_at: row.try_get::<Option<i64>, _>("ended_at")?.map(from_micros),
    })
}

pub(crate) fn attendee_from_row(row: &AnyRow) -> Result<Attendee> {
    Ok(Attendee {
        id: required(row, "id", AttendeeId::parse)?,
        consultation_id: required(row, "consultation_id", ConsultationId::parse)?,
        role: required(row, "role", AttendeeRole::parse)?,
        name: required(row, "name", PersonName::parse)?,
        mobile: optional(row, "mobile", UkMobile::parse)?,
        email: optional(row, "email", Email::parse)?,
        contact: required(row, "contact", Contact::parse)?,
        created_at: from_micros(row.try_get("created_at")?),
        confirmed: match optional(row, "confirmed_name", PersonName::parse)? {
            None => None,
            Some(name) => Some(Confirmed {
                name,
                dob: optional(row, "confirmed_dob", DateOfBirth::from_stored)?,
                at: from_micros(row.try_get("confirmed_at")?),
            }),
        },
        user_id: optional(row, "user_id", UserId::parse)?,
    })
}

impl Store {
    /// One consultation of an organisation; [`Error::NotFound`] if it belongs to another.
    pub async fn consultation(&self, org: &OrgId, id: &ConsultationId) -> Result<Consultation> {
        let sql = format!("SELECT {COLUMNS} FROM consultations WHERE org_id = $1 AND id = $2");
        consultation_from_row(
            &sqlx::query(AssertSqlSafe(sql))
                .bind(org.as_str())
                .bind(id.as_str())
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// A clinic's consultations starting in `[from, to)`, earliest first.
    pub async fn consultations_between(
        &self,
        org: &OrgId,
        clinic: &ClinicId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Consultation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM consultations WHERE org_id = $1 AND clinic_id = $2 \
             AND starts_at >= $3 AND starts_at < $4 ORDER BY starts_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(clinic.as_str())
            .bind(to_micros(from))
            .bind(to_micros(to))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(consultation_from_row).collect()
    }

    /// The people invited to a consultation of an organisation, the patient first.
    pub async fn attendees(&self, org: &OrgId, id: &ConsultationId) -> Result<Vec<Attendee>> {
        let sql = format!(
            "SELECT {ATTENDEE_COLUMNS} FROM attendees WHERE org_id = $1 AND consultation_id = $2 \
             ORDER BY CASE role WHEN 'patient' THEN 0 ELSE 1 END, created_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(attendee_from_row).collect()
    }

    /// One attendee of an organisation's consultation; [`Error::NotFound`] otherwise.
    pub async fn attendee(&self, org: &OrgId, id: &AttendeeId) -> Result<Attendee> {
        let sql = format!("SELECT {ATTENDEE_COLUMNS} FROM attendees WHERE org_id = $1 AND id = $2");
        attendee_from_row(
            &sqlx::query(AssertSqlSafe(sql))
                .bind(org.as_str())
                .bind(id.as_str())
                .fetch_one(self.pool())
                .await?,
        )
    }
}

impl Tx {
    /// Books a consultation (status `booked`). The clinic and clinician must belong to the
    /// same organisation: [`Error::NotFound`] otherwise.
    pub async fn create_consultation(
        &mut self,
        new: &NewConsultation<'_>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let clinic = sqlx::query("SELECT 1 FROM clinics WHERE org_id = $1 AND id = $2")
            .bind(new.org_id.as_str())
            .bind(new.clinic_id.as_str())
            .fetch_optional(self.conn())
            .await?;
        if clinic.is_none() {
            return Err(Error::NotFound);
        }
        if let Some(clinician) = new.clinician_id {
            let user = sqlx::query("SELECT 1 FROM users WHERE org_id = $1 AND id = $2")
                .bind(new.org_id.as_str())
                .bind(clinician.as_str())
                .fetch_optional(self.conn())
                .await?;
            if user.is_none() {
                return Err(Error::NotFound);
            }
        }
        let p = new.patient;
        sqlx::query(
            "INSERT INTO consultations (id, org_id, clinic_id, clinician_id, kind, status, \
             starts_at, patient_name, patient_dob, nhs_number, child_attendance, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(new.id.as_str())
        .bind(new.org_id.as_str())
        .bind(new.clinic_id.as_str())
        .bind(new.clinician_id.map(UserId::as_str))
        .bind(new.kind.as_str())
        .bind(Status::Booked.as_str())
        .bind(to_micros(new.starts_at))
        .bind(p.map(|p| p.name.as_str()))
        .bind(p.map(|p| p.dob.iso()))
        .bind(p.and_then(|p| p.nhs_number.as_ref().map(NhsNumber::as_str)))
        .bind(p.and_then(|p| p.child_attendance.map(ChildAttendance::as_str)))
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Invites someone to an organisation's consultation.
    pub async fn add_attendee(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        new: &NewAttendee<'_>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let owned = sqlx::query("SELECT 1 FROM consultations WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(consultation.as_str())
            .fetch_optional(self.conn())
            .await?;
        if owned.is_none() {
            return Err(Error::NotFound);
        }
        if let Some(user) = new.user_id {
            let staff = sqlx::query("SELECT 1 FROM users WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(user.as_str())
                .fetch_optional(self.conn())
                .await?;
            if staff.is_none() {
                return Err(Error::NotFound);
            }
        }
        sqlx::query(
            "INSERT INTO attendees (id, consultation_id, org_id, role, name, mobile, email, \
             contact, created_at, user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new.id.as_str())
        .bind(consultation.as_str())
        .bind(org.as_str())
        .bind(new.role.as_str())
        .bind(new.name.as_str())
        .bind(new.mobile.map(UkMobile::e164))
        .bind(new.email.map(Email::as_str))
        .bind(new.contact.as_str())
        .bind(to_micros(now))
        .bind(new.user_id.map(UserId::as_str))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Applies `event` to an organisation's consultation and returns (before, after). A
    /// final status records `ended_at`. [`Error::Refused`] when the lifecycle does not allow
    /// the event; [`Error::NotFound`] for another organisation's consultation.
    pub async fn transition(
        &mut self,
        org: &OrgId,
        id: &ConsultationId,
        event: Event,
        now: OffsetDateTime,
    ) -> Result<(Status, Status)> {
        let row = sqlx::query("SELECT status FROM consultations WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_one(self.conn())
            .await?;
        let before = required(&row, "status", Status::parse)?;
        let after = before
            .after(event)
            .map_err(|e| Error::Refused(e.to_string()))?;
        if after != before {
            let ended = after.is_final().then(|| to_micros(now));
            // The first admission makes it a consultation held, for the national counts.
            let admitted = (after == Status::InProgress).then(|| to_micros(now));
            let done = sqlx::query(
                "UPDATE consultations SET status = $1, ended_at = COALESCE($2, ended_at), \
                 admitted_at = COALESCE(admitted_at, $6) \
                 WHERE org_id = $3 AND id = $4 AND status = $5",
            )
            .bind(after.as_str())
            .bind(ended)
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(before.as_str())
            .bind(admitted)
            .execute(self.conn())
            .await?;
            if done.rows_affected() != 1 {
                return Err(Error::Refused(
                    "the consultation changed at the same moment; reload and try again".into(),
                ));
            }
        }
        Ok((before, after))
    }

    /// Records what an attendee entered about themselves on joining (replacing an earlier
    /// answer: a mistyped date may be corrected).
    pub async fn confirm_identity(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        name: &PersonName,
        dob: DateOfBirth,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE attendees SET confirmed_name = $1, confirmed_dob = $2, confirmed_at = $3 \
             WHERE org_id = $4 AND id = $5",
        )
        .bind(name.as_str())
        .bind(dob.iso())
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        found(done.rows_affected())
    }

    /// Records the name a carer, interpreter or outside colleague gave on joining: they
    /// are not asked their date of birth, which is only compared for the patient.
    pub async fn confirm_name(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        name: &PersonName,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE attendees SET confirmed_name = $1, confirmed_dob = NULL, confirmed_at = $2 \
             WHERE org_id = $3 AND id = $4",
        )
        .bind(name.as_str())
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        found(done.rows_affected())
    }

    /// Records where the patient is during the call (noted by the clinician at admission).
    pub async fn set_patient_location(
        &mut self,
        org: &OrgId,
        id: &ConsultationId,
        location: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE consultations SET patient_location = $1 WHERE org_id = $2 AND id = $3",
        )
        .bind(location)
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.conn())
        .await?;
        found(done.rows_affected())
    }

    /// Records the outcome and its note (replacing any earlier one).
    pub async fn set_outcome(
        &mut self,
        org: &OrgId,
        id: &ConsultationId,
        outcome: Outcome,
        note: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE consultations SET outcome = $1, outcome_note = $2 \
             WHERE org_id = $3 AND id = $4",
        )
        .bind(outcome.as_str())
        .bind(note)
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.conn())
        .await?;
        found(done.rows_affected())
    }
}

/// An update of one row by organisation and id: nothing updated means not found.
fn found(rows: u64) -> Result<()> {
    if rows == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}
