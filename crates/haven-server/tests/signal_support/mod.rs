//! Harness for the signalling tests: a real Haven (tests/common) with its media server,
//! WebSocket clients (tokio-tungstenite) speaking the `/ws` protocol, and str0m client
//! peers (as in tests/media_support) whose offers and answers travel over that WebSocket.
//! Every wait is on real I/O or a channel, bounded by `tokio::time::timeout`.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::timeout;

#[path = "../synthetic/mod.rs"]
mod synthetic;
use synthetic::{Publisher, count_frame};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{Browser, TestApp};

/// Generous for loopback.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `/ws`, with a cookie header if given.
pub async fn connect(base: &str, cookie: Option<&str>) -> Socket {
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().expect("a valid ws URL");
    if let Some(cookie) = cookie {
        req.headers_mut()
            .insert("cookie", cookie.parse().expect("a valid cookie header"));
    }
    let (socket, _) = timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .expect("the WebSocket opens in time")
        .expect("the WebSocket upgrade succeeds");
    socket
}

/// What a client reads: a message, or the end of the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Msg(Value),
    /// The server closed (close frame code and reason, if any), or the socket ended.
    Closed(Option<(u16, String)>),
}

/// A WebSocket client without media.
pub struct Client {
    pub socket: Socket,
}

impl Client {
    pub async fn open(base: &str, cookie: Option<&str>) -> Client {
        Client {
            socket: connect(base, cookie).await,
        }
    }

    pub async fn send(&mut self, value: Value) {
        self.send_text(value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("the socket is open");
    }

    /// The next message or the end, within `WAIT`.
    pub async fn recv(&mut self) -> Incoming {
        recv(&mut self.socket, WAIT).await
    }

    /// Reads until a message of type `ty`, skipping `participants`/`mute` updates.
    pub async fn expect(&mut self, ty: &str) -> Value {
        loop {
            match self.recv().await {
                Incoming::Msg(m) if m["type"] == ty => return m,
                Incoming::Msg(m) if m["type"] == "participants" || m["type"] == "mute" => {}
                other => panic!("expected a {ty:?} message, got {other:?}"),
            }
        }
    }

    /// Reads until the connection ends (skipping messages); returns the close frame.
    pub async fn expect_closed(&mut self, within: Duration) -> Option<(u16, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match recv(&mut self.socket, left).await {
                Incoming::Closed(frame) => return frame,
                Incoming::Msg(_) => {}
            }
        }
    }

    /// Sends `join` and returns `welcome`.
    pub async fn join(&mut self, seat: Option<&str>) -> Value {
        self.join_with(&seat_fields(seat)).await
    }

    /// Sends `join` with these fields (`seat`, `invite` or `consultation`) and returns
    /// `welcome`.
    pub async fn join_with(&mut self, fields: &Value) -> Value {
        self.send(join_message(fields)).await;
        self.expect("welcome").await
    }
}

/// The `join` fields for a test room's seat (none for its host).
pub fn seat_fields(seat: Option<&str>) -> Value {
    match seat {
        Some(seat) => json!({ "seat": seat }),
        None => json!({}),
    }
}

fn join_message(fields: &Value) -> Value {
    let mut msg = json!({"type": "join", "v": 1});
    if let (Some(msg), Some(fields)) = (msg.as_object_mut(), fields.as_object()) {
        msg.extend(fields.clone());
    }
    msg
}

/// Reads the next message or the end within `within` (panics on a timeout).
pub async fn recv(socket: &mut Socket, within: Duration) -> Incoming {
    loop {
        let next = timeout(within, socket.next())
            .await
            .expect("the server answers in time");
        match next {
            Some(Ok(Message::Text(t))) => {
                return Incoming::Msg(serde_json::from_str(t.as_str()).expect("server sends JSON"));
            }
            Some(Ok(Message::Close(frame))) => {
                return Incoming::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Incoming::Closed(None),
        }
    }
}

/// A signed-in staff member's test room: the host's cookie and the guest's seat token.
pub struct TestRoom {
    pub cookie: String,
    pub seat: String,
    pub browser: Browser,
}

/// Signs in the setup admin and opens a test room through `POST /rooms/test`.
pub async fn open_test_room(app: &TestApp) -> TestRoom {
    let (_admin, browser) = app.signed_in_admin().await;
    let seat = open_room_with(&browser).await;
    TestRoom {
        cookie: browser.session_cookie(),
        seat,
        browser,
    }
}

/// Opens a (new) test room as `browser`'s staff member; returns the invitation's token.
pub async fn open_room_with(browser: &Browser) -> String {
    let csrf = browser.csrf().await;
    let page = browser.post_form_with(&csrf, "/rooms/test", &[]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page
        .body
        .find("/r/")
        .expect("the page shows an invitation link")
        + 3;
    page.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// What a media client has seen.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// Datagrams that arrived at its UDP socket.
    pub datagrams: u64,
    /// Media frames received per publisher stream id ("p1"…): (audio, video).
    pub frames: HashMap<String, (u64, u64)>,
    pub connected: bool,
}

impl Seen {
    pub fn from(&self, publisher: &str) -> (u64, u64) {
        self.frames.get(publisher).copied().unwrap_or_default()
    }
}

/// Commands from the test to a media client's task.
enum Cmd {
    Send(Value),
    /// Drops the WebSocket without a close handshake (a network change).
    DropSocket,
    /// Uses a new WebSocket: joins with the same credentials, then restarts ICE.
    Resume(Box<Socket>),
}

/// A participant with media: a str0m peer on a loopback UDP socket, signalling over `/ws`.
pub struct MediaClient {
    pub participant: String,
    pub welcome: Value,
    pub seen: watch::Receiver<Seen>,
    cmds: mpsc::Sender<Cmd>,
    /// Every server message other than offer/answer, and the end of each socket.
    pub inbox: mpsc::UnboundedReceiver<Incoming>,
    join: Value,
    task: JoinHandle<()>,
}

impl Drop for MediaClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MediaClient {
    /// Joins over `socket` (with `seat` unless staff), then offers audio and video.
    pub async fn join(socket: Socket, seat: Option<&str>) -> MediaClient {
        MediaClient::join_with(socket, seat_fields(seat)).await
    }

    /// Joins with these `join` fields (`invite`, `consultation`…), then offers audio and
    /// video.
    pub async fn join_with(socket: Socket, join: Value) -> MediaClient {
        let mut client = Client { socket };
        let welcome = client.join_with(&join).await;
        let participant = welcome["participant"]
            .as_str()
            .expect("welcome names the participant")
            .to_owned();
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let local = udp.local_addr().expect("bound");
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").expect("a host candidate"));
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let video = change.add_media(MediaKind::Video, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().expect("new media is a change");
        client
            .send(json!({"type": "offer", "sdp": offer.to_sdp_string()}))
            .await;
        let (seen_tx, seen) = watch::channel(Seen::default());
        let (cmds, cmd_rx) = mpsc::channel(16);
        let (inbox_tx, inbox) = mpsc::unbounded_channel();
        let peer = Peer {
            rtc,
            udp: Arc::new(udp),
            local,
            server: None,
            media: Publisher::new(audio, video, 1200),
            pending: Some(pending),
            seen: seen_tx,
            join: join.clone(),
        };
        let task = tokio::spawn(peer.run(Some(client.socket), cmd_rx, inbox_tx));
        MediaClient {
            participant,
            welcome,
            seen,
            cmds,
            inbox,
            join: join.clone(),
            task,
        }
    }

    pub async fn send(&self, value: Value) {
        self.cmds
            .send(Cmd::Send(value))
            .await
            .expect("the client runs");
    }

    pub async fn drop_socket(&self) {
        self.cmds
            .send(Cmd::DropSocket)
            .await
            .expect("the client runs");
    }

    pub async fn resume(&self, socket: Socket) {
        self.cmds
            .send(Cmd::Resume(Box::new(socket)))
            .await
            .expect("the client runs");
    }

    /// The next message of type `ty` (or panics on the end of the socket or a timeout).
    pub async fn expect(&mut self, ty: &str) -> Value {
        loop {
            let got = timeout(WAIT, self.inbox.recv())
                .await
                .expect("a message in time")
                .expect("the client runs");
            match got {
                Incoming::Msg(m) if m["type"] == ty => return m,
                // Negotiation is the client task's business; updates come and go.
                Incoming::Msg(m)
                    if [
                        "participants",
                        "mute",
                        "offer",
                        "answer",
                        "quality",
                        "speaker",
                        "stage",
                    ]
                    .contains(&m["type"].as_str().unwrap_or_default()) => {}
                other => panic!("{}: expected {ty:?}, got {other:?}", self.participant),
            }
        }
    }

    /// Waits for the socket's end within `within`, skipping messages; returns the frame.
    pub async fn expect_closed(&mut self, within: Duration) -> Option<(u16, String)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = tokio::time::timeout_at(deadline, self.inbox.recv())
                .await
                .expect("the socket closes in time")
                .expect("the client runs");
            if let Incoming::Closed(frame) = got {
                return frame;
            }
        }
    }

    /// Waits until this client has received at least this much media from `publisher`.
    pub async fn wait_for_media(&self, publisher: &str, audio: u64, video: u64) {
        let mut seen = self.seen.clone();
        let got = timeout(
            WAIT,
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
            self.participant
        );
    }
}

/// One client peer's state, owned by its task.
struct Peer {
    rtc: Rtc,
    udp: Arc<UdpSocket>,
    local: SocketAddr,
    /// The server's address, learned from the first datagram.
    server: Option<SocketAddr>,
    /// The synthetic media it publishes.
    media: Publisher,
    /// Our offer awaiting the server's answer.
    pending: Option<SdpPendingOffer>,
    seen: watch::Sender<Seen>,
    join: Value,
}

impl Peer {
    async fn run(
        mut self,
        mut socket: Option<Socket>,
        mut cmds: mpsc::Receiver<Cmd>,
        inbox: mpsc::UnboundedSender<Incoming>,
    ) {
        let mut buf = vec![0u8; 2048];
        loop {
            let deadline = loop {
                match self.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => break t,
                    Ok(Output::Transmit(t)) => {
                        let _ = self.udp.send_to(&t.contents, t.destination).await;
                    }
                    Ok(Output::Event(e)) => self.event(e),
                    Err(_) => return,
                }
            };
            if self.media.write_due_frame(&mut self.rtc) {
                continue;
            }
            let wake = deadline.min(self.media.next_frame_due());
            let udp = self.udp.clone();
            tokio::select! {
                got = udp.recv_from(&mut buf) => {
                    let Ok((n, from)) = got else { return };
                    self.server = Some(from);
                    self.seen.send_modify(|s| s.datagrams += 1);
                    if let Ok(r) = Receive::new(Protocol::Udp, from, self.local, &buf[..n]) {
                        let _ = self.rtc.handle_input(Input::Receive(Instant::now(), r));
                    }
                }
                frame = next_frame(&mut socket) => match frame {
                    Some(Ok(Message::Text(t))) => {
                        let msg: Value = serde_json::from_str(t.as_str()).expect("JSON");
                        if let Some(reply) = self.signal(&msg) {
                            send(&mut socket, reply).await;
                        }
                        let _ = inbox.send(Incoming::Msg(msg));
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let frame = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                        let _ = inbox.send(Incoming::Closed(frame));
                        socket = None;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        let _ = inbox.send(Incoming::Closed(None));
                        socket = None;
                    }
                },
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Send(v)) => send(&mut socket, v).await,
                    Some(Cmd::DropSocket) => socket = None,
                    Some(Cmd::Resume(new)) => {
                        socket = Some(*new);
                        let join = join_message(&self.join);
                        send(&mut socket, join).await;
                        let mut change = self.rtc.sdp_api();
                        change.ice_restart(true);
                        let (offer, pending) = change.apply().expect("an ICE restart is a change");
                        self.pending = Some(pending);
                        send(&mut socket, json!({"type": "offer", "sdp": offer.to_sdp_string()})).await;
                    }
                    None => return,
                },
                () = tokio::time::sleep_until(wake.into()) => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
    }

    /// Applies the server's offer or answer; returns the message to send back, if any.
    fn signal(&mut self, msg: &Value) -> Option<Value> {
        let sdp = msg["sdp"].as_str();
        match (msg["type"].as_str(), sdp) {
            (Some("answer"), Some(sdp)) => {
                let answer = SdpAnswer::from_sdp_string(sdp).expect("the answer parses");
                let pending = self.pending.take().expect("an answer follows our offer");
                self.rtc
                    .sdp_api()
                    .accept_answer(pending, answer)
                    .expect("the answer is acceptable");
                None
            }
            (Some("offer"), Some(sdp)) => {
                let offer = SdpOffer::from_sdp_string(sdp).expect("the offer parses");
                let answer = self.rtc.sdp_api().accept_offer(offer).expect("acceptable");
                Some(json!({"type": "answer", "sdp": answer.to_sdp_string()}))
            }
            _ => None,
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

async fn next_frame(
    socket: &mut Option<Socket>,
) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
    match socket {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

async fn send(socket: &mut Option<Socket>, value: Value) {
    if let Some(s) = socket {
        let _ = s.send(Message::Text(value.to_string().into())).await;
    }
}
