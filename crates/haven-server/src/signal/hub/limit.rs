//! A consultation's time limit (the organisation's policy, 90 minutes by default): the
//! clock starts when the first person is admitted, everyone connected is warned five
//! minutes before the end, and at the limit the consultation ends exactly as "End
//! consultation for everyone" ends it, recorded as ended by the time limit. Time is the
//! injected clock's: the hub sleeps until the next moment in real time, and looks again
//! whenever a hand-moved clock (tests, in simulated time) moves.

use haven_domain::ConsultationLimit;
use haven_domain::time::{Duration, OffsetDateTime};
use tokio::sync::watch;
use tokio::time::Instant;

use super::{EndedBy, Hub, RoomKind};
use crate::signal::conn::Conn;
use crate::signal::protocol::ServerMsg;

/// A running consultation's limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct TimeLimit {
    /// The policy's limit in minutes, for the record and the reason people read.
    minutes: u16,
    /// When everyone is warned.
    warn_at: OffsetDateTime,
    /// When the consultation ends.
    end_at: OffsetDateTime,
    /// Whether the warning has gone out.
    warned: bool,
}

impl TimeLimit {
    fn new(limit: ConsultationLimit, start: OffsetDateTime) -> TimeLimit {
        let end_at = start + Duration::minutes(limit.get().into());
        TimeLimit {
            minutes: limit.get(),
            warn_at: end_at - Duration::minutes(ConsultationLimit::WARNING_MINUTES.into()),
            end_at,
            warned: false,
        }
    }

    /// When, by tokio's clock, the hub must next look at the limit, given the injected
    /// clock's `now`.
    pub(super) fn next_wake(&self, now: OffsetDateTime) -> Instant {
        let at = if self.warned {
            self.end_at
        } else {
            self.warn_at
        };
        Instant::now() + std::time::Duration::try_from(at - now).unwrap_or_default()
    }

    /// The warning, with the whole minutes left (rounded up) from `now`.
    fn warning(&self, now: OffsetDateTime) -> ServerMsg {
        let seconds = u64::try_from((self.end_at - now).whole_seconds()).unwrap_or(0);
        let left = u16::try_from(seconds.div_ceil(60))
            .unwrap_or(u16::MAX)
            .max(1);
        let unit = if left == 1 { "minute" } else { "minutes" };
        ServerMsg::EndingSoon {
            minutes: left,
            text: format!("This consultation will end in {left} {unit}"),
        }
    }
}

impl Hub {
    /// Starts the clock at `admitted`, the first admission (later admissions leave it
    /// running).
    pub(super) async fn start_limit(&mut self, admitted: OffsetDateTime) {
        if self.limit.is_some() {
            return;
        }
        let RoomKind::Consultation { org, .. } = &self.kind else {
            return;
        };
        let limit = match self.live.store.org(org).await {
            Ok(o) => o.policy.consultation_limit,
            Err(e) => {
                tracing::error!(room = %self.id, error = %e, "reading the time limit failed; using the default");
                ConsultationLimit::default()
            }
        };
        self.limit = Some(TimeLimit::new(limit, admitted));
    }

    /// Applies the limit now: warns everyone once, and returns the reason to end once it
    /// is reached.
    pub(super) fn check_limit(&mut self) -> Option<String> {
        let now = self.live.clock.now();
        let limit = self.limit.as_mut()?;
        if now >= limit.end_at {
            self.ended_by = Some(EndedBy::TimeLimit {
                minutes: limit.minutes,
            });
            return Some(format!(
                "this consultation reached its time limit of {} minutes",
                limit.minutes
            ));
        }
        if !limit.warned && now >= limit.warn_at {
            limit.warned = true;
            let warning = limit.warning(now);
            for c in self.members.values().filter_map(|m| m.conn.as_ref()) {
                c.send(warning.clone());
            }
            tracing::info!(room = %self.id, "time limit warning sent");
        }
        None
    }

    /// Someone (re)joining after the warning sees it too.
    pub(super) fn repeat_warning(&self, conn: &Conn) {
        if let Some(limit) = self.limit.as_ref().filter(|l| l.warned) {
            conn.send(limit.warning(self.live.clock.now()));
        }
    }
}

/// Returns when a hand-moved clock moves; never for a clock that moves by itself.
pub(super) async fn clock_moved(moves: &mut Option<watch::Receiver<OffsetDateTime>>) {
    match moves {
        Some(rx) => {
            if rx.changed().await.is_err() {
                // The clock is gone: stop listening.
                *moves = None;
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}
