//! One participant: its str0m peer connection and the tracks it publishes and receives.
//!
//! Nothing here knows about other participants; effects on them are returned as
//! [`Propagated`] values for the room to apply.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::{self, Codec};
use str0m::media::{Direction, KeyframeRequestKind, Mid, Rid};
use str0m::net::{TcpType, Transmit};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, Vp8Descriptor};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcError};

use crate::forward::{LayerIn, Packet, Propagated, TrackIn, TrackOut, TrackOutState, TrackRef};
use crate::layers::{Layer, LayerSwitch};
use crate::quality::QualityMeter;
use crate::select::{AudioOnlyState, EstimateRetry, aim};
use crate::{Error, MediaKind, MediaPolicy, ParticipantId, RoomEvent};

/// At most one keyframe request per published track in this interval: a keyframe is large,
/// and many subscribers losing pictures at once must not make the publisher send a stream of them.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// What one poll of a participant produced.
pub(crate) enum Polled {
    /// Nothing more until this instant.
    Timeout(Instant),
    /// A datagram to send.
    Transmit(Transmit),
    /// An event for the room's owner.
    Event(RoomEvent),
    /// An effect on the other participants.
    Propagate(Propagated),
    /// Something internal happened; poll again.
    Again,
    /// The peer connection failed; the participant must leave.
    Failed,
}

/// Video packets kept per outgoing stream, for the pacer and for retransmission on NACK.
/// str0m's default (1,000, within 3 s) holds about 3 s of a 1.5 Mbit/s stream, some
/// 600 KiB for every video a participant receives, most of a room's memory; 128 still holds
/// about 0.8 s of it (NACKs come within a round trip or two) and a keyframe.
const SEND_BUFFER_VIDEO: usize = 128;
/// How long a sent video packet is kept for retransmission, at most. str0m keeps it 3 s,
/// which for a small layer (a gallery tile's) is ten times what a NACK needs, and the
/// memory of every video each participant receives. libwebrtc keeps a sent packet at
/// least 1 s (or three round trips, when longer): retransmitted later than that, it would
/// miss the receiver's jitter buffer anyway.
const SEND_BUFFER_VIDEO_AGE: Duration = Duration::from_secs(1);
/// str0m's default: resends are dropped while they exceed 15% of what a stream sends.
const RTX_RATIO_CAP: Option<f32> = Some(0.15);

/// How long video may wait in the pacer for one subscriber before pictures are skipped
/// (see `write_media`).
const MAX_VIDEO_QUEUE_DELAY: Duration = Duration::from_millis(500);

pub(crate) struct Participant {
    /// Who this is.
    id: ParticipantId,
    /// The server side of the participant's peer connection (ICE-lite).
    rtc: Rtc,
    /// Whether ICE and DTLS are up; media written before that is dropped by str0m.
    connected: bool,
    /// Tracks this participant publishes.
    pub(crate) tracks_in: Vec<TrackIn>,
    /// Tracks of other participants forwarded to this one.
    pub(crate) tracks_out: Vec<TrackOut>,
    /// The latest estimate of this participant's downlink (the server's egress), bits per
    /// second, from str0m's TWCC bandwidth estimation.
    pub(crate) estimate_bps: Option<u64>,
    /// The bitrates last handed to str0m's estimator (minimum, desired), to skip repeats.
    bwe_bitrates: Option<(u64, u64)>,
    /// The estimate str0m's estimator starts from, if estimation is on: it starts from it
    /// again when the participant's network path changes (an ICE restart).
    initial_estimate: Option<Bitrate>,
    /// The ICE username fragment of the client's latest offer: a new one is an ICE restart.
    remote_ufrag: Option<String>,
    /// Whether video to this participant is off, and why.
    pub(crate) audio_only: AudioOnlyState,
    /// When to restart its estimate while video to it is off for low bandwidth.
    pub(crate) estimate_retry: EstimateRetry,
    /// When to restart its estimate while a layer it could use does not fit the estimate.
    pub(crate) layer_retry: EstimateRetry,
    /// Whether the last evaluation chose video to send to it.
    pub(crate) receiving_video: bool,
    /// How many videos the last evaluation could have sent it.
    pub(crate) videos_offered: usize,
    /// The largest size (width, height) at which this participant shows each publisher.
    pub(crate) display: HashMap<ParticipantId, (u32, u32)>,
    /// Its connection quality.
    pub(crate) quality: QualityMeter,
    /// The participant muted its microphone: none of its audio is forwarded.
    pub(crate) muted_audio: bool,
    /// The participant turned its camera off: none of its video is forwarded.
    pub(crate) muted_video: bool,
    /// The room's outstanding SDP offer to this participant, if any.
    pending: Option<SdpPendingOffer>,
    /// An offer made outside `poll` (a publisher left), to hand out on the next poll.
    queued_offer: Option<String>,
    /// When str0m next needs the time, as its last poll said; `None` once anything may have
    /// changed it. The room polls only participants without one and wakes only those whose
    /// time has come: per datagram, the work is for the two ends it concerns, not the room.
    pub(crate) wake: Option<Instant>,
    /// Test hook: make the next poll panic, to prove a panic only ends this participant.
    #[cfg(test)]
    pub(crate) panic_on_poll: bool,
}

impl Participant {
    /// Creates the server side of a participant's peer connection from its SDP offer.
    pub fn new(
        id: ParticipantId,
        now: Instant,
        local_addrs: &[SocketAddr],
        offer: &str,
        policy: &MediaPolicy,
    ) -> Result<(Self, String), Error> {
        let remote_ufrag = ice_ufrag(offer).map(str::to_owned);
        let offer =
            SdpOffer::from_sdp_string(offer).map_err(|e| Error::InvalidSdp(e.to_string()))?;
        // TWCC feedback from the client tells the server how much its downlink carries:
        // the input to layer choice and audio-only.
        let bwe = policy
            .bandwidth_estimation
            .then(|| Bitrate::kbps(u64::from(policy.initial_estimate_kbps)));
        // RTP mode: packets are forwarded as they arrive, their payloads shared by every
        // subscriber, rather than reassembled into frames and cut up again per subscriber.
        // Codecs: those whose simulcast layers `rewrite` can join into one stream (VP8's
        // picture ids; H.264 needs nothing) and that every browser sends.
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_h264(true)
            .enable_bwe(bwe)
            .set_stats_interval(Some(policy.quality_interval))
            .set_send_buffer_video(SEND_BUFFER_VIDEO)
            .build(now);
        // str0m probes as soon as DTLS is up, before the room has chosen anything to send,
        // and caps its probes at twice the desired bitrate (50 kbit/s until set): unset, its
        // first probes would measure, and set, an estimate of about 100 kbit/s.
        let bwe_bitrates = bwe.is_some().then(|| (0, aim(0, policy)));
        if let Some((minimum, desired)) = bwe_bitrates {
            rtc.bwe()
                .set_bitrate(Bitrate::bps(minimum), Bitrate::bps(desired));
        }
        for addr in local_addrs {
            // A host candidate only fails for unusable addresses (unspecified, port 0);
            // the room's config is the server's own, so skip those rather than fail a join.
            if let Ok(c) = Candidate::host(*addr, "udp") {
                rtc.add_local_candidate(c);
            }
            // ICE-TCP (passive) on the same address and port number, for networks that
            // block UDP: the server's I/O layer listens for TCP there too.
            let tcp = Candidate::builder()
                .tcp()
                .host(*addr)
                .tcptype(TcpType::Passive)
                .build();
            if let Ok(c) = tcp {
                rtc.add_local_candidate(c);
            }
        }
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| Error::Negotiation(e.to_string()))?;
        let participant = Participant {
            id,
            rtc,
            connected: false,
            tracks_in: Vec::new(),
            tracks_out: Vec::new(),
            estimate_bps: None,
            bwe_bitrates,
            initial_estimate: bwe,
            remote_ufrag,
            audio_only: AudioOnlyState::default(),
            estimate_retry: EstimateRetry::default(),
            layer_retry: EstimateRetry::default(),
            receiving_video: false,
            videos_offered: 0,
            display: HashMap::new(),
            quality: QualityMeter::default(),
            muted_audio: false,
            muted_video: false,
            pending: None,
            queued_offer: None,
            wake: None,
            #[cfg(test)]
            panic_on_poll: false,
        };
        Ok((participant, answer.to_sdp_string()))
    }

    /// Whether the participant muted this kind of its media.
    pub fn is_muted(&self, kind: MediaKind) -> bool {
        match kind {
            MediaKind::Audio => self.muted_audio,
            MediaKind::Video => self.muted_video,
        }
    }

    pub fn id(&self) -> ParticipantId {
        self.id
    }

    pub fn is_connected(&self) -> bool {
        self.connected
    }

    pub fn is_alive(&self) -> bool {
        self.rtc.is_alive()
    }

    pub fn accepts(&self, input: &Input) -> bool {
        self.rtc.accepts(input)
    }

    pub fn handle_input(&mut self, input: Input) -> Result<(), RtcError> {
        self.rtc.handle_input(input)
    }

    /// Produces the next output. Negotiation and keyframe requests come first because they
    /// are decided here, not inside str0m.
    pub fn poll(&mut self, now: Instant) -> Polled {
        #[cfg(test)]
        if self.panic_on_poll {
            panic!("test hook: participant {} panics", self.id);
        }
        if !self.rtc.is_alive() {
            return Polled::Failed;
        }
        if let Some(sdp) = self
            .queued_offer
            .take()
            .or_else(|| self.negotiate_if_needed())
        {
            return Polled::Event(RoomEvent::Offer {
                participant: self.id,
                sdp,
            });
        }
        match self.rtc.poll_output() {
            Ok(Output::Timeout(t)) => Polled::Timeout(t),
            Ok(Output::Transmit(t)) => Polled::Transmit(t),
            Ok(Output::Event(e)) => self.handle_event(now, e),
            Err(e) => {
                tracing::warn!(participant = %self.id, error = %e, "peer connection failed");
                self.rtc.disconnect();
                Polled::Failed
            }
        }
    }

    fn handle_event(&mut self, now: Instant, event: Event) -> Polled {
        match event {
            Event::Connected => {
                self.connected = true;
                Polled::Event(RoomEvent::Connected(self.id))
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                // ICE-lite cannot restart on its own; the client must do an ICE restart
                // through signalling, so a lost connection ends this peer.
                self.rtc.disconnect();
                Polled::Failed
            }
            Event::MediaAdded(added) => {
                let receives = matches!(added.direction, Direction::RecvOnly | Direction::SendRecv);
                if !receives {
                    return Polled::Again;
                }
                let kind = MediaKind::from(added.kind);
                // The layers the publisher sends, as the server's side of the m-line sees
                // them (str0m inverts the client's `send` into our `recv`).
                let rids: Vec<Layer> = added
                    .simulcast
                    .map(|s| if s.recv.is_empty() { s.send } else { s.recv })
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| Some(l.rid))
                    .collect();
                let layers = if rids.is_empty() { vec![None] } else { rids };
                self.tracks_in.push(TrackIn {
                    mid: added.mid,
                    kind,
                    layers: layers.into_iter().map(LayerIn::new).collect(),
                });
                let track = TrackRef {
                    origin: self.id,
                    mid: added.mid,
                };
                Polled::Propagate(Propagated::TrackPublished(track, kind))
            }
            Event::RtpPacket(rtp) => self.on_rtp(now, rtp),
            Event::KeyframeRequest(req) => {
                let Some(out) = self.tracks_out.iter().find(|t| t.mid() == Some(req.mid)) else {
                    return Polled::Again;
                };
                // The subscriber's track is not simulcast: its decoder wants a keyframe of
                // the layer it is being sent. While nothing is sent, a switch is waiting for
                // a keyframe already.
                let Some(layer) = out.switch.current() else {
                    return Polled::Again;
                };
                Polled::Propagate(Propagated::KeyframeRequest {
                    track: out.source,
                    rid: layer,
                    kind: req.kind,
                })
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                self.estimate_bps = Some(estimate.as_u64());
                Polled::Again
            }
            Event::PeerStats(stats) => match self.quality.on_stats(&stats) {
                Some(quality) => Polled::Event(RoomEvent::Quality {
                    participant: self.id,
                    quality,
                }),
                None => Polled::Again,
            },
            _ => Polled::Again,
        }
    }

    /// A packet this participant published: metered, and handed to the room to forward.
    fn on_rtp(&mut self, now: Instant, rtp: RtpPacket) -> Polled {
        let mut api = self.rtc.direct_api();
        let stream = api.stream_rx(&rtp.header.ssrc);
        let Some((mid, rid)) = stream.map(|s| (s.mid(), s.rid())) else {
            return Polled::Again;
        };
        let pt = rtp.header.payload_type;
        let Some(params) = self.rtc.codec_config().find(|p| p.pt() == pt).copied() else {
            return Polled::Again;
        };
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return Polled::Again;
        };
        let kind = track.kind;
        let Some(layer) = track.layer_mut(&rid) else {
            // A rid the publisher never declared: nobody could choose it.
            return Polled::Again;
        };
        layer.meter.record(now, rtp.payload.len());
        // A gap that the server's NACKs cannot fill is not the server's to mend: each
        // subscriber's decoder asks for a keyframe, and that request reaches the publisher.
        if let Some(kind) = layer.keyframe_wanted {
            self.request_keyframe(now, mid, rid, kind);
        }
        let (keyframe, vp8) = match kind {
            MediaKind::Audio => (false, None),
            MediaKind::Video => starts_keyframe(params.spec().codec, &rtp.payload),
        };
        let header = &rtp.header.ext_vals;
        let ext_vals = ExtensionValues {
            audio_level: header.audio_level,
            voice_activity: header.voice_activity,
            video_orientation: header.video_orientation,
            ..ExtensionValues::default()
        };
        Polled::Propagate(Propagated::Media(
            self.id,
            Box::new(Packet {
                mid,
                layer: rid,
                params,
                seq: *rtp.seq_no,
                time: rtp.header.timestamp,
                clock_rate: rtp.time.frequency().get(),
                arrival: rtp.timestamp,
                marker: rtp.header.marker,
                keyframe,
                vp8,
                ext_vals,
                payload: rtp.payload,
            }),
        ))
    }

    /// Asks this participant (as a publisher) for a keyframe on one of its tracks.
    /// Returns whether a request was actually sent.
    pub fn request_keyframe(
        &mut self,
        now: Instant,
        mid: Mid,
        rid: Option<Rid>,
        kind: KeyframeRequestKind,
    ) -> bool {
        let Some(track) = self.tracks_in.iter_mut().find(|t| t.mid == mid) else {
            return false;
        };
        if track.kind != MediaKind::Video {
            return false;
        }
        let Some(track) = track.layer_mut(&rid) else {
            return false;
        };
        if !self.connected {
            // str0m would accept the request and send the PLI nowhere: keep it for the
            // first media after connecting.
            track.keyframe_wanted = Some(kind);
            return false;
        }
        let recent = track
            .last_keyframe_request
            .is_some_and(|t| now.saturating_duration_since(t) < KEYFRAME_REQUEST_INTERVAL);
        if recent {
            return false;
        }
        // No receive stream exists before the first RTP of a simulcast layer (browsers name
        // layers by rid, not SSRC): remember the request and retry when media arrives.
        let mut api = self.rtc.direct_api();
        let Some(stream) = api.stream_rx_by_mid(mid, rid) else {
            track.keyframe_wanted = Some(kind);
            return false;
        };
        stream.request_keyframe(kind);
        track.keyframe_wanted = None;
        track.last_keyframe_request = Some(now);
        true
    }

    /// Tells str0m's estimator what to aim for: `desired` is what this participant's best
    /// allocation would need, `minimum` the rate to sustain with padding so the estimate can
    /// grow towards the next layer up.
    pub fn set_bwe_bitrates(&mut self, minimum: u64, desired: u64) {
        if self.bwe_bitrates == Some((minimum, desired)) {
            return;
        }
        self.bwe_bitrates = Some((minimum, desired));
        self.rtc
            .bwe()
            .set_bitrate(Bitrate::bps(minimum), Bitrate::bps(desired));
    }

    /// Starts str0m's estimator over from `bps`: it forgets what it measured and probes
    /// again, for up to the desired bitrate already set.
    pub fn restart_estimate(&mut self, bps: u64) {
        if self.initial_estimate.is_none() {
            return;
        }
        self.rtc.bwe().reset(Bitrate::bps(bps));
        self.estimate_bps = Some(bps);
    }

    /// A track published by someone else is to be forwarded to this participant.
    pub fn add_track_out(&mut self, source: TrackRef, kind: MediaKind) {
        self.tracks_out.push(TrackOut {
            source,
            kind,
            state: TrackOutState::ToOpen,
            switch: LayerSwitch::default(),
        });
    }

    /// A publisher left: stop every track of theirs forwarded here, at once.
    ///
    /// The m-line is stopped in str0m right away, which also drops its send buffers, so not
    /// even a retransmission of the publisher's media leaves after this call.
    pub fn source_gone(&mut self, origin: ParticipantId) {
        let mut api = self.rtc.sdp_api();
        let offer_now = self.pending.is_none();
        self.tracks_out.retain_mut(|t| {
            if t.source.origin != origin {
                return true;
            }
            match t.state {
                TrackOutState::ToOpen => false,
                TrackOutState::Open(m) => {
                    api.stop_media(m);
                    // Without an offer outstanding, announce the stop now; otherwise the
                    // m-line is already inert and shows as stopped in the next offer.
                    t.state = TrackOutState::Stopping(m);
                    offer_now
                }
                // Not in the session until the answer arrives: stop it after that.
                TrackOutState::Negotiating(m) => {
                    t.state = TrackOutState::ToStop(m);
                    true
                }
                TrackOutState::ToStop(_) | TrackOutState::Stopping(_) => true,
            }
        });
        if offer_now && let Some((offer, pending)) = api.apply() {
            self.pending = Some(pending);
            self.queued_offer = Some(offer.to_sdp_string());
        }
    }

    /// Writes a publisher's packet to the matching outgoing track, if negotiated.
    /// Returns whether it was written.
    pub fn write_packet(&mut self, now: Instant, origin: ParticipantId, p: &Packet) -> bool {
        if !self.connected {
            return false;
        }
        let source = TrackRef { origin, mid: p.mid };
        let Some(out) = self.tracks_out.iter_mut().find(|t| t.source == source) else {
            return false;
        };
        let Some(mid) = out.open_mid() else {
            return false;
        };
        let Some(pt) = self
            .rtc
            .codec_config()
            .match_params(p.params)
            .map(|c| c.pt())
        else {
            return false;
        };
        let mut api = self.rtc.direct_api();
        let Some(stream) = api.stream_tx_by_mid(mid, None) else {
            return false;
        };
        let video = out.kind == MediaKind::Video;
        // A link carrying less than it is sent (the pacer's queue for it grows) skips
        // pictures until the next keyframe rather than queue them: queued video would only
        // grow, in memory and in delay, and be stale by the time it went.
        if video && out.switch.between_pictures() {
            let waiting_since = stream.queue_info().and_then(|q| q.first_unsent());
            if waiting_since
                .is_some_and(|t| now.saturating_duration_since(t) > MAX_VIDEO_QUEUE_DELAY)
            {
                out.switch.restart();
                return false;
            }
        }
        // Video: exactly one layer, switched only at keyframes. Audio has one stream.
        let rewritten = match video {
            true => out.switch.forward(p),
            false => out.switch.forward_all(p),
        };
        let Some(r) = rewritten else {
            return false;
        };
        let mut write = RtpWrite::new(pt, r.seq, r.time, p.arrival, p.payload.clone())
            .marker(p.marker)
            .ext_vals(p.ext_vals.clone())
            .nackable(video);
        if let Some(patch) = r.vp8 {
            write = write.vp8_patch(patch);
        }
        stream.write_rtp(write);
        true
    }

    /// Handles the client's answer to the room's last offer.
    pub fn handle_answer(&mut self, answer: &str) -> Result<(), Error> {
        let answer =
            SdpAnswer::from_sdp_string(answer).map_err(|e| Error::InvalidSdp(e.to_string()))?;
        let pending = self.pending.take().ok_or(Error::NoPendingOffer(self.id))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| Error::Negotiation(e.to_string()))?;
        self.tracks_out.retain_mut(|t| match t.state {
            TrackOutState::Negotiating(m) => {
                t.state = TrackOutState::Open(m);
                if t.kind == MediaKind::Video
                    && let Some(stream) = self.rtc.direct_api().stream_tx_by_mid(m, None)
                {
                    stream.set_rtx_cache(SEND_BUFFER_VIDEO, SEND_BUFFER_VIDEO_AGE, RTX_RATIO_CAP);
                }
                // A new decoder: nothing until a keyframe of the layer the room chooses.
                t.switch.restart();
                true
            }
            TrackOutState::Stopping(_) => false,
            _ => true,
        });
        Ok(())
    }

    /// Handles an offer from the client (it added or removed tracks, or restarts ICE).
    /// Returns the answer, and whether the offer restarted ICE.
    pub fn handle_offer(&mut self, offer: &str) -> Result<(String, bool), Error> {
        let ufrag = ice_ufrag(offer).map(str::to_owned);
        let offer =
            SdpOffer::from_sdp_string(offer).map_err(|e| Error::InvalidSdp(e.to_string()))?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| Error::Negotiation(e.to_string()))?;
        // New ICE credentials in an offer restart ICE (RFC 8839): the client moved to another
        // network, whose capacity says nothing of the old one's. Estimate it afresh, from
        // the start and with the first probes, as browsers do when their route changes.
        let ice_restart = ufrag.is_some() && ufrag != self.remote_ufrag;
        if ice_restart {
            self.remote_ufrag = ufrag;
            if let Some(initial) = self.initial_estimate {
                self.restart_estimate(initial.as_u64());
            }
        }
        // Accepting an offer rolls back our own outstanding offer: redo those changes later.
        self.pending = None;
        self.queued_offer = None;
        for t in &mut self.tracks_out {
            t.state = match t.state {
                TrackOutState::Negotiating(_) => TrackOutState::ToOpen,
                TrackOutState::Stopping(m) => TrackOutState::ToStop(m),
                s => s,
            };
        }
        Ok((answer.to_sdp_string(), ice_restart))
    }

    /// Builds an offer for tracks to add or stop, unless one is already outstanding.
    fn negotiate_if_needed(&mut self) -> Option<String> {
        if self.pending.is_some() {
            return None;
        }
        let needed = self
            .tracks_out
            .iter()
            .any(|t| matches!(t.state, TrackOutState::ToOpen | TrackOutState::ToStop(_)));
        if !needed {
            return None;
        }
        let mut change = self.rtc.sdp_api();
        let mut added = Vec::new();
        for (i, t) in self.tracks_out.iter().enumerate() {
            match t.state {
                TrackOutState::ToOpen => {
                    // The stream id groups a publisher's audio and video in the browser.
                    let stream = Some(t.source.origin.to_string());
                    let mid =
                        change.add_media(t.kind.into(), Direction::SendOnly, stream, None, None);
                    added.push((i, TrackOutState::Negotiating(mid)));
                }
                TrackOutState::ToStop(m) => {
                    change.stop_media(m);
                    added.push((i, TrackOutState::Stopping(m)));
                }
                _ => {}
            }
        }
        let Some((offer, pending)) = change.apply() else {
            // Only stops of m-lines that are already inert locally (see `source_gone`):
            // nothing to negotiate now; the next offer shows them stopped.
            self.tracks_out
                .retain(|t| !matches!(t.state, TrackOutState::ToStop(_)));
            return None;
        };
        for (i, state) in added {
            self.tracks_out[i].state = state;
        }
        self.pending = Some(pending);
        Some(offer.to_sdp_string())
    }
}

/// The session's ICE username fragment (`a=ice-ufrag:`, at session or media level; Haven's
/// clients bundle everything, so the first one is the one), if the SDP has one.
fn ice_ufrag(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|l| l.trim_end().strip_prefix("a=ice-ufrag:"))
}

/// Whether a video payload starts a keyframe, and its VP8 payload descriptor if it is VP8.
fn starts_keyframe(codec: Codec, payload: &[u8]) -> (bool, Option<Vp8Descriptor>) {
    match codec {
        Codec::Vp8 => {
            let descriptor = Vp8Descriptor::parse(payload).ok();
            let keyframe = descriptor.is_some_and(|d| d.starts_keyframe(payload));
            (keyframe, descriptor)
        }
        Codec::H264 => (format::detect_h264_keyframe(payload), None),
        _ => (false, None),
    }
}
