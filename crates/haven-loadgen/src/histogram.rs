//! A histogram of one-way delays in microseconds with about 1.5% relative precision, small
//! enough to keep one per peer and merge at the end.
//!
//! Values below 128 µs have a bucket each; above, each power of two is split into 64
//! buckets. Delays above about a minute land in the last bucket: a frame that late is
//! lost for a call anyway, and it still counts.

/// Values with a bucket of their own.
const LINEAR: u64 = 128;
/// Sub-buckets per power of two above `LINEAR`.
const SUB: u64 = 64;
/// The highest power of two tracked: 2^26 µs is 67 seconds.
const MAX_EXP: u32 = 26;
const BUCKETS: usize = (LINEAR + (MAX_EXP as u64 - 6) * SUB) as usize;

#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }
}

impl Histogram {
    pub fn record(&mut self, micros: u64) {
        self.counts[bucket(micros)] += 1;
        self.total += 1;
        self.max = self.max.max(micros);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value recorded, exactly.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0–1): the upper edge of its bucket, so never an
    /// underestimate by more than rounding; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                // The last bucket has no upper edge: everything beyond it is there.
                let edge = if i == BUCKETS - 1 {
                    self.max
                } else {
                    upper_edge(i)
                };
                return Some(edge.min(self.max));
            }
        }
        Some(self.max)
    }
}

fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    if exp > MAX_EXP {
        return BUCKETS - 1;
    }
    // The top seven bits of v, 64..=127: the leading one and six bits of mantissa.
    let shift = exp - 6;
    let mantissa = (v >> shift) - SUB;
    (LINEAR + u64::from(exp - 7) * SUB + mantissa) as usize
}

/// The largest value that falls in bucket `i`.
fn upper_edge(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let exp = (i - LINEAR) / SUB + 7;
    let mantissa = (i - LINEAR) % SUB + SUB;
    ((mantissa + 1) << (exp - 6)) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        for v in (0..200_000u64).chain([1 << 20, (1 << 26) + 5]) {
            let b = bucket(v);
            assert!(
                upper_edge(b) >= v,
                "{v} in bucket {b} with edge {}",
                upper_edge(b)
            );
            if b > 0 {
                assert!(upper_edge(b - 1) < v, "{v} belongs to an earlier bucket");
            }
            assert!(upper_edge(b) - v <= v / 64 + 1, "precision at {v}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        for ms in 1..=100u64 {
            h.record(ms * 1000);
        }
        let p50 = h.quantile(0.5).expect("not empty");
        let p99 = h.quantile(0.99).expect("not empty");
        assert!((50_000..=50_800).contains(&p50), "{p50}");
        assert!((99_000..=100_000).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), Some(100_000));
        let mut other = Histogram::default();
        other.record(5_000_000);
        h.merge(&other);
        assert_eq!(h.count(), 101);
        assert_eq!(h.max(), 5_000_000);
    }
}
