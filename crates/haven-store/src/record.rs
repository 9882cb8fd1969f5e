//! What goes into a patient's record with a consultation besides its booking: agreements
//! kept with the record, the attendance register (each stay in the call), and chat the
//! clinician chose to keep. Chat is never written here unless it is kept.

use haven_domain::consultation::ConsentKind;
use haven_domain::time::OffsetDateTime;
use haven_domain::{AttendeeId, ConsultationId, OrgId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::consultations::{optional, required};
use crate::{Result, Store, Tx, from_micros, to_micros};

/// An agreement kept with the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub consultation: ConsultationId,
    /// Whose agreement it is (the patient, for a carer's presence).
    pub attendee: AttendeeId,
    pub kind: ConsentKind,
    /// Whom it is about (the carer whose presence is agreed to).
    pub about: Option<AttendeeId>,
    /// The staff member who confirmed it; `None` when the person gave it themselves.
    pub confirmed_by: Option<UserId>,
    pub given_at: OffsetDateTime,
}

/// One stay of an admitted person in the call, from admission until they left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub attendee: AttendeeId,
    pub admitted_at: OffsetDateTime,
    /// `None` while the stay lasts.
    pub left_at: Option<OffsetDateTime>,
}

/// A chat message kept with the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// Its place in the call's chat, from 0.
    pub seq: i64,
    pub sender_attendee: Option<AttendeeId>,
    /// The staff member who sent it, when they are not an attendee.
    pub sender_user: Option<UserId>,
    /// The name the others saw.
    pub sender_name: String,
    pub sent_at: OffsetDateTime,
    pub body: String,
}

fn consent_from_row(row: &AnyRow) -> Result<Consent> {
    Ok(Consent {
        consultation: required(row, "consultation_id", ConsultationId::parse)?,
        attendee: required(row, "attendee_id", AttendeeId::parse)?,
        kind: required(row, "kind", ConsentKind::parse)?,
        about: optional(row, "about_attendee_id", AttendeeId::parse)?,
        confirmed_by: optional(row, "confirmed_by", UserId::parse)?,
        given_at: from_micros(row.try_get("given_at")?),
    })
}

fn stay_from_row(row: &AnyRow) -> Result<Stay> {
    Ok(Stay {
        attendee: required(row, "attendee_id", AttendeeId::parse)?,
        admitted_at: from_micros(row.try_get("admitted_at")?),
        left_at: row.try_get::<Option<i64>, _>("left_at")?.map(from_micros),
    })
}

fn chat_from_row(row: &AnyRow) -> Result<ChatLine> {
    Ok(ChatLine {
        seq: row.try_get("seq")?,
        sender_attendee: optional(row, "sender_attendee_id", AttendeeId::parse)?,
        sender_user: optional(row, "sender_user_id", UserId::parse)?,
        sender_name: row.try_get("sender_name")?,
        sent_at: from_micros(row.try_get("sent_at")?),
        body: row.try_get("body")?,
    })
}

impl Store {
    /// A consultation's agreements, oldest first.
    pub async fn consents(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
    ) -> Result<Vec<Consent>> {
        let rows = sqlx::query(
            "SELECT consultation_id, attendee_id, kind, about_attendee_id, confirmed_by, \
             given_at FROM consents WHERE org_id = $1 AND consultation_id = $2 \
             ORDER BY given_at, attendee_id, kind",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(consent_from_row).collect()
    }

    /// A consultation's attendance register, by time of admission.
    pub async fn stays(&self, org: &OrgId, consultation: &ConsultationId) -> Result<Vec<Stay>> {
        let rows = sqlx::query(
            "SELECT attendee_id, admitted_at, left_at FROM attendance \
             WHERE org_id = $1 AND consultation_id = $2 ORDER BY admitted_at, attendee_id",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stay_from_row).collect()
    }

    /// The chat kept with a consultation's record, in the order it was sent.
    pub async fn saved_chat(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
    ) -> Result<Vec<ChatLine>> {
        let rows = sqlx::query(
            "SELECT seq, sender_attendee_id, sender_user_id, sender_name, sent_at, body \
             FROM chat_messages WHERE org_id = $1 AND consultation_id = $2 ORDER BY seq",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(chat_from_row).collect()
    }
}

impl Tx {
    /// Keeps an agreement with the record.
    pub async fn record_consent(&mut self, org: &OrgId, consent: &Consent) -> Result<()> {
        sqlx::query(
            "INSERT INTO consents (consultation_id, org_id, attendee_id, kind, \
             about_attendee_id, confirmed_by, given_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(consent.consultation.as_str())
        .bind(org.as_str())
        .bind(consent.attendee.as_str())
        .bind(consent.kind.as_str())
        .bind(consent.about.as_ref().map(AttendeeId::as_str))
        .bind(consent.confirmed_by.as_ref().map(UserId::as_str))
        .bind(to_micros(consent.given_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// An attendee's stay in the call begins, unless one is already going on (admitting
    /// twice is one stay).
    pub async fn stay_begins(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        attendee: &AttendeeId,
        at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO attendance (attendee_id, consultation_id, org_id, admitted_at) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM attendance \
             WHERE org_id = $3 AND attendee_id = $1 AND left_at IS NULL)",
        )
        .bind(attendee.as_str())
        .bind(consultation.as_str())
        .bind(org.as_str())
        .bind(to_micros(at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// An attendee's stay going on, if any, ends at `at`.
    pub async fn stay_ends(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE attendance SET left_at = $1 \
             WHERE org_id = $2 AND attendee_id = $3 AND left_at IS NULL",
        )
        .bind(to_micros(at))
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Every stay going on in a consultation ends at `at` (the call ended).
    pub async fn stays_end_all(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE attendance SET left_at = $1 \
             WHERE org_id = $2 AND consultation_id = $3 AND left_at IS NULL",
        )
        .bind(to_micros(at))
        .bind(org.as_str())
        .bind(consultation.as_str())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Keeps a call's chat with its record.
    pub async fn save_chat(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        lines: &[ChatLine],
    ) -> Result<()> {
        for line in lines {
            sqlx::query(
                "INSERT INTO chat_messages (consultation_id, org_id, seq, sender_attendee_id, \
                 sender_user_id, sender_name, sent_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(consultation.as_str())
            .bind(org.as_str())
            .bind(line.seq)
            .bind(line.sender_attendee.as_ref().map(AttendeeId::as_str))
            .bind(line.sender_user.as_ref().map(UserId::as_str))
            .bind(line.sender_name.as_str())
            .bind(to_micros(line.sent_at))
            .bind(line.body.as_str())
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }
}
