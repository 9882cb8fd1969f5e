//! The room: many participants, one owner, forwarding between them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use str0m::Input;
use str0m::net::Receive;

use crate::flowing::Flowing;
use crate::forward::{Propagated, TrackRef};
use crate::participant::{Participant, Polled};
use crate::speaker::Speakers;
use crate::{
    Datagram, Error, LeaveReason, MediaKind, MediaPolicy, ParticipantId, RoomEvent, RoomOutput,
    RoomStats, Transport,
};

/// How long the room may sleep when no participant has anything scheduled.
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// How a room is set up.
#[derive(Debug, Clone)]
pub struct RoomConfig {
    /// The server's media addresses, announced to every participant as host candidates:
    /// UDP, and passive ICE-TCP on the same address and port number.
    pub local_addrs: Vec<SocketAddr>,
}

/// A live consultation's media: participants' peer connections and forwarding between them.
///
/// Sans-IO: feed it [`handle_input`](Self::handle_input) and
/// [`handle_timeout`](Self::handle_timeout), then drain [`poll_output`](Self::poll_output)
/// until it returns [`RoomOutput::Timeout`].
pub struct Room {
    /// The room's setup.
    config: RoomConfig,
    /// How media adapts to each subscriber.
    pub(crate) policy: MediaPolicy,
    /// When layer choice, audio-only and the active speaker are next revisited.
    pub(crate) next_evaluation: Instant,
    /// Audio levels and the active speaker.
    pub(crate) speakers: Speakers,
    /// Participants in a stable order, so forwarding and tests are deterministic.
    pub(crate) participants: BTreeMap<ParticipantId, Participant>,
    /// Every track published in the room, to offer to participants who join later.
    published: Vec<(TrackRef, MediaKind)>,
    /// Participants kept apart (waiting to be admitted, or on hold): connected, but nothing
    /// is forwarded to or from them.
    pub(crate) apart: HashSet<ParticipantId>,
    /// Remote addresses learned from accepted datagrams: the fast path of demultiplexing.
    by_addr: HashMap<SocketAddr, ParticipantId>,
    /// Output ready for the owner.
    pub(crate) outputs: VecDeque<RoomOutput>,
    /// Cross-participant effects, applied one at a time between full drains (str0m's rule:
    /// mutate, drain, mutate).
    pub(crate) propagate: VecDeque<Propagated>,
    /// Whose media flows both ways yet.
    flowing: Flowing,
    /// Counters for metrics.
    stats: RoomStats,
    /// The latest time the owner has told us about.
    pub(crate) now: Instant,
}

impl Room {
    /// Creates an empty room. `now` is the owner's clock; the room never reads one.
    pub fn new(now: Instant, config: RoomConfig) -> Self {
        Self::with_policy(now, config, MediaPolicy::default())
    }

    /// Creates an empty room with a media policy other than the default.
    pub fn with_policy(now: Instant, config: RoomConfig, policy: MediaPolicy) -> Self {
        Room {
            config,
            next_evaluation: now + policy.evaluation_interval,
            policy,
            speakers: Speakers::default(),
            participants: BTreeMap::new(),
            published: Vec::new(),
            apart: HashSet::new(),
            by_addr: HashMap::new(),
            outputs: VecDeque::new(),
            propagate: VecDeque::new(),
            flowing: Flowing::default(),
            stats: RoomStats::default(),
            now,
        }
    }

    /// Admits a participant from its client's SDP offer and returns the SDP answer.
    ///
    /// Tracks already published in the room follow in a [`RoomEvent::Offer`].
    pub fn join(&mut self, now: Instant, id: ParticipantId, offer: &str) -> Result<String, Error> {
        self.advance(now);
        if self.participants.contains_key(&id) {
            return Err(Error::AlreadyJoined(id));
        }
        let addrs = &self.config.local_addrs;
        let policy = &self.policy;
        let created = catch_unwind(AssertUnwindSafe(|| {
            Participant::new(id, now, addrs, offer, policy)
        }));
        let Ok(created) = created else {
            self.stats.panics += 1;
            return Err(Error::ParticipantFailed(id));
        };
        let (mut participant, answer) = created?;
        for (track, kind) in &self.published {
            participant.add_track_out(*track, *kind);
        }
        self.participants.insert(id, participant);
        Ok(answer)
    }

    /// Handles a participant's SDP answer to a [`RoomEvent::Offer`].
    pub fn handle_answer(
        &mut self,
        now: Instant,
        id: ParticipantId,
        answer: &str,
    ) -> Result<(), Error> {
        self.advance(now);
        // Newly opened tracks need a layer and a keyframe: decide at once.
        self.next_evaluation = self.now;
        self.with(id, |p| p.handle_answer(answer))
            .ok_or(Error::UnknownParticipant(id))?
    }

    /// Handles a participant's own SDP offer (renegotiation, or an ICE restart after its
    /// address changed) and returns the answer. After an ICE restart the participant is
    /// reached at its new address once its checks arrive there, its datagrams from the old
    /// one are no longer accepted, and its downlink is estimated afresh.
    pub fn handle_offer(
        &mut self,
        now: Instant,
        id: ParticipantId,
        offer: &str,
    ) -> Result<String, Error> {
        self.advance(now);
        let (answer, ice_restart) = self
            .with(id, |p| p.handle_offer(offer))
            .ok_or(Error::UnknownParticipant(id))??;
        if ice_restart {
            // The client restarts ICE because its address changed (Wi-Fi to mobile data):
            // forget the addresses learned so far. Its datagrams from the new address find
            // it through its peer connection (STUN with the new credentials), and once ICE
            // settles there, str0m accepts nothing more from the old one.
            self.by_addr.retain(|_, p| *p != id);
        }
        Ok(answer)
    }

    /// Removes a participant at once (eject, end of call, hang-up).
    ///
    /// Its peer connection is dropped without a goodbye, queued datagrams to it are
    /// discarded and its tracks stop being forwarded: after this call the room never emits
    /// a datagram to it nor forwards another frame from it. Returns whether it was present.
    pub fn remove(&mut self, id: ParticipantId) -> bool {
        self.remove_with(id, LeaveReason::Removed)
    }

    /// Which participant a received datagram belongs to, if any: by remote address once
    /// known, otherwise by asking each peer connection (STUN by ICE username fragment).
    pub fn accepts(&mut self, datagram: &Datagram<'_>) -> Option<ParticipantId> {
        let Ok(receive) = to_receive(datagram) else {
            return None;
        };
        let input = Input::Receive(self.now, receive);
        self.route(&input, datagram.source)
    }

    /// Feeds a received datagram to the participant it belongs to. Datagrams that do not
    /// parse or that no participant accepts are dropped and counted, never an error.
    pub fn handle_input(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.advance(now);
        let Ok(receive) = to_receive(&datagram) else {
            self.stats.dropped_datagrams += 1;
            return;
        };
        let input = Input::Receive(now, receive);
        let Some(id) = self.route(&input, datagram.source) else {
            self.stats.dropped_datagrams += 1;
            return;
        };
        self.by_addr.insert(datagram.source, id);
        match self.with(id, |p| p.handle_input(input)) {
            Some(Ok(())) => self.stats.accepted_datagrams += 1,
            Some(Err(e)) => {
                // A datagram str0m rejects (bad DTLS record, undecryptable SRTP) is the
                // sender's problem, and could be spoofed: drop it, keep the peer.
                tracing::debug!(participant = %id, error = %e, "datagram rejected");
                self.stats.dropped_datagrams += 1;
            }
            None => self.stats.dropped_datagrams += 1,
        }
    }

    /// Advances time for every participant whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        let due = |p: &Participant| p.wake.is_none_or(|at| at <= now);
        let ids: Vec<ParticipantId> = self
            .participants
            .iter()
            .filter(|(_, p)| due(p))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(Err(e)) = self.with(id, |p| p.handle_input(Input::Timeout(now))) {
                tracing::warn!(participant = %id, error = %e, "timeout handling failed");
                self.remove_with(id, LeaveReason::Failed);
            }
        }
        if now >= self.next_evaluation {
            self.next_evaluation = now + self.policy.evaluation_interval;
            self.evaluate(now);
        }
    }

    /// The next output. Call until it returns [`RoomOutput::Timeout`].
    pub fn poll_output(&mut self) -> RoomOutput {
        loop {
            if let Some(out) = self.outputs.pop_front() {
                if matches!(out, RoomOutput::Transmit { .. }) {
                    self.stats.transmitted_datagrams += 1;
                }
                return out;
            }
            let next = self.drain_participants();
            if !self.outputs.is_empty() {
                continue;
            }
            if let Some(p) = self.propagate.pop_front() {
                self.apply(p);
                continue;
            }
            return RoomOutput::Timeout(next.min(self.next_evaluation));
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> RoomStats {
        self.stats
    }

    /// The participants in the room, in id order.
    pub fn participants(&self) -> impl Iterator<Item = ParticipantId> + '_ {
        self.participants.keys().copied()
    }

    /// Polls every participant that may have changed until it has nothing but a timeout;
    /// returns the earliest timeout of all.
    fn drain_participants(&mut self) -> Instant {
        let mut next = self.now + IDLE_TIMEOUT;
        let mut changed = Vec::new();
        for (id, p) in &self.participants {
            match p.wake {
                Some(at) => next = next.min(at),
                None => changed.push(*id),
            }
        }
        let now = self.now;
        for id in changed {
            loop {
                let Some(polled) = self.with(id, |p| p.poll(now)) else {
                    break;
                };
                match polled {
                    Polled::Timeout(t) => {
                        if let Some(p) = self.participants.get_mut(&id) {
                            p.wake = Some(t);
                        }
                        next = next.min(t);
                        break;
                    }
                    // Nothing is forwarded to someone kept apart, so any RTP str0m sends
                    // them is padding and probes (it pads every connection that could
                    // carry media, about 150 kbit/s), which would spend a waiting
                    // patient's mobile data for nothing. RTCP, STUN and DTLS still go.
                    Polled::Transmit(t) if self.apart.contains(&id) && is_rtp(&t.contents) => {
                        self.stats.withheld_padding += 1;
                    }
                    Polled::Transmit(t) => self.outputs.push_back(RoomOutput::Transmit {
                        participant: id,
                        transport: Transport::from_str0m(t.proto),
                        from_local: t.source,
                        to_remote: t.destination,
                        contents: t.contents.into(),
                    }),
                    Polled::Event(e) => {
                        if matches!(e, RoomEvent::Connected(_)) {
                            // Its tracks can start now: choose layers, ask for keyframes.
                            self.next_evaluation = self.now;
                        }
                        self.outputs.push_back(RoomOutput::Event(e));
                    }
                    Polled::Propagate(p) => self.propagate.push_back(p),
                    Polled::Again => {}
                    Polled::Failed => {
                        let reason = match self.participants.get(&id) {
                            Some(p) if !p.is_alive() => LeaveReason::Disconnected,
                            _ => LeaveReason::Failed,
                        };
                        self.remove_with(id, reason);
                        break;
                    }
                }
            }
        }
        next
    }

    /// Applies one cross-participant effect.
    fn apply(&mut self, p: Propagated) {
        match p {
            Propagated::TrackPublished(track, kind) => {
                self.published.push((track, kind));
                let others: Vec<ParticipantId> = self.others(track.origin);
                for id in others {
                    self.with(id, |p| p.add_track_out(track, kind));
                }
                self.outputs
                    .push_back(RoomOutput::Event(RoomEvent::TrackPublished {
                        participant: track.origin,
                        kind,
                    }));
            }
            Propagated::Media(origin, packet) => {
                let Some(publisher) = self.participants.get(&origin) else {
                    return;
                };
                let kind = publisher.tracks_in.iter().find(|t| t.mid == packet.mid);
                let Some(kind) = kind.map(|t| t.kind) else {
                    return;
                };
                if publisher.is_muted(kind) || self.apart.contains(&origin) {
                    return;
                }
                if kind == MediaKind::Audio {
                    self.speakers.record(origin, packet.ext_vals.audio_level);
                }
                let mut subscribers = self.others(origin);
                subscribers.retain(|id| !self.apart.contains(id));
                let now = self.now;
                for id in subscribers {
                    if self.with(id, |p| p.write_packet(now, origin, &packet)) == Some(true) {
                        self.stats.forwarded_packets += 1;
                        for participant in self.flowing.forwarded(origin, id) {
                            let event = RoomEvent::MediaFlowing { participant };
                            self.outputs.push_back(RoomOutput::Event(event));
                        }
                    }
                }
            }
            Propagated::KeyframeRequest { track, rid, kind } => {
                let now = self.now;
                let sent = self.with(track.origin, |p| {
                    p.request_keyframe(now, track.mid, rid, kind)
                });
                if sent == Some(true) {
                    self.stats.keyframe_requests += 1;
                    self.outputs
                        .push_back(RoomOutput::Event(RoomEvent::KeyframeRequested {
                            publisher: track.origin,
                        }));
                }
            }
        }
    }

    fn others(&self, id: ParticipantId) -> Vec<ParticipantId> {
        self.participants
            .keys()
            .copied()
            .filter(|p| *p != id)
            .collect()
    }

    fn route(&mut self, input: &Input<'_>, source: SocketAddr) -> Option<ParticipantId> {
        if let Some(id) = self.by_addr.get(&source).copied()
            && self.with(id, |p| p.accepts(input)) == Some(true)
        {
            return Some(id);
        }
        let ids: Vec<ParticipantId> = self.participants.keys().copied().collect();
        ids.into_iter()
            .find(|id| self.with(*id, |p| p.accepts(input)) == Some(true))
    }

    /// Runs `f` on one participant; a panic inside it removes that participant only.
    pub(crate) fn with<R>(
        &mut self,
        id: ParticipantId,
        f: impl FnOnce(&mut Participant) -> R,
    ) -> Option<R> {
        let participant = self.participant_mut(id)?;
        match catch_unwind(AssertUnwindSafe(|| f(participant))) {
            Ok(r) => Some(r),
            Err(_) => {
                tracing::error!(participant = %id, "participant panicked; removing it");
                self.stats.panics += 1;
                self.remove_with(id, LeaveReason::Failed);
                None
            }
        }
    }

    /// A participant to change: it is polled again at the next drain.
    pub(crate) fn participant_mut(&mut self, id: ParticipantId) -> Option<&mut Participant> {
        let participant = self.participants.get_mut(&id)?;
        participant.wake = None;
        Some(participant)
    }

    fn remove_with(&mut self, id: ParticipantId, reason: LeaveReason) -> bool {
        if self.participants.remove(&id).is_none() {
            return false;
        }
        self.by_addr.retain(|_, p| *p != id);
        self.apart.remove(&id);
        self.flowing.forget(id);
        self.outputs.retain(
            |o| !matches!(o, RoomOutput::Transmit { participant, .. } if *participant == id),
        );
        self.propagate.retain(|p| !p.involves(id));
        self.published.retain(|(t, _)| t.origin != id);
        self.speakers.forget(id);
        for id2 in self.others(id) {
            self.with(id2, |p| p.source_gone(id));
        }
        self.outputs.push_back(RoomOutput::Event(RoomEvent::Left {
            participant: id,
            reason,
        }));
        true
    }

    pub(crate) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }
}

fn to_receive<'a>(d: &Datagram<'a>) -> Result<Receive<'a>, str0m::error::NetError> {
    Receive::new(d.transport.into(), d.source, d.destination, d.contents)
}

/// Whether a datagram is RTP (not RTCP, STUN or DTLS): RFC 7983's first-byte ranges, and
/// RFC 5761's payload types to tell RTP from RTCP on one port.
fn is_rtp(datagram: &[u8]) -> bool {
    match datagram {
        [first, second, ..] => (128..=191).contains(first) && !(192..=223).contains(second),
        _ => false,
    }
}
