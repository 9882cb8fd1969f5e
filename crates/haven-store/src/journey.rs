//! Each attendee's journey into a consultation, step by step with times, for the funnel
//! administrators see. Only step words and problem codes are stored: no personal data.

use std::collections::{BTreeMap, HashMap};

use haven_domain::consultation::{JourneyStep, Status};
use haven_domain::journey::{CheckProblem, Funnel, StepAt};
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

    /// Records `step` for an attendee unless it is already recorded (a step that counts
    /// once, however often it recurs: media flowing again after a reconnection). Returns
    /// whether it was recorded now.
    pub async fn journey_step_once(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        step: JourneyStep,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let seen = sqlx::query(
            "SELECT 1 FROM journey_steps WHERE org_id = $1 AND attendee_id = $2 AND step = $3",
        )
        .bind(org.as_str())
        .bind(attendee.as_str())
        .bind(step.as_str())
        .fetch_optional(self.conn())
        .await?;
        if seen.is_some() {
            return Ok(false);
        }
        self.journey_step(org, attendee, step, None, now).await?;
        Ok(true)
    }
}

impl Store {
    /// The funnel of each clinic for the consultations starting in `[from, until)` (not
    /// cancelled), by clinic id; clinics with no such consultation are left out. Staff who
    /// attend a colleague meeting signed in were not invited and are not counted.
    pub async fn funnels(
        &self,
        org: &OrgId,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<(ClinicId, Funnel)>> {
        let rows = sqlx::query(
            "SELECT c.clinic_id, a.id AS attendee_id, j.step, j.detail, j.at \
             FROM consultations c JOIN attendees a ON a.consultation_id = c.id \
             LEFT JOIN journey_steps j ON j.attendee_id = a.id \
             WHERE c.org_id = $1 AND c.starts_at >= $2 AND c.starts_at < $3 \
             AND c.status <> $4 AND a.user_id IS NULL ORDER BY c.clinic_id, a.id",
        )
        .bind(org.as_str())
        .bind(to_micros(from))
        .bind(to_micros(until))
        .bind(Status::Cancelled.as_str())
        .fetch_all(self.pool())
        .await?;
        // Each clinic's people, each person's steps (none for someone who never opened
        // their link: the LEFT JOIN gives one row of NULLs).
        let mut clinics: BTreeMap<String, BTreeMap<String, Vec<StepAt>>> = BTreeMap::new();
        for row in &rows {
            let steps = clinics
                .entry(row.try_get("clinic_id")?)
                .or_default()
                .entry(row.try_get("attendee_id")?)
                .or_default();
            steps.extend(step_at(row)?);
        }
        clinics
            .into_iter()
            .map(|(clinic, people)| {
                let clinic =
                    ClinicId::parse(&clinic).map_err(|e| Error::corrupt("clinic id", e))?;
                Ok((clinic, Funnel::count(people.values().map(Vec::as_slice))))
            })
            .collect()
    }

    /// An attendee's steps, oldest first.
    pub async fn journey(&self, org: &OrgId, attendee: &AttendeeId) -> Result<Vec<StepAt>> {
        let rows = sqlx::query(
            "SELECT step, detail, at FROM journey_steps WHERE org_id = $1 AND attendee_id = $2 \
             ORDER BY at",
        )
        .bind(org.as_str())
        .bind(attendee.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut steps = Vec::with_capacity(rows.len());
        for row in &rows {
            steps.extend(step_at(row)?);
        }
        Ok(steps)
    }

    /// How many check results an attendee has sent since `since`, to limit how often a
    /// page may send them.
    pub async fn check_results_since(
        &self,
        org: &OrgId,
        attendee: &AttendeeId,
        since: OffsetDateTime,
    ) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM journey_steps WHERE org_id = $1 AND attendee_id = $2 \
             AND step IN ($3, $4) AND at >= $5",
        )
        .bind(org.as_str())
        .bind(attendee.as_str())
        .bind(JourneyStep::CheckPassed.as_str())
        .bind(JourneyStep::CheckFailed.as_str())
        .bind(to_micros(since))
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }
}

/// A step from a row with `step`, `detail` and `at` (all NULL for someone without steps,
/// from a LEFT JOIN).
fn step_at(row: &sqlx::any::AnyRow) -> Result<Option<StepAt>> {
    let Some(step) = row.try_get::<Option<String>, _>("step")? else {
        return Ok(None);
    };
    let at: Option<i64> = row.try_get("at")?;
    let detail: Option<String> = row.try_get("detail")?;
    Ok(Some(StepAt {
        step: JourneyStep::parse(&step).map_err(|e| Error::corrupt("journey step", e))?,
        // A code from another version is counted as a failure of no known kind.
        problem: detail.and_then(|d| CheckProblem::parse(&d).ok()),
        at: from_micros(at.unwrap_or_default()),
    }))
}

/// The result of an attendee's latest pre-call check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// Whether it passed.
    pub passed: bool,
    /// What a failed check found (none for a code from another version).
    pub problem: Option<CheckProblem>,
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
                    problem: row
                        .try_get::<Option<String>, _>("detail")?
                        .and_then(|d| CheckProblem::parse(&d).ok()),
                    at: from_micros(row.try_get("at")?),
                },
            );
        }
        Ok(latest)
    }
}
