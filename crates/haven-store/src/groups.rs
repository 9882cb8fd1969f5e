//! Group consultations: their hosts (the booking clinician first, any of whom may run the
//! call) and each attendee's booked details and the name they chose to be shown by.
//! Every read takes the organisation, so another organisation's group is "not found".

use haven_domain::group::ShownName;
use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, ConsultationId, DateOfBirth, NhsNumber, OrgId, UserId};
use sqlx::{AssertSqlSafe, Row};

use crate::consultations::{ATTENDEE_COLUMNS, Attendee, attendee_from_row};
use crate::{Error, Result, Store, Tx, to_micros};

/// A patient of a group consultation, with what only the hosts may see.
#[derive(Debug, Clone)]
pub struct GroupAttendee {
    /// The attendee (full name, contact, what they confirmed on joining).
    pub attendee: Attendee,
    /// Their date of birth as booked.
    pub dob: DateOfBirth,
    /// Their NHS number, when known.
    pub nhs_number: Option<NhsNumber>,
    /// The name they chose to be shown by, if they chose one.
    pub chosen_name: Option<ShownName>,
}

impl GroupAttendee {
    /// The name the other attendees see: the chosen one, or the booked first name.
    pub fn shown_name(&self) -> ShownName {
        self.chosen_name
            .clone()
            .unwrap_or_else(|| ShownName::first_name_of(&self.attendee.name))
    }
}

/// The query for group attendees with their details, completed by `rest` (the filter
/// and order, with `$1` the organisation).
fn group_select(rest: &str) -> String {
    let columns = ATTENDEE_COLUMNS
        .split(", ")
        .map(|c| format!("a.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {columns}, g.dob, g.nhs_number, g.shown_name FROM attendees a \
         JOIN group_attendees g ON g.attendee_id = a.id WHERE g.org_id = $1 AND {rest}"
    )
}

fn group_attendee_from_row(row: &sqlx::any::AnyRow) -> Result<GroupAttendee> {
    let dob: String = row.try_get("dob")?;
    let nhs: Option<String> = row.try_get("nhs_number")?;
    let shown: Option<String> = row.try_get("shown_name")?;
    Ok(GroupAttendee {
        attendee: attendee_from_row(row)?,
        dob: DateOfBirth::from_stored(&dob).map_err(|e| Error::corrupt("dob", e))?,
        nhs_number: nhs
            .map(|n| NhsNumber::parse(&n).map_err(|e| Error::corrupt("nhs_number", e)))
            .transpose()?,
        chosen_name: shown
            .map(|n| ShownName::parse(&n).map_err(|e| Error::corrupt("shown_name", e)))
            .transpose()?,
    })
}

impl Store {
    /// The hosts of an organisation's consultation, the booking clinician first.
    pub async fn hosts(&self, org: &OrgId, consultation: &ConsultationId) -> Result<Vec<UserId>> {
        let rows = sqlx::query(
            "SELECT user_id FROM consultation_hosts WHERE org_id = $1 AND consultation_id = $2 \
             ORDER BY position",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("user_id")?;
                UserId::parse(&id).map_err(|e| Error::corrupt("user_id", e))
            })
            .collect()
    }

    /// Whether `user` hosts the organisation's consultation.
    pub async fn is_host(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
        user: &UserId,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM consultation_hosts WHERE org_id = $1 AND consultation_id = $2 \
             AND user_id = $3",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .bind(user.as_str())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// The attendees of an organisation's group consultation with their booked details,
    /// in booking order.
    pub async fn group_attendees(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
    ) -> Result<Vec<GroupAttendee>> {
        let sql = group_select("g.consultation_id = $2 ORDER BY g.position");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(consultation.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(group_attendee_from_row).collect()
    }

    /// One group attendee of an organisation; `None` if the attendee is not in a group.
    pub async fn group_attendee(
        &self,
        org: &OrgId,
        attendee: &AttendeeId,
    ) -> Result<Option<GroupAttendee>> {
        let sql = group_select("g.attendee_id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(attendee.as_str())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(group_attendee_from_row)
            .transpose()
    }
}

impl Tx {
    /// Adds a host at `position` (0 for the booking clinician). The user must belong to
    /// the organisation: [`Error::NotFound`] otherwise.
    pub async fn add_host(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        user: &UserId,
        position: i64,
        now: OffsetDateTime,
    ) -> Result<()> {
        let staff = sqlx::query("SELECT 1 FROM users WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(user.as_str())
            .fetch_optional(self.conn())
            .await?;
        let owned = sqlx::query("SELECT 1 FROM consultations WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(consultation.as_str())
            .fetch_optional(self.conn())
            .await?;
        if staff.is_none() || owned.is_none() {
            return Err(Error::NotFound);
        }
        sqlx::query(
            "INSERT INTO consultation_hosts (consultation_id, org_id, user_id, position, added_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(consultation.as_str())
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(position)
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Records a group attendee's booked details, `position` giving their place in the
    /// booking; the attendee must already be added to the same organisation's consultation
    /// ([`Error::NotFound`] otherwise).
    pub async fn add_group_details(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        position: i64,
        dob: DateOfBirth,
        nhs_number: Option<&NhsNumber>,
    ) -> Result<()> {
        let row =
            sqlx::query("SELECT consultation_id FROM attendees WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(attendee.as_str())
                .fetch_optional(self.conn())
                .await?
                .ok_or(Error::NotFound)?;
        let consultation: String = row.try_get("consultation_id")?;
        sqlx::query(
            "INSERT INTO group_attendees (attendee_id, consultation_id, org_id, position, dob, \
             nhs_number) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(attendee.as_str())
        .bind(consultation)
        .bind(org.as_str())
        .bind(position)
        .bind(dob.iso())
        .bind(nhs_number.map(NhsNumber::as_str))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Records the name a group attendee chose to be shown by (replacing an earlier one).
    pub async fn set_shown_name(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        name: &ShownName,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE group_attendees SET shown_name = $1 WHERE org_id = $2 AND attendee_id = $3",
        )
        .bind(name.as_str())
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }
}
