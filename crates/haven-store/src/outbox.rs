//! The outbox: invitations and one-time codes waiting to be delivered, and what became of
//! each.
//!
//! A row never holds a link or any message text: the worker mints a fresh link and
//! composes the message at send time, so no token is ever stored in plain text. The worker
//! claims a due row (one attempt more, hidden for a lease) in a short transaction, sends
//! outside any transaction, then records the result: SQLite's single writer is never held
//! across a network call, and a worker that dies mid-send leaves the row to be retried
//! when its lease runs out.

use std::fmt;

use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, ConsultationId, MessageId, OrgId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::consultations::required;
use crate::lease::{Due, Queue};
use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// How a message is delivered; chosen from the configuration when it is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Printed on the server's console, for local use.
    Console,
    /// A text message or email through GOV.UK Notify.
    Notify,
    /// An email through an SMTP server.
    Smtp,
}

/// What a message carries, composed at send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// An invitation with a fresh link.
    Invite,
    /// A fresh one-time code, by text message to the booked mobile number.
    Code,
}

/// Where a message is; what staff see next to each person invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Waiting to be sent, or to be tried again (the reason says why the last try failed).
    Queued,
    /// Handed to the provider.
    Sent,
    /// The provider reported it delivered.
    Delivered,
    /// Given up on; the reason says why.
    Failed,
}

macro_rules! words {
    ($ty:ident, $($variant:ident = $word:literal),+) => {
        impl $ty {
            /// The stored word.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $word),+ }
            }

            /// Parses the stored word.
            pub fn parse(text: &str) -> std::result::Result<Self, String> {
                match text {
                    $($word => Ok($ty::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($ty))),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(
    Channel,
    Console = "console",
    Notify = "notify",
    Smtp = "smtp"
);
words!(Purpose, Invite = "invite", Code = "code");
words!(
    MessageStatus,
    Queued = "queued",
    Sent = "sent",
    Delivered = "delivered",
    Failed = "failed"
);

/// One invitation message.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    /// Its opaque id (also the `reference` given to the provider).
    pub id: MessageId,
    /// The organisation it belongs to.
    pub org_id: OrgId,
    /// The person it invites.
    pub attendee_id: AttendeeId,
    /// How it is delivered.
    pub channel: Channel,
    /// What it carries.
    pub purpose: Purpose,
    /// Where it is.
    pub status: MessageStatus,
    /// Why the last try failed, or why it was given up; safe to show staff (never message
    /// text or contact details).
    pub reason: Option<String>,
    /// How many sends were started.
    pub attempts: i64,
    /// When it may next be tried (while queued).
    pub next_attempt_at: OffsetDateTime,
    /// The provider's id for it (Notify's notification id), once sent.
    pub provider_ref: Option<String>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// What a delivery receipt says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt<'a> {
    /// It reached the phone or inbox.
    Delivered,
    /// It could not be delivered; the text is safe to show staff.
    Failed(&'a str),
}

pub(crate) const COLUMNS: &str = "o.id, o.org_id, o.attendee_id, o.channel, o.purpose, o.status, o.reason, o.attempts, \
     o.next_attempt_at, o.provider_ref, o.created_at, o.updated_at";

pub(crate) fn message_from_row(row: &AnyRow) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: required(row, "id", MessageId::parse)?,
        org_id: required(row, "org_id", OrgId::parse)?,
        attendee_id: required(row, "attendee_id", AttendeeId::parse)?,
        channel: required(row, "channel", Channel::parse)?,
        purpose: required(row, "purpose", Purpose::parse)?,
        status: required(row, "status", MessageStatus::parse)?,
        reason: row.try_get("reason")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: from_micros(row.try_get("next_attempt_at")?),
        provider_ref: row.try_get("provider_ref")?,
        created_at: from_micros(row.try_get("created_at")?),
        updated_at: from_micros(row.try_get("updated_at")?),
    })
}

impl Store {
    /// Queued messages due at `now`, most overdue first, across every organisation: the
    /// worker's reading. Each must still be claimed with [`Tx::claim_message`].
    pub async fn due_messages(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let rows = self.due_rows(Queue::Outbox, COLUMNS, now, limit).await?;
        rows.iter().map(message_from_row).collect()
    }

    /// One message of an organisation; [`Error::NotFound`] if it belongs to another.
    pub async fn message(&self, org: &OrgId, id: &MessageId) -> Result<OutboxMessage> {
        let sql = format!("SELECT {COLUMNS} FROM outbox o WHERE o.org_id = $1 AND o.id = $2");
        message_from_row(
            &sqlx::query(AssertSqlSafe(sql))
                .bind(org.as_str())
                .bind(id.as_str())
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// Every invitation for the people invited to an organisation's consultation, oldest
    /// first, so the last one per attendee is the latest. One-time codes are not
    /// invitations and are left out.
    pub async fn messages_for_consultation(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
    ) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox o JOIN attendees a ON a.id = o.attendee_id \
             WHERE o.org_id = $1 AND a.org_id = $1 AND a.consultation_id = $2 \
             AND o.purpose = 'invite' ORDER BY o.created_at, o.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(consultation.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(message_from_row).collect()
    }
}

impl Tx {
    /// Queues an invitation for an attendee of the organisation, due at once;
    /// [`Error::NotFound`] if the attendee belongs to another organisation.
    pub async fn enqueue_invite(
        &mut self,
        org: &OrgId,
        id: &MessageId,
        attendee: &AttendeeId,
        channel: Channel,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.enqueue(org, id, attendee, channel, Purpose::Invite, now)
            .await
    }

    /// Queues a message of either purpose (see also `Tx::enqueue_code`).
    pub(crate) async fn enqueue(
        &mut self,
        org: &OrgId,
        id: &MessageId,
        attendee: &AttendeeId,
        channel: Channel,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<()> {
        let owned = sqlx::query("SELECT 1 FROM attendees WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(attendee.as_str())
            .fetch_optional(self.conn())
            .await?;
        if owned.is_none() {
            return Err(Error::NotFound);
        }
        sqlx::query(
            "INSERT INTO outbox (id, org_id, attendee_id, channel, purpose, status, attempts, \
             next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6)",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(attendee.as_str())
        .bind(channel.as_str())
        .bind(purpose.as_str())
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Takes a due message for one send: counts the attempt and hides the row until
    /// `lease_until`, when it comes back if no result was recorded. Returns false when the
    /// row is no longer what the caller read (another worker took it, or it changed), so
    /// two workers never send the same attempt.
    pub async fn claim_message(
        &mut self,
        message: &OutboxMessage,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<bool> {
        let due = Due {
            org: &message.org_id,
            id: message.id.as_str(),
            attempts: message.attempts,
        };
        self.claim_due(Queue::Outbox, due, now, lease_until).await
    }

    /// Records that the provider accepted the message.
    pub async fn mark_sent(
        &mut self,
        org: &OrgId,
        id: &MessageId,
        provider_ref: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'sent', reason = NULL, provider_ref = $1, updated_at = $2 \
             WHERE org_id = $3 AND id = $4",
        )
        .bind(provider_ref)
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.conn())
        .await?;
        found(done.rows_affected())
    }

    /// Puts a claimed message back in the queue until `next_attempt_at`, noting why this
    /// try failed. Returns false if it is no longer queued (failed meanwhile).
    pub async fn mark_retry(
        &mut self,
        org: &OrgId,
        id: &MessageId,
        reason: &str,
        next_attempt_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET reason = $1, next_attempt_at = $2, updated_at = $3 \
             WHERE org_id = $4 AND id = $5 AND status = 'queued'",
        )
        .bind(reason)
        .bind(to_micros(next_attempt_at))
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up on a queued message. Returns false if it was not queued (nothing changed).
    pub async fn mark_failed(
        &mut self,
        org: &OrgId,
        id: &MessageId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'failed', reason = $1, updated_at = $2 \
             WHERE org_id = $3 AND id = $4 AND status = 'queued'",
        )
        .bind(reason)
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Applies a provider's delivery receipt to the message it sent as `provider_ref`.
    /// The provider knows no organisation, so this is the one change found by the
    /// provider's id alone (a random UUID of its own). Returns the message as it now is,
    /// or `None` when no sent message has that id.
    pub async fn apply_receipt(
        &mut self,
        provider_ref: &str,
        receipt: Receipt<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<OutboxMessage>> {
        let (status, reason) = match receipt {
            Receipt::Delivered => (MessageStatus::Delivered, None),
            Receipt::Failed(reason) => (MessageStatus::Failed, Some(reason)),
        };
        let done = sqlx::query(
            "UPDATE outbox SET status = $1, reason = $2, updated_at = $3 \
             WHERE provider_ref = $4 AND status <> 'queued'",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(to_micros(now))
        .bind(provider_ref)
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM outbox o WHERE o.provider_ref = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(provider_ref)
            .fetch_one(self.conn())
            .await?;
        message_from_row(&row).map(Some)
    }

    /// Gives up on every queued message of an organisation's consultation (cancelled or
    /// ended: its links are dead, so nothing should be sent); returns how many.
    pub async fn fail_queued_for_consultation(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'failed', reason = $1, updated_at = $2 \
             WHERE org_id = $3 AND status = 'queued' AND attendee_id IN \
             (SELECT id FROM attendees WHERE org_id = $3 AND consultation_id = $4)",
        )
        .bind(reason)
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(consultation.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }
}

fn found(rows: u64) -> Result<()> {
    if rows == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}
