//! The synthetic media one peer publishes: Opus-sized audio frames every 20 ms and
//! VP8-sized video frames at a fixed frame rate, optionally as three simulcast layers,
//! each stamped ([`crate::stamp`]) so that receivers can count loss and delay.
//!
//! Frames are handed to str0m in frame mode, as a browser's encoder hands them to its
//! packetizer: str0m splits video frames into RTP packets of at most about 1,150 bytes,
//! and Haven, which also works on whole frames, depacketizes and packetizes them again.

use std::time::{Duration, Instant};

use str0m::Rtc;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid, Rid};

use crate::stamp::{MIN_FRAME, Stamp};
use crate::timeline::{Kind, Timeline};

/// Audio frames are 20 ms, as browsers send Opus.
const AUDIO_INTERVAL: Duration = Duration::from_millis(20);

/// Simulcast layers, lowest first, with their share of the full bitrate as (numerator,
/// denominator): a quarter and a half of the top layer's width and height, which costs
/// roughly 1/16 and 1/4 of its bits.
pub const LAYERS: [(&str, u64, u64); 3] = [("q", 1, 16), ("h", 1, 4), ("f", 1, 1)];

/// What every peer publishes.
#[derive(Debug, Clone)]
pub struct MediaPlan {
    /// Bytes per 20 ms audio frame; 0 publishes no audio.
    pub audio_bytes: usize,
    /// Bytes per frame of the top (or only) video layer; 0 publishes no video.
    pub video_bytes: usize,
    /// Time between video frames.
    pub video_interval: Duration,
    /// Video frames per second, for media time.
    pub fps: u32,
    /// Publish the video as the three [`LAYERS`].
    pub simulcast: bool,
    /// A keyframe at least this often, besides those asked for.
    pub keyframe_interval: Duration,
}

impl MediaPlan {
    /// The plan for these bitrates (kbit/s of payload) and frame rate.
    pub fn new(
        audio_kbps: u32,
        video_kbps: u32,
        fps: u32,
        simulcast: bool,
        keyframe_interval: Duration,
    ) -> MediaPlan {
        let fps = fps.max(1);
        let per_frame = |kbps: u32, per_second: u64| {
            let bytes = u64::from(kbps) * 1000 / 8 / per_second;
            // Every frame must hold its stamp; a bitrate of 0 means none at all.
            if kbps == 0 {
                0
            } else {
                usize::try_from(bytes).unwrap_or(usize::MAX).max(MIN_FRAME)
            }
        };
        MediaPlan {
            audio_bytes: per_frame(audio_kbps, 50),
            video_bytes: per_frame(video_kbps, u64::from(fps)),
            video_interval: Duration::from_secs(1) / fps,
            fps,
            simulcast,
            keyframe_interval,
        }
    }

    /// The plan of a participant that publishes audio only.
    pub fn for_peer(&self, video: bool) -> MediaPlan {
        let mut plan = self.clone();
        if !video {
            plan.video_bytes = 0;
        }
        plan
    }

    /// Bytes of layer `i` of a picture.
    fn layer_bytes(&self, i: usize) -> usize {
        let (_, num, den) = LAYERS[i];
        let bytes = self.video_bytes as u64 * num / den;
        usize::try_from(bytes).unwrap_or(usize::MAX).max(MIN_FRAME)
    }
}

/// What a publisher did, for the report.
#[derive(Debug, Default, Clone)]
pub struct Published {
    /// Frames (audio) and pictures (video) sent inside the measured window.
    pub in_window: [u64; 2],
    /// Frames str0m would not take (no writer yet, or an error).
    pub not_written: u64,
    /// Frames written more than one interval after they were due: the load generator
    /// itself was behind.
    pub late: u64,
    /// Keyframes the server asked for.
    pub keyframe_requests: u64,
}

pub struct Publisher {
    plan: MediaPlan,
    index: u32,
    audio: Mid,
    video: Mid,
    /// When publishing started (the peer connected); frame n is due n intervals later.
    start: Option<Instant>,
    audio_frames: u32,
    video_frames: u32,
    /// Keyframes wanted per layer (index 0 for a single stream).
    force_keyframe: [bool; 3],
    last_keyframe: Option<Instant>,
    pub done: Published,
}

impl Publisher {
    pub fn new(plan: MediaPlan, index: u32, audio: Mid, video: Mid) -> Publisher {
        Publisher {
            plan,
            index,
            audio,
            video,
            start: None,
            audio_frames: 0,
            video_frames: 0,
            force_keyframe: [false; 3],
            last_keyframe: None,
            done: Published::default(),
        }
    }

    /// The server asked for a keyframe of one layer (or of the only stream).
    pub fn keyframe_requested(&mut self, rid: Option<Rid>) {
        self.done.keyframe_requests += 1;
        let layer = rid.and_then(|r| LAYERS.iter().position(|(l, _, _)| Rid::from(*l) == r));
        self.force_keyframe[layer.unwrap_or(0)] = true;
    }

    fn audio_due(&self, start: Instant) -> Option<Instant> {
        (self.plan.audio_bytes > 0).then(|| start + AUDIO_INTERVAL * self.audio_frames)
    }

    fn video_due(&self, start: Instant) -> Option<Instant> {
        (self.plan.video_bytes > 0).then(|| start + self.plan.video_interval * self.video_frames)
    }

    /// When the next frame is due, once publishing has started.
    pub fn next_due(&self) -> Option<Instant> {
        let start = self.start?;
        match (self.audio_due(start), self.video_due(start)) {
            (Some(a), Some(v)) => Some(a.min(v)),
            (a, v) => a.or(v),
        }
    }

    /// Writes the earliest frame that is due, if any; returns whether it wrote (the
    /// caller then drains str0m before writing more). Publishing starts on the first call
    /// once the peer is connected.
    pub fn write_due(&mut self, rtc: &mut Rtc, now: Instant, timeline: &Timeline) -> bool {
        if !rtc.is_connected() {
            return false;
        }
        let start = *self.start.get_or_insert(now);
        let audio = self.audio_due(start).filter(|t| *t <= now);
        let video = self.video_due(start).filter(|t| *t <= now);
        match (audio, video) {
            (Some(a), v) if v.is_none_or(|v| a <= v) => {
                self.write_audio(rtc, now, a, timeline);
                true
            }
            (_, Some(v)) => {
                self.write_video(rtc, now, v, timeline);
                true
            }
            _ => false,
        }
    }

    fn write_audio(&mut self, rtc: &mut Rtc, now: Instant, due: Instant, timeline: &Timeline) {
        let seq = self.audio_frames;
        self.audio_frames = self.audio_frames.wrapping_add(1);
        self.note_lateness(now, due, AUDIO_INTERVAL);
        let sent_us = timeline.micros(now);
        let mut frame = vec![0xFC; self.plan.audio_bytes];
        self.stamp(&mut frame, 0, seq, sent_us);
        let time = MediaTime::new(u64::from(seq) * 960, Frequency::FORTY_EIGHT_KHZ);
        if write(rtc, self.audio, None, Codec::Opus, now, time, frame) {
            if timeline.in_window(sent_us) {
                self.done.in_window[Kind::Audio as usize] += 1;
            }
        } else {
            self.done.not_written += 1;
        }
    }

    fn write_video(&mut self, rtc: &mut Rtc, now: Instant, due: Instant, timeline: &Timeline) {
        let seq = self.video_frames;
        self.video_frames = self.video_frames.wrapping_add(1);
        self.note_lateness(now, due, self.plan.video_interval);
        let sent_us = timeline.micros(now);
        let periodic = self
            .last_keyframe
            .is_none_or(|t| now.saturating_duration_since(t) >= self.plan.keyframe_interval);
        if periodic {
            self.last_keyframe = Some(now);
        }
        let ticks = u64::from(seq) * 90_000 / u64::from(self.plan.fps);
        let time = MediaTime::new(ticks, Frequency::NINETY_KHZ);
        let mut all_written = true;
        let layers: Vec<(Option<Rid>, usize, u8)> = if self.plan.simulcast {
            (0..LAYERS.len())
                .map(|i| (Some(Rid::from(LAYERS[i].0)), i, i as u8 + 1))
                .collect()
        } else {
            vec![(None, 0, 0)]
        };
        for (rid, slot, marker) in layers {
            let key = periodic || self.force_keyframe[slot];
            self.force_keyframe[slot] = false;
            let bytes = if self.plan.simulcast {
                self.plan.layer_bytes(slot)
            } else {
                self.plan.video_bytes
            };
            let mut frame = vec![0x55; bytes];
            // VP8 frame tag: bit 0 clear marks a keyframe.
            frame[0] = if key { 0x10 } else { 0x11 };
            self.stamp(&mut frame, marker, seq, sent_us);
            all_written &= write(rtc, self.video, rid, Codec::Vp8, now, time, frame);
        }
        if !all_written {
            self.done.not_written += 1;
        } else if timeline.in_window(sent_us) {
            self.done.in_window[Kind::Video as usize] += 1;
        }
    }

    fn stamp(&self, frame: &mut [u8], layer: u8, seq: u32, sent_us: u64) {
        let stamp = Stamp {
            publisher: self.index,
            layer,
            seq,
            sent_us,
        };
        // Frames are at least MIN_FRAME long (MediaPlan::new), so this cannot fail.
        let fits = stamp.write(frame);
        debug_assert!(fits, "frames are sized to hold a stamp");
    }

    fn note_lateness(&mut self, now: Instant, due: Instant, interval: Duration) {
        if now.saturating_duration_since(due) > interval {
            self.done.late += 1;
        }
    }
}

/// Writes one frame with the negotiated payload type for `codec`; false if str0m cannot
/// take it now (the transceiver is not ready, e.g. during a renegotiation).
fn write(
    rtc: &mut Rtc,
    mid: Mid,
    rid: Option<Rid>,
    codec: Codec,
    now: Instant,
    time: MediaTime,
    data: Vec<u8>,
) -> bool {
    let Some(mut writer) = rtc.writer(mid) else {
        return false;
    };
    if let Some(rid) = rid {
        writer = writer.rid(rid);
    }
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
    else {
        return false;
    };
    writer.write(pt, now, time, data).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes_follow_the_bitrates() {
        let plan = MediaPlan::new(32, 1500, 30, true, Duration::from_secs(3));
        assert_eq!(plan.audio_bytes, 80);
        assert_eq!(plan.video_bytes, 6250);
        assert_eq!(plan.layer_bytes(0), 390);
        assert_eq!(plan.layer_bytes(1), 1562);
        assert_eq!(plan.layer_bytes(2), 6250);
        let tiny = MediaPlan::new(1, 0, 30, false, Duration::from_secs(3));
        assert_eq!(tiny.audio_bytes, MIN_FRAME);
        assert_eq!(tiny.video_bytes, 0);
    }
}
