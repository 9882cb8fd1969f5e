//! What the two work queues share, the outbox and record deliveries: a worker reads the
//! queued rows that are due, then claims each for one try in a short transaction (one
//! attempt more, hidden until a lease runs out). The claim matches the row only as the
//! worker read it, so two workers never make the same try, and a worker that dies
//! mid-try leaves the row to come back when its lease ends.

use haven_domain::OrgId;
use haven_domain::time::OffsetDateTime;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;

use crate::{Result, Store, Tx, to_micros};

/// A table of rows that workers claim with a lease. Each has `org_id`, `id`, `status`,
/// `attempts`, `next_attempt_at` and `updated_at`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Queue {
    /// Invitations and one-time codes; its column lists name it `o`.
    Outbox,
    /// Patients' bundles on their way to the record system.
    Deliveries,
}

impl Queue {
    /// The table, with the alias its column lists use.
    fn source(self) -> &'static str {
        match self {
            Queue::Outbox => "outbox o",
            Queue::Deliveries => "record_deliveries",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Queue::Outbox => "outbox",
            Queue::Deliveries => "record_deliveries",
        }
    }
}

/// A row as the worker read it, to be claimed only if it is still so.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Due<'a> {
    /// Its organisation.
    pub(crate) org: &'a OrgId,
    /// Its id.
    pub(crate) id: &'a str,
    /// The tries started when it was read.
    pub(crate) attempts: i64,
}

impl Store {
    /// The `columns` of the queued rows of `queue` due at `now`, most overdue first,
    /// across every organisation.
    pub(crate) async fn due_rows(
        &self,
        queue: Queue,
        columns: &str,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<AnyRow>> {
        let sql = format!(
            "SELECT {columns} FROM {} WHERE status = 'queued' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT $2",
            queue.source()
        );
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(to_micros(now))
            .bind(limit)
            .fetch_all(self.pool())
            .await?)
    }
}

impl Tx {
    /// Counts one more try of a due row and hides it until `lease_until`. False when the
    /// row is no longer as `due` says (another worker took it, or it changed).
    pub(crate) async fn claim_due(
        &mut self,
        queue: Queue,
        due: Due<'_>,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE {} SET attempts = attempts + 1, next_attempt_at = $1, updated_at = $2 \
             WHERE org_id = $3 AND id = $4 AND status = 'queued' AND attempts = $5 \
             AND next_attempt_at <= $2",
            queue.table()
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(to_micros(lease_until))
            .bind(to_micros(now))
            .bind(due.org.as_str())
            .bind(due.id)
            .bind(due.attempts)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
