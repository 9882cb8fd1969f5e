//! Each attendee's journey into a consultation, step by step with times, for the funnel
//! administrators see. Only step words and problem codes are stored: no personal data.

use haven_domain::consultation::JourneyStep;
use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, OrgId};

use crate::{Error, Result, Tx, to_micros};

impl Tx {
    /// Records that an attendee of the organisation reached `step` (with a problem code for
    /// a failed check). The clinic is taken from the attendee's consultation.
    pub async fn journey_step(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        step: JourneyStep,
        detail: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO journey_steps (attendee_id, org_id, clinic_id, step, detail, at) \
             SELECT a.id, a.org_id, c.clinic_id, $1, $2, $3 FROM attendees a \
             JOIN consultations c ON c.id = a.consultation_id \
             WHERE a.org_id = $4 AND a.id = $5",
        )
        .bind(step.as_str())
        .bind(detail)
        .bind(to_micros(now))
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
