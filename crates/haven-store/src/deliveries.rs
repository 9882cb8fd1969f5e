//! Record deliveries: each patient's bundle on its way to the configured FHIR endpoint.
//!
//! Like the outbox, a row holds no content: the bundle is built from the finished notes
//! and the consultation's rows when it is sent. The worker claims a due row (one attempt
//! more, hidden for a lease) in a short transaction, posts outside any transaction, and
//! records the result in another.

use std::fmt;

use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, ConsultationId, DeliveryId, OrgId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::consultations::required;
use crate::lease::{Due, Queue};
use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// Where a bundle is; what the clinician sees on the consultation page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting to be posted, or to be tried again (the reason says why the last try failed).
    Queued,
    /// The record system accepted it.
    Delivered,
    /// Given up on; the reason says why.
    Failed,
}

impl DeliveryStatus {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> std::result::Result<Self, String> {
        match text {
            "queued" => Ok(DeliveryStatus::Queued),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!("unknown delivery status {other:?}")),
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One patient's bundle to deliver.
#[derive(Debug, Clone)]
pub struct RecordDelivery {
    /// Its opaque id.
    pub id: DeliveryId,
    /// The organisation.
    pub org_id: OrgId,
    /// The consultation the bundle records.
    pub consultation_id: ConsultationId,
    /// The patient whose bundle it is.
    pub attendee_id: AttendeeId,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Why the last try failed or why it was given up; safe to show staff.
    pub reason: Option<String>,
    /// How many posts were started.
    pub attempts: i64,
    /// When it may next be tried (while queued).
    pub next_attempt_at: OffsetDateTime,
    /// Where the record system put it, once delivered.
    pub location: Option<String>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

const COLUMNS: &str = "id, org_id, consultation_id, attendee_id, status, reason, attempts, \
     next_attempt_at, location, created_at, updated_at";

fn delivery_from_row(row: &AnyRow) -> Result<RecordDelivery> {
    Ok(RecordDelivery {
        id: required(row, "id", DeliveryId::parse)?,
        org_id: required(row, "org_id", OrgId::parse)?,
        consultation_id: required(row, "consultation_id", ConsultationId::parse)?,
        attendee_id: required(row, "attendee_id", AttendeeId::parse)?,
        status: required(row, "status", DeliveryStatus::parse)?,
        reason: row.try_get("reason")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: from_micros(row.try_get("next_attempt_at")?),
        location: row.try_get("location")?,
        created_at: from_micros(row.try_get("created_at")?),
        updated_at: from_micros(row.try_get("updated_at")?),
    })
}

impl Store {
    /// Queued deliveries due at `now`, most overdue first, across every organisation: the
    /// worker's reading. Each must still be claimed with [`Tx::claim_delivery`].
    pub async fn due_deliveries(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<RecordDelivery>> {
        let rows = self
            .due_rows(Queue::Deliveries, COLUMNS, now, limit)
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// The deliveries of an organisation's consultation, oldest first.
    pub async fn deliveries(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
    ) -> Result<Vec<RecordDelivery>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM record_deliveries WHERE org_id = $1 AND consultation_id = $2 \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(consultation.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}

impl Tx {
    /// Queues a patient's bundle of an organisation's consultation, due at once;
    /// [`Error::NotFound`] if the attendee is not of that consultation and organisation.
    pub async fn queue_delivery(
        &mut self,
        org: &OrgId,
        id: &DeliveryId,
        consultation: &ConsultationId,
        attendee: &AttendeeId,
        now: OffsetDateTime,
    ) -> Result<()> {
        let owned = sqlx::query(
            "SELECT 1 FROM attendees WHERE org_id = $1 AND consultation_id = $2 AND id = $3",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .bind(attendee.as_str())
        .fetch_optional(self.conn())
        .await?;
        if owned.is_none() {
            return Err(Error::NotFound);
        }
        sqlx::query(
            "INSERT INTO record_deliveries (id, org_id, consultation_id, attendee_id, status, \
             attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'queued', 0, $5, $5, $5)",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(consultation.as_str())
        .bind(attendee.as_str())
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Takes a due delivery for one post: counts the attempt and hides the row until
    /// `lease_until`. False when the row is no longer what the caller read (another worker
    /// took it), so two workers never post the same attempt.
    pub async fn claim_delivery(
        &mut self,
        d: &RecordDelivery,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<bool> {
        let due = Due {
            org: &d.org_id,
            id: d.id.as_str(),
            attempts: d.attempts,
        };
        self.claim_due(Queue::Deliveries, due, now, lease_until)
            .await
    }

    /// Records the end of a delivery, or a failed try to be repeated at `retry_at`.
    /// Returns false if the row was no longer queued (nothing changed).
    pub async fn delivery_result(
        &mut self,
        org: &OrgId,
        id: &DeliveryId,
        result: DeliveryResult<'_>,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let (status, reason, location, next) = match result {
            DeliveryResult::Delivered { location } => {
                (DeliveryStatus::Delivered, None, location, None)
            }
            DeliveryResult::Retry { reason, at } => {
                (DeliveryStatus::Queued, Some(reason), None, Some(at))
            }
            DeliveryResult::Failed { reason } => (DeliveryStatus::Failed, Some(reason), None, None),
        };
        let done = sqlx::query(
            "UPDATE record_deliveries SET status = $1, reason = $2, location = $3, \
             next_attempt_at = COALESCE($4, next_attempt_at), updated_at = $5 \
             WHERE org_id = $6 AND id = $7 AND status = 'queued'",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(location)
        .bind(next.map(to_micros))
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// What became of one try.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryResult<'a> {
    /// Accepted; where the record system put it, if it said.
    Delivered {
        /// The `Location` header or the id it returned.
        location: Option<&'a str>,
    },
    /// Failed this time; try again at `at`.
    Retry {
        /// Why this try failed.
        reason: &'a str,
        /// When to try again.
        at: OffsetDateTime,
    },
    /// Given up.
    Failed {
        /// Why.
        reason: &'a str,
    },
}
