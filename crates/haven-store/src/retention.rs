//! Retention: each organisation's periods, and removing what is older than them.
//!
//! What goes (see `haven_domain::retention`): the personal data of consultations that
//! ended before the cutoff (the consultation row stays, with its kind, status, times and
//! outcome, so the national counts survive), saved chat, journey steps, and the oldest
//! audit entries behind a checkpoint of the chain.

use haven_domain::retention::DataKind;
use haven_domain::time::OffsetDateTime;
use haven_domain::{OrgId, RetentionPolicy};
use sqlx::Row;

use crate::{Error, Result, Store, Tx, to_micros};

/// What an attendee's name reads once their consultation's personal data is removed: a
/// name the pages can still show, saying what happened.
pub const REMOVED_NAME: &str = "Name removed";

/// What removing old audit entries did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTrim {
    /// How many entries were deleted.
    pub deleted: u64,
    /// The sequence number of the last entry deleted, now the checkpoint.
    pub checkpoint_seq: i64,
}

fn days(row: &sqlx::any::AnyRow, col: &str) -> Result<u32> {
    u32::try_from(row.try_get::<i64, _>(col)?).map_err(|e| Error::corrupt(col, e))
}

impl Store {
    /// An organisation's retention periods (the defaults until its admins change them).
    pub async fn retention_policy(&self, org: &OrgId) -> Result<RetentionPolicy> {
        let row = sqlx::query(
            "SELECT consultation_days, chat_days, journey_days, audit_days \
             FROM retention_policies WHERE org_id = $1",
        )
        .bind(org.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(RetentionPolicy::default());
        };
        RetentionPolicy::new(
            days(&row, "consultation_days")?,
            days(&row, "chat_days")?,
            days(&row, "journey_days")?,
            days(&row, "audit_days")?,
        )
        .map_err(|e| Error::corrupt("retention policy", e))
    }

    /// The audit chain's checkpoint: the sequence number and hash of the last entry removed
    /// by retention, or `(0, GENESIS_HASH)` if none was.
    pub async fn audit_checkpoint(&self) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_checkpoint WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// The longest audit period of any organisation: the audit log is one chain, so old
    /// entries go only when every organisation's period allows it.
    pub async fn longest_audit_days(&self) -> Result<u32> {
        let default = RetentionPolicy::default().days(DataKind::Audit);
        // An organisation without a row of its own keeps the default period.
        let longest: Option<i64> = sqlx::query(
            "SELECT MAX(COALESCE(r.audit_days, $1)) FROM organisations o \
             LEFT JOIN retention_policies r ON r.org_id = o.id",
        )
        .bind(i64::from(default))
        .fetch_one(self.pool())
        .await?
        .try_get(0)?;
        longest.map_or(Ok(default), |d| {
            u32::try_from(d).map_err(|e| Error::corrupt("audit_days", e))
        })
    }
}

impl Tx {
    /// Sets an organisation's retention periods.
    pub async fn set_retention_policy(
        &mut self,
        org: &OrgId,
        policy: &RetentionPolicy,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO retention_policies \
             (org_id, consultation_days, chat_days, journey_days, audit_days) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE SET \
             consultation_days = $2, chat_days = $3, journey_days = $4, audit_days = $5",
        )
        .bind(org.as_str())
        .bind(i64::from(policy.days(DataKind::Consultation)))
        .bind(i64::from(policy.days(DataKind::Chat)))
        .bind(i64::from(policy.days(DataKind::Journey)))
        .bind(i64::from(policy.days(DataKind::Audit)))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Removes the personal data of `org`'s consultations that ended (or were cancelled or
    /// not attended) before `cutoff`: the patient's details and notes, every attendee's
    /// name (which becomes [`REMOVED_NAME`]), contact details and what they confirmed on joining, and their saved chat. The
    /// consultation and attendee rows stay, with kinds, roles, statuses and times, so
    /// counts and the links from other tables survive. Returns how many consultations.
    pub async fn remove_consultation_data(
        &mut self,
        org: &OrgId,
        cutoff: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let due = "SELECT id FROM consultations WHERE org_id = $1 AND ended_at < $2 \
                   AND personal_data_removed_at IS NULL \
                   AND status IN ('ended', 'cancelled', 'did_not_attend')";
        let (org_s, cut) = (org.as_str(), to_micros(cutoff));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM chat_messages WHERE org_id = $1 AND consultation_id IN ({due})"
        )))
        .bind(org_s)
        .bind(cut)
        .execute(self.conn())
        .await?;
        // Notes and a group attendee's booked details (date of birth, NHS number, chosen
        // name) are personal; who attended and when (`attendance`, `consents`) is not by
        // itself, and stays for the counts.
        for table in ["consultation_notes", "group_attendees"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE org_id = $1 AND consultation_id IN ({due})"
            )))
            .bind(org_s)
            .bind(cut)
            .execute(self.conn())
            .await?;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE attendees SET name = $3, mobile = NULL, email = NULL, \
             confirmed_name = NULL, confirmed_dob = NULL \
             WHERE org_id = $1 AND consultation_id IN ({due})"
        )))
        .bind(org_s)
        .bind(cut)
        .bind(REMOVED_NAME)
        .execute(self.conn())
        .await?;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE consultations SET patient_name = NULL, patient_dob = NULL, \
             nhs_number = NULL, patient_location = NULL, outcome_note = NULL, \
             personal_data_removed_at = $3 WHERE org_id = $1 AND id IN ({due})"
        )))
        .bind(org_s)
        .bind(cut)
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes `org`'s saved chat messages sent before `cutoff`; returns how many.
    pub async fn delete_saved_chat(&mut self, org: &OrgId, cutoff: OffsetDateTime) -> Result<u64> {
        let done = sqlx::query("DELETE FROM chat_messages WHERE org_id = $1 AND sent_at < $2")
            .bind(org.as_str())
            .bind(to_micros(cutoff))
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes `org`'s journey steps recorded before `cutoff`; returns how many.
    pub async fn delete_journey_steps(
        &mut self,
        org: &OrgId,
        cutoff: OffsetDateTime,
    ) -> Result<u64> {
        let done = sqlx::query("DELETE FROM journey_steps WHERE org_id = $1 AND at < $2")
            .bind(org.as_str())
            .bind(to_micros(cutoff))
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes the oldest audit entries, up to the last one before the first entry made at
    /// or after `cutoff`, first moving the chain's checkpoint onto the last one deleted so
    /// that what remains still verifies. `None` when nothing is old enough.
    pub async fn trim_audit_log(&mut self, cutoff: OffsetDateTime) -> Result<Option<AuditTrim>> {
        // Only a prefix of the chain can go: the first entry kept links to the checkpoint.
        let row = sqlx::query(
            "SELECT COALESCE((SELECT MIN(seq) FROM audit_log WHERE at >= $1) - 1, \
                             (SELECT MAX(seq) FROM audit_log)), \
                    (SELECT seq FROM audit_checkpoint WHERE id = 1)",
        )
        .bind(to_micros(cutoff))
        .fetch_one(self.conn())
        .await?;
        let last: Option<i64> = row.try_get(0)?;
        let checkpoint: i64 = row.try_get(1)?;
        let Some(last) = last.filter(|last| *last > checkpoint) else {
            return Ok(None);
        };
        let hash: String = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(last)
            .fetch_one(self.conn())
            .await?
            .try_get(0)?;
        sqlx::query("UPDATE audit_checkpoint SET seq = $1, hash = $2 WHERE id = 1")
            .bind(last)
            .bind(&hash)
            .execute(self.conn())
            .await?;
        let done = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
            .bind(last)
            .execute(self.conn())
            .await?;
        Ok(Some(AuditTrim {
            deleted: done.rows_affected(),
            checkpoint_seq: last,
        }))
    }
}
