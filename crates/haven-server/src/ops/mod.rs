//! Operations shared by the web pages and the command line. Each validates its input into
//! domain types, makes its change and writes its audit entry in one transaction.

pub mod accounts;
pub mod admission;
pub mod audit_log;
pub mod booking;
pub mod governance;
pub mod group;
pub mod group_host;
pub mod identity_code;
pub mod meetings;
pub mod notes;
pub mod orgs;
pub mod people;
pub mod retention;
pub mod signin;
pub mod transfer;

use haven_domain::OrgId;
use haven_domain::audit::Actor;
use haven_store::Tx;
use haven_store::audit::NewAudit;

use crate::Error;

/// Who is acting and from where: every audit entry needs both.
#[derive(Debug, Clone)]
pub struct Context {
    /// The actor (a staff user, or the system for the command line and first-run setup).
    pub actor: Actor,
    /// The client address, when the action came over HTTP.
    pub client_addr: Option<String>,
    /// The time of the action.
    pub now: haven_domain::time::OffsetDateTime,
}

impl Context {
    /// Appends an audit entry to `tx`.
    pub async fn audit(
        &self,
        tx: &mut Tx,
        org: Option<&OrgId>,
        action: &str,
        object: &str,
        detail: &str,
    ) -> Result<(), Error> {
        tx.audit(
            &NewAudit {
                actor: &self.actor,
                action,
                object,
                org_id: org,
                client_addr: self.client_addr.as_deref(),
                detail,
            },
            self.now,
        )
        .await?;
        Ok(())
    }
}

/// New random ids for rows.
pub fn new_id<T>(make: fn([u8; 16]) -> T) -> T {
    make(crate::web::random_bytes())
}
