//! Sign-in state: server-side sessions, failed attempts for throttling, and one-time tokens
//! (the first-run setup link and password reset links). Secrets are stored only as hashes:
//! a copy of the database does not let anyone sign in or use a link.

use haven_domain::time::OffsetDateTime;
use haven_domain::{OrgId, UserId};
use sqlx::Row;

use crate::orgs::found;
use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// How far a session has got through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// The password was right; a second factor (or an enrolment) is still needed.
    NeedsMfa,
    /// Fully signed in.
    Complete,
}

impl SessionStage {
    fn as_str(self) -> &'static str {
        match self {
            SessionStage::NeedsMfa => "needs_mfa",
            SessionStage::Complete => "complete",
        }
    }

    fn parse(s: &str) -> Result<SessionStage> {
        match s {
            "needs_mfa" => Ok(SessionStage::NeedsMfa),
            "complete" => Ok(SessionStage::Complete),
            other => Err(Error::corrupt("session stage", other)),
        }
    }
}

/// A signed-in (or signing-in) browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account.
    pub user_id: UserId,
    /// The account's organisation.
    pub org_id: OrgId,
    /// How far sign-in has got.
    pub stage: SessionStage,
    /// When the session began (for the absolute timeout).
    pub created_at: OffsetDateTime,
    /// When it was last used (for the idle timeout).
    pub last_seen_at: OffsetDateTime,
}

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// The first-run link that creates the first organisation and its admin.
    Setup,
    /// A link that lets one user set a new password.
    PasswordReset,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Setup => "setup",
            TokenPurpose::PasswordReset => "password_reset",
        }
    }
}

impl Store {
    /// The session whose cookie hashes to `token_hash`, if it exists.
    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT user_id, org_id, stage, created_at, last_seen_at \
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            user_id: UserId::parse(&row.try_get::<String, _>("user_id")?)
                .map_err(|e| Error::corrupt("user id", e))?,
            org_id: OrgId::parse(&row.try_get::<String, _>("org_id")?)
                .map_err(|e| Error::corrupt("org id", e))?,
            stage: SessionStage::parse(&row.try_get::<String, _>("stage")?)?,
            created_at: from_micros(row.try_get("created_at")?),
            last_seen_at: from_micros(row.try_get("last_seen_at")?),
        }))
    }

    /// The times of failed sign-ins for a throttle key at or after `since`.
    pub async fn failures_since(
        &self,
        key: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<OffsetDateTime>> {
        let rows = sqlx::query(
            "SELECT at FROM sign_in_failures WHERE throttle_key = $1 AND at >= $2 ORDER BY at",
        )
        .bind(key)
        .bind(to_micros(since))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(from_micros(r.try_get(0)?)))
            .collect()
    }

    /// The user a live (unused, unexpired) token of this purpose was issued for, without
    /// spending it: lets slow checks run before the transaction that spends it.
    pub async fn live_token_user(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>> {
        let row = sqlx::query(
            "SELECT user_id FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(to_micros(now))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        row.try_get::<Option<String>, _>(0)?
            .map(|id| UserId::parse(&id).map_err(|e| Error::corrupt("user id", e)))
            .transpose()
    }

    /// Whether an unused, unexpired token of this purpose exists (the setup page checks
    /// this before showing its form).
    pub async fn token_is_live(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(to_micros(now))
        .fetch_one(self.pool())
        .await?
        .try_get(0)?;
        Ok(n == 1)
    }
}

impl Tx {
    /// Starts a session.
    pub async fn create_session(
        &mut self,
        token_hash: &str,
        user: &UserId,
        org: &OrgId,
        stage: SessionStage,
        now: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, org_id, stage, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(token_hash)
        .bind(user.as_str())
        .bind(org.as_str())
        .bind(stage.as_str())
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks a session as used now (resets its idle timer).
    pub async fn touch_session(&mut self, token_hash: &str, now: OffsetDateTime) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(to_micros(now))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Moves a session to another sign-in stage.
    pub async fn set_session_stage(&mut self, token_hash: &str, stage: SessionStage) -> Result<()> {
        let done = sqlx::query("UPDATE sessions SET stage = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(stage.as_str())
            .execute(self.conn())
            .await?;
        found(done.rows_affected())
    }

    /// Ends one session.
    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Ends every session of a user; returns how many there were.
    pub async fn delete_user_sessions(&mut self, user: &UserId) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.as_str())
            .execute(self.conn())
            .await?
            .rows_affected())
    }

    /// Records a failed sign-in against a throttle key, and forgets failures older than
    /// `forget_before` for that key (they can no longer count).
    pub async fn record_failure(
        &mut self,
        key: &str,
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1 AND at < $2")
            .bind(key)
            .bind(to_micros(forget_before))
            .execute(self.conn())
            .await?;
        sqlx::query("INSERT INTO sign_in_failures (throttle_key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(to_micros(now))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Stores a one-time token (by its hash).
    pub async fn create_token(
        &mut self,
        token_hash: &str,
        purpose: TokenPurpose,
        user: Option<&UserId>,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, purpose, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(user.map(|u| u.as_str().to_string()))
        .bind(to_micros(now))
        .bind(to_micros(expires_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Spends a one-time token: succeeds once, only before it expires. Returns the user it
    /// was issued for (`None` for a setup token); [`Error::NotFound`] if it cannot be used.
    pub async fn consume_token(
        &mut self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>> {
        let row = sqlx::query(
            "UPDATE one_time_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(to_micros(now))
        .fetch_optional(self.conn())
        .await?
        .ok_or(Error::NotFound)?;
        row.try_get::<Option<String>, _>(0)?
            .map(|id| UserId::parse(&id).map_err(|e| Error::corrupt("user id", e)))
            .transpose()
    }

    /// Withdraws every unused token of a purpose for a user (a new reset link replaces
    /// the old one).
    pub async fn revoke_tokens(
        &mut self,
        user: &UserId,
        purpose: TokenPurpose,
        now: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE one_time_tokens SET used_at = $3 \
             WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        )
        .bind(user.as_str())
        .bind(purpose.as_str())
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
