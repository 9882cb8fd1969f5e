//! The record delivery worker. [`DeliveryWorker::step`] is one pass at a given "now":
//! tests call it with simulated time; [`spawn`] calls it every few seconds with the
//! server's clock.
//!
//! Per due delivery: build the patient's bundle, claim the row in one short transaction,
//! post outside any transaction, and record the result in another with its audit entry
//! (delivered, or failed with the reason). A failure worth retrying comes back after the
//! invitations' [`backoff`]; a refusal or the [`MAX_ATTEMPTS`]th failure is final.

use haven_domain::audit::Actor;
use haven_domain::time::OffsetDateTime;
use haven_store::Store;
use haven_store::deliveries::{DeliveryResult, RecordDelivery};
use tokio::task::JoinHandle;

use super::client::FhirClient;
use crate::invites::worker::{LEASE, backoff};
use crate::ops::Context;
use crate::{AppState, Error};

/// Tries before a bundle that keeps failing is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// Deliveries taken per step.
const BATCH: i64 = 20;

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    /// Bundles the record system accepted.
    pub delivered: usize,
    /// Bundles that failed a try and will be tried again.
    pub retried: usize,
    /// Bundles given up.
    pub failed: usize,
}

enum Outcome {
    Delivered,
    Retried,
    Failed,
    /// Another worker claimed it first.
    Skipped,
}

/// Posts due bundles to one endpoint.
#[derive(Clone)]
pub struct DeliveryWorker {
    store: Store,
    client: FhirClient,
}

impl DeliveryWorker {
    /// A worker for the configured endpoint; `None` when there is none.
    pub fn new(state: &AppState) -> Result<Option<DeliveryWorker>, String> {
        let Some(endpoint) = state.config.record.endpoint.clone() else {
            return Ok(None);
        };
        Ok(Some(DeliveryWorker {
            store: state.store.clone(),
            client: FhirClient::new(endpoint)?,
        }))
    }

    /// One pass over the deliveries due at `now`. A delivery whose handling fails (the
    /// database went away) is logged by id and left for a later step.
    pub async fn step(&self, now: OffsetDateTime) -> Result<StepReport, Error> {
        let mut report = StepReport::default();
        for d in self.store.due_deliveries(now, BATCH).await? {
            match self.deliver(&d, now).await {
                Ok(Outcome::Delivered) => report.delivered += 1,
                Ok(Outcome::Retried) => report.retried += 1,
                Ok(Outcome::Failed) => report.failed += 1,
                Ok(Outcome::Skipped) => {}
                Err(e) => {
                    tracing::error!(delivery = %d.id, error = %e, "record delivery not handled")
                }
            }
        }
        Ok(report)
    }

    async fn deliver(&self, d: &RecordDelivery, now: OffsetDateTime) -> Result<Outcome, Error> {
        if d.attempts >= MAX_ATTEMPTS {
            let last = d.reason.as_deref().unwrap_or("no reason recorded");
            let reason = format!("gave up after {} tries; the last: {last}", d.attempts);
            return self.finish(d, Err((false, reason)), now).await;
        }
        let input = super::load(
            &self.store,
            &d.org_id,
            &d.consultation_id,
            &d.attendee_id,
            now,
        );
        let bundle = match input.await.and_then(|i| super::bundle(&i)) {
            Ok(b) => b,
            Err(Error::NotFound) => {
                let reason = "the patient is no longer part of this consultation".to_string();
                return self.finish(d, Err((false, reason)), now).await;
            }
            Err(e) => return Err(e),
        };
        let mut tx = self.store.begin().await?;
        if !tx.claim_delivery(d, now, now + LEASE).await? {
            return Ok(Outcome::Skipped);
        }
        tx.commit().await?;
        let posted = self.client.post(&bundle).await;
        let attempts = d.attempts + 1;
        let result = match posted {
            Ok(location) => Ok(location),
            Err(e) if e.retry && attempts < MAX_ATTEMPTS => Err((true, e.reason)),
            Err(e) if e.retry => Err((
                false,
                format!("gave up after {attempts} tries; the last: {}", e.reason),
            )),
            Err(e) => Err((false, e.reason)),
        };
        self.finish(d, result, now).await
    }

    /// Records a try's result and audits the end of a delivery.
    async fn finish(
        &self,
        d: &RecordDelivery,
        result: Result<Option<String>, (bool, String)>,
        now: OffsetDateTime,
    ) -> Result<Outcome, Error> {
        let attempts = d.attempts + 1;
        let mut tx = self.store.begin().await?;
        let (change, outcome, action) = match &result {
            Ok(location) => (
                DeliveryResult::Delivered {
                    location: location.as_deref(),
                },
                Outcome::Delivered,
                Some("record.delivered"),
            ),
            Err((true, reason)) => (
                DeliveryResult::Retry {
                    reason,
                    at: now + backoff(attempts),
                },
                Outcome::Retried,
                None,
            ),
            Err((false, reason)) => (
                DeliveryResult::Failed { reason },
                Outcome::Failed,
                Some("record.failed"),
            ),
        };
        if !tx.delivery_result(&d.org_id, &d.id, change, now).await? {
            return Ok(Outcome::Skipped);
        }
        if let Some(action) = action {
            let detail = match &result {
                Ok(Some(location)) => format!(
                    "delivery {} for attendee {}: at {location}",
                    d.id, d.attendee_id
                ),
                Ok(None) => format!("delivery {} for attendee {}", d.id, d.attendee_id),
                Err((_, reason)) => {
                    format!("delivery {} for attendee {}: {reason}", d.id, d.attendee_id)
                }
            };
            let ctx = Context {
                actor: Actor::System,
                client_addr: None,
                now,
            };
            ctx.audit(
                &mut tx,
                Some(&d.org_id),
                action,
                d.consultation_id.as_str(),
                &detail,
            )
            .await?;
        }
        tx.commit().await?;
        match outcome {
            Outcome::Delivered => tracing::info!(delivery = %d.id, "record bundle delivered"),
            Outcome::Retried => {
                tracing::info!(delivery = %d.id, attempts, "record bundle to be tried again")
            }
            Outcome::Failed => tracing::warn!(delivery = %d.id, "record bundle failed"),
            Outcome::Skipped => {}
        }
        Ok(outcome)
    }
}

/// Starts the worker under `serve`, stepping every `poll_interval`; `None` when there is
/// no endpoint or the configuration asks for no worker. A step that panics is logged and
/// the next one runs.
pub fn spawn(state: &AppState) -> Result<Option<JoinHandle<()>>, String> {
    let Some(every) = state.config.record.poll_interval else {
        return Ok(None);
    };
    let Some(worker) = DeliveryWorker::new(state)? else {
        return Ok(None);
    };
    let clock = state.clock.clone();
    Ok(Some(tokio::spawn(async move {
        loop {
            let w = worker.clone();
            let now = clock.now();
            match tokio::spawn(async move { w.step(now).await }).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "record delivery step failed"),
                Err(_) => tracing::error!("record delivery step panicked"),
            }
            tokio::time::sleep(every).await;
        }
    })))
}
