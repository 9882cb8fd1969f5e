//! Organisations, their policy settings, and their clinics.

use haven_domain::time::OffsetDateTime;
use haven_domain::{
    ClinicId, ClinicName, ConsultationLimit, IdentityCheck, InviteLifetime, OrgId, OrgName,
    OrgPolicy,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::error::conflict;
use crate::{Error, Result, Store, Tx, from_micros, to_micros};

/// An organisation (a trust, a practice, a care provider).
#[derive(Debug, Clone)]
pub struct Org {
    /// Its opaque id.
    pub id: OrgId,
    /// Its name, unique across this Haven.
    pub name: OrgName,
    /// The policy settings its admins chose.
    pub policy: OrgPolicy,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// A clinic (a service) within an organisation; its clinicians share a waiting area.
#[derive(Debug, Clone)]
pub struct Clinic {
    /// Its opaque id.
    pub id: ClinicId,
    /// The organisation it belongs to.
    pub org_id: OrgId,
    /// Its name, unique within the organisation.
    pub name: ClinicName,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

const ORG_COLUMNS: &str = "id, name, created_at, mfa_required, recording_allowed, \
     file_sharing_allowed, chat_retained, invite_lifetime, identity_check, \
     consultation_limit_minutes";

fn org_from_row(row: &AnyRow) -> Result<Org> {
    let flag = |col: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(col)? != 0) };
    let policy = OrgPolicy {
        mfa_required: flag("mfa_required")?,
        recording_allowed: flag("recording_allowed")?,
        file_sharing_allowed: flag("file_sharing_allowed")?,
        chat_retained: flag("chat_retained")?,
        invite_lifetime: InviteLifetime::parse(&row.try_get::<String, _>("invite_lifetime")?)
            .map_err(|e| Error::corrupt("invite_lifetime", e))?,
        identity_check: IdentityCheck::parse(&row.try_get::<String, _>("identity_check")?)
            .map_err(|e| Error::corrupt("identity_check", e))?,
        consultation_limit: u16::try_from(row.try_get::<i64, _>("consultation_limit_minutes")?)
            .map_err(|e| Error::corrupt("consultation_limit_minutes", e))
            .and_then(|m| {
                ConsultationLimit::minutes(m)
                    .map_err(|e| Error::corrupt("consultation_limit_minutes", e))
            })?,
    };
    Ok(Org {
        id: OrgId::parse(&row.try_get::<String, _>("id")?)
            .map_err(|e| Error::corrupt("org id", e))?,
        name: OrgName::parse(&row.try_get::<String, _>("name")?)
            .map_err(|e| Error::corrupt("org name", e))?,
        policy,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

fn clinic_from_row(row: &AnyRow) -> Result<Clinic> {
    Ok(Clinic {
        id: ClinicId::parse(&row.try_get::<String, _>("id")?)
            .map_err(|e| Error::corrupt("clinic id", e))?,
        org_id: OrgId::parse(&row.try_get::<String, _>("org_id")?)
            .map_err(|e| Error::corrupt("org id", e))?,
        name: ClinicName::parse(&row.try_get::<String, _>("name")?)
            .map_err(|e| Error::corrupt("clinic name", e))?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

impl Store {
    /// How many organisations exist; zero means Haven has not been set up yet.
    pub async fn org_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM organisations")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?)
    }

    /// The organisation with this id.
    pub async fn org(&self, id: &OrgId) -> Result<Org> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1");
        org_from_row(
            &sqlx::query(AssertSqlSafe(sql))
                .bind(id.as_str())
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// The organisation with this name, if any.
    pub async fn org_by_name(&self, name: &OrgName) -> Result<Option<Org>> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organisations WHERE name = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(name.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    /// The clinics of an organisation, by name.
    pub async fn clinics(&self, org: &OrgId) -> Result<Vec<Clinic>> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, created_at FROM clinics WHERE org_id = $1 ORDER BY name",
        )
        .bind(org.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(clinic_from_row).collect()
    }

    /// One clinic of an organisation; [`Error::NotFound`] if it belongs to another.
    pub async fn clinic(&self, org: &OrgId, id: &ClinicId) -> Result<Clinic> {
        let row = sqlx::query(
            "SELECT id, org_id, name, created_at FROM clinics WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_one(self.pool())
        .await?;
        clinic_from_row(&row)
    }
}

impl Tx {
    /// Creates an organisation with the given policy.
    pub async fn create_org(
        &mut self,
        id: &OrgId,
        name: &OrgName,
        policy: &OrgPolicy,
        now: OffsetDateTime,
    ) -> Result<()> {
        let sql = format!(
            "INSERT INTO organisations ({ORG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .bind(name.as_str())
            .bind(to_micros(now))
            .bind(i64::from(policy.mfa_required))
            .bind(i64::from(policy.recording_allowed))
            .bind(i64::from(policy.file_sharing_allowed))
            .bind(i64::from(policy.chat_retained))
            .bind(policy.invite_lifetime.encode())
            .bind(policy.identity_check.as_str())
            .bind(i64::from(policy.consultation_limit.get()))
            .execute(self.conn())
            .await
            .map_err(conflict("that organisation name"))?;
        Ok(())
    }

    /// Replaces an organisation's policy settings.
    pub async fn set_policy(&mut self, org: &OrgId, policy: &OrgPolicy) -> Result<()> {
        let done = sqlx::query(
            "UPDATE organisations SET mfa_required = $2, recording_allowed = $3, \
             file_sharing_allowed = $4, chat_retained = $5, invite_lifetime = $6, \
             identity_check = $7, consultation_limit_minutes = $8 WHERE id = $1",
        )
        .bind(org.as_str())
        .bind(i64::from(policy.mfa_required))
        .bind(i64::from(policy.recording_allowed))
        .bind(i64::from(policy.file_sharing_allowed))
        .bind(i64::from(policy.chat_retained))
        .bind(policy.invite_lifetime.encode())
        .bind(policy.identity_check.as_str())
        .bind(i64::from(policy.consultation_limit.get()))
        .execute(self.conn())
        .await?;
        found(done.rows_affected())
    }

    /// Creates a clinic in an organisation.
    pub async fn create_clinic(
        &mut self,
        org: &OrgId,
        id: &ClinicId,
        name: &ClinicName,
        now: OffsetDateTime,
    ) -> Result<()> {
        sqlx::query("INSERT INTO clinics (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(org.as_str())
            .bind(name.as_str())
            .bind(to_micros(now))
            .execute(self.conn())
            .await
            .map_err(conflict("that clinic name"))?;
        Ok(())
    }

    /// Renames a clinic of an organisation.
    pub async fn rename_clinic(
        &mut self,
        org: &OrgId,
        id: &ClinicId,
        name: &ClinicName,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE clinics SET name = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(name.as_str())
            .execute(self.conn())
            .await
            .map_err(conflict("that clinic name"))?;
        found(done.rows_affected())
    }
}

/// Turns "no row was changed" into [`Error::NotFound`].
pub(crate) fn found(rows_affected: u64) -> Result<()> {
    if rows_affected == 0 {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

impl Tx {
    /// How many organisations exist, as seen by this transaction (first-run setup checks
    /// it inside the transaction that creates the first one).
    pub async fn org_count(&mut self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM organisations")
            .fetch_one(self.conn())
            .await?
            .try_get(0)?)
    }
}
