//! The stamp every synthetic frame carries, so that a receiver can tell which publisher
//! sent it, which frame it was and when, without any side channel.
//!
//! Haven forwards whole frames (it depacketizes and packetizes again), so a stamp inside
//! the frame survives the server while RTP sequence numbers and packet boundaries do not.
//! Byte 0 stays the codec's own first byte (the VP8 frame tag, whose lowest bit marks a
//! keyframe, or the Opus TOC byte); the stamp follows it.

/// Marks a frame as one of ours: anything else that arrives is counted as malformed.
const MAGIC: u8 = 0xA7;

/// Bytes a frame needs to carry a stamp: the codec byte and the stamp itself.
pub const MIN_FRAME: usize = 1 + STAMP_LEN;

/// magic (1), layer (1), publisher (4), sequence number (4), send time (8).
const STAMP_LEN: usize = 18;

/// What a frame says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The publishing peer's index in this run.
    pub publisher: u32,
    /// 0 for audio and single-stream video; 1–3 for simulcast layers, lowest first.
    pub layer: u8,
    /// The frame's number in its track, from 0. All layers of one picture share it.
    pub seq: u32,
    /// When it was handed to the publisher's str0m, in microseconds since the run's epoch.
    pub sent_us: u64,
}

impl Stamp {
    /// Writes the stamp after the codec byte; false if the frame is too short to hold it.
    pub fn write(&self, frame: &mut [u8]) -> bool {
        let Some(out) = frame.get_mut(1..MIN_FRAME) else {
            return false;
        };
        out[0] = MAGIC;
        out[1] = self.layer;
        out[2..6].copy_from_slice(&self.publisher.to_be_bytes());
        out[6..10].copy_from_slice(&self.seq.to_be_bytes());
        out[10..18].copy_from_slice(&self.sent_us.to_be_bytes());
        true
    }

    /// Reads the stamp of a received frame; `None` for a frame that is not ours or is cut
    /// short (the receiver counts those rather than trusting them).
    pub fn read(frame: &[u8]) -> Option<Stamp> {
        let s = frame.get(1..MIN_FRAME)?;
        if s[0] != MAGIC {
            return None;
        }
        Some(Stamp {
            layer: s[1],
            publisher: u32::from_be_bytes(s[2..6].try_into().ok()?),
            seq: u32::from_be_bytes(s[6..10].try_into().ok()?),
            sent_us: u64::from_be_bytes(s[10..18].try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_survives_a_round_trip_and_keeps_the_codec_byte() {
        let stamp = Stamp {
            publisher: 7,
            layer: 3,
            seq: 123_456,
            sent_us: 9_876_543_210,
        };
        let mut frame = vec![0x11; 100];
        assert!(stamp.write(&mut frame));
        assert_eq!(frame[0], 0x11);
        assert_eq!(Stamp::read(&frame), Some(stamp));
    }

    #[test]
    fn short_or_foreign_frames_are_refused() {
        let mut short = vec![0u8; MIN_FRAME - 1];
        let stamp = Stamp {
            publisher: 1,
            layer: 0,
            seq: 1,
            sent_us: 1,
        };
        assert!(!stamp.write(&mut short));
        assert_eq!(Stamp::read(&short), None);
        assert_eq!(Stamp::read(&[0x10; 64]), None);
    }
}
