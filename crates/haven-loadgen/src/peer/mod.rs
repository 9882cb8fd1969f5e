//! One synthetic participant: a str0m client (full ICE, not ICE-lite) on its own loopback
//! UDP socket, negotiating over Haven's WebSocket like the browser client does, publishing
//! stamped audio and video ([`crate::publish`]) and counting what it receives
//! ([`crate::tally`]).
//!
//! The task follows str0m's rule: drain `poll_output()` until it yields a timeout, then
//! apply exactly one input (a datagram, a signalling message, a timeout) or write one due
//! frame, and drain again. Datagrams are read without waiting while any are queued, so a
//! busy peer does not go through the scheduler once per packet.

pub(crate) mod join;
mod result;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{Value, json};
use str0m::change::SdpOffer;
use str0m::media::{Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use self::result::{PeerResult, PeerSpec, Progress};
use crate::publish::Publisher;
use crate::run::Shared;
use crate::signal::{self, Incoming, Sink};
use crate::tally::{RateMeter, Received};
use crate::views::Views;

/// Larger than any datagram a WebRTC peer sends.
const DATAGRAM_BUFFER: usize = 2048;
/// A closing handshake that takes longer is abandoned.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A peer between joining and leaving.
struct Peer {
    /// The WebSocket's sending half; its reading half is on `reader`.
    ws: Sink,
    /// What the server sent, from the reader task.
    signals: mpsc::Receiver<Incoming>,
    /// The reader task, stopped when the peer finishes.
    reader: JoinHandle<()>,
    /// The peer's own socket: its one host candidate.
    udp: UdpSocket,
    local: SocketAddr,
    /// The client side of the peer connection (full ICE, controlling).
    rtc: Rtc,
    publisher: Publisher,
    received: Received,
    /// RTP received and sent per stream, from str0m's stats events.
    rx: RateMeter<(Mid, Option<Rid>)>,
    tx: RateMeter<(Mid, Option<Rid>)>,
    /// The latest ICE state, to say why a peer failed to connect.
    ice: IceConnectionState,
    /// Whether ICE ever connected: a peer stuck after that is stuck in DTLS.
    ice_connected: bool,
    /// ICE and DTLS are up (str0m's `Event::Connected`).
    connected: bool,
    /// The server's media address, learned from the first datagram.
    server: Option<SocketAddr>,
    /// `view` messages still to send.
    views: Views,
}

/// Joins, publishes and receives until `stop` turns true; never panics on what the
/// server sends.
pub async fn run(
    spec: PeerSpec,
    shared: Arc<Shared>,
    progress: mpsc::UnboundedSender<Progress>,
    mut stop: watch::Receiver<bool>,
) -> PeerResult {
    let started = Instant::now();
    let mut result = PeerResult::new(spec);
    let peer = match join::join(&result.spec, &shared).await {
        Ok(peer) => peer,
        Err(e) => {
            result.failure = Some(format!("{e:#}"));
            let _ = progress.send(Progress::Failed);
            return result;
        }
    };
    result.local_port = Some(peer.local.port());
    peer.run(started, &shared, &progress, &mut stop, &mut result)
        .await;
    if result.connected_after.is_none() {
        let _ = progress.send(Progress::Failed);
    }
    result
}

impl Peer {
    async fn run(
        mut self,
        started: Instant,
        shared: &Shared,
        progress: &mpsc::UnboundedSender<Progress>,
        stop: &mut watch::Receiver<bool>,
        result: &mut PeerResult,
    ) {
        let connect_by = started + shared.connect_timeout;
        let mut buf = vec![0u8; DATAGRAM_BUFFER];
        let sleep = tokio::time::sleep_until(connect_by.into());
        tokio::pin!(sleep);
        let outcome: Result<(), String> = loop {
            let timeout = match self.drain(shared, started, progress, result).await {
                Ok(t) => t,
                Err(e) => break Err(format!("str0m failed: {e}")),
            };
            let now = Instant::now();
            if self
                .publisher
                .write_due(&mut self.rtc, now, &shared.timeline)
            {
                continue;
            }
            if !self.connected && now >= connect_by {
                result.dtls_stalled = self.ice_connected;
                break Err(self.stalled(shared.connect_timeout));
            }
            match crate::arrival::try_recv(&self.udp, &mut buf) {
                Ok((n, from, arrived)) => {
                    self.receive(arrived, from, &buf[..n]);
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => break Err(format!("the UDP socket failed: {e}")),
            }
            if *stop.borrow() {
                break Ok(());
            }
            if let Some(view) = self.views.next(now) {
                if let Err(e) = signal::send(&mut self.ws, &view).await {
                    break Err(format!("{e:#}"));
                }
                continue;
            }
            let mut wake = timeout;
            if let Some(due) = self.views.due_at() {
                wake = wake.min(due);
            }
            if let Some(due) = self.publisher.next_due() {
                wake = wake.min(due);
            }
            if !self.connected {
                wake = wake.min(connect_by);
            }
            let wake = tokio::time::Instant::from_std(wake);
            if sleep.deadline() != wake {
                sleep.as_mut().reset(wake);
            }
            tokio::select! {
                biased;
                changed = stop.changed() => {
                    if changed.is_err() {
                        break Ok(());
                    }
                }
                ready = self.udp.readable() => {
                    if let Err(e) = ready {
                        break Err(format!("the UDP socket failed: {e}"));
                    }
                }
                incoming = self.signals.recv() => {
                    let incoming = incoming.unwrap_or(Incoming::Closed(None));
                    if let Err(why) = self.signal(incoming, result).await {
                        break Err(why);
                    }
                }
                () = &mut sleep => {
                    let _ = self.rtc.handle_input(Input::Timeout(Instant::now()));
                }
            }
        };
        match outcome {
            Ok(()) => self.leave(result.spec.host).await,
            Err(why) if self.connected => result.dropped = Some(why),
            Err(why) => result.failure = Some(why),
        }
        self.finish(shared, result);
    }

    /// Sends and handles everything str0m has; returns when it next needs a timeout.
    async fn drain(
        &mut self,
        shared: &Shared,
        started: Instant,
        progress: &mpsc::UnboundedSender<Progress>,
        result: &mut PeerResult,
    ) -> Result<Instant, str0m::RtcError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    let sent = self.udp.try_send_to(&t.contents, t.destination);
                    if matches!(&sent, Err(e) if e.kind() == ErrorKind::WouldBlock) {
                        let _ = self.udp.send_to(&t.contents, t.destination).await;
                    }
                }
                Output::Event(Event::Connected) => {
                    self.connected = true;
                    let after = started.elapsed();
                    result.connected_after = Some(after);
                    let _ = progress.send(Progress::Connected {
                        after,
                        local_ports: vec![self.local.port()],
                        server_ports: self.server.iter().map(SocketAddr::port).collect(),
                    });
                }
                Output::Event(e) => self.event(shared, e),
            }
        }
    }

    fn event(&mut self, shared: &Shared, event: Event) {
        let timeline = &shared.timeline;
        match event {
            Event::MediaData(data) => self.received.on_media(timeline, &data, shared.peers),
            Event::KeyframeRequest(req) => self.publisher.keyframe_requested(req.rid),
            Event::IceConnectionStateChange(state) => {
                self.ice = state;
                if matches!(
                    state,
                    IceConnectionState::Connected | IceConnectionState::Completed
                ) {
                    self.ice_connected = true;
                }
            }
            Event::MediaIngressStats(s) => {
                let at = timeline.micros(s.timestamp);
                self.rx.update(at, (s.mid, s.rid), s.packets, s.bytes);
            }
            Event::MediaEgressStats(s) => {
                let at = timeline.micros(s.timestamp);
                self.tx.update(at, (s.mid, s.rid), s.packets, s.bytes);
            }
            _ => {}
        }
    }

    fn receive(&mut self, now: Instant, from: SocketAddr, contents: &[u8]) {
        self.server.get_or_insert(from);
        // Anything str0m cannot parse (or refuses) is dropped, as a browser drops it.
        if let Ok(r) = Receive::new(Protocol::Udp, from, self.local, contents) {
            let _ = self.rtc.handle_input(Input::Receive(now, r));
        }
    }

    /// Acts on one signalling message; an error ends the peer's part in the run.
    async fn signal(&mut self, incoming: Incoming, result: &mut PeerResult) -> Result<(), String> {
        let Incoming::Msg(msg) = &incoming else {
            return Err(incoming.describe());
        };
        match msg["type"].as_str().unwrap_or_default() {
            "offer" => {
                let answer = self.answer(msg)?;
                signal::send(&mut self.ws, &answer)
                    .await
                    .map_err(|e| format!("{e:#}"))
            }
            "error" => {
                result.signal_errors.push(incoming.describe());
                Ok(())
            }
            "participants" => {
                self.views.on_list(&msg["list"]);
                Ok(())
            }
            "ended" | "ejected" => Err(incoming.describe()),
            _ => Ok(()),
        }
    }

    /// The answer to a server's renegotiation offer.
    fn answer(&mut self, msg: &Value) -> Result<Value, String> {
        let sdp = msg["sdp"].as_str().ok_or("a server offer without sdp")?;
        let offer =
            SdpOffer::from_sdp_string(sdp).map_err(|e| format!("the server's offer: {e}"))?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| format!("the server's offer is not acceptable: {e}"))?;
        Ok(json!({"type": "answer", "sdp": answer.to_sdp_string()}))
    }

    /// Why a peer that never connected did not: ICE, or DTLS after ICE.
    fn stalled(&self, waited: Duration) -> String {
        if self.ice_connected {
            format!(
                "ICE connected but DTLS did not complete within {waited:?} (ICE state {:?})",
                self.ice
            )
        } else {
            format!(
                "ICE did not connect within {waited:?} (ICE state {:?})",
                self.ice
            )
        }
    }

    /// Says goodbye: the host ends the room (so the server frees it at once), guests leave.
    async fn leave(&mut self, host: bool) {
        let bye = if host {
            json!({"type": "end"})
        } else {
            json!({"type": "leave"})
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            let _ = signal::send(&mut self.ws, &bye).await;
            let _ = self.ws.close().await;
        })
        .await;
    }

    fn finish(self, shared: &Shared, result: &mut PeerResult) {
        self.reader.abort();
        result.published = self.publisher.done;
        result.received = self.received;
        result.server_addr = self.server;
        if let Some(window) = shared.timeline.window() {
            result.rx = self.rx.over(window);
            result.tx = self.tx.over(window);
        }
    }
}
