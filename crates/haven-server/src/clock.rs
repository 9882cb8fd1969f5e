//! The server's source of time, passed in so that tests can move it (session expiry,
//! lock-outs and link lifetimes are tested in simulated time, never by sleeping).

use haven_domain::time::{Duration, OffsetDateTime};
use tokio::sync::watch;

/// Tells the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;

    /// For a clock moved by hand: a receiver that sees each move, so that timers kept by
    /// this clock (a consultation's time limit) are looked at again. `None` for a clock
    /// that moves by itself.
    fn moves(&self) -> Option<watch::Receiver<OffsetDateTime>> {
        None
    }
}

/// The real clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    /// The time; a watch so that whoever keeps a timer by this clock hears of each move.
    now: watch::Sender<OffsetDateTime>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> ManualClock {
        ManualClock {
            now: watch::Sender::new(start),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.borrow()
    }

    fn moves(&self) -> Option<watch::Receiver<OffsetDateTime>> {
        Some(self.now.subscribe())
    }
}
