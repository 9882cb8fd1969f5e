//! A token bucket: `rate` messages a second on average, bursts of up to `burst`.

use std::time::Instant;

/// Messages a second a client may send on average.
pub const RATE_PER_SECOND: f64 = 20.0;
/// Messages a client may send at once after a quiet spell.
pub const BURST: f64 = 40.0;

/// A token bucket; time is a parameter.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64, now: Instant) -> Self {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn signal_rate_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(RATE_PER_SECOND, BURST, start);
        for i in 0..40 {
            assert!(bucket.take(start), "message {i} of the burst");
        }
        assert!(!bucket.take(start), "the 41st at once is refused");
        // 50 ms later one more token has dripped in (20 a second).
        let later = start + Duration::from_millis(50);
        assert!(bucket.take(later));
        assert!(!bucket.take(later));
        // A long quiet spell refills to the burst, not beyond.
        let much_later = later + Duration::from_secs(60);
        let allowed = (0..100).filter(|_| bucket.take(much_later)).count();
        assert_eq!(allowed, 40);
        // Time going backwards (it cannot with Instant, but be safe) adds nothing.
        assert!(!bucket.take(start));
    }
}
