//! Checks on the video a client received: which simulcast layers, and whether every switch
//! between layers happened at a keyframe.

use std::time::Instant;

use haven_media::ParticipantId;

use super::{Sim, VideoFrame};

/// Layer markers in the harness's frames (see [`super::LAYERS`]).
pub const Q: u8 = 1;
pub const H: u8 = 2;
pub const F: u8 = 3;

/// Video frames `to` received from `from` since `t`: (layer marker, keyframe).
pub fn frames_since(
    sim: &Sim,
    to: ParticipantId,
    from: ParticipantId,
    t: Instant,
) -> Vec<(u8, bool)> {
    sim.client(to)
        .video_log
        .get(&from.to_string())
        .map(|log| {
            log.iter()
                .filter(|f| f.at >= t)
                .map(|f| (f.marker, f.keyframe))
                .collect()
        })
        .unwrap_or_default()
}

/// How many of `frames` are of the layer with this marker.
pub fn count(frames: &[(u8, bool)], marker: u8) -> usize {
    frames.iter().filter(|(m, _)| *m == marker).count()
}

/// The room only ever moves a subscriber to a new layer at a keyframe of it: in the order
/// the server sent them (media time; the receiver may release a late retransmitted frame
/// after a newer keyframe), once pictures have started, every frame whose layer differs
/// from the frame just before it is a keyframe, unless the network lost that keyframe for
/// good: then the receiver sees a gap in the RTP sequence numbers between the two frames
/// and waits for the next keyframe. (str0m's own `contiguous` flag is not enough: for VP8
/// it relies on picture ids, which the harness's frames lack.)
///
/// Frames before the first keyframe are not checked: the server starts forwarding once its
/// side of DTLS is up, a moment before the client's is, so the client may miss the start
/// (and then see a retransmission of it) without seeing a gap; a browser shows nothing
/// until a keyframe and asks for one, and the room passes that request on.
pub fn assert_switches_at_keyframes(sim: &Sim, to: ParticipantId, from: ParticipantId) {
    assert_switches_at_keyframes_since(sim, to, from, None);
}

/// As [`assert_switches_at_keyframes`], for the frames received since `since` only.
pub fn assert_switches_at_keyframes_since(
    sim: &Sim,
    to: ParticipantId,
    from: ParticipantId,
    since: Option<Instant>,
) {
    let mut log = sim.client(to).video_log[&from.to_string()].clone();
    log.retain(|f| since.is_none_or(|t| f.at >= t));
    log.sort_by_key(|f| f.time);
    let started = log.iter().position(|f| f.keyframe).unwrap_or(log.len());
    for pair in log[started..].windows(2) {
        let (before, f) = (pair[0], pair[1]);
        let adjacent = f.seq.0 == before.seq.1 + 1;
        if before.marker != f.marker {
            assert!(
                f.keyframe || !f.contiguous || !adjacent,
                "{to} got layer {} from {from} without a keyframe: {f:?}",
                f.marker
            );
        }
    }
}

/// Video frames `to` received from `from` that `from` took after `t`, by media time: frames
/// sent before `t` may still land later (from str0m's pacer queue, or retransmitted), but a
/// frame taken after it was forwarded after it. A few frames of slack absorb the room's and
/// str0m's timestamp handling, which shift media times slightly.
pub fn taken_after(
    sim: &Sim,
    to: ParticipantId,
    from: ParticipantId,
    t: Instant,
) -> Vec<VideoFrame> {
    let newest_then = sim
        .client(from)
        .video_time_at(t)
        .expect("publishing by then");
    sim.client(to)
        .video_log
        .get(&from.to_string())
        .map(|log| {
            log.iter()
                .filter(|f| f.at >= t && f.time.numer() > newest_then + 10 * 3000)
                .copied()
                .collect()
        })
        .unwrap_or_default()
}
