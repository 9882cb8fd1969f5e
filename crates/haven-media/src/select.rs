//! The room's periodic decisions for each subscriber: audio-only or not, which simulcast
//! layer of each publisher's video, and what bandwidth to probe for.
//!
//! Runs every [`MediaPolicy::evaluation_interval`] and right after anything that changes the
//! answer (a track opens, a preference or mute changes).

use std::time::Instant;

use str0m::media::KeyframeRequestKind;

use crate::forward::{Propagated, TrackRef};
use crate::layers::{Candidate, Layer, allocate, useful_layers};
use crate::participant::Participant;
use crate::{AudioOnlyReason, MediaKind, MediaPolicy, ParticipantId, Room, RoomEvent, RoomOutput};

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

/// A published video as every subscriber sees it this round.
struct PublishedVideo {
    /// Which track.
    track: TrackRef,
    /// The publisher muted it.
    muted: bool,
    /// How many layers the publisher declared.
    declared: usize,
    /// The layers arriving now, lowest first, with their bitrates.
    active: Vec<(Layer, u64)>,
}

impl Room {
    /// Revisits every subscriber's audio-only state, layers and bandwidth probing.
    pub(crate) fn evaluate(&mut self, now: Instant) {
        let videos: Vec<PublishedVideo> = self
            .participants
            .iter()
            .flat_map(|(id, p)| {
                p.tracks_in
                    .iter()
                    .filter(|t| t.kind == MediaKind::Video)
                    .map(move |t| PublishedVideo {
                        track: TrackRef {
                            origin: *id,
                            mid: t.mid,
                        },
                        muted: p.is_muted(MediaKind::Video),
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
            let Some((event, requests)) = self.with(id, |p| select(p, now, &videos, &policy))
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

/// One subscriber's round: returns the audio-only event to send, if any, and the keyframe
/// requests its layer switches need.
fn select(
    p: &mut Participant,
    now: Instant,
    videos: &[PublishedVideo],
    policy: &MediaPolicy,
) -> (Option<RoomEvent>, Vec<Propagated>) {
    if !p.is_connected() {
        return (None, Vec::new());
    }
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
        let Some(video) = video.filter(|v| !v.muted) else {
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
        // Keep probing up to the resume threshold, or video could never come back.
        Some(AudioOnlyReason::LowBandwidth) => {
            let resume = u64::from(policy.video_resumes_above_kbps) * 1000 * 6 / 5;
            (resume, resume.max(best + audio_cost))
        }
        None => {
            let desired = best + audio_cost;
            ((spent + next_step + audio_cost).min(desired), desired)
        }
    };
    p.set_bwe_bitrates(minimum, desired);

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
