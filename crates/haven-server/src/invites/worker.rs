//! The outbox worker. [`Worker::step`] is one pass at a given "now": tests call it with
//! simulated time; [`spawn`] calls it every few seconds with the server's clock.
//!
//! Per due message: give up at once if it can never go (consultation over, no way to reach
//! the person, link already dead), else claim it and mint a link in one short transaction,
//! send outside any transaction, and record the result in another. A failure worth
//! retrying (429, 5xx, no connection) comes back after [`backoff`]; a refusal (400, 403) or
//! the [`MAX_ATTEMPTS`]th failure is final. Final failures and sends are audited by the
//! system.

use haven_domain::audit::Actor;
use haven_domain::consultation::{Event, Status};
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::uk_time;
use haven_store::consultations::{Attendee, Consultation};
use haven_store::outbox::{OutboxMessage, Purpose};
use haven_store::{Store, Tx};
use tokio::task::JoinHandle;

use super::transport::{Invitation, SendError, Transport};
use super::{link_expiry, mint_link};
use crate::ops::Context;
use crate::{AppState, Error};

/// Tries before a message that keeps failing is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// How long a claimed message stays hidden from other workers; longer than a send can take
/// (Notify and SMTP time out after 30 seconds), short enough that a lost worker's message
/// is soon retried.
pub const LEASE: Duration = Duration::minutes(2);

/// Messages taken per step.
const BATCH: i64 = 20;

/// The wait after the `attempt`th failed try (from 1): quick at first for a blip, then
/// spreading out over the rest of the day.
pub fn backoff(attempt: i64) -> Duration {
    match attempt {
        ..=1 => Duration::seconds(30),
        2 => Duration::minutes(2),
        3 => Duration::minutes(10),
        4 => Duration::hours(1),
        5 => Duration::hours(2),
        6 => Duration::hours(4),
        _ => Duration::hours(8),
    }
}

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    /// Messages handed to the provider.
    pub sent: usize,
    /// Messages that failed a try and will be tried again.
    pub retried: usize,
    /// Messages given up.
    pub failed: usize,
}

pub(super) enum Outcome {
    Sent,
    Retried,
    Failed,
    /// Another worker claimed it first.
    Skipped,
}

/// How far a message's own part of delivery went: finished early (given up, or claimed by
/// another worker), or handed to the transport with this result.
pub(super) enum Tried {
    Done(Outcome),
    Sent(Result<Option<String>, SendError>),
}

/// The audit actions and log wording for each purpose.
struct Labels {
    sent: &'static str,
    failed: &'static str,
    noun: &'static str,
}

impl Labels {
    fn of(purpose: Purpose) -> Labels {
        match purpose {
            Purpose::Invite => Labels {
                sent: "invite.sent",
                failed: "invite.failed",
                noun: "invitation",
            },
            Purpose::Code => Labels {
                sent: "identity_code.sent",
                failed: "identity_code.failed",
                noun: "one-time code",
            },
        }
    }
}

/// Delivers due invitations through one transport.
#[derive(Clone)]
pub struct Worker {
    pub(super) store: Store,
    public_url: String,
    pub(super) transport: Transport,
}

impl Worker {
    /// A worker with the configured transport.
    pub fn new(state: &AppState) -> Result<Worker, String> {
        let transport = Transport::from_config(&state.config.invites.channel)?;
        Ok(Worker::with_transport(state, transport))
    }

    /// A worker with the given transport (tests capture the console this way).
    pub fn with_transport(state: &AppState, transport: Transport) -> Worker {
        Worker {
            store: state.store.clone(),
            public_url: state.config.public_url.clone(),
            transport,
        }
    }

    /// One pass over the messages due at `now`. A message whose handling fails (the
    /// database went away) is logged by id and left for a later step.
    pub async fn step(&self, now: OffsetDateTime) -> Result<StepReport, Error> {
        let mut report = StepReport::default();
        for message in self.store.due_messages(now, BATCH).await? {
            match self.deliver(&message, now).await {
                Ok(Outcome::Sent) => report.sent += 1,
                Ok(Outcome::Retried) => report.retried += 1,
                Ok(Outcome::Failed) => report.failed += 1,
                Ok(Outcome::Skipped) => {}
                Err(e) => {
                    tracing::error!(message = %message.id, error = %e, "invitation not handled")
                }
            }
        }
        Ok(report)
    }

    async fn deliver(&self, m: &OutboxMessage, now: OffsetDateTime) -> Result<Outcome, Error> {
        let org = &m.org_id;
        let attendee = self.store.attendee(org, &m.attendee_id).await?;
        let consultation = self
            .store
            .consultation(org, &attendee.consultation_id)
            .await?;
        if consultation.status.is_final() {
            return self.give_up(m, &over(consultation.status), now).await;
        }
        if m.attempts >= MAX_ATTEMPTS {
            let last = m.reason.as_deref().unwrap_or("no reason recorded");
            let reason = format!("gave up after {} tries; the last: {last}", m.attempts);
            return self.give_up(m, &reason, now).await;
        }
        if m.channel != self.transport.channel() {
            let reason = format!("the {} channel is not configured on this server", m.channel);
            return self.give_up(m, &reason, now).await;
        }
        let tried = match m.purpose {
            Purpose::Invite => self.send_invite(m, &attendee, &consultation, now).await?,
            Purpose::Code => super::code::send(self, m, &attendee, &consultation, now).await?,
        };
        let result = match tried {
            Tried::Done(outcome) => return Ok(outcome),
            Tried::Sent(result) => result,
        };
        let attempts = m.attempts + 1;
        let what = Labels::of(m.purpose);

        let mut tx = self.store.begin().await?;
        let outcome = match result {
            Ok(provider_ref) => {
                let provider_ref = provider_ref.filter(|r| !r.is_empty());
                tx.mark_sent(org, &m.id, provider_ref.as_deref(), now)
                    .await?;
                let mut detail = format!("message {} by {}", m.id, m.channel);
                // The first invitation sent is what makes a booked consultation "invited".
                if consultation.status == Status::Booked && m.purpose == Purpose::Invite {
                    match tx
                        .transition(org, &consultation.id, Event::Invite, now)
                        .await
                    {
                        Ok((before, after)) if before != after => {
                            detail += &format!("; consultation {before} -> {after}");
                        }
                        Ok(_) | Err(haven_store::Error::Refused(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                audit(&mut tx, m, what.sent, &detail, now).await?;
                tracing::info!(message = %m.id, channel = %m.channel, "{} sent", what.noun);
                Outcome::Sent
            }
            Err(e) if e.retry && attempts < MAX_ATTEMPTS => {
                let at = now + backoff(attempts);
                tx.mark_retry(org, &m.id, &e.reason, at, now).await?;
                tracing::info!(message = %m.id, attempts, reason = %e.reason, "{} to be tried again", what.noun);
                Outcome::Retried
            }
            Err(e) => {
                let reason = if e.retry {
                    format!("gave up after {attempts} tries; the last: {}", e.reason)
                } else {
                    e.reason
                };
                fail(&mut tx, m, &reason, now).await?;
                Outcome::Failed
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Claims an invitation, mints its link and sends it.
    async fn send_invite(
        &self,
        m: &OutboxMessage,
        attendee: &Attendee,
        consultation: &Consultation,
        now: OffsetDateTime,
    ) -> Result<Tried, Error> {
        let org = &m.org_id;
        if let Err(e) = self.transport.check(attendee) {
            return self.give_up(m, &e.reason, now).await.map(Tried::Done);
        }
        let policy = self.store.org(org).await?.policy;
        let expires_at = link_expiry(&policy, consultation.starts_at, now);
        if expires_at <= now {
            let reason = "the appointment day is over, so the link would not work";
            return self.give_up(m, reason, now).await.map(Tried::Done);
        }
        let clinic = self.store.clinic(org, &consultation.clinic_id).await?;

        let mut tx = self.store.begin().await?;
        if !tx.claim_message(m, now, now + LEASE).await? {
            return Ok(Tried::Done(Outcome::Skipped));
        }
        let link = mint_link(
            &mut tx,
            &self.public_url,
            org,
            &attendee.id,
            expires_at,
            now,
        )
        .await?;
        tx.commit().await?;

        let when = uk_time::describe(consultation.starts_at);
        let invitation = Invitation {
            role: attendee.role,
            consultation: &consultation.id,
            // The recipient's own first name only: never anyone else's, never a surname.
            first_name: attendee.name.as_str().split(' ').next().unwrap_or_default(),
            clinic: clinic.name.as_str(),
            when: &when,
            link: &link,
            reference: &m.id,
        };
        Ok(Tried::Sent(
            self.transport.send(attendee, &invitation).await,
        ))
    }

    pub(super) async fn give_up(
        &self,
        m: &OutboxMessage,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Outcome, Error> {
        let mut tx = self.store.begin().await?;
        fail(&mut tx, m, reason, now).await?;
        tx.commit().await?;
        Ok(Outcome::Failed)
    }
}

/// The reason a message for a consultation that is over is not sent.
fn over(status: Status) -> String {
    match status {
        Status::DidNotAttend => "consultation marked as not attended".into(),
        other => format!("consultation {other}"),
    }
}

async fn fail(
    tx: &mut Tx,
    m: &OutboxMessage,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), Error> {
    if tx.mark_failed(&m.org_id, &m.id, reason, now).await? {
        let what = Labels::of(m.purpose);
        let detail = format!("message {}: {reason}", m.id);
        audit(tx, m, what.failed, &detail, now).await?;
        tracing::warn!(message = %m.id, %reason, "{} failed", what.noun);
    }
    Ok(())
}

async fn audit(
    tx: &mut Tx,
    m: &OutboxMessage,
    action: &str,
    detail: &str,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let ctx = Context {
        actor: Actor::System,
        client_addr: None,
        now,
    };
    let object = format!("attendee:{}", m.attendee_id);
    ctx.audit(tx, Some(&m.org_id), action, &object, detail)
        .await
}

/// Starts the worker under `serve`, stepping every `poll_interval` with the server's clock;
/// `None` when the configuration asks for no worker. A step that panics is logged and the
/// next one runs.
pub fn spawn(state: &AppState) -> Result<Option<JoinHandle<()>>, String> {
    let Some(every) = state.config.invites.poll_interval else {
        return Ok(None);
    };
    let worker = Worker::new(state)?;
    let clock = state.clock.clone();
    Ok(Some(tokio::spawn(async move {
        loop {
            let w = worker.clone();
            let now = clock.now();
            match tokio::spawn(async move { w.step(now).await }).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "outbox step failed"),
                Err(_) => tracing::error!("outbox step panicked"),
            }
            tokio::time::sleep(every).await;
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_the_tries_span_the_day() {
        let waits: Vec<Duration> = (1..MAX_ATTEMPTS).map(backoff).collect();
        assert!(waits.windows(2).all(|w| w[0] < w[1]));
        let total: Duration = waits.iter().copied().sum();
        assert!(
            total > Duration::hours(8) && total < Duration::hours(24),
            "{total}"
        );
    }
}
