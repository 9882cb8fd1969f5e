//! A tiny deterministic world for media tests: str0m "browser" peers (full ICE) talking to a
//! `Room` through an in-memory network with seeded loss and reordering, in simulated time.
//! Nothing here sleeps or reads the clock except to pick an arbitrary starting instant.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use haven_media::{Datagram, ParticipantId, Room, RoomConfig, RoomEvent, RoomOutput, Transport};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RawPacket;
use str0m::{Candidate, Event, Input, Output, Rtc};

/// A simulcast publisher's layers, lowest first, with the size of each layer's frames.
pub const LAYERS: [(&str, usize); 3] = [("q", 300), ("h", 900), ("f", 2500)];

/// The simulation advances in steps of this size.
pub const TICK: Duration = Duration::from_millis(5);

/// A seeded pseudo-random generator (SplitMix64): tests must be reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant for tests.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        unit < p
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

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
    ssrc_stream: HashMap<u32, String>,
    /// Keyframe requests the server sent to this client as a publisher.
    pub keyframe_requests: usize,
    /// Frames written so far, to number them and to stamp media time.
    audio_frames: u64,
    video_frames: u64,
    /// The server asked for a keyframe: the next video frame is one.
    force_keyframe: bool,
    /// Whether it publishes its video as three simulcast layers ([`LAYERS`]).
    pub simulcast: bool,
    /// Keyframes asked for per simulcast layer.
    force_layer_keyframe: [bool; 3],
    /// The RFC 6464 level (0 loudest, -127 silence) stamped on its audio, if any.
    pub audio_level: Option<i8>,
    /// Every video frame received, per publisher. The marker is the frame's second byte: 0
    /// for an unlayered stream, 1–3 for [`LAYERS`].
    pub video_log: HashMap<String, Vec<VideoFrame>>,
    /// When it started publishing (first connected tick); frame n is due n intervals later.
    publish_start: Option<Instant>,
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

    /// Frames of each kind received from the publisher with this participant id.
    pub fn from(&self, publisher: ParticipantId) -> ReceivedCount {
        self.received
            .get(&publisher.to_string())
            .copied()
            .unwrap_or_default()
    }
}

/// An in-flight datagram.
struct Packet {
    deliver_at: Instant,
    /// Send order, to break ties deterministically.
    seq: u64,
    source: SocketAddr,
    destination: SocketAddr,
    contents: Vec<u8>,
}

/// The world: a room, its clients, and the network between them.
pub struct Sim {
    pub now: Instant,
    pub room: Room,
    pub server: SocketAddr,
    pub clients: Vec<Client>,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Loss on one client's link (both directions), instead of `loss`.
    pub link_loss: HashMap<SocketAddr, f64>,
    /// One-way delay is `base_delay` plus up to `jitter`, drawn per datagram.
    pub base_delay: Duration,
    pub jitter: Duration,
    /// Every event the room emitted, with its time.
    pub events: Vec<(Instant, RoomEvent)>,
    /// Every datagram the room asked to send: (time, destination).
    pub transmits: Vec<(Instant, SocketAddr)>,
    /// The first datagrams clients sent to the room (STUN, DTLS, SRTP), as material for
    /// malformed-input tests.
    pub uplink_samples: Vec<Vec<u8>>,
    rng: Rng,
    net: Vec<Packet>,
    seq: u64,
}

impl Sim {
    pub fn new(seed: u64, loss: f64) -> Self {
        // Only an anchor for simulated time; everything after this is `now + n * TICK`.
        let now = Instant::now();
        let server: SocketAddr = (Ipv4Addr::new(192, 0, 2, 1), 3478).into();
        let room = Room::new(
            now,
            RoomConfig {
                local_addrs: vec![server],
            },
        );
        Sim {
            now,
            room,
            server,
            clients: Vec::new(),
            loss,
            link_loss: HashMap::new(),
            base_delay: Duration::from_millis(10),
            jitter: Duration::from_millis(20),
            events: Vec::new(),
            transmits: Vec::new(),
            uplink_samples: Vec::new(),
            rng: Rng::new(seed),
            net: Vec::new(),
            seq: 0,
        }
    }

    /// A browser joins: offers audio and video (sendrecv, as browsers do) and the room answers.
    pub fn join(&mut self, n: u8) -> ParticipantId {
        self.join_with(n, false)
    }

    /// A browser joins publishing its video as three simulcast layers ([`LAYERS`]).
    pub fn join_simulcast(&mut self, n: u8) -> ParticipantId {
        self.join_with(n, true)
    }

    fn join_with(&mut self, n: u8, simulcast: bool) -> ParticipantId {
        let id = ParticipantId::new(u64::from(n));
        let addr: SocketAddr = (Ipv4Addr::new(10, 0, 0, n), 50_000 + u16::from(n)).into();
        // Raw packets let tests see individual RTP arrivals, not only whole frames.
        let mut rtc = Rtc::builder().enable_raw_packets(true).build(self.now);
        rtc.add_local_candidate(Candidate::host(addr, "udp").expect("a valid host candidate"));
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let layers = simulcast.then(|| {
            let mut s = Simulcast::new();
            for (rid, _) in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        let video = change.add_media(MediaKind::Video, Direction::SendRecv, None, None, layers);
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
            video_mid: Some(video),
            received: HashMap::new(),
            rtp_arrivals: HashMap::new(),
            ssrc_stream: HashMap::new(),
            keyframe_requests: 0,
            audio_frames: 0,
            video_frames: 0,
            force_keyframe: false,
            simulcast,
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

    /// Ejects a participant: the room drops it, and its browser stops being driven by the
    /// room's signalling (it keeps sending into the void, as a real one would for a moment).
    pub fn remove(&mut self, id: ParticipantId) {
        assert!(self.room.remove(id), "participant was in the room");
        if let Some(c) = self.clients.iter_mut().find(|c| c.id == id) {
            c.in_room = false;
        }
    }

    /// Runs the world for `d` of simulated time.
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

    /// One tick: drain everyone, deliver due packets, write media, advance time.
    pub fn step(&mut self) {
        self.drain_room();
        for i in 0..self.clients.len() {
            self.drain_client(i);
        }
        self.deliver_due();
        self.write_media();
        self.now += TICK;
        self.room.handle_timeout(self.now);
        for c in &mut self.clients {
            c.rtc
                .handle_input(Input::Timeout(self.now))
                .expect("client timeout ok");
        }
    }

    /// Feeds one raw datagram to the room as if it came from `source`.
    pub fn inject(&mut self, source: SocketAddr, contents: &[u8]) {
        let d = Datagram {
            transport: Transport::Udp,
            source,
            destination: self.server,
            contents,
        };
        self.room.accepts(&d);
        self.room.handle_input(self.now, d);
        self.drain_room();
    }

    fn send(&mut self, source: SocketAddr, destination: SocketAddr, contents: Vec<u8>) {
        if destination == self.server && self.uplink_samples.len() < 200 {
            self.uplink_samples.push(contents.clone());
        }
        let loss = self
            .link_loss
            .get(&source)
            .or_else(|| self.link_loss.get(&destination))
            .copied()
            .unwrap_or(self.loss);
        if self.rng.chance(loss) {
            return;
        }
        // 10–30 ms of one-way delay: packets sent close together often swap places.
        let jitter = self.jitter.as_millis() as u64;
        let delay = self.base_delay + Duration::from_millis(self.rng.below(jitter + 1));
        self.seq += 1;
        self.net.push(Packet {
            deliver_at: self.now + delay,
            seq: self.seq,
            source,
            destination,
            contents,
        });
    }

    fn drain_room(&mut self) {
        loop {
            let mut offers = Vec::new();
            loop {
                match self.room.poll_output() {
                    RoomOutput::Timeout(_) => break,
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
            }
            if offers.is_empty() {
                return;
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

    fn drain_client(&mut self, i: usize) {
        loop {
            let c = &mut self.clients[i];
            match c.rtc.poll_output().expect("client poll ok") {
                Output::Timeout(_) => return,
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
        let mut due: Vec<Packet> = Vec::new();
        let mut i = 0;
        while i < self.net.len() {
            if self.net[i].deliver_at <= now {
                due.push(self.net.swap_remove(i));
            } else {
                i += 1;
            }
        }
        due.sort_by_key(|p| (p.deliver_at, p.seq));
        for p in due {
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

    /// Every connected client publishes Opus-sized audio every 20 ms and VP8-sized video
    /// at about 30 frames a second.
    fn write_media(&mut self) {
        let now = self.now;
        for c in &mut self.clients {
            if !c.rtc.is_connected() {
                continue;
            }
            let start = *c.publish_start.get_or_insert(now);
            let elapsed = now.duration_since(start).as_millis() as u64;
            if let Some(mid) = c.audio_mid
                && elapsed >= c.audio_frames * 20
            {
                let time = MediaTime::new(c.audio_frames * 960, Frequency::FORTY_EIGHT_KHZ);
                let opus = vec![0xFC; 80];
                write(
                    &mut c.rtc,
                    mid,
                    Codec::Opus,
                    now,
                    time,
                    opus,
                    None,
                    c.audio_level,
                );
                c.audio_frames += 1;
            }
            if let Some(mid) = c.video_mid
                && elapsed >= c.video_frames * 33
            {
                // VP8 frame tag: bit 0 clear means keyframe. The second byte marks the layer.
                let periodic = c.video_frames % 90 == 0;
                let time = MediaTime::new(c.video_frames * 3000, Frequency::NINETY_KHZ);
                if c.simulcast {
                    for (i, (rid, size)) in LAYERS.iter().enumerate() {
                        let key = c.force_layer_keyframe[i] || periodic;
                        c.force_layer_keyframe[i] = false;
                        let mut frame = vec![0x55; *size];
                        frame[0] = if key { 0x10 } else { 0x11 };
                        frame[1] = i as u8 + 1;
                        let rid = Some(Rid::from(*rid));
                        write(&mut c.rtc, mid, Codec::Vp8, now, time, frame, rid, None);
                    }
                } else {
                    let key = c.force_keyframe || periodic;
                    c.force_keyframe = false;
                    let mut frame = vec![0x55; 2500];
                    frame[0] = if key { 0x10 } else { 0x11 };
                    frame[1] = 0;
                    write(&mut c.rtc, mid, Codec::Vp8, now, time, frame, None, None);
                }
                c.video_frames += 1;
            }
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
