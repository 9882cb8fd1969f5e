//! Seeds and a seeded generator: media tests must be reproducible.

/// The seed a test runs its network with: `default`, or a different one for every test when
/// `HAVEN_MEDIA_SEED` is set, to try a test over other networks without editing it:
/// `HAVEN_MEDIA_SEED=7 cargo nextest run -p haven-media`.
pub fn seed(default: u64) -> u64 {
    match std::env::var("HAVEN_MEDIA_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(s) => default ^ s.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        None => default,
    }
}

/// A seeded pseudo-random generator (SplitMix64): tests must be reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant for tests.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}
