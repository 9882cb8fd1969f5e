//! Retention: setting an organisation's periods, and the job that removes what is older
//! than them, once a day from `serve` ([`spawn`]) or now from `haven admin retention run`.
//!
//! Each removal is audited by the system with what kind of data, how many and older than
//! when; never what was removed. Old audit entries go last, behind a checkpoint of the
//! chain, so `haven audit verify` still checks everything that remains.

use std::sync::Arc;

use haven_domain::audit::Actor;
use haven_domain::retention::DataKind;
use haven_domain::time::format_description::well_known::Rfc3339;
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::{OrgId, RetentionPolicy};
use haven_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Context;
use crate::{Clock, Error};

/// How often the job runs.
pub const EVERY: Duration = Duration::days(1);

/// Replaces an organisation's retention periods; the audit entry lists each one changed.
pub async fn set_policy(
    store: &Store,
    ctx: &Context,
    org: &OrgId,
    new: &RetentionPolicy,
) -> Result<(), Error> {
    let old = store.retention_policy(org).await?;
    let changes = old.changes(new);
    if changes.is_empty() {
        return Ok(());
    }
    let detail = changes
        .iter()
        .map(|c| format!("{}: {} -> {}", c.field, c.old, c.new))
        .collect::<Vec<_>>()
        .join("; ");
    let mut tx = store.begin().await?;
    tx.set_retention_policy(org, new).await?;
    ctx.audit(
        &mut tx,
        Some(org),
        "org.retention_change",
        &format!("org:{org}"),
        &detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One removal the job made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The organisation, or `None` for the audit log, which all share.
    pub org: Option<OrgId>,
    /// What kind of data.
    pub kind: DataKind,
    /// How many (consultations, messages, steps or entries).
    pub count: u64,
    /// Everything older than this went.
    pub older_than: OffsetDateTime,
}

fn cutoff(now: OffsetDateTime, days: u32) -> OffsetDateTime {
    now - Duration::days(i64::from(days))
}

fn describe(kind: DataKind, count: u64, older_than: OffsetDateTime, days: u32) -> String {
    let when = older_than
        .format(&Rfc3339)
        .unwrap_or_else(|_| older_than.unix_timestamp().to_string());
    format!(
        "kind={} count={count} older_than={when} period_days={days}",
        kind.as_str()
    )
}

/// Removes, for every organisation, what its periods say has been kept long enough, then
/// the audit entries older than the longest audit period of any organisation. Each
/// organisation's removals commit with their audit entries; returns what was removed.
pub async fn run(store: &Store, now: OffsetDateTime) -> Result<Vec<Removal>, Error> {
    let ctx = Context {
        actor: Actor::System,
        client_addr: None,
        now,
    };
    let mut removals = Vec::new();
    for (org, _) in store.org_names().await? {
        let policy = store.retention_policy(&org).await?;
        let mut tx = store.begin().await?;
        for kind in [DataKind::Consultation, DataKind::Chat, DataKind::Journey] {
            let days = policy.days(kind);
            let older_than = cutoff(now, days);
            let count = match kind {
                DataKind::Consultation => {
                    tx.remove_consultation_data(&org, older_than, now).await?
                }
                DataKind::Chat => tx.delete_saved_chat(&org, older_than).await?,
                _ => tx.delete_journey_steps(&org, older_than).await?,
            };
            if count == 0 {
                continue;
            }
            let detail = describe(kind, count, older_than, days);
            ctx.audit(
                &mut tx,
                Some(&org),
                "retention.remove",
                &format!("org:{org}"),
                &detail,
            )
            .await?;
            removals.push(Removal {
                org: Some(org.clone()),
                kind,
                count,
                older_than,
            });
        }
        tx.commit().await?;
    }
    let days = store.longest_audit_days().await?;
    let older_than = cutoff(now, days);
    let mut tx = store.begin().await?;
    if let Some(trim) = tx.trim_audit_log(older_than).await? {
        let detail = format!(
            "{} checkpoint_seq={}",
            describe(DataKind::Audit, trim.deleted, older_than, days),
            trim.checkpoint_seq
        );
        ctx.audit(&mut tx, None, "retention.remove", "audit_log", &detail)
            .await?;
        removals.push(Removal {
            org: None,
            kind: DataKind::Audit,
            count: trim.deleted,
            older_than,
        });
    }
    tx.commit().await?;
    Ok(removals)
}

/// The daily job: runs at start and then every [`EVERY`] by `clock`, looking again
/// whenever a hand-moved clock moves. The receiver counts completed runs, so tests in
/// simulated time can wait for one instead of sleeping.
pub fn spawn(store: Store, clock: Arc<dyn Clock>) -> (JoinHandle<()>, watch::Receiver<u64>) {
    let (runs_tx, runs) = watch::channel(0u64);
    let handle = tokio::spawn(async move {
        let mut moves = clock.moves();
        let mut due = clock.now();
        loop {
            let now = clock.now();
            if now >= due {
                due = match run(&store, now).await {
                    Ok(removals) => {
                        tracing::info!(removals = removals.len(), "retention ran");
                        now + EVERY
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "retention failed; trying again in an hour");
                        now + Duration::hours(1)
                    }
                };
                runs_tx.send_modify(|n| *n += 1);
            }
            let wait = std::time::Duration::try_from(due - now).unwrap_or_default();
            let clock_gone = match moves.as_mut() {
                Some(rx) => tokio::select! {
                    _ = tokio::time::sleep(wait) => false,
                    changed = rx.changed() => changed.is_err(),
                },
                None => {
                    tokio::time::sleep(wait).await;
                    false
                }
            };
            if clock_gone {
                moves = None;
            }
        }
    });
    (handle, runs)
}
