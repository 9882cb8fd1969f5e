//! What a subscriber receives of one forwarded track must look like one continuous RTP
//! stream, whichever of the publisher's streams (simulcast layers) it comes from and however
//! often forwarding paused: its decoder and jitter buffer key on sequence numbers,
//! timestamps and, for VP8, picture ids. The room forwards RTP packets as they arrive, so
//! at every start (a layer switch, a resume) it maps the new stream on to where the last
//! packet it sent left off.

use std::time::Instant;

use str0m::rtp::{SeqNo, Vp8Patch};

use crate::forward::Packet;

/// VP8 picture ids are 15 bits (or 7, in a short descriptor).
const PICTURE_ID_MASK: u16 = 0x7fff;
/// The mask of a 7-bit picture id.
const SHORT_PICTURE_ID_MASK: u16 = 0x7f;

/// A packet's numbers as the subscriber sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// Extended sequence number. Starts below 2^16: the subscriber's SRTP context starts
    /// at rollover count 0, whatever the publisher's count.
    pub seq: SeqNo,
    /// RTP timestamp.
    pub time: u32,
    /// VP8 picture id and TL0PICIDX, where the packet has them.
    pub picture_id: Option<u16>,
    pub tl0: Option<u8>,
    /// The bytes to change in the VP8 payload descriptor for those, when they change.
    pub vp8: Option<Vp8Patch>,
}

/// The mapping from one incoming stream on to the outgoing one, set at a start.
#[derive(Debug, Clone, Copy)]
struct Base {
    /// The first forwarded packet's sequence number, in and out.
    seq_in: u64,
    seq_out: u64,
    /// Added to timestamps, VP8 picture ids and TL0PICIDX (wrapping).
    time: u32,
    picture_id: u16,
    tl0: u8,
}

/// The newest packet sent, where the next start continues from.
#[derive(Debug, Clone, Copy)]
struct Last {
    seq: u64,
    /// Whether it ended a picture (the RTP marker bit).
    marker: bool,
    time: u32,
    arrival: Instant,
    picture_id: Option<u16>,
    tl0: Option<u8>,
}

/// Rewrites one forwarded track's packets for one subscriber.
#[derive(Debug, Default)]
pub(crate) struct Rewriter {
    /// The current mapping; `None` while nothing is forwarded.
    base: Option<Base>,
    /// The newest packet written so far.
    last: Option<Last>,
}

impl Rewriter {
    /// Starts forwarding a stream at `p`, the first packet of a keyframe (or any audio
    /// packet): it continues one sequence number after the last packet written, and as much
    /// later in media time as it arrived later.
    pub fn start(&mut self, p: &Packet) {
        let Some(last) = self.last else {
            self.base = Some(Base {
                seq_in: p.seq,
                seq_out: p.seq & 0xffff,
                time: 0,
                picture_id: 0,
                tl0: 0,
            });
            return;
        };
        let elapsed = p.arrival.saturating_duration_since(last.arrival);
        let ticks = elapsed.as_micros() * u128::from(p.clock_rate) / 1_000_000;
        let time_out = last
            .time
            .wrapping_add(u32::try_from(ticks).unwrap_or(u32::MAX).max(1));
        let picture_id = match (last.picture_id, p.picture_id()) {
            (Some(out), Some(now)) => out.wrapping_add(1).wrapping_sub(now) & PICTURE_ID_MASK,
            _ => 0,
        };
        let tl0 = match (last.tl0, p.tl0()) {
            (Some(out), Some(now)) => out.wrapping_add(1).wrapping_sub(now),
            _ => 0,
        };
        self.base = Some(Base {
            seq_in: p.seq,
            seq_out: last.seq.saturating_add(1),
            time: time_out.wrapping_sub(p.time),
            picture_id,
            tl0,
        });
    }

    /// Stops forwarding until the next [`start`](Self::start).
    pub fn stop(&mut self) {
        self.base = None;
    }

    /// Whether a stream is being forwarded.
    pub fn is_started(&self) -> bool {
        self.base.is_some()
    }

    /// Whether the next packet would begin a picture: nothing is being forwarded, or the
    /// newest packet written ended one. Stopping anywhere else would leave the subscriber
    /// half a picture.
    pub fn between_pictures(&self) -> bool {
        self.base.is_none() || self.last.is_none_or(|l| l.marker)
    }

    /// The packet as the subscriber sees it; `None` for one from before the start, which
    /// would take a sequence number already used.
    pub fn rewrite(&mut self, p: &Packet) -> Option<Rewritten> {
        let base = self.base?;
        let seq = base.seq_out.saturating_add(p.seq.checked_sub(base.seq_in)?);
        let time = p.time.wrapping_add(base.time);
        let picture_id = p
            .picture_id()
            .map(|id| id.wrapping_add(base.picture_id) & PICTURE_ID_MASK);
        let tl0 = p.tl0().map(|t| t.wrapping_add(base.tl0));
        let vp8 = (base.picture_id != 0 || base.tl0 != 0)
            .then(|| vp8_patch(p, picture_id, tl0))
            .flatten();
        if self.last.is_none_or(|l| seq > l.seq) {
            self.last = Some(Last {
                seq,
                marker: p.marker,
                time,
                arrival: p.arrival,
                picture_id,
                tl0,
            });
        }
        Some(Rewritten {
            seq: seq.into(),
            time,
            picture_id,
            tl0,
            vp8,
        })
    }
}

/// The bytes to write into a VP8 payload descriptor; a short (7-bit) picture id keeps its
/// width and wraps sooner.
fn vp8_patch(p: &Packet, picture_id: Option<u16>, tl0: Option<u8>) -> Option<Vp8Patch> {
    let descriptor = p.vp8?;
    let build = |id: Option<u16>| {
        let mut patch = descriptor.patch();
        if let Some(id) = id {
            patch = patch.picture_id(id);
        }
        if let Some(tl0) = tl0 {
            patch = patch.tl0_pic_idx(tl0);
        }
        patch.build()
    };
    build(picture_id)
        .or_else(|_| build(picture_id.map(|id| id & SHORT_PICTURE_ID_MASK)))
        .ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// A VP8 packet with a 15-bit picture id and a TL0PICIDX.
    fn vp8(seq: u64, time: u32, arrival: Instant, picture_id: u16, tl0: u8) -> Packet {
        let payload: Arc<[u8]> = Arc::from(vec![
            0x90,
            0xe0,
            0x80 | (picture_id >> 8) as u8,
            picture_id as u8,
            tl0,
            0x00,
            0x00,
        ]);
        Packet::test(seq, time, arrival, payload)
    }

    /// The picture id and TL0PICIDX the subscriber receives, and whether bytes change.
    fn sent_vp8(r: &Rewritten) -> (u16, u8, bool) {
        (
            r.picture_id.expect("id"),
            r.tl0.expect("tl0"),
            r.vp8.is_some(),
        )
    }

    #[test]
    fn a_new_stream_continues_where_the_last_left_off() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut r = Rewriter::default();
        assert_eq!(
            r.rewrite(&vp8(70_000, 1000, ms(0), 10, 3)),
            None,
            "not started"
        );

        // The first stream keeps its numbers, with the sequence number's rollover dropped.
        let first = vp8(70_000, 1000, ms(0), 10, 3);
        r.start(&first);
        let a = r.rewrite(&first).expect("forwarded");
        assert_eq!((*a.seq, a.time), (70_000 & 0xffff, 1000));
        assert_eq!(sent_vp8(&a), (10, 3, false));
        let b = r
            .rewrite(&vp8(70_001, 4000, ms(33), 11, 4))
            .expect("forwarded");
        assert_eq!((*b.seq, b.time), ((70_000 & 0xffff) + 1, 4000));

        // Another layer, 10 ms later, with its own numbers: one on from the last packet.
        let other = vp8(500, 90_000, ms(43), 30_000, 200);
        r.start(&other);
        let c = r.rewrite(&other).expect("forwarded");
        assert_eq!(*c.seq, *b.seq + 1);
        assert_eq!(c.time, 4000 + 900, "10 ms of a 90 kHz clock later");
        assert_eq!(sent_vp8(&c), (12, 5, true));
        let d = r
            .rewrite(&vp8(501, 93_000, ms(76), 30_001, 201))
            .expect("forwarded");
        assert_eq!((*d.seq, d.time), (*c.seq + 1, 7900));

        // A retransmission from before the start would reuse a number: dropped.
        assert_eq!(r.rewrite(&vp8(499, 87_000, ms(80), 29_999, 199)), None);
        // One after it fills its gap at the same offset, and moves nothing on.
        let late = vp8(503, 96_000, ms(110), 30_002, 202);
        let e = r.rewrite(&late).expect("forwarded");
        let filler = r
            .rewrite(&vp8(502, 93_000, ms(120), 30_001, 201))
            .expect("forwarded");
        assert_eq!((*filler.seq, *e.seq), (*d.seq + 1, *d.seq + 2));

        assert!(!r.between_pictures(), "in the middle of a picture");
        let mut end = vp8(504, 96_000, ms(111), 30_002, 202);
        end.marker = true;
        r.rewrite(&end).expect("forwarded");
        assert!(r.between_pictures(), "after its last packet");

        r.stop();
        assert!(!r.is_started());
        assert!(r.between_pictures());
        assert_eq!(r.rewrite(&vp8(505, 99_000, ms(140), 30_003, 203)), None);
    }

    #[test]
    fn numbers_wrap_where_the_fields_do() {
        let t0 = Instant::now();
        let mut r = Rewriter::default();
        let first = vp8(10, u32::MAX - 10, t0, 0x7fff, 255);
        r.start(&first);
        r.rewrite(&first).expect("forwarded");
        let next = vp8(900, 5, t0 + Duration::from_millis(1), 100, 7);
        r.start(&next);
        let out = r.rewrite(&next).expect("forwarded");
        assert_eq!(out.time, (u32::MAX - 10).wrapping_add(90));
        assert_eq!(sent_vp8(&out), (0, 0, true));
    }
}
