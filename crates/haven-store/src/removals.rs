//! People a clinician removed from a consultation. Their links are revoked in the same
//! transaction (by the caller); this record is what lets a later open of a dead link say
//! "you were removed" instead of "it may have expired", and keeps a removed staff colleague
//! from joining again with their sign-in.

use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, ConsultationId, OrgId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::conflict;
use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// One person taken out of a consultation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// Who was removed.
    pub attendee: AttendeeId,
    /// From which consultation.
    pub consultation: ConsultationId,
    /// The organisation of both.
    pub org: OrgId,
    /// The clinician who removed them.
    pub by: UserId,
    /// When.
    pub at: OffsetDateTime,
}

const COLUMNS: &str = "r.attendee_id, r.consultation_id, r.org_id, r.removed_by, r.removed_at";

fn removal_from_row(row: &AnyRow) -> Result<Removal> {
    let text = |col: &str| -> Result<String> { Ok(row.try_get::<String, _>(col)?) };
    Ok(Removal {
        attendee: AttendeeId::parse(&text("attendee_id")?)
            .map_err(|e| Error::corrupt("attendee_id", e))?,
        consultation: ConsultationId::parse(&text("consultation_id")?)
            .map_err(|e| Error::corrupt("consultation_id", e))?,
        org: OrgId::parse(&text("org_id")?).map_err(|e| Error::corrupt("org_id", e))?,
        by: UserId::parse(&text("removed_by")?).map_err(|e| Error::corrupt("removed_by", e))?,
        at: from_micros(row.try_get("removed_at")?),
    })
}

impl Tx {
    /// Records that `by` removed an attendee of the organisation. [`Error::NotFound`] for
    /// an attendee of another organisation; [`Error::Conflict`] if they were already removed.
    pub async fn record_removal(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        by: &UserId,
        at: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO attendee_removals \
             (attendee_id, consultation_id, org_id, removed_by, removed_at) \
             SELECT id, consultation_id, org_id, $3, $4 FROM attendees \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(attendee.as_str())
        .bind(by.as_str())
        .bind(to_micros(at))
        .execute(self.conn())
        .await
        .map_err(conflict("that person's removal"))?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }
}

impl Tx {
    /// Fails an attendee's invitations still waiting to be sent (they were removed): the
    /// worker mints a link at send time, and a removed person must not get a new one.
    pub async fn fail_queued_for_attendee(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'failed', reason = $1, updated_at = $2 \
             WHERE org_id = $3 AND attendee_id = $4 AND status = 'queued'",
        )
        .bind(reason)
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }
}

impl Store {
    /// The people removed from a consultation, earliest first.
    pub async fn removals(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
    ) -> Result<Vec<Removal>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attendee_removals r WHERE r.org_id = $1 \
             AND r.consultation_id = $2 ORDER BY r.removed_at, r.attendee_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(consultation.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(removal_from_row).collect()
    }

    /// An attendee's removal, if they were removed.
    pub async fn removal(&self, org: &OrgId, attendee: &AttendeeId) -> Result<Option<Removal>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attendee_removals r WHERE r.org_id = $1 AND r.attendee_id = $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(attendee.as_str())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(removal_from_row)
            .transpose()
    }

    /// The removal behind a link's token hash, if the link's holder was removed (the link
    /// itself is dead: this only says why).
    pub async fn removal_by_link(&self, token_hash: &str) -> Result<Option<Removal>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM invite_tokens t \
             JOIN attendee_removals r ON r.attendee_id = t.attendee_id WHERE t.token_hash = $1"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(removal_from_row)
            .transpose()
    }
}
