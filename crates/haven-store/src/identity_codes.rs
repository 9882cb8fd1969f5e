//! One-time codes for the identity check: one row per attendee holding only the hash of
//! the latest code sent, its expiry, the wrong entries still allowed, and whether the
//! person passed or was locked out. The rules are `haven_domain::identity_code`'s; the
//! changes here are guarded by what the caller read, so two entries at once cannot both
//! spend the same attempt.

use haven_domain::identity_code::{ATTEMPTS, CodeRecord};
use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, MessageId, OrgId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::outbox::{COLUMNS, Channel, OutboxMessage, Purpose, message_from_row};
use crate::{Result, Store, Tx, from_micros, to_micros};

fn record_from_row(row: &AnyRow) -> Result<CodeRecord> {
    let time = |col: &str| -> Result<Option<OffsetDateTime>> {
        Ok(row.try_get::<Option<i64>, _>(col)?.map(from_micros))
    };
    Ok(CodeRecord {
        code_hash: row.try_get("code_hash")?,
        expires_at: time("expires_at")?,
        attempts_left: row.try_get("attempts_left")?,
        passed_at: time("passed_at")?,
        locked_at: time("locked_at")?,
    })
}

const RECORD: &str = "code_hash, expires_at, attempts_left, passed_at, locked_at";

/// An attendee's code, through the pool or inside a transaction.
async fn code_of<'e, E>(exec: E, org: &OrgId, attendee: &AttendeeId) -> Result<Option<CodeRecord>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT {RECORD} FROM identity_codes WHERE org_id = $1 AND attendee_id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(org.as_str())
        .bind(attendee.as_str())
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(record_from_row).transpose()
}

impl Store {
    /// An attendee's code, if one was ever asked for.
    pub async fn identity_code(
        &self,
        org: &OrgId,
        attendee: &AttendeeId,
    ) -> Result<Option<CodeRecord>> {
        code_of(self.pool(), org, attendee).await
    }

    /// The latest one-time code message queued for an attendee of the organisation.
    pub async fn latest_code_message(
        &self,
        org: &OrgId,
        attendee: &AttendeeId,
    ) -> Result<Option<OutboxMessage>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox o WHERE o.org_id = $1 AND o.attendee_id = $2 \
             AND o.purpose = 'code' ORDER BY o.created_at DESC, o.id DESC LIMIT 1"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(attendee.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(message_from_row).transpose()
    }
}

impl Tx {
    /// An attendee's code, read inside this transaction.
    pub async fn identity_code(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
    ) -> Result<Option<CodeRecord>> {
        code_of(self.conn(), org, attendee).await
    }

    /// Queues a one-time code for an attendee of the organisation, due at once, creating
    /// their code row (no code yet, full attempts) if they have none;
    /// [`crate::Error::NotFound`] if the attendee belongs to another organisation.
    pub async fn enqueue_code(
        &mut self,
        org: &OrgId,
        id: &MessageId,
        attendee: &AttendeeId,
        channel: Channel,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.enqueue(org, id, attendee, channel, Purpose::Code, now)
            .await?;
        sqlx::query(
            "INSERT INTO identity_codes (attendee_id, org_id, attempts_left, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (attendee_id) DO NOTHING",
        )
        .bind(attendee.as_str())
        .bind(org.as_str())
        .bind(ATTEMPTS)
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// When one-time codes were queued for an attendee since `since`: what the limit on
    /// sends counts.
    pub async fn code_sends_since(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        since: OffsetDateTime,
    ) -> Result<Vec<OffsetDateTime>> {
        let rows = sqlx::query(
            "SELECT created_at FROM outbox WHERE org_id = $1 AND attendee_id = $2 \
             AND purpose = 'code' AND created_at > $3 ORDER BY created_at",
        )
        .bind(org.as_str())
        .bind(attendee.as_str())
        .bind(to_micros(since))
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| Ok(from_micros(r.try_get("created_at")?)))
            .collect()
    }

    /// Replaces an attendee's code with a new one's hash, working until `expires_at`, with
    /// full attempts. Returns false when there is nothing to replace: no row, already
    /// passed, or locked out.
    pub async fn replace_identity_code(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        code_hash: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE identity_codes SET code_hash = $1, sent_at = $2, expires_at = $3, \
             attempts_left = $4 WHERE org_id = $5 AND attendee_id = $6 \
             AND passed_at IS NULL AND locked_at IS NULL",
        )
        .bind(code_hash)
        .bind(to_micros(now))
        .bind(to_micros(expires_at))
        .bind(ATTEMPTS)
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends one attempt on a wrong code, from `attempts_before` (what the caller read);
    /// the last attempt locks the person out at `now`. Returns false when the row changed
    /// meanwhile (another entry at the same moment), so nothing was spent.
    pub async fn spend_code_attempt(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        attempts_before: i64,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let after = attempts_before - 1;
        let locked = (after <= 0).then(|| to_micros(now));
        let done = sqlx::query(
            "UPDATE identity_codes SET attempts_left = $1, locked_at = $2 \
             WHERE org_id = $3 AND attendee_id = $4 AND attempts_left = $5 \
             AND passed_at IS NULL AND locked_at IS NULL",
        )
        .bind(after.max(0))
        .bind(locked)
        .bind(org.as_str())
        .bind(attendee.as_str())
        .bind(attempts_before)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that the right code was entered. Returns false if it no longer could be
    /// (passed or locked out meanwhile).
    pub async fn pass_identity_code(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE identity_codes SET passed_at = $1 WHERE org_id = $2 AND attendee_id = $3 \
             AND passed_at IS NULL AND locked_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
