//! Each attendee's journey into a consultation, step by step with times, for the funnel
//! administrators see. Only step words and problem codes are stored: no personal data.

use std::collections::HashMap;

use haven_domain::consultation::JourneyStep;
use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, ClinicId, OrgId};
use sqlx::Row;

use crate::{Error, Result, Store, Tx, from_micros, to_micros};

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

/// The result of an attendee's latest pre-call check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Whether it passed.
    pub passed: bool,
    /// The problem code of a failed check (`no_camera`, `low_bandwidth`, …), as recorded.
    pub problem: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

impl Store {
    /// The latest pre-call check (passed or failed) of each attendee of the clinic's
    /// consultations that start in `[from, to)`, whenever the check was done. Attendees
    /// with no check are absent.
    pub async fn latest_checks(
        &self,
        org: &OrgId,
        clinic: &ClinicId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<HashMap<AttendeeId, CheckResult>> {
        let rows = sqlx::query(
            "SELECT j.attendee_id, j.step, j.detail, j.at FROM journey_steps j \
             JOIN attendees a ON a.id = j.attendee_id \
             JOIN consultations c ON c.id = a.consultation_id \
             WHERE c.org_id = $1 AND c.clinic_id = $2 AND c.starts_at >= $3 AND c.starts_at < $4 \
             AND j.org_id = $1 AND j.step IN ($5, $6) ORDER BY j.at",
        )
        .bind(org.as_str())
        .bind(clinic.as_str())
        .bind(to_micros(from))
        .bind(to_micros(to))
        .bind(JourneyStep::CheckPassed.as_str())
        .bind(JourneyStep::CheckFailed.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut latest = HashMap::new();
        // In time order, so a later check replaces an earlier one.
        for row in &rows {
            let attendee = AttendeeId::parse(&row.try_get::<String, _>("attendee_id")?)
                .map_err(|e| Error::corrupt("attendee_id", e))?;
            let step = JourneyStep::parse(&row.try_get::<String, _>("step")?)
                .map_err(|e| Error::corrupt("step", e))?;
            latest.insert(
                attendee,
                CheckResult {
                    passed: step == JourneyStep::CheckPassed,
                    problem: row.try_get("detail")?,
                    at: from_micros(row.try_get("at")?),
                },
            );
        }
        Ok(latest)
    }
}
