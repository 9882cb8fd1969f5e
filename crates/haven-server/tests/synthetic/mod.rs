//! The synthetic media a test peer publishes, and how it counts what it receives: shared by
//! the media transport harness (`media_support`) and the signalling harness
//! (`signal_support`), which differ only in how their peers reach the server.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use str0m::Rtc;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaData, MediaTime, Mid};

/// Publishes an Opus-sized audio frame every 20 ms and a VP8-like video frame every 33 ms
/// once connected, with a keyframe every 30 frames and whenever one is asked for. Its audio
/// carries an RFC 6464 level of -30 dBov, ordinary speech, so it can be the active speaker.
pub struct Publisher {
    audio: Mid,
    video: Mid,
    video_bytes: usize,
    start: Option<Instant>,
    audio_frames: u64,
    video_frames: u64,
    force_keyframe: bool,
}

impl Publisher {
    /// A publisher writing to these two transceivers, with video frames of this size.
    pub fn new(audio: Mid, video: Mid, video_bytes: usize) -> Publisher {
        Publisher {
            audio,
            video,
            video_bytes,
            start: None,
            audio_frames: 0,
            video_frames: 0,
            force_keyframe: false,
        }
    }

    /// The server asked for a keyframe: the next video frame is one.
    pub fn keyframe_requested(&mut self) {
        self.force_keyframe = true;
    }

    /// When the next frame is due (far away until publishing starts).
    pub fn next_frame_due(&self) -> Instant {
        let Some(start) = self.start else {
            return Instant::now() + Duration::from_secs(3600);
        };
        let audio = start + Duration::from_millis(20 * self.audio_frames);
        let video = start + Duration::from_millis(33 * self.video_frames);
        audio.min(video)
    }

    /// Writes one frame if one is due; returns whether it did (then drain first).
    pub fn write_due_frame(&mut self, rtc: &mut Rtc) -> bool {
        if !rtc.is_connected() {
            return false;
        }
        let now = Instant::now();
        let start = *self.start.get_or_insert(now);
        let elapsed = now.duration_since(start).as_millis() as u64;
        if elapsed >= self.audio_frames * 20 {
            let time = MediaTime::new(self.audio_frames * 960, Frequency::FORTY_EIGHT_KHZ);
            write(
                rtc,
                self.audio,
                Codec::Opus,
                now,
                time,
                vec![0xFC; 80],
                Some(SPEECH_DBOV),
            );
            self.audio_frames += 1;
            return true;
        }
        if elapsed >= self.video_frames * 33 {
            // VP8 frame tag: bit 0 clear means keyframe.
            let key = self.force_keyframe || self.video_frames.is_multiple_of(30);
            self.force_keyframe = false;
            let mut frame = vec![0x55; self.video_bytes];
            frame[0] = if key { 0x10 } else { 0x11 };
            let time = MediaTime::new(self.video_frames * 3000, Frequency::NINETY_KHZ);
            write(rtc, self.video, Codec::Vp8, now, time, frame, None);
            self.video_frames += 1;
            return true;
        }
        false
    }
}

/// The audio level of the synthetic speech, in dBov (0 is the loudest).
const SPEECH_DBOV: i8 = -30;

/// Counts a received frame under its publisher's stream id ("p1"…): (audio, video).
pub fn count_frame(rtc: &Rtc, data: &MediaData, frames: &mut HashMap<String, (u64, u64)>) {
    let stream = rtc
        .media(data.mid)
        .map(|m| m.stream_id().to_string())
        .unwrap_or_default();
    let count = frames.entry(stream).or_default();
    if data.params.spec().codec.is_audio() {
        count.0 += 1;
    } else {
        count.1 += 1;
    }
}

/// Writes one frame, if the transceiver can send yet (a renegotiation may be under way; a
/// frame it cannot take is simply not sent, as a browser would drop it).
fn write(
    rtc: &mut Rtc,
    mid: Mid,
    codec: Codec,
    now: Instant,
    time: MediaTime,
    data: Vec<u8>,
    level: Option<i8>,
) {
    let Some(mut writer) = rtc.writer(mid) else {
        return;
    };
    if let Some(level) = level {
        writer = writer.audio_level(level, true);
    }
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
    else {
        return;
    };
    let _ = writer.write(pt, now, time, data);
}
