//! One simulated browser: what it publishes and what it received.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use haven_media::ParticipantId;
use str0m::Rtc;
use str0m::format::Codec;
use str0m::media::{Frequency, MediaTime, Mid, Rid};

use super::LAYERS;

/// Clients publish an audio frame this often (Opus, 20 ms) and a video frame this often
/// (about 30 frames a second), in milliseconds.
const AUDIO_INTERVAL_MS: u64 = 20;
const VIDEO_INTERVAL_MS: u64 = 33;

/// One simulated browser.
pub struct Client {
    pub id: ParticipantId,
    pub addr: SocketAddr,
    pub rtc: Rtc,
    /// Whether it is still meant to be in the room (false after `Room::remove`).
    pub in_room: bool,
    /// The mids it publishes on.
    pub audio_mid: Option<Mid>,
    pub video_mid: Option<Mid>,
    /// Frames received, keyed by the stream id the server gave the track (the publisher).
    pub received: HashMap<String, ReceivedCount>,
    /// Arrival times of RTP packets, keyed by the stream id of the track (the publisher).
    pub rtp_arrivals: HashMap<String, Vec<Instant>>,
    /// Which stream each SSRC belongs to, learned from packets that carry the mid extension.
    pub(super) ssrc_stream: HashMap<u32, String>,
    /// Keyframe requests the server sent to this client as a publisher.
    pub keyframe_requests: usize,
    /// Frames written so far, to number them and to stamp media time.
    pub(super) audio_frames: u64,
    pub(super) video_frames: u64,
    /// The server asked for a keyframe: the next video frame is one.
    pub(super) force_keyframe: bool,
    /// Whether it publishes its video as three simulcast layers ([`LAYERS`]).
    pub simulcast: bool,
    /// Keyframes asked for per simulcast layer.
    pub(super) force_layer_keyframe: [bool; 3],
    /// The RFC 6464 level (0 loudest, -127 silence) stamped on its audio, if any.
    pub audio_level: Option<i8>,
    /// Every video frame received, per publisher. The marker is the frame's second byte: 0
    /// for an unlayered stream, 1–3 for [`LAYERS`].
    pub video_log: HashMap<String, Vec<VideoFrame>>,
    /// When it started publishing (first connected tick); frame n is due n intervals later.
    pub(super) publish_start: Option<Instant>,
}

/// What a joining client publishes as video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Camera {
    /// One stream.
    Single,
    /// Three simulcast layers ([`LAYERS`]).
    Simulcast,
    /// Nothing: the camera is off (audio only).
    Off,
}

/// One video frame as a client received it.
#[derive(Debug, Clone, Copy)]
pub struct VideoFrame {
    pub at: Instant,
    /// The media time the server stamped on it, which orders frames as the server sent them.
    pub time: MediaTime,
    /// Which layer: 0 unlayered, 1–3 for [`LAYERS`].
    pub marker: u8,
    pub keyframe: bool,
    /// False when packets before it were lost for good: a decoder knows it must ask for a
    /// keyframe, and shows nothing broken meanwhile.
    pub contiguous: bool,
    /// The RTP sequence numbers (extended) of its first and last packet.
    pub seq: (u64, u64),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedCount {
    pub audio: usize,
    pub video: usize,
}

impl Client {
    /// When the last RTP packet of this publisher's tracks arrived, if any did.
    pub fn last_rtp_from(&self, publisher: ParticipantId) -> Option<Instant> {
        self.rtp_arrivals
            .get(&publisher.to_string())
            .and_then(|v| v.last().copied())
    }

    /// The media time (90 kHz) of the latest video frame this client had published by `t`,
    /// if it had started: frames produced later carry later times.
    pub fn video_time_at(&self, t: Instant) -> Option<u64> {
        let start = self.publish_start.filter(|s| *s <= t)?;
        let n = t.duration_since(start).as_millis() as u64 / VIDEO_INTERVAL_MS;
        Some(n * 3000)
    }

    /// When its next frame of audio or video is due; `None` before it starts publishing.
    pub(super) fn next_media_at(&self) -> Option<Instant> {
        let start = self.publish_start?;
        let audio = self.audio_frames * AUDIO_INTERVAL_MS;
        let video = match self.video_mid {
            Some(_) => self.video_frames * VIDEO_INTERVAL_MS,
            None => u64::MAX,
        };
        Some(start + Duration::from_millis(audio.min(video)))
    }

    /// Frames of each kind received from the publisher with this participant id.
    pub fn from(&self, publisher: ParticipantId) -> ReceivedCount {
        self.received
            .get(&publisher.to_string())
            .copied()
            .unwrap_or_default()
    }
}

impl Client {
    /// Publishes Opus-sized audio every 20 ms and VP8-sized video at about 30 frames a
    /// second, once connected: whatever is due at `now`.
    pub(super) fn publish_due(&mut self, now: Instant) {
        if !self.rtc.is_connected() {
            return;
        }
        let start = *self.publish_start.get_or_insert(now);
        let elapsed = now.duration_since(start).as_millis() as u64;
        if let Some(mid) = self.audio_mid
            && elapsed >= self.audio_frames * AUDIO_INTERVAL_MS
        {
            let time = MediaTime::new(self.audio_frames * 960, Frequency::FORTY_EIGHT_KHZ);
            let opus = vec![0xFC; 80];
            write(
                &mut self.rtc,
                mid,
                Codec::Opus,
                now,
                time,
                opus,
                None,
                self.audio_level,
            );
            self.audio_frames += 1;
        }
        if let Some(mid) = self.video_mid
            && elapsed >= self.video_frames * VIDEO_INTERVAL_MS
        {
            // VP8 frame tag: bit 0 clear means keyframe. The second byte marks the layer.
            let periodic = self.video_frames.is_multiple_of(90);
            let time = MediaTime::new(self.video_frames * 3000, Frequency::NINETY_KHZ);
            if self.simulcast {
                for (i, (rid, size)) in LAYERS.iter().enumerate() {
                    let key = self.force_layer_keyframe[i] || periodic;
                    self.force_layer_keyframe[i] = false;
                    let mut frame = vec![0x55; *size];
                    frame[0] = if key { 0x10 } else { 0x11 };
                    frame[1] = i as u8 + 1;
                    let rid = Some(Rid::from(*rid));
                    write(&mut self.rtc, mid, Codec::Vp8, now, time, frame, rid, None);
                }
            } else {
                let key = self.force_keyframe || periodic;
                self.force_keyframe = false;
                let mut frame = vec![0x55; 2500];
                frame[0] = if key { 0x10 } else { 0x11 };
                frame[1] = 0;
                write(&mut self.rtc, mid, Codec::Vp8, now, time, frame, None, None);
            }
            self.video_frames += 1;
        }
    }
}

/// Writes one frame on `mid` with the client's payload type for `codec`, on a simulcast
/// layer and with an audio level if given.
#[allow(clippy::too_many_arguments)]
fn write(
    rtc: &mut Rtc,
    mid: Mid,
    codec: Codec,
    now: Instant,
    time: MediaTime,
    data: Vec<u8>,
    rid: Option<Rid>,
    level: Option<i8>,
) {
    let Some(mut writer) = rtc.writer(mid) else {
        return;
    };
    if let Some(rid) = rid {
        writer = writer.rid(rid);
    }
    if let Some(level) = level {
        writer = writer.audio_level(level, level > -127);
    }
    let Some(pt) = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
    else {
        return;
    };
    writer
        .write(pt, now, time, data)
        .expect("a client can write its own media");
}
