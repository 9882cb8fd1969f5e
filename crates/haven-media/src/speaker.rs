//! The active speaker: whoever has been loudest lately, from the RFC 6464 audio level each
//! publisher's audio packets carry, smoothed, and held for a minimum time so the highlight
//! does not jump at every cough.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::{MediaKind, ParticipantId, Room, RoomEvent, RoomOutput};

/// Levels are kept in sixteenths of a decibel so integer smoothing keeps precision.
const SCALE: u32 = 16;

/// A challenger must be this much louder (dB) than a current speaker who is still talking.
const MARGIN_DB: u32 = 3;

/// How loud each publisher has been, and who has the floor.
#[derive(Debug, Default)]
pub(crate) struct Speakers {
    /// Per publisher: loudness this round and smoothed over rounds.
    levels: BTreeMap<ParticipantId, Loudness>,
    /// The active speaker and since when.
    current: Option<(ParticipantId, Instant)>,
    /// When the last round closed.
    last_round: Option<Instant>,
}

#[derive(Debug, Default)]
struct Loudness {
    /// Sum of loudness (dB above silence, 0–127) of this round's audio frames.
    sum: u32,
    /// Audio frames this round.
    frames: u32,
    /// Smoothed loudness, in sixteenths of a dB above silence.
    smoothed: u32,
}

impl Speakers {
    /// Counts one audio frame. `level` is str0m's value of the header extension: 0 is the
    /// loudest, -127 silence; a frame without it counts as silence.
    pub fn record(&mut self, publisher: ParticipantId, level: Option<i8>) {
        let loudness = level.map_or(0, |l| 127 - u32::from(l.unsigned_abs()).min(127));
        let entry = self.levels.entry(publisher).or_default();
        entry.sum = entry.sum.saturating_add(loudness);
        entry.frames = entry.frames.saturating_add(1);
    }

    /// Forgets a participant who left.
    pub fn forget(&mut self, id: ParticipantId) {
        self.levels.remove(&id);
        if self.current.is_some_and(|(c, _)| c == id) {
            self.current = None;
        }
    }

    /// Closes a round, if one lasted `interval`; returns the new active speaker if it
    /// changed. The room also evaluates at once after joins and preference changes, and a
    /// round closed then would hold few frames or none and pull everyone's level down.
    fn round(
        &mut self,
        now: Instant,
        interval: Duration,
        threshold_dbov: u8,
        hold: Duration,
        muted: impl Fn(ParticipantId) -> bool,
    ) -> Option<ParticipantId> {
        if self
            .last_round
            .is_some_and(|t| now.saturating_duration_since(t) < interval)
        {
            return None;
        }
        self.last_round = Some(now);
        for l in self.levels.values_mut() {
            let average = l.sum.checked_div(l.frames).unwrap_or(0);
            // An exponential average over about four rounds (one second at the default
            // interval): long enough to ride over the gaps between words.
            l.smoothed = (l.smoothed * 3 + average * SCALE) / 4;
            l.sum = 0;
            l.frames = 0;
        }
        let floor = (127 - u32::from(threshold_dbov.min(127))) * SCALE;
        let loudest = self
            .levels
            .iter()
            .filter(|(id, l)| l.smoothed >= floor && !muted(**id))
            .max_by_key(|(id, l)| (l.smoothed, std::cmp::Reverse(**id)))
            .map(|(id, l)| (*id, l.smoothed));
        let (challenger, level) = loudest?;
        match self.current {
            Some((c, _)) if c == challenger => return None,
            Some((c, since)) => {
                let held = now.saturating_duration_since(since) >= hold;
                let current = self.levels.get(&c).map_or(0, |l| l.smoothed);
                let still_talking = current >= floor && !muted(c);
                if !held || (still_talking && level < current + MARGIN_DB * SCALE) {
                    return None;
                }
            }
            None => {}
        }
        self.current = Some((challenger, now));
        Some(challenger)
    }

    /// The active speaker, if anyone has spoken.
    pub fn current(&self) -> Option<ParticipantId> {
        self.current.map(|(id, _)| id)
    }
}

impl Room {
    /// Closes a round of speaker detection and reports a change.
    pub(crate) fn evaluate_speaker(&mut self, now: Instant) {
        let participants = &self.participants;
        let muted = |id: ParticipantId| {
            participants
                .get(&id)
                .is_none_or(|p| p.is_muted(MediaKind::Audio))
        };
        let changed = self.speakers.round(
            now,
            self.policy.evaluation_interval,
            self.policy.speaker_threshold_dbov,
            self.policy.speaker_hold,
            muted,
        );
        if let Some(participant) = changed {
            self.outputs
                .push_back(RoomOutput::Event(RoomEvent::ActiveSpeaker { participant }));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const HOLD: Duration = Duration::from_secs(1);
    const ROUND: Duration = Duration::from_millis(250);

    fn talk(s: &mut Speakers, levels: &[(u64, i8)]) {
        for _ in 0..12 {
            for (id, level) in levels {
                s.record(ParticipantId::new(*id), Some(*level));
            }
        }
    }

    #[test]
    fn the_loudest_takes_the_floor_after_the_hold_and_silence_never_does() {
        let mut s = Speakers::default();
        let mut now = Instant::now();
        let nobody_muted = |_| false;
        let (a, b) = (ParticipantId::new(1), ParticipantId::new(2));

        talk(&mut s, &[(1, -127), (2, -127)]);
        assert_eq!(s.round(now, ROUND, 70, HOLD, nobody_muted), None, "silence");

        let mut changes = Vec::new();
        for _ in 0..4 {
            now += ROUND;
            talk(&mut s, &[(1, -30), (2, -90)]);
            changes.extend(s.round(now, ROUND, 70, HOLD, nobody_muted));
        }
        assert_eq!(changes, vec![a]);

        // b becomes louder at once, but a keeps the floor for the hold time.
        let b_from = now;
        let mut b_at = None;
        for _ in 0..12 {
            now += ROUND;
            talk(&mut s, &[(1, -100), (2, -20)]);
            if let Some(x) = s.round(now, ROUND, 70, HOLD, nobody_muted) {
                assert_eq!(x, b);
                b_at.get_or_insert(now);
            }
        }
        let b_at = b_at.expect("b took the floor");
        assert!(b_at - b_from >= ROUND * 2, "not on the first loud round");
        assert_eq!(s.current(), Some(b));

        // A muted participant never becomes the speaker.
        for _ in 0..12 {
            now += ROUND;
            talk(&mut s, &[(1, 0), (2, -127)]);
            assert_eq!(s.round(now, ROUND, 70, HOLD, |id| id == a), None);
        }
        s.forget(b);
        assert_eq!(s.current(), None);
    }

    #[test]
    fn rounds_closed_early_are_not_counted() {
        let mut s = Speakers::default();
        let mut now = Instant::now();
        let mut changes = Vec::new();
        for _ in 0..8 {
            now += ROUND;
            talk(&mut s, &[(1, -30)]);
            changes.extend(s.round(now, ROUND, 70, HOLD, |_| false));
            // Evaluations right after, with no frames: a join, a preference change.
            for _ in 0..5 {
                changes.extend(s.round(now, ROUND, 70, HOLD, |_| false));
            }
        }
        assert_eq!(changes, vec![ParticipantId::new(1)]);
    }
}
