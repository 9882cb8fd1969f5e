//! Whom a consultation is with: passing it to another clinician of its clinic.

use haven_domain::consultation::Status;
use haven_domain::{ConsultationId, OrgId, UserId};

use crate::{Error, Result, Tx};

impl Tx {
    /// Gives an organisation's consultation to `to`, a member of its clinic. Guarded by
    /// what the caller read (its status and its clinician, `from`), so a transfer that
    /// crosses another change (an end, a cancellation, another transfer) is refused rather
    /// than applied to a consultation the caller did not see; so is a `to` who is not a
    /// member of the consultation's clinic in the same organisation.
    pub async fn set_clinician(
        &mut self,
        org: &OrgId,
        id: &ConsultationId,
        status: Status,
        from: Option<&UserId>,
        to: &UserId,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE consultations SET clinician_id = $1 \
             WHERE org_id = $2 AND id = $3 AND status = $4 AND COALESCE(clinician_id, '') = $5 \
             AND EXISTS (SELECT 1 FROM clinic_members m JOIN users u ON u.id = m.user_id \
             WHERE m.clinic_id = consultations.clinic_id AND m.user_id = $1 AND u.org_id = $2)",
        )
        .bind(to.as_str())
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(status.as_str())
        .bind(from.map_or("", UserId::as_str))
        .execute(self.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::Refused(
                "the consultation changed at the same moment; reload and try again".into(),
            ));
        }
        Ok(())
    }
}
