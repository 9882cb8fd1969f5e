//! Invitation links and organisation API keys: both are kept only as the SHA-256 of the
//! secret (the caller hashes), so a copy of the database opens no consultation and calls no
//! API.

use haven_domain::time::OffsetDateTime;
use haven_domain::{ApiKeyId, AttendeeId, ConsultationId, OrgId};
use sqlx::Row;

use crate::consultations::{Attendee, Consultation};
use crate::error::conflict;
use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// A live invitation: whom it admits, to what.
#[derive(Debug, Clone)]
pub struct Invite {
    /// The person the link was sent to.
    pub attendee: Attendee,
    /// Their consultation (not ended, not cancelled).
    pub consultation: Consultation,
    /// When this link stops working.
    pub expires_at: OffsetDateTime,
}

/// An organisation's API key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// The organisation it acts for.
    pub org_id: OrgId,
    /// The label its creator gave it ("GP booking system").
    pub name: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

impl Store {
    /// The invitation a link's token hash opens, if it is live: not expired, not revoked,
    /// and its consultation neither over nor cancelled.
    pub async fn invite(&self, token_hash: &str, now: OffsetDateTime) -> Result<Option<Invite>> {
        let row = sqlx::query(
            "SELECT t.attendee_id, t.expires_at, a.org_id, a.consultation_id \
             FROM invite_tokens t JOIN attendees a ON a.id = t.attendee_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
        )
        .bind(token_hash)
        .bind(to_micros(now))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let parse = |col: &str| -> Result<String> { Ok(row.try_get::<String, _>(col)?) };
        let org = OrgId::parse(&parse("org_id")?).map_err(|e| Error::corrupt("org_id", e))?;
        let attendee = AttendeeId::parse(&parse("attendee_id")?)
            .map_err(|e| Error::corrupt("attendee_id", e))?;
        let consultation = ConsultationId::parse(&parse("consultation_id")?)
            .map_err(|e| Error::corrupt("consultation_id", e))?;
        let consultation = self.consultation(&org, &consultation).await?;
        if consultation.status.is_final() {
            return Ok(None);
        }
        Ok(Some(Invite {
            attendee: self.attendee(&org, &attendee).await?,
            consultation,
            expires_at: from_micros(row.try_get("expires_at")?),
        }))
    }

    /// The organisation and key a live API key's hash belongs to.
    pub async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, org_id, name, created_at, revoked_at FROM api_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    /// An organisation's API keys, newest first.
    pub async fn api_keys(&self, org: &OrgId) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, created_at, revoked_at FROM api_keys WHERE org_id = $1 \
             ORDER BY created_at DESC, id",
        )
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(api_key_from_row).collect()
    }
}

fn api_key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId::parse(&row.try_get::<String, _>("id")?)
            .map_err(|e| Error::corrupt("api key id", e))?,
        org_id: OrgId::parse(&row.try_get::<String, _>("org_id")?)
            .map_err(|e| Error::corrupt("org id", e))?,
        name: row.try_get("name")?,
        created_at: from_micros(row.try_get("created_at")?),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_micros),
    })
}

impl Tx {
    /// Stores a new link's token hash for an attendee of the organisation.
    pub async fn add_invite_token(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        token_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
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
            "INSERT INTO invite_tokens (token_hash, attendee_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(attendee.as_str())
        .bind(to_micros(now))
        .bind(to_micros(expires_at))
        .execute(self.conn())
        .await
        .map_err(conflict("that invitation token"))?;
        Ok(())
    }

    /// Kills every link of one attendee (removed from the call); returns how many were live.
    pub async fn revoke_attendee_invites(
        &mut self,
        org: &OrgId,
        attendee: &AttendeeId,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE invite_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND attendee_id IN \
             (SELECT id FROM attendees WHERE org_id = $2 AND id = $3)",
        )
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(attendee.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }

    /// Kills every link of a consultation (ended or cancelled); returns how many were live.
    pub async fn revoke_consultation_invites(
        &mut self,
        org: &OrgId,
        consultation: &ConsultationId,
        now: OffsetDateTime,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE invite_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND attendee_id IN \
             (SELECT id FROM attendees WHERE org_id = $2 AND consultation_id = $3)",
        )
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(consultation.as_str())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }

    /// Stores a new API key's hash under a label unique within the organisation.
    pub async fn create_api_key(
        &mut self,
        org: &OrgId,
        id: &ApiKeyId,
        name: &str,
        key_hash: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, key_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(name)
        .bind(key_hash)
        .bind(to_micros(now))
        .execute(self.conn())
        .await
        .map_err(conflict("that API key name"))?;
        Ok(())
    }

    /// Revokes an organisation's API key at once.
    pub async fn revoke_api_key(
        &mut self,
        org: &OrgId,
        id: &ApiKeyId,
        now: OffsetDateTime,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE org_id = $2 AND id = $3",
        )
        .bind(to_micros(now))
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(self.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }
}
