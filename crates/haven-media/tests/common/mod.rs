//! A tiny deterministic world for media tests: str0m "browser" peers (full ICE) talking to a
//! `Room` through an in-memory network ([`net`]: seeded loss, jitter and reordering, and
//! bottleneck links), in simulated time driven like an event loop. Nothing here sleeps or
//! reads the clock except to pick an arbitrary starting instant. (str0m's own randomness,
//! in ICE credentials and DTLS, still varies from run to run.)
#![allow(dead_code)] // Each test binary uses a different part of the harness.

mod client;
pub mod net;
mod rng;
pub mod video;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use haven_media::{
    Datagram, MediaPolicy, ParticipantId, Room, RoomConfig, RoomEvent, RoomOutput, Transport,
};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaKind, Rid, Simulcast, SimulcastLayer};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RawPacket;
use str0m::{Candidate, Event, Input, Output, Rtc};

use client::Camera;
pub use client::{Client, ReceivedCount, VideoFrame};
use net::Network;
#[allow(unused_imports)] // Not every test binary uses both.
pub use rng::{Rng, seed};

/// A simulcast publisher's layers, lowest first, with the size of each layer's frames.
pub const LAYERS: [(&str, usize); 3] = [("q", 300), ("h", 900), ("f", 2500)];

/// The simulation never advances by more than this in one step.
pub const TICK: Duration = Duration::from_millis(5);
/// How long clients may take to connect, in simulated time. str0m retransmits a lost DTLS
/// flight after 1, 2, 4 and 8 s, so on the tests' 5% lossy network a handshake now and then
/// needs more than 10 s (seen in CI); the wait ends as soon as everyone is connected.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(20);

/// The world: a room, its clients, and the network between them.
pub struct Sim {
    pub now: Instant,
    pub room: Room,
    pub server: SocketAddr,
    pub clients: Vec<Client>,
    /// The network between the room and the clients.
    pub net: Network,
    /// Every event the room emitted, with its time.
    pub events: Vec<(Instant, RoomEvent)>,
    /// Every datagram the room asked to send: (time, destination).
    pub transmits: Vec<(Instant, SocketAddr)>,
    /// The first datagrams clients sent to the room (STUN, DTLS, SRTP), as material for
    /// malformed-input tests.
    pub uplink_samples: Vec<Vec<u8>>,
    /// The latest datagram each address sent to the room.
    pub last_uplink: HashMap<SocketAddr, Vec<u8>>,
    /// Steps in a row that could not move time on.
    stalled: u32,
}

impl Sim {
    /// A room with the default media policy, as Haven's server runs it.
    pub fn new(seed: u64, loss: f64) -> Self {
        Self::with_policy(seed, loss, MediaPolicy::default())
    }

    pub fn with_policy(seed: u64, loss: f64, policy: MediaPolicy) -> Self {
        // str0m draws its SSRCs, first sequence numbers and STUN transaction ids from
        // fastrand's generator for this thread. Still random per process: the iteration
        // order of str0m's hash maps (the pacer breaks ties by it) and the DTLS and SRTP
        // keys. So a seed reproduces the network, not every run, and assertions hold over
        // many runs of each seed.
        fastrand::seed(seed);
        // Only an anchor for simulated time; everything after this is `now + n * TICK`.
        let now = Instant::now();
        let server: SocketAddr = (Ipv4Addr::new(192, 0, 2, 1), 3478).into();
        let room = Room::with_policy(
            now,
            RoomConfig {
                local_addrs: vec![server],
            },
            policy,
        );
        Sim {
            now,
            room,
            server,
            clients: Vec::new(),
            net: Network::new(seed, loss, server),
            events: Vec::new(),
            transmits: Vec::new(),
            uplink_samples: Vec::new(),
            last_uplink: HashMap::new(),
            stalled: 0,
        }
    }

    /// A browser joins: offers audio and video (sendrecv, as browsers do) and the room answers.
    pub fn join(&mut self, n: u8) -> ParticipantId {
        self.join_with(n, Camera::Single)
    }

    /// A browser joins publishing its video as three simulcast layers ([`LAYERS`]).
    pub fn join_simulcast(&mut self, n: u8) -> ParticipantId {
        self.join_with(n, Camera::Simulcast)
    }

    /// A browser joins with its camera off: it publishes audio only (and receives everything).
    pub fn join_camera_off(&mut self, n: u8) -> ParticipantId {
        self.join_with(n, Camera::Off)
    }

    fn join_with(&mut self, n: u8, camera: Camera) -> ParticipantId {
        let id = ParticipantId::new(u64::from(n));
        let addr: SocketAddr = (Ipv4Addr::new(10, 0, 0, n), 50_000 + u16::from(n)).into();
        // Raw packets let tests see individual RTP arrivals, not only whole frames.
        let mut rtc = Rtc::builder().enable_raw_packets(true).build(self.now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("a valid host candidate"));
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let layers = (camera == Camera::Simulcast).then(|| {
            let mut s = Simulcast::new();
            for (rid, _) in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        let video = (camera != Camera::Off)
            .then(|| change.add_media(MediaKind::Video, Direction::SendRecv, None, None, layers));
        let (offer, pending) = change.apply().expect("new media is a change");
        let answer = self
            .room
            .join(self.now, id, &offer.to_sdp_string())
            .expect("join accepted");
        let answer = SdpAnswer::from_sdp_string(&answer).expect("the room's answer parses");
        rtc.sdp_api()
            .accept_answer(pending, answer)
            .expect("the room's answer is acceptable");
        self.clients.push(Client {
            id,
            addr,
            rtc,
            in_room: true,
            audio_mid: Some(audio),
            video_mid: video,
            received: HashMap::new(),
            rtp_arrivals: HashMap::new(),
            ssrc_stream: HashMap::new(),
            keyframe_requests: 0,
            audio_frames: 0,
            video_frames: 0,
            force_keyframe: false,
            simulcast: camera == Camera::Simulcast,
            force_layer_keyframe: [false; 3],
            audio_level: None,
            video_log: HashMap::new(),
            publish_start: None,
        });
        id
    }

    pub fn client(&self, id: ParticipantId) -> &Client {
        self.clients
            .iter()
            .find(|c| c.id == id)
            .expect("a client with this id")
    }

    fn client_mut(&mut self, id: ParticipantId) -> &mut Client {
        self.clients
            .iter_mut()
            .find(|c| c.id == id)
            .expect("a client with this id")
    }

    /// The client's device changes networks (Wi-Fi to mobile data): its old address stops
    /// existing at once, datagrams in flight to or from it included. The client keeps its
    /// peer connection but reaches nobody until it restarts ICE ([`Sim::ice_restart`]).
    pub fn move_client(&mut self, id: ParticipantId, to: SocketAddr) {
        let c = self.client_mut(id);
        let from = std::mem::replace(&mut c.addr, to);
        self.net.kill(from);
    }

    /// The client restarts ICE from its current address, as a browser does after its
    /// network changed: an offer with new ICE credentials (and no candidates: the room is
    /// ICE-lite and learns the new address from the client's checks), answered by the room
    /// through signalling; then the client gathers its new host candidate.
    pub fn ice_restart(&mut self, id: ParticipantId) {
        let now = self.now;
        let c = self.client_mut(id);
        let mut change = c.rtc.sdp_api();
        change.ice_restart(false);
        let (offer, pending) = change.apply().expect("an ICE restart is a change");
        let answer = self
            .room
            .handle_offer(now, id, &offer.to_sdp_string())
            .expect("the room accepts the restart");
        let answer = SdpAnswer::from_sdp_string(&answer).expect("the room's answer parses");
        let c = self.client_mut(id);
        c.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("the room's answer is acceptable");
        let candidate = Candidate::host(c.addr, "udp").expect("a valid host candidate");
        c.rtc.add_local_candidate(candidate);
    }

    /// Ejects a participant: the room drops it, and its browser stops being driven by the
    /// room's signalling (it keeps sending into the void, as a real one would for a moment).
    pub fn remove(&mut self, id: ParticipantId) {
        assert!(self.room.remove(id), "participant was in the room");
        if let Some(c) = self.clients.iter_mut().find(|c| c.id == id) {
            c.in_room = false;
        }
    }

    /// Runs the world for `d` of simulated time.
    /// Runs for `d`; returns the frames each `(to, from)` pair's `to` received from `from`
    /// meanwhile.
    pub fn received_during(
        &mut self,
        pairs: &[(ParticipantId, ParticipantId)],
        d: Duration,
    ) -> Vec<ReceivedCount> {
        let before: Vec<_> = pairs
            .iter()
            .map(|(to, from)| self.client(*to).from(*from))
            .collect();
        self.run_for(d);
        pairs
            .iter()
            .zip(before)
            .map(|((to, from), b)| {
                let a = self.client(*to).from(*from);
                ReceivedCount {
                    audio: a.audio - b.audio,
                    video: a.video - b.video,
                }
            })
            .collect()
    }

    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.step();
        }
    }

    /// The room's events without SDP bodies, for assertion messages.
    pub fn event_summary(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|(t, e)| match e {
                RoomEvent::Offer { participant, .. } => format!("{t:?} Offer to {participant}"),
                e => format!("{t:?} {e:?}"),
            })
            .collect()
    }

    /// Runs until every client still in the room is connected (ICE and DTLS), at most `max`.
    pub fn run_until_connected(&mut self, max: Duration) {
        let end = self.now + max;
        while self.now < end {
            let all = self
                .clients
                .iter()
                .filter(|c| c.in_room)
                .all(|c| c.rtc.is_connected());
            let room_side = self.clients.iter().filter(|c| c.in_room).all(|c| {
                self.events
                    .iter()
                    .any(|(_, e)| *e == RoomEvent::Connected(c.id))
            });
            if all && room_side {
                return;
            }
            self.step();
        }
        panic!(
            "clients did not connect within {max:?}: {:?}",
            self.event_summary()
        );
    }

    /// One step of an event loop: deliver the datagrams due now, publish the media due
    /// now, drain the room and every client, then move time to the earliest thing anyone
    /// waits for (a timeout the room or a client asked for, the next datagram's arrival,
    /// the next media frame), at most [`TICK`] ahead.
    ///
    /// Honouring the room's timeouts exactly matters: str0m's pacer releases one packet per
    /// timeout, so a loop that only woke every few milliseconds would cap what the room can
    /// send and distort its bandwidth estimation (probes would seem to come back slower than
    /// they were sent).
    pub fn step(&mut self) {
        self.deliver_due();
        self.write_media();
        let mut next = self.drain_room();
        for i in 0..self.clients.len() {
            next = next.min(self.drain_client(i));
        }
        let next = [self.net.next_delivery(), self.next_media_at()]
            .into_iter()
            .flatten()
            .fold(next, Instant::min)
            .min(self.now + TICK);
        if next > self.now {
            self.now = next;
            self.stalled = 0;
        } else {
            // Something wants to run again at once (the pacer after each packet). It must
            // settle: a real event loop would spin on it.
            self.stalled += 1;
            assert!(
                self.stalled < 10_000,
                "the room or a client never lets time move on"
            );
        }
        self.room.handle_timeout(self.now);
        for c in &mut self.clients {
            c.rtc
                .handle_input(Input::Timeout(self.now))
                .expect("client timeout ok");
        }
    }

    /// When the next frame of audio or video is due from a connected client.
    fn next_media_at(&self) -> Option<Instant> {
        self.clients
            .iter()
            .filter(|c| c.rtc.is_connected())
            .map(|c| c.next_media_at().unwrap_or(self.now))
            .min()
    }

    /// Feeds one raw datagram to the room as if it came from `source`; returns the
    /// participant the room routed it to, if any.
    pub fn inject(&mut self, source: SocketAddr, contents: &[u8]) -> Option<ParticipantId> {
        let d = Datagram {
            transport: Transport::Udp,
            source,
            destination: self.server,
            contents,
        };
        let routed = self.room.accepts(&d);
        self.room.handle_input(self.now, d);
        self.drain_room();
        routed
    }

    fn send(&mut self, source: SocketAddr, destination: SocketAddr, contents: Vec<u8>) {
        if destination == self.server {
            if self.uplink_samples.len() < 200 {
                self.uplink_samples.push(contents.clone());
            }
            self.last_uplink.insert(source, contents.clone());
        }
        self.net.send(self.now, source, destination, contents);
    }

    /// Drains the room; returns when it wants its next timeout.
    fn drain_room(&mut self) -> Instant {
        loop {
            let mut offers = Vec::new();
            let next = loop {
                match self.room.poll_output() {
                    RoomOutput::Timeout(t) => break t,
                    RoomOutput::Transmit {
                        from_local,
                        to_remote,
                        contents,
                        ..
                    } => {
                        self.transmits.push((self.now, to_remote));
                        self.send(from_local, to_remote, contents);
                    }
                    RoomOutput::Event(e) => {
                        if let RoomEvent::Offer { participant, sdp } = &e {
                            offers.push((*participant, sdp.clone()));
                        }
                        self.events.push((self.now, e));
                    }
                }
            };
            if offers.is_empty() {
                return next;
            }
            // Signalling is instant and reliable here; the WebSocket layer is tested elsewhere.
            for (id, sdp) in offers {
                let Some(c) = self.clients.iter_mut().find(|c| c.id == id && c.in_room) else {
                    continue;
                };
                let offer = SdpOffer::from_sdp_string(&sdp).expect("the room's offer parses");
                let answer = c
                    .rtc
                    .sdp_api()
                    .accept_offer(offer)
                    .expect("the room's offer is acceptable");
                self.room
                    .handle_answer(self.now, id, &answer.to_sdp_string())
                    .expect("the answer is accepted");
            }
        }
    }

    /// Drains one client; returns when it wants its next timeout.
    fn drain_client(&mut self, i: usize) -> Instant {
        loop {
            let c = &mut self.clients[i];
            match c.rtc.poll_output().expect("client poll ok") {
                Output::Timeout(t) => return t,
                Output::Transmit(t) => {
                    let (s, d) = (t.source, t.destination);
                    self.send(s, d, t.contents.into());
                }
                Output::Event(Event::MediaData(data)) => {
                    let stream = c
                        .rtc
                        .media(data.mid)
                        .map(|m| m.stream_id().to_string())
                        .unwrap_or_default();
                    let count = c.received.entry(stream.clone()).or_default();
                    if data.params.spec().codec.is_audio() {
                        count.audio += 1;
                    } else {
                        count.video += 1;
                        let marker = data.data.get(1).copied().unwrap_or(0);
                        c.video_log.entry(stream).or_default().push(VideoFrame {
                            at: self.now,
                            time: data.time,
                            marker,
                            keyframe: data.is_keyframe(),
                            contiguous: data.contiguous,
                            seq: (**data.seq_range.start(), **data.seq_range.end()),
                        });
                    }
                }
                Output::Event(Event::KeyframeRequest(req)) => {
                    c.keyframe_requests += 1;
                    let layer = req
                        .rid
                        .and_then(|r| LAYERS.iter().position(|(l, _)| Rid::from(*l) == r));
                    match layer {
                        Some(i) => c.force_layer_keyframe[i] = true,
                        None => c.force_keyframe = true,
                    }
                }
                Output::Event(Event::RawPacket(raw)) => {
                    let RawPacket::RtpRx(header, _) = *raw else {
                        continue;
                    };
                    let ssrc = *header.ssrc;
                    if let Some(stream) = header
                        .ext_vals
                        .mid
                        .and_then(|m| c.rtc.media(m))
                        .map(|m| m.stream_id().to_string())
                    {
                        c.ssrc_stream.insert(ssrc, stream);
                    }
                    let stream = c.ssrc_stream.get(&ssrc).cloned().unwrap_or_default();
                    c.rtp_arrivals.entry(stream).or_default().push(self.now);
                }
                Output::Event(_) => {}
            }
        }
    }

    fn deliver_due(&mut self) {
        let now = self.now;
        for p in self.net.due(now) {
            if p.destination == self.server {
                let d = Datagram {
                    transport: Transport::Udp,
                    source: p.source,
                    destination: p.destination,
                    contents: &p.contents,
                };
                self.room.handle_input(now, d);
                self.drain_room();
            } else if let Some(i) = self.clients.iter().position(|c| c.addr == p.destination) {
                let c = &mut self.clients[i];
                let Ok(r) = Receive::new(Protocol::Udp, p.source, p.destination, &p.contents)
                else {
                    continue;
                };
                // A client may reject a stray packet (e.g. after it was ejected); browsers shrug.
                let _ = c.rtc.handle_input(Input::Receive(now, r));
                self.drain_client(i);
            }
        }
    }

    /// Every connected client publishes what is due.
    fn write_media(&mut self) {
        let now = self.now;
        for c in &mut self.clients {
            c.publish_due(now);
        }
    }
}
