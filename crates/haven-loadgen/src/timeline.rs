//! One clock for the whole run: publishers stamp frames with microseconds since the run's
//! epoch and receivers, in the same process, subtract. The measured window is fixed once
//! every peer has connected (or failed) and the warm-up has passed; only frames sent inside
//! it count towards loss and delay.

use std::sync::OnceLock;
use std::time::Instant;

/// Audio or video, as an index into per-kind arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Audio = 0,
    Video = 1,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Audio, Kind::Video];
}

#[derive(Debug)]
pub struct Timeline {
    epoch: Instant,
    /// The measured window, in microseconds since `epoch`: [start, end). Set once.
    window: OnceLock<(u64, u64)>,
}

impl Timeline {
    pub fn new(epoch: Instant) -> Timeline {
        Timeline {
            epoch,
            window: OnceLock::new(),
        }
    }

    /// Microseconds from the epoch to `at` (0 for instants before it).
    pub fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_micros()).unwrap_or(u64::MAX)
    }

    /// Fixes the measured window; later calls are ignored (there is one window per run).
    pub fn set_window(&self, start: Instant, end: Instant) {
        let _ = self.window.set((self.micros(start), self.micros(end)));
    }

    /// The window in microseconds since the epoch, once fixed.
    pub fn window(&self) -> Option<(u64, u64)> {
        self.window.get().copied()
    }

    /// Whether a frame sent at `micros` belongs to the window.
    pub fn in_window(&self, micros: u64) -> bool {
        self.window
            .get()
            .is_some_and(|(start, end)| (*start..*end).contains(&micros))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn only_frames_inside_the_window_count() {
        let epoch = Instant::now();
        let t = Timeline::new(epoch);
        assert!(!t.in_window(5), "no window yet");
        t.set_window(
            epoch + Duration::from_millis(10),
            epoch + Duration::from_millis(20),
        );
        t.set_window(epoch, epoch + Duration::from_secs(100));
        assert_eq!(t.window(), Some((10_000, 20_000)), "set once");
        assert!(!t.in_window(9_999));
        assert!(t.in_window(10_000));
        assert!(!t.in_window(20_000));
        assert_eq!(t.micros(epoch + Duration::from_micros(12_345)), 12_345);
    }
}
