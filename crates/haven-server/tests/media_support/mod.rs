//! Real-socket harness for the media transport: str0m client peers (full ICE, as browsers)
//! on 127.0.0.1, each driven by its own small loop, joining rooms of a real `MediaServer`
//! over UDP or ICE-TCP (RFC 4571 framing). Signalling is a direct channel per client.
//! Nothing sleeps: every wait is on real I/O or a channel, guarded by `tokio::time::timeout`.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haven_server::media::{
    MediaConfig, MediaServer, ParticipantId, RoomEvent, RoomEvents, RoomHandle,
};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive, TcpType, Transmit};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::timeout;

#[path = "../synthetic/mod.rs"]
mod synthetic;
use synthetic::{Publisher, count_frame};

/// Generous for loopback, where a call connects in well under a second.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A media server on 127.0.0.1 with a free port.
pub async fn start_server() -> MediaServer {
    let config = MediaConfig {
        udp_port: 0,
        bind_ip: Ipv4Addr::LOCALHOST.into(),
        public_addrs: Vec::new(),
    };
    MediaServer::start(config)
        .await
        .expect("the media server binds on loopback")
}

/// Routes a room's renegotiation offers to the clients, as signalling would.
#[derive(Clone, Default)]
pub struct Signalling {
    offers: Arc<Mutex<HashMap<ParticipantId, mpsc::Sender<String>>>>,
    pub events: Arc<Mutex<Vec<RoomEvent>>>,
}

impl Signalling {
    pub fn start(mut events: RoomEvents) -> Signalling {
        let sig = Signalling::default();
        let s = sig.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let RoomEvent::Offer { participant, sdp } = &event {
                    let to = s
                        .offers
                        .lock()
                        .expect("no panics")
                        .get(participant)
                        .cloned();
                    if let Some(to) = to {
                        let _ = to.send(sdp.clone()).await;
                    }
                }
                s.events.lock().expect("no panics").push(event);
            }
        });
        sig
    }
}

/// How a client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Udp,
    Tcp,
}

/// What a client has seen so far.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Datagrams (or frames) that arrived at its socket.
    pub datagrams: u64,
    /// Media frames received, per publisher stream id ("p1"…): (audio, video).
    pub frames: HashMap<String, (u64, u64)>,
    /// ICE and DTLS are up.
    pub connected: bool,
    /// The server closed the ICE-TCP connection.
    pub closed: bool,
}

impl Seen {
    pub fn from(&self, publisher: ParticipantId) -> (u64, u64) {
        self.frames
            .get(&publisher.to_string())
            .copied()
            .unwrap_or_default()
    }
}

pub struct Client {
    pub id: ParticipantId,
    pub seen: watch::Receiver<Seen>,
    task: JoinHandle<()>,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Client {
    /// Creates a browser-like peer offering audio and video (sendrecv), joins it to the
    /// room through `RoomHandle::join`, and starts its loop.
    pub async fn join(
        room: &RoomHandle,
        sig: &Signalling,
        id: u64,
        via: Via,
        server: SocketAddr,
    ) -> Client {
        let id = ParticipantId::new(id);
        let net = Net::open(via, server).await;
        let local = net.local;
        let mut rtc = Rtc::builder().build(Instant::now());
        let candidate = match via {
            Via::Udp => Candidate::host(local, "udp"),
            Via::Tcp => Candidate::builder()
                .tcp()
                .host(local)
                .tcptype(TcpType::Active)
                .build(),
        };
        rtc.add_local_candidate(candidate.expect("a loopback host candidate is valid"));
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let video = change.add_media(MediaKind::Video, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().expect("new media is a change");
        let (offers_tx, offers) = mpsc::channel(16);
        sig.offers.lock().expect("no panics").insert(id, offers_tx);
        let answer = room
            .join(id, offer.to_sdp_string())
            .await
            .expect("the room admits the client");
        let answer = SdpAnswer::from_sdp_string(&answer).expect("the room's answer parses");
        rtc.sdp_api()
            .accept_answer(pending, answer)
            .expect("the room's answer is acceptable");
        let (seen_tx, seen) = watch::channel(Seen::default());
        let peer = Peer {
            id,
            rtc,
            room: room.clone(),
            media: Publisher::new(audio, video, 2500),
            seen: seen_tx,
        };
        let task = tokio::spawn(peer.run(net, offers));
        Client { id, seen, task }
    }

    /// Waits until this client has received at least this many audio and video frames
    /// from `publisher`.
    pub async fn wait_for_media(&self, publisher: ParticipantId, audio: u64, video: u64) {
        let mut seen = self.seen.clone();
        let got = timeout(
            CALL_TIMEOUT,
            seen.wait_for(|s| {
                let (a, v) = s.from(publisher);
                a >= audio && v >= video
            }),
        )
        .await;
        let last = self.seen.borrow().clone();
        assert!(
            matches!(got, Ok(Ok(_))),
            "{} did not receive {audio} audio and {video} video frames from {publisher}: {last:?}",
            self.id
        );
    }
}

/// The client's socket: a reader task feeding a channel, and a way to send.
struct Net {
    local: SocketAddr,
    server: SocketAddr,
    proto: Protocol,
    incoming: mpsc::Receiver<Vec<u8>>,
    sender: Sender,
}

enum Sender {
    Udp(Arc<UdpSocket>),
    Tcp(OwnedWriteHalf),
}

impl Net {
    async fn open(via: Via, server: SocketAddr) -> Net {
        let (tx, incoming) = mpsc::channel(1024);
        match via {
            Via::Udp => {
                let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                    .await
                    .expect("bind");
                let socket = Arc::new(socket);
                let local = socket.local_addr().expect("bound");
                let reader = socket.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 2048];
                    while let Ok((n, _)) = reader.recv_from(&mut buf).await {
                        if tx.send(buf[..n].to_vec()).await.is_err() {
                            return;
                        }
                    }
                });
                let sender = Sender::Udp(socket);
                Net {
                    local,
                    server,
                    proto: Protocol::Udp,
                    incoming,
                    sender,
                }
            }
            Via::Tcp => {
                let stream = TcpStream::connect(server).await.expect("connect ICE-TCP");
                stream.set_nodelay(true).expect("nodelay");
                let local = stream.local_addr().expect("connected");
                let (mut reader, writer) = stream.into_split();
                tokio::spawn(async move {
                    loop {
                        let mut len = [0u8; 2];
                        if reader.read_exact(&mut len).await.is_err() {
                            return; // EOF: the channel closing tells the client.
                        }
                        let mut frame = vec![0u8; usize::from(u16::from_be_bytes(len))];
                        if reader.read_exact(&mut frame).await.is_err()
                            || tx.send(frame).await.is_err()
                        {
                            return;
                        }
                    }
                });
                let sender = Sender::Tcp(writer);
                Net {
                    local,
                    server,
                    proto: Protocol::Tcp,
                    incoming,
                    sender,
                }
            }
        }
    }

    async fn send(&mut self, t: Transmit) {
        match &mut self.sender {
            Sender::Udp(socket) => {
                let _ = socket.send_to(&t.contents, t.destination).await;
            }
            Sender::Tcp(writer) => {
                let mut framed = (t.contents.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&t.contents);
                let _ = writer.write_all(&framed).await;
            }
        }
    }
}

/// One client peer's state, owned by its loop.
struct Peer {
    id: ParticipantId,
    rtc: Rtc,
    room: RoomHandle,
    /// The synthetic media it publishes.
    media: Publisher,
    seen: watch::Sender<Seen>,
}

impl Peer {
    /// str0m's loop: drain until a timeout, then apply one input (a datagram, an offer from
    /// the room, time passing, or one media frame due).
    async fn run(mut self, mut net: Net, mut offers: mpsc::Receiver<String>) {
        let mut closed = false;
        loop {
            let deadline = loop {
                match self.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => break t,
                    Ok(Output::Transmit(t)) => net.send(t).await,
                    Ok(Output::Event(e)) => self.event(e),
                    Err(_) => return,
                }
            };
            if self.media.write_due_frame(&mut self.rtc) {
                continue;
            }
            let wake = deadline.min(self.media.next_frame_due());
            tokio::select! {
                packet = net.incoming.recv(), if !closed => match packet {
                    Some(packet) => {
                        self.seen.send_modify(|s| s.datagrams += 1);
                        let now = Instant::now();
                        if let Ok(r) = Receive::new(net.proto, net.server, net.local, &packet) {
                            // A browser shrugs off packets it cannot use; so does this client.
                            let _ = self.rtc.handle_input(Input::Receive(now, r));
                        }
                    }
                    None => {
                        closed = true;
                        self.seen.send_modify(|s| s.closed = true);
                    }
                },
                Some(offer) = offers.recv() => {
                    let offer = SdpOffer::from_sdp_string(&offer).expect("the room's offer parses");
                    let answer = self.rtc.sdp_api().accept_offer(offer).expect("acceptable offer");
                    // The room may have ended meanwhile; then there is nobody to answer.
                    let _ = self.room.answer(self.id, answer.to_sdp_string()).await;
                }
                () = tokio::time::sleep_until(wake.into()) => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::Connected => self.seen.send_modify(|s| s.connected = true),
            Event::KeyframeRequest(_) => self.media.keyframe_requested(),
            Event::MediaData(data) => {
                let rtc = &self.rtc;
                self.seen
                    .send_modify(|s| count_frame(rtc, &data, &mut s.frames));
            }
            _ => {}
        }
    }
}
