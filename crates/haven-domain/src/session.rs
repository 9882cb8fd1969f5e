//! When a signed-in session ends on its own.
//!
//! Two limits, as the NCSC and NHS guidance expect for systems holding
//! health data: an idle timeout, so an unattended screen does not stay
//! signed in, and an absolute timeout, so a stolen session cookie is
//! useful for a bounded time however actively it is used.

use std::fmt;

use time::{Duration, OffsetDateTime};

/// How long a session may last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    /// Longest time allowed between two requests.
    pub idle: Duration,
    /// Longest time allowed since signing in, however active.
    pub absolute: Duration,
}

impl Default for SessionTimeouts {
    /// 30 minutes idle, 12 hours absolute: a clinical working day.
    fn default() -> Self {
        SessionTimeouts {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

/// Why a session has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No request for longer than the idle timeout.
    Idle,
    /// Signed in for longer than the absolute timeout.
    Absolute,
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expiry::Idle => "You were signed out because you had been inactive for a while.",
            Expiry::Absolute => "You were signed out because your session reached its time limit.",
        })
    }
}

impl SessionTimeouts {
    /// Whether a session created at `created_at` and last used at
    /// `last_seen_at` is still valid at `now`. A session expires the
    /// moment a limit is reached. The absolute limit is reported first
    /// because signing in again is the only remedy for it.
    pub fn check(
        &self,
        created_at: OffsetDateTime,
        last_seen_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), Expiry> {
        if now - created_at >= self.absolute {
            return Err(Expiry::Absolute);
        }
        if now - last_seen_at >= self.idle {
            return Err(Expiry::Idle);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn default_is_30_minutes_and_12_hours() {
        let t = SessionTimeouts::default();
        assert_eq!(t.idle, Duration::minutes(30));
        assert_eq!(t.absolute, Duration::hours(12));
    }

    #[test]
    fn check_cases() {
        let start = datetime!(2025-03-01 08:00 UTC);
        let t = SessionTimeouts::default();
        let m = Duration::minutes;
        // (minutes since created, minutes since last seen, expected)
        let cases: &[(i64, i64, Result<(), Expiry>)] = &[
            (0, 0, Ok(())),
            (29, 29, Ok(())),
            (30, 30, Err(Expiry::Idle)),
            (45, 31, Err(Expiry::Idle)),
            (719, 1, Ok(())),
            (720, 0, Err(Expiry::Absolute)),
            (800, 60, Err(Expiry::Absolute)),
        ];
        for &(since_created, since_seen, expected) in cases {
            let now = start + m(since_created);
            let last_seen = now - m(since_seen);
            assert_eq!(
                t.check(start, last_seen, now),
                expected,
                "{since_created} {since_seen}"
            );
        }
    }

    #[test]
    fn custom_timeouts_apply() {
        let start = datetime!(2025-03-01 08:00 UTC);
        let t = SessionTimeouts {
            idle: Duration::minutes(5),
            absolute: Duration::hours(1),
        };
        let now = start + Duration::minutes(6);
        assert_eq!(t.check(start, start, now), Err(Expiry::Idle));
        assert_eq!(t.check(start, now - Duration::minutes(1), now), Ok(()));
        assert!(Expiry::Idle.to_string().contains("inactive"));
        assert!(Expiry::Absolute.to_string().contains("time limit"));
    }
}
