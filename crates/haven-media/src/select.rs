//! The room's periodic decisions for each subscriber: audio-only or not, which simulcast
//! layer of each publisher's video, and what bandwidth to probe for.
//!
//! Runs every [`MediaPolicy::evaluation_interval`] and right after anything that changes the
//! answer (a track opens, a preference or mute changes).

use std::time::{Duration, Instant};

use str0m::media::KeyframeRequestKind;

use crate::forward::{Propagated, TrackRef};
use crate::layers::{Candidate, Layer, allocate, useful_layers};
use crate::participant::Participant;
use crate::{AudioOnlyReason, MediaKind, MediaPolicy, ParticipantId, Room, RoomEvent, RoomOutput};

/// str0m probes for at most twice the desired bitrate it is given and takes a probe's result
/// as its new estimate. Aiming at exactly what the best allocation needs would cap the
/// estimate near that need, where ordinary fluctuation crosses the top layer's threshold
/// every few seconds; aiming this many times higher lets probes prove room to spare.
const AIM_HEADROOM: u64 = 2;

/// The longest wait between two retries of a low estimate while video is off.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// What one forwarded audio track is taken to cost, bits per second (Opus at 32 kbit/s
/// with packet headers), before the rest of the estimate is spent on video.
const AUDIO_COST_BPS: u64 = 50_000;

/// Whether video to a subscriber is off, and why.
#[derive(Debug, Default)]
pub(crate) struct AudioOnlyState {
    /// The subscriber asked for audio only.
    pub requested: bool,
    /// Its downlink estimate fell below the threshold and has not recovered yet.
    pub low_bandwidth: bool,
    /// Since when the estimate has been past the threshold that would change
    /// `low_bandwidth`.
    crossing_since: Option<Instant>,
    /// What the subscriber was last told, so events are sent on changes only.
    reported: Option<AudioOnlyReason>,
}

impl AudioOnlyState {
    /// Why video is off, if it is. The subscriber's own request is the reason to show
    /// when both hold: it is the one the user can undo.
    pub fn reason(&self) -> Option<AudioOnlyReason> {
        if self.requested {
            Some(AudioOnlyReason::Requested)
        } else if self.low_bandwidth {
            Some(AudioOnlyReason::LowBandwidth)
        } else {
            None
        }
    }

    /// Follows the bandwidth estimate, with hysteresis: video stops after the estimate
    /// stays below one threshold for a while, and resumes after it stays above a higher one.
    fn follow_estimate(&mut self, now: Instant, estimate_bps: u64, policy: &MediaPolicy) {
        let below = u64::from(policy.audio_only_below_kbps) * 1000;
        let above = u64::from(policy.video_resumes_above_kbps) * 1000;
        let crossing = if self.low_bandwidth {
            estimate_bps > above
        } else {
            estimate_bps < below
        };
        if !crossing {
            self.crossing_since = None;
            return;
        }
        let since = *self.crossing_since.get_or_insert(now);
        if now.saturating_duration_since(since) >= policy.bandwidth_hold {
            self.low_bandwidth = !self.low_bandwidth;
            self.crossing_since = None;
        }
    }

    /// The event to send if the reason changed since the last one.
    fn change(&mut self, participant: ParticipantId) -> Option<RoomEvent> {
        let now = self.reason();
        if now == self.reported {
            return None;
        }
        self.reported = now;
        Some(match now {
            Some(reason) => RoomEvent::AudioOnly {
                participant,
                reason,
            },
            None => RoomEvent::VideoResumed { participant },
        })
    }
}

/// Restarts of a subscriber's bandwidth estimate while video to it is off for low
/// bandwidth, or held below a layer it could use.
///
/// str0m's estimate of a link with random loss can stay where it fell long after the link
/// recovered: its loss-based controller does not raise an estimate while the loss it sees
/// exceeds what it attributes to the link, and does not probe meanwhile. At a few tens of
/// kbit/s (sound only) that can last indefinitely; with a lower simulcast layer flowing,
/// for half a minute and more (5% random loss, a link back to 5 Mbit/s: in 12 of 200 runs
/// of the narrowing-link test the top layer had not come back within 30 s). Started over,
/// str0m probes at once: on a link that recovered, the probes prove it; on one that did
/// not, the estimate falls back within a round trip or two, well inside `bandwidth_hold`.
#[derive(Debug, Default)]
pub(crate) struct EstimateRetry {
    /// When to restart next, and the wait that led there; `None` while video flows.
    next: Option<(Instant, Duration)>,
}

impl EstimateRetry {
    /// Whether to restart the estimate now. `held_back` says video to the subscriber is off
    /// for low bandwidth. The first restart comes `bandwidth_retry` after that began, then
    /// the waits double, up to a minute.
    fn due(&mut self, now: Instant, held_back: bool, policy: &MediaPolicy) -> bool {
        if !held_back {
            self.next = None;
            return false;
        }
        let first = (now + policy.bandwidth_retry, policy.bandwidth_retry);
        let (at, wait) = *self.next.get_or_insert(first);
        if now < at {
            return false;
        }
        let wait = (wait * 2).min(MAX_RETRY_WAIT);
        self.next = Some((now + wait, wait));
        true
    }
}

/// A published video as every subscriber sees it this round.
struct PublishedVideo {
    /// Which track.
    track: TrackRef,
    /// Nobody is to see it: the publisher muted it, or is kept apart.
    hidden: bool,
    /// How many layers the publisher declared.
    declared: usize,
    /// The layers arriving now, lowest first, with their bitrates.
    active: Vec<(Layer, u64)>,
}

impl Room {
    /// Revisits every subscriber's audio-only state, layers and bandwidth probing.
    pub(crate) fn evaluate(&mut self, now: Instant) {
        let apart = &self.apart;
        let videos: Vec<PublishedVideo> = self
            .participants
            .iter()
            .flat_map(|(id, p)| {
                let hidden = p.is_muted(MediaKind::Video) || apart.contains(id);
                p.tracks_in
                    .iter()
                    .filter(|t| t.kind == MediaKind::Video)
                    .map(move |t| PublishedVideo {
                        track: TrackRef {
                            origin: *id,
                            mid: t.mid,
                        },
                        hidden,
                        declared: t.layers.len(),
                        active: t
                            .layers
                            .iter()
                            .filter_map(|l| match (l.meter.layer, l.meter.rate(now)) {
                                (layer, Some(bps)) => Some((layer, bps)),
                                // A single stream is wanted before it arrives, so the
                                // keyframe request is waiting when its first packet does.
                                (None, None) => Some((None, 0)),
                                (Some(_), None) => None,
                            })
                            .collect(),
                    })
            })
            .collect();
        let policy = self.policy.clone();
        let ids: Vec<ParticipantId> = self.participants.keys().copied().collect();
        for id in ids {
            let apart = self.apart.contains(&id);
            let Some((event, requests)) =
                self.with(id, |p| select(p, now, &videos, &policy, apart))
            else {
                continue;
            };
            if let Some(e) = event {
                self.outputs.push_back(RoomOutput::Event(e));
            }
            self.propagate.extend(requests);
        }
        self.evaluate_speaker(now);
    }
}

/// The desired bitrate to give str0m's estimator for a subscriber that needs `desired`: with
/// headroom, and never below three times the starting estimate. Probes capped below the
/// current estimate would measure less and pull it down (an audio-only subscriber would end
/// up with an estimate of about 100 kbit/s and no way back to video), and the floor lets
/// str0m's first probes run at three and six times the starting estimate, as browsers' do,
/// so the estimate is near the link's capacity within a second of connecting.
pub(crate) fn aim(desired: u64, policy: &MediaPolicy) -> u64 {
    let floor = u64::from(policy.initial_estimate_kbps) * 1000 * 3;
    desired.saturating_mul(AIM_HEADROOM).max(floor)
}

/// One subscriber's round: returns the audio-only event to send, if any, and the keyframe
/// requests its layer switches need.
fn select(
    p: &mut Participant,
    now: Instant,
    videos: &[PublishedVideo],
    policy: &MediaPolicy,
    apart: bool,
) -> (Option<RoomEvent>, Vec<Propagated>) {
    if !p.is_connected() {
        return (None, Vec::new());
    }
    if apart {
        // Nothing is forwarded to someone kept apart: no layers, no probes.
        p.set_bwe_bitrates(0, 0);
        p.receiving_video = false;
        for out in p
            .tracks_out
            .iter_mut()
            .filter(|t| t.kind == MediaKind::Video)
        {
            out.switch.set_target(None);
        }
        return (None, Vec::new());
    }
    let held_for_bandwidth = p.audio_only.low_bandwidth;
    // Without estimation the budget is unlimited: display size alone picks layers.
    let estimate = match policy.bandwidth_estimation {
        true => p
            .estimate_bps
            .unwrap_or(u64::from(policy.initial_estimate_kbps) * 1000),
        false => u64::MAX,
    };
    if policy.bandwidth_estimation {
        p.audio_only.follow_estimate(now, estimate, policy);
    }
    let event = p.audio_only.change(p.id());
    let video_off = p.audio_only.reason().is_some();

    let audio_tracks = p
        .tracks_out
        .iter()
        .filter(|t| t.kind == MediaKind::Audio && t.open_mid().is_some())
        .count() as u64;
    let audio_cost = audio_tracks * AUDIO_COST_BPS;

    // The open video tracks this subscriber could be sent, with what each could carry.
    let mut slots = Vec::new();
    let mut candidates = Vec::new();
    for (i, out) in p.tracks_out.iter().enumerate() {
        if out.kind != MediaKind::Video || out.open_mid().is_none() {
            continue;
        }
        let video = videos.iter().find(|v| v.track == out.source);
        let Some(video) = video.filter(|v| !v.hidden) else {
            continue;
        };
        let display = p.display.get(&out.source.origin).copied();
        slots.push(i);
        candidates.push(Candidate {
            layers: video.active.clone(),
            useful: useful_layers(display, video.declared, policy.top_layer_height),
        });
    }
    let budget = (estimate / 10 * 9).saturating_sub(audio_cost);
    let chosen = allocate(budget, &candidates);

    // An estimate made while no video went to this subscriber measured padding alone, which
    // str0m's loss-based controller pulls down on any lossy link: video starting on it would
    // queue in the pacer for seconds. Start over from the initial estimate, so str0m probes
    // at once. Not after audio-only for low bandwidth: that estimate measured a real limit.
    let sends_video = !video_off && chosen.iter().any(Option::is_some);
    let initial = u64::from(policy.initial_estimate_kbps) * 1000;
    let video_starts = sends_video && !p.receiving_video && !held_for_bandwidth;
    let restarted = video_starts && estimate < initial;
    if restarted {
        p.restart_estimate(initial);
    }
    p.receiving_video = sends_video;

    // What to aim the estimator at: enough for every useful layer, and padding up to the
    // next step so the estimate can prove the link carries it.
    let best: u64 = candidates
        .iter()
        .map(|c| c.cost(c.useful.min(c.layers.len()).saturating_sub(1)))
        .sum();
    let spent: u64 = candidates
        .iter()
        .zip(&chosen)
        .filter_map(|(c, i)| Some(c.cost((*i)?)))
        .sum();
    let next_step = candidates
        .iter()
        .zip(&chosen)
        .filter_map(|(c, i)| {
            let i = (*i)?;
            (i + 1 < c.useful.min(c.layers.len())).then(|| c.cost(i + 1) - c.cost(i))
        })
        .min()
        .unwrap_or(0);
    let (minimum, desired) = match p.audio_only.reason() {
        Some(AudioOnlyReason::Requested) => (0, audio_cost),
        // Aim past the resume threshold, so probes may show the link recovered; but pad
        // nothing: padding cannot lift an estimate held down by loss (see
        // `EstimateRetry`), and on a link that cannot carry video it would crowd out sound.
        Some(AudioOnlyReason::LowBandwidth) => {
            let resume = u64::from(policy.video_resumes_above_kbps) * 1000 * 6 / 5;
            (0, resume.max(best + audio_cost))
        }
        None => {
            let desired = best + audio_cost;
            ((spent + next_step + audio_cost).min(desired), desired)
        }
    };
    p.set_bwe_bitrates(minimum, aim(desired, policy));

    // A new video to carry (someone joined, or turned their camera on) raises what this
    // subscriber needs at once, and str0m's estimate would grow towards it by a few percent
    // a second, queueing video meanwhile. Starting it over from where it is makes str0m
    // probe now, as browsers probe when what they are to send grows. Not if it was just
    // started over from the initial estimate: `estimate` is the one that replaced.
    let more_videos = candidates.len() > p.videos_offered;
    p.videos_offered = candidates.len();
    let short = estimate < desired && policy.bandwidth_estimation;
    if more_videos && sends_video && short && !restarted {
        p.restart_estimate(estimate);
    }

    // Video off for low bandwidth: now and then, start the estimate over from the resume
    // threshold (see `EstimateRetry`), so the restart alone cannot bring video back.
    // Video held below a layer it could use: now and then, start it over from where it
    // is, which cannot raise it either; only the probes that follow can.
    if policy.bandwidth_estimation {
        let held_back = p.audio_only.reason() == Some(AudioOnlyReason::LowBandwidth);
        let restart_from = u64::from(policy.video_resumes_above_kbps) * 1000;
        if p.estimate_retry.due(now, held_back, policy) {
            p.restart_estimate(restart_from);
        }
        let below_useful = !video_off && best > spent;
        if p.layer_retry.due(now, below_useful, policy) {
            p.restart_estimate(estimate);
        }
    }

    let mut requests = Vec::new();
    let mut targets: Vec<(usize, Option<Layer>)> = p
        .tracks_out
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == MediaKind::Video && t.open_mid().is_some())
        .map(|(i, _)| (i, None))
        .collect();
    if !video_off {
        for ((slot, choice), candidate) in slots.iter().zip(&chosen).zip(&candidates) {
            let layer = choice
                .and_then(|c| candidate.layers.get(c))
                .map(|(l, _)| *l);
            if let Some(t) = targets.iter_mut().find(|(i, _)| i == slot) {
                t.1 = layer;
            }
        }
    }
    for (i, target) in targets {
        let Some(out) = p.tracks_out.get_mut(i) else {
            continue;
        };
        out.switch.set_target(target);
        if let Some(layer) = out.switch.keyframe_due(now) {
            requests.push(Propagated::KeyframeRequest {
                track: out.source,
                rid: layer,
                kind: KeyframeRequestKind::Pli,
            });
        }
    }
    (event, requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_stops_and_resumes_only_after_the_hold() {
        let policy = MediaPolicy::default();
        let hold = policy.bandwidth_hold;
        let t0 = Instant::now();
        let mut s = AudioOnlyState::default();
        s.follow_estimate(t0, 100_000, &policy);
        assert_eq!(s.reason(), None, "a dip is not enough");
        s.follow_estimate(t0 + hold, 100_000, &policy);
        assert_eq!(s.reason(), Some(AudioOnlyReason::LowBandwidth));
        let resume_bps = u64::from(policy.video_resumes_above_kbps) * 1000;
        s.follow_estimate(t0 + hold * 2, resume_bps, &policy);
        s.follow_estimate(t0 + hold * 4, resume_bps, &policy);
        assert!(s.low_bandwidth, "at the threshold is not above it");
        s.follow_estimate(t0 + hold * 5, resume_bps + 1, &policy);
        s.follow_estimate(t0 + hold * 6, resume_bps + 1, &policy);
        assert_eq!(s.reason(), None);
    }

    #[test]
    fn a_held_back_estimate_is_restarted_with_backoff_until_released() {
        let policy = MediaPolicy::default();
        let wait = policy.bandwidth_retry;
        let t0 = Instant::now();
        let mut r = EstimateRetry::default();
        assert!(!r.due(t0, true, &policy), "not at once");
        assert!(!r.due(t0 + wait - Duration::from_millis(1), true, &policy));
        assert!(r.due(t0 + wait, true, &policy));
        assert!(!r.due(t0 + wait, true, &policy), "once");
        let second = t0 + wait + wait * 2;
        assert!(!r.due(second - Duration::from_millis(1), true, &policy));
        assert!(r.due(second, true, &policy));
        let mut at = second;
        for _ in 0..10 {
            at += MAX_RETRY_WAIT;
            assert!(r.due(at, true, &policy), "a minute apart at most");
        }
        // Released, then held back again: the first wait again.
        assert!(!r.due(at, false, &policy));
        assert!(!r.due(at + Duration::from_secs(1), true, &policy));
        assert!(r.due(at + Duration::from_secs(1) + wait, true, &policy));
    }

    #[test]
    fn str0m_is_aimed_past_the_need_and_never_below_three_times_the_start() {
        let policy = MediaPolicy::default();
        let floor = u64::from(policy.initial_estimate_kbps) * 3000;
        assert_eq!(aim(0, &policy), floor);
        assert_eq!(aim(floor / 4, &policy), floor);
        assert_eq!(aim(floor, &policy), floor * AIM_HEADROOM);
        assert_eq!(aim(u64::MAX, &policy), u64::MAX);
    }
}
