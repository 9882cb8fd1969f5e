//! When repeated sign-in failures lock a key out.
//!
//! A sliding window: a key (an account, or a client address) is locked
//! while at least [`MAX_FAILURES`] of its failures fall within the last
//! [`WINDOW`]. The lock lifts by itself as old failures age out, so an
//! attacker cannot lock a real user out for longer than the window by
//! guessing at their account, and a real user never needs an
//! administrator to unlock them.

use time::{Duration, OffsetDateTime};

/// Failures within [`WINDOW`] that lock the key.
pub const MAX_FAILURES: usize = 10;
/// How far back failures count.
pub const WINDOW: Duration = Duration::minutes(5);

/// How long the key stays locked, or `None` if it is not locked.
///
/// `failures` are the times of recent failed attempts for one key, in any
/// order; failures older than the window are ignored. A failure counts
/// while it is strictly less than [`WINDOW`] old. Failures stamped after
/// `now` (clocks on two servers disagreeing) count as recent: better to
/// lock slightly long than to let them slip through.
pub fn lockout(failures: &[OffsetDateTime], now: OffsetDateTime) -> Option<Duration> {
    // Comparing durations rather than computing `now - WINDOW` keeps this
    // total even at the far ends of the calendar.
    let mut recent: Vec<OffsetDateTime> = failures
        .iter()
        .copied()
        .filter(|t| now - *t < WINDOW)
        .collect();
    if recent.len() < MAX_FAILURES {
        return None;
    }
    recent.sort_unstable();
    // The lock lifts once every failure up to and including this one has
    // left the window, leaving MAX_FAILURES - 1 inside.
    let releasing = recent[recent.len() - MAX_FAILURES];
    Some(WINDOW - (now - releasing))
}

/// Whole minutes to tell a person to wait, rounded up and never zero, so
/// that "try again in 0 minutes" is never shown.
pub fn minutes_to_wait(d: Duration) -> i64 {
    let seconds = d
        .whole_seconds()
        .saturating_add(i64::from(d.subsec_nanoseconds() > 0));
    let minutes = seconds.div_euclid(60) + i64::from(seconds.rem_euclid(60) > 0);
    minutes.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-03-01 09:00 UTC);

    fn at_seconds_ago(ago: &[i64]) -> Vec<OffsetDateTime> {
        ago.iter().map(|s| NOW - Duration::seconds(*s)).collect()
    }

    #[test]
    fn nine_failures_do_not_lock() {
        let failures = at_seconds_ago(&[0; 9]);
        assert_eq!(lockout(&failures, NOW), None);
    }

    #[test]
    fn ten_failures_now_lock_for_the_whole_window() {
        let failures = at_seconds_ago(&[0; 10]);
        assert_eq!(lockout(&failures, NOW), Some(WINDOW));
    }

    #[test]
    fn lock_lasts_until_the_oldest_counted_failure_ages_out() {
        // Ten failures one every 20 s, newest first; the oldest is 180 s old.
        let ago: Vec<i64> = (0..10).map(|i| i * 20).collect();
        let failures = at_seconds_ago(&ago);
        assert_eq!(lockout(&failures, NOW), Some(Duration::seconds(120)));
        // Order does not matter.
        let mut reversed = failures.clone();
        reversed.reverse();
        assert_eq!(lockout(&reversed, NOW), Some(Duration::seconds(120)));
    }

    #[test]
    fn ten_failures_spread_over_six_minutes_do_not_lock() {
        // 0, 40, ..., 360 s ago: the oldest is outside the window.
        let ago: Vec<i64> = (0..10).map(|i| i * 40).collect();
        assert_eq!(lockout(&at_seconds_ago(&ago), NOW), None);
    }

    #[test]
    fn extra_failures_extend_the_lock() {
        // 12 failures: the lock lifts when the third oldest ages out.
        let ago = [290, 280, 270, 60, 50, 40, 30, 20, 10, 5, 1, 0];
        let failures = at_seconds_ago(&ago);
        assert_eq!(lockout(&failures, NOW), Some(Duration::seconds(30)));
    }

    #[test]
    fn time_passing_unlocks() {
        let failures = at_seconds_ago(&[0; 10]);
        let cases = [
            (Duration::ZERO, Some(WINDOW)),
            (Duration::minutes(1), Some(Duration::minutes(4))),
            (WINDOW - Duration::seconds(1), Some(Duration::seconds(1))),
            (WINDOW, None),
            (Duration::hours(1), None),
        ];
        for (elapsed, expected) in cases {
            assert_eq!(lockout(&failures, NOW + elapsed), expected, "{elapsed}");
        }
    }

    #[test]
    fn future_failures_count() {
        let mut failures = at_seconds_ago(&[0; 9]);
        failures.push(NOW + Duration::seconds(10));
        assert_eq!(
            lockout(&failures, NOW),
            Some(WINDOW),
            "the oldest ten are all at NOW"
        );
    }

    #[test]
    fn minutes_round_up_with_a_minimum_of_one() {
        let cases = [
            (Duration::ZERO, 1),
            (Duration::seconds(-5), 1),
            (Duration::milliseconds(1), 1),
            (Duration::seconds(59), 1),
            (Duration::seconds(60), 1),
            (Duration::seconds(61), 2),
            (Duration::seconds(120) + Duration::nanoseconds(1), 3),
            (WINDOW, 5),
        ];
        for (d, expected) in cases {
            assert_eq!(minutes_to_wait(d), expected, "{d}");
        }
    }
}
