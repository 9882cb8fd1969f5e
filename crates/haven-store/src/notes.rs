//! A consultation's notes: a draft the clinician saves as often as they like, during the
//! call and after it, then finishes once. Finished notes are what goes to the record, so
//! no change reaches them afterwards: every update is guarded by `finished_at IS NULL`.

use haven_domain::time::OffsetDateTime;
use haven_domain::{ConsultationId, OrgId, UserId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// The clinician's notes on one consultation.
#[derive(Clone, PartialEq, Eq)]
pub struct Notes {
    /// The text as the clinician wrote it.
    pub body: String,
    /// Who saved it last.
    pub updated_by: UserId,
    /// When it was saved last.
    pub updated_at: OffsetDateTime,
    /// Who finished it and when; `None` while it is a draft.
    pub finished: Option<(UserId, OffsetDateTime)>,
}

impl std::fmt::Debug for Notes {
    // The text is clinical: it never reaches a log through a Debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notes")
            .field("body", &"{redacted}")
            .field("updated_by", &self.updated_by)
            .field("updated_at", &self.updated_at)
            .field("finished", &self.finished)
            .finish()
    }
}

/// Why finished notes cannot change; safe to show.
pub const FINISHED: &str =
    "the notes were finished and sent to the record, so they can no longer be changed";

fn user(row: &AnyRow, col: &str) -> Result<Option<UserId>> {
    row.try_get::<Option<String>, _>(col)?
        .map(|t| UserId::parse(&t).map_err(|e| Error::corrupt(col, e)))
        .transpose()
}

fn notes_from_row(row: &AnyRow) -> Result<Notes> {
    let updated_by =
        user(row, "updated_by")?.ok_or_else(|| Error::corrupt("updated_by", "empty"))?;
    let finished = match (
        user(row, "finished_by")?,
        row.try_get::<Option<i64>, _>("finished_at")?,
    ) {
        (Some(by), Some(at)) => Some((by, from_micros(at))),
        _ => None,
    };
    Ok(Notes {
        body: row.try_get("body")?,
        updated_by,
        updated_at: from_micros(row.try_get("updated_at")?),
        finished,
    })
}

impl Store {
    /// The notes on an organisation's consultation, if any were saved.
    pub async fn notes(&self, org: &OrgId, consultation: &ConsultationId) -> Result<Option<Notes>> {
        let row = sqlx::query(
            "SELECT body, updated_by, updated_at, finished_by, finished_at FROM consultation_notes \
             WHERE org_id = $1 AND consultation_id = $2",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(notes_from_row).transpose()
    }
}

impl Tx {
    /// Saves the draft notes of an organisation's consultation, replacing the last draft.
    /// [`Error::Refused`] once they are finished; [`Error::NotFound`] for a consultation
    /// of another organisation.
    pub async fn save_notes(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        body: &str,
        by: &UserId,
        now: OffsetDateTime,
    ) -> Result<()> {
        let updated = sqlx::query(
            "UPDATE consultation_notes SET body = $1, updated_by = $2, updated_at = $3 \
             WHERE org_id = $4 AND consultation_id = $5 AND finished_at IS NULL",
        )
        .bind(body)
        .bind(by.as_str())
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(consultation.as_str())
        .execute(self.conn())
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(());
        }
        if self.notes_exist(org, consultation).await? {
            return Err(Error::Refused(FINISHED.into()));
        }
        let owned = sqlx::query("SELECT 1 FROM consultations WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(consultation.as_str())
            .fetch_optional(self.conn())
            .await?;
        if owned.is_none() {
            return Err(Error::NotFound);
        }
        sqlx::query(
            "INSERT INTO consultation_notes (consultation_id, org_id, body, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(consultation.as_str())
        .bind(org.as_str())
        .bind(body)
        .bind(by.as_str())
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Finishes the notes: from now on they are read-only. [`Error::Refused`] if there
    /// are none or they were finished already (two clinicians finishing at once: one wins).
    pub async fn finish_notes(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        by: &UserId,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE consultation_notes SET finished_by = $1, finished_at = $2 \
             WHERE org_id = $3 AND consultation_id = $4 AND finished_at IS NULL",
        )
        .bind(by.as_str())
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(consultation.as_str())
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        if self.notes_exist(org, consultation).await? {
            Err(Error::Refused(FINISHED.into()))
        } else {
            Err(Error::Refused(
                "write and save the notes before finishing them".into(),
            ))
        }
    }

    async fn notes_exist(&mut self, org: &OrgId, consultation: &ConsultationId) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM consultation_notes WHERE org_id = $1 AND consultation_id = $2",
        )
        .bind(org.as_str())
        .bind(consultation.as_str())
        .fetch_optional(self.conn())
        .await?;
        Ok(row.is_some())
    }
}
