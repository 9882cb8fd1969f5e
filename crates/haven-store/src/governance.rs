//! The counts behind the governance report and the national data collections. Counts
//! only: nothing here returns a name, an identifier of a patient or any free text.
//!
//! A consultation is *held* when a clinician first admitted someone to it
//! (`consultations.admitted_at`, set by the admission itself); it is counted in the month
//! of that first admission, whatever happened after. Colleague meetings are not
//! consultations and are never counted.

use haven_domain::consultation::Kind;
use haven_domain::governance::{Facts, RecordFacts};
use haven_domain::time::OffsetDateTime;
use haven_domain::{OrgId, OrgName};
use sqlx::{AssertSqlSafe, Row};

use crate::{Error, Result, Store, to_micros};

/// The consultations held by an organisation in `[$2, $3)`, as a subquery of ids.
const HELD: &str = "SELECT id FROM consultations WHERE org_id = $1 AND kind <> 'colleague_meeting' \
     AND admitted_at >= $2 AND admitted_at < $3";

/// Held consultations of one organisation and one kind in a period, for the national counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCount {
    /// The organisation.
    pub org_id: OrgId,
    /// Its name (organisations are not people).
    pub org_name: OrgName,
    /// The kind of consultation.
    pub kind: Kind,
    /// How many were held.
    pub held: u64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Store {
    /// One count over the consultations held by `org` in `[from, until)`: `sql` is a
    /// `SELECT COUNT(…)` using `$1`–`$3` as [`HELD`] does.
    async fn held_count(
        &self,
        sql: &str,
        org: &OrgId,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<u64> {
        let n: i64 = sqlx::query(AssertSqlSafe(sql.replace("{HELD}", HELD)))
            .bind(org.as_str())
            .bind(to_micros(from))
            .bind(to_micros(until))
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(count(n))
    }

    /// Everything the governance report counts for `org` in `[from, until)`, and its staff
    /// as they are now.
    pub async fn governance_facts(
        &self,
        org: &OrgId,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Facts> {
        // The checklist's answers are in the admission's audit entry: the evidence an IG
        // auditor would look for, and it outlives the consultation's personal data.
        let admitted_with = |item: &str| {
            format!(
                "SELECT COUNT(*) FROM consultations c WHERE c.id IN ({{HELD}}) AND EXISTS (\
                 SELECT 1 FROM audit_log a WHERE a.org_id = c.org_id \
                 AND a.action = 'consultation.admit' AND a.object = c.id \
                 AND a.detail LIKE '%{item}=yes%')"
            )
        };
        let consents = |kind: &str| {
            format!(
                "SELECT COUNT(*) FROM consents WHERE org_id = $1 AND kind = '{kind}' \
                 AND consultation_id IN ({{HELD}})"
            )
        };
        let q = |sql: String| async move { self.held_count(&sql, org, from, until).await };
        let held = q("SELECT COUNT(*) FROM ({HELD}) held".into()).await?;
        let identity_confirmed = q(admitted_with("identity_confirmed")).await?;
        let private_space_confirmed = q(admitted_with("private_space")).await?;
        let patient_joined = q(
            "SELECT COUNT(*) FROM consultations c WHERE c.id IN ({HELD}) \
             AND EXISTS (SELECT 1 FROM attendees a WHERE a.consultation_id = c.id \
             AND a.role = 'patient' AND a.confirmed_at IS NOT NULL)"
                .into(),
        )
        .await?;
        let carer_consents = q(consents("carer_presence")).await?;
        let recording_consents = q(consents("recording")).await?;
        let chat_saved = q("SELECT COUNT(DISTINCT consultation_id) FROM chat_messages \
             WHERE org_id = $1 AND consultation_id IN ({HELD})"
            .into())
        .await?;
        let record = self.record_facts(org, from, until).await?;
        let staff = sqlx::query(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN password_hash IS NOT NULL AND must_change_password = 0 \
                 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN totp_secret IS NOT NULL THEN 1 ELSE 0 END), 0) \
             FROM users WHERE org_id = $1 AND disabled = 0",
        )
        .bind(org.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(Facts {
            held,
            identity_confirmed,
            private_space_confirmed,
            patient_joined,
            carer_consents,
            recording_consents,
            record,
            chat_saved,
            active_staff: count(staff.try_get(0)?),
            own_password: count(staff.try_get(1)?),
            mfa_enrolled: count(staff.try_get(2)?),
        })
    }

    /// What the record holds for the consultations held in the period: one place to count
    /// further evidence (such as delivery to the health and care record) from.
    async fn record_facts(
        &self,
        org: &OrgId,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<RecordFacts> {
        let sql = format!(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN outcome IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN (outcome_note IS NOT NULL AND outcome_note <> '') \
                 OR EXISTS (SELECT 1 FROM consultation_notes n \
                     WHERE n.consultation_id = c.id AND n.body <> '') \
                 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM consultation_notes n \
                     WHERE n.consultation_id = c.id AND n.finished_at IS NOT NULL) \
                 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM record_deliveries d \
                     WHERE d.consultation_id = c.id AND d.status = 'delivered') \
                 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM record_deliveries d \
                     WHERE d.consultation_id = c.id AND d.status = 'failed') \
                 THEN 1 ELSE 0 END), 0) \
             FROM consultations c WHERE c.status = 'ended' AND c.id IN ({HELD})"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(org.as_str())
            .bind(to_micros(from))
            .bind(to_micros(until))
            .fetch_one(self.pool())
            .await?;
        Ok(RecordFacts {
            ended: count(row.try_get(0)?),
            outcome_recorded: count(row.try_get(1)?),
            note_written: count(row.try_get(2)?),
            notes_finished: count(row.try_get(3)?),
            delivered: count(row.try_get(4)?),
            delivery_failed: count(row.try_get(5)?),
        })
    }

    /// Consultations held in `[from, until)` by organisation and kind, for every
    /// organisation (`None`) or one; only the pairs with at least one, by organisation
    /// name then kind.
    pub async fn held_counts(
        &self,
        org: Option<&OrgId>,
        from: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<HeldCount>> {
        let rows = sqlx::query(
            "SELECT o.id, o.name, c.kind, COUNT(*) FROM consultations c \
             JOIN organisations o ON o.id = c.org_id \
             WHERE c.kind <> 'colleague_meeting' AND c.admitted_at >= $1 AND c.admitted_at < $2 \
             AND ($3 = '' OR c.org_id = $3) \
             GROUP BY o.id, o.name, c.kind ORDER BY o.name, c.kind",
        )
        .bind(to_micros(from))
        .bind(to_micros(until))
        .bind(org.map_or(String::new(), |o| o.as_str().to_owned()))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HeldCount {
                    org_id: OrgId::parse(&row.try_get::<String, _>(0)?)
                        .map_err(|e| Error::corrupt("org id", e))?,
                    org_name: OrgName::parse(&row.try_get::<String, _>(1)?)
                        .map_err(|e| Error::corrupt("org name", e))?,
                    kind: Kind::parse(&row.try_get::<String, _>(2)?)
                        .map_err(|e| Error::corrupt("consultation kind", e))?,
                    held: count(row.try_get(3)?),
                })
            })
            .collect()
    }

    /// Every organisation's id and name, by name: the national counts list each one, with
    /// zeros in the months it held none.
    pub async fn org_names(&self) -> Result<Vec<(OrgId, OrgName)>> {
        let rows = sqlx::query("SELECT id, name FROM organisations ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    OrgId::parse(&row.try_get::<String, _>(0)?)
                        .map_err(|e| Error::corrupt("org id", e))?,
                    OrgName::parse(&row.try_get::<String, _>(1)?)
                        .map_err(|e| Error::corrupt("org name", e))?,
                ))
            })
            .collect()
    }
}
