//! Colleague meetings as staff members see them: the meetings they attend or host, and
//! their own place in one (staff join with their sign-in, not with a link).

use haven_domain::consultation::Kind;
use haven_domain::time::OffsetDateTime;
use haven_domain::{ConsultationId, OrgId, UserId};
use sqlx::AssertSqlSafe;

use crate::consultations::{
    ATTENDEE_COLUMNS, Attendee, COLUMNS, Consultation, attendee_from_row, consultation_from_row,
};
use crate::{Result, Store, to_micros};

impl Store {
    /// The colleague meetings starting in `[from, to)` that `user` is a listed participant
    /// of, or hosts as their clinician, earliest first (cancelled and finished ones too:
    /// the caller decides what to show).
    pub async fn meetings_of(
        &self,
        org: &OrgId,
        user: &UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Consultation>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM consultations WHERE org_id = $1 AND kind = $2 \
             AND starts_at >= $4 AND starts_at < $5 AND (clinician_id = $3 OR id IN \
             (SELECT consultation_id FROM attendees WHERE org_id = $1 AND user_id = $3)) \
             ORDER BY starts_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(Kind::ColleagueMeeting.as_str())
            .bind(user.as_str())
            .bind(to_micros(from))
            .bind(to_micros(to))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(consultation_from_row).collect()
    }

    /// `user`'s attendee record in an organisation's consultation, if they are listed.
    pub async fn attendee_of_user(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
        user: &UserId,
    ) -> Result<Option<Attendee>> {
        let sql = format!(
            "SELECT {ATTENDEE_COLUMNS} FROM attendees WHERE org_id = $1 \
             AND consultation_id = $2 AND user_id = $3"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(consultation.as_str())
            .bind(user.as_str())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(attendee_from_row)
            .transpose()
    }
}
