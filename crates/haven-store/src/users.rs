//! Staff accounts: identity, roles, password, MFA, and clinic membership.

use haven_domain::time::OffsetDateTime;
use haven_domain::{ClinicId, Email, OrgId, PasswordHash, PersonName, Roles, TotpSecret, UserId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::error::conflict;
use crate::orgs::found;
use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// A staff account.
#[derive(Debug, Clone)]
pub struct User {
    /// Its opaque id.
    pub id: UserId,
    /// The organisation it belongs to; a user belongs to exactly one.
    pub org_id: OrgId,
    /// The address the user signs in with, unique across this Haven.
    pub email: Email,
    /// The user's full name.
    pub name: PersonName,
    /// What the user may do.
    pub roles: Roles,
    /// The argon2id hash of the password; `None` until the user sets one.
    pub password_hash: Option<PasswordHash>,
    /// The password was set by someone else and must be changed at the next sign-in.
    pub must_change_password: bool,
    /// The TOTP secret, once the user has enrolled.
    pub totp_secret: Option<TotpSecret>,
    /// The last TOTP time step accepted, so that a code cannot be used twice.
    pub totp_last_step: Option<i64>,
    /// A disabled account cannot sign in.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: OffsetDateTime,
}

/// What it takes to create an account.
pub struct NewUser<'a> {
    /// The new account's id.
    pub id: &'a UserId,
    /// Its organisation.
    pub org_id: &'a OrgId,
    /// Its sign-in address.
    pub email: &'a Email,
    /// Its full name.
    pub name: &'a PersonName,
    /// Its roles.
    pub roles: Roles,
    /// Its initial password hash, if one was given.
    pub password_hash: Option<&'a PasswordHash>,
    /// Whether the initial password must be changed at first sign-in.
    pub must_change_password: bool,
}

const USER_COLUMNS: &str = "id, org_id, email, name, roles, password_hash, \
     must_change_password, totp_secret, totp_last_step, disabled, created_at";

fn user_from_row(row: &AnyRow) -> Result<User> {
    let text = |col: &str| -> Result<String> { Ok(row.try_get::<String, _>(col)?) };
    let opt = |col: &str| -> Result<Option<String>> { Ok(row.try_get::<Option<String>, _>(col)?) };
    Ok(User {
        id: UserId::parse(&text("id")?).map_err(|e| Error::corrupt("user id", e))?,
        org_id: OrgId::parse(&text("org_id")?).map_err(|e| Error::corrupt("org id", e))?,
        email: Email::parse(&text("email")?).map_err(|e| Error::corrupt("email", e))?,
        name: PersonName::parse(&text("name")?).map_err(|e| Error::corrupt("name", e))?,
        roles: Roles::parse_list(&text("roles")?).map_err(|e| Error::corrupt("roles", e))?,
        password_hash: opt("password_hash")?
            .map(PasswordHash::from_stored)
            .transpose()
            .map_err(|e| Error::corrupt("password hash", e))?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        totp_secret: opt("totp_secret")?
            .map(|s| TotpSecret::from_base32(&s))
            .transpose()
            .map_err(|e| Error::corrupt("totp secret", e))?,
        totp_last_step: row.try_get("totp_last_step")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

impl Store {
    /// The account that signs in with this address, in whichever organisation.
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(email.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// One account of an organisation; [`Error::NotFound`] if it belongs to another.
    pub async fn user(&self, org: &OrgId, id: &UserId) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_one(self.pool())
            .await?;
        user_from_row(&row)
    }

    /// The accounts of an organisation, by name.
    pub async fn users(&self, org: &OrgId) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY name, id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The ids of the clinics a user belongs to.
    pub async fn user_clinics(&self, org: &OrgId, user: &UserId) -> Result<Vec<ClinicId>> {
        let rows = sqlx::query(
            "SELECT m.clinic_id FROM clinic_members m JOIN clinics c ON c.id = m.clinic_id \
             WHERE c.org_id = $1 AND m.user_id = $2 ORDER BY c.name",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                ClinicId::parse(&r.try_get::<String, _>(0)?)
                    .map_err(|e| Error::corrupt("clinic id", e))
            })
            .collect()
    }

    /// The ids of a clinic's members.
    pub async fn clinic_members(&self, org: &OrgId, clinic: &ClinicId) -> Result<Vec<UserId>> {
        let rows = sqlx::query(
            "SELECT m.user_id FROM clinic_members m JOIN clinics c ON c.id = m.clinic_id \
             WHERE c.org_id = $1 AND m.clinic_id = $2",
        )
        .bind(org.as_str())
        .bind(clinic.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                UserId::parse(&r.try_get::<String, _>(0)?).map_err(|e| Error::corrupt("user id", e))
            })
            .collect()
    }
}

impl Tx {
    /// Creates a staff account.
    pub async fn create_user(&mut self, new: &NewUser<'_>, now: OffsetDateTime) -> Result<()> {
        let sql = format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, 0, $8)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(new.id.as_str())
            .bind(new.org_id.as_str())
            .bind(new.email.as_str())
            .bind(new.name.as_str())
            .bind(new.roles.to_list())
            .bind(new.password_hash.map(|h| h.as_str().to_string()))
            .bind(i64::from(new.must_change_password))
            .bind(to_micros(now))
            .execute(self.conn())
            .await
            .map_err(conflict("that email address"))?;
        Ok(())
    }

    /// Replaces a user's roles.
    pub async fn set_roles(&mut self, org: &OrgId, user: &UserId, roles: Roles) -> Result<()> {
        let done = sqlx::query("UPDATE users SET roles = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(roles.to_list())
            .execute(self.conn())
            .await?;
        found(done.rows_affected())
    }

    /// Sets a user's password hash, and whether it must be changed at the next sign-in.
    pub async fn set_password(
        &mut self,
        user: &UserId,
        hash: &PasswordHash,
        must_change: bool,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1",
        )
        .bind(user.as_str())
        .bind(hash.as_str())
        .bind(i64::from(must_change))
        .execute(self.conn())
        .await?;
        found(done.rows_affected())
    }

    /// Enables or disables an account.
    pub async fn set_disabled(&mut self, user: &UserId, disabled: bool) -> Result<()> {
        let done = sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
            .bind(user.as_str())
            .bind(i64::from(disabled))
            .execute(self.conn())
            .await?;
        found(done.rows_affected())
    }

    /// Stores a user's TOTP secret and their recovery codes (as hashes), replacing old ones.
    pub async fn enrol_totp(
        &mut self,
        user: &UserId,
        secret: &TotpSecret,
        accepted_step: i64,
        recovery_code_hashes: &[String],
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE users SET totp_secret = $2, totp_last_step = $3 WHERE id = $1")
                .bind(user.as_str())
                .bind(secret.to_base32())
                .bind(accepted_step)
                .execute(self.conn())
                .await?;
        found(done.rows_affected())?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.as_str())
            .execute(self.conn())
            .await?;
        for hash in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user.as_str())
                .bind(hash)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    /// Removes a user's MFA enrolment (an admin reset), so they enrol again.
    pub async fn clear_totp(&mut self, user: &UserId) -> Result<()> {
        sqlx::query("UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1")
            .bind(user.as_str())
            .execute(self.conn())
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records the TOTP step just accepted; false if that step (or a later one) was already
    /// used, which means a replayed code.
    pub async fn use_totp_step(&mut self, user: &UserId, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $2 \
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user.as_str())
        .bind(step)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends a recovery code; false if it is unknown or already used.
    pub async fn use_recovery_code(
        &mut self,
        user: &UserId,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 \
             WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(user.as_str())
        .bind(code_hash)
        .bind(to_micros(now))
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds a user to a clinic, or removes them; both must belong to `org`.
    pub async fn set_membership(
        &mut self,
        org: &OrgId,
        clinic: &ClinicId,
        user: &UserId,
        member: bool,
    ) -> Result<()> {
        // Both ends must be this organisation's: the check and the change share a transaction.
        let same_org: i64 = sqlx::query(
            "SELECT COUNT(*) FROM clinics c, users u \
             WHERE c.id = $2 AND u.id = $3 AND c.org_id = $1 AND u.org_id = $1",
        )
        .bind(org.as_str())
        .bind(clinic.as_str())
        .bind(user.as_str())
        .fetch_one(self.conn())
        .await?
        .try_get(0)?;
        if same_org != 1 {
            return Err(Error::NotFound);
        }
        if member {
            let exists: i64 = sqlx::query(
                "SELECT COUNT(*) FROM clinic_members WHERE clinic_id = $1 AND user_id = $2",
            )
            .bind(clinic.as_str())
            .bind(user.as_str())
            .fetch_one(self.conn())
            .await?
            .try_get(0)?;
            if exists == 0 {
                sqlx::query("INSERT INTO clinic_members (clinic_id, user_id) VALUES ($1, $2)")
                    .bind(clinic.as_str())
                    .bind(user.as_str())
                    .execute(self.conn())
                    .await?;
            }
        } else {
            sqlx::query("DELETE FROM clinic_members WHERE clinic_id = $1 AND user_id = $2")
                .bind(clinic.as_str())
                .bind(user.as_str())
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }
}

impl Store {
    /// An account by id alone. Only for flows that start from a secret naming the user
    /// (a reset link, a session); everything else uses [`Store::user`] with an organisation.
    pub async fn user_by_id(&self, id: &UserId) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        user_from_row(
            &sqlx::query(AssertSqlSafe(sql))
                .bind(id.as_str())
                .fetch_one(self.pool())
                .await?,
        )
    }
}
