//! One participant in a Janus videoroom: publishes on one peer connection, then, once every
//! other participant of its room publishes (polled with `listparticipants`), subscribes to
//! them all on a second one. Publishing, loss and delay counting are the Haven target's
//! ([`crate::publish`], [`crate::tally`]), so both targets are measured alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind, Mid, Rid, Simulcast, SimulcastLayer};
use str0m::{Event, Input};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use url::Url;

use super::api;
use super::leg::Leg;
use crate::peer::{PeerResult, PeerSpec, Progress};
use crate::publish::{LAYERS, Publisher};
use crate::run::Shared;
use crate::signal::{self, Incoming, Sink};
use crate::tally::{RateMeter, Received};

/// Larger than any datagram a WebRTC peer sends.
const DATAGRAM_BUFFER: usize = 2048;
/// How often a participant asks who publishes, until it has found everyone.
const LIST_EVERY: Duration = Duration::from_millis(250);
/// Janus ends sessions idle for 60 s (its default `session_timeout`).
const KEEPALIVE_EVERY: Duration = Duration::from_secs(20);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the subscription stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Waiting until every other participant publishes.
    Listing,
    /// A subscriber handle, then its offer, were asked for.
    Subscribing,
    /// The subscriber connection is negotiated.
    Subscribed,
}

pub(super) struct Participant {
    pub(super) ws: Sink,
    signals: mpsc::Receiver<Incoming>,
    reader: JoinHandle<()>,
    pub(super) session: u64,
    /// The publisher handle.
    pub(super) handle: u64,
    pub(super) room: u64,
    /// Its publisher id in the room.
    pub(super) me: u64,
    publish: Leg,
    pub(super) subscribe: Option<Leg>,
    pub(super) sub_handle: Option<u64>,
    /// Participants per room, itself included.
    pub(super) participants: usize,
    /// Everyone else's publisher ids, once all publish.
    pub(super) feeds: Vec<u64>,
    pub(super) phase: Phase,
    next_list: Instant,
    next_keepalive: Instant,
    publisher: Publisher,
    received: Received,
    rx: RateMeter<(Mid, Option<Rid>)>,
    tx: RateMeter<(Mid, Option<Rid>)>,
}

/// Joins, publishes and receives until `stop` turns true; never panics on what Janus
/// sends.
pub async fn run(
    spec: PeerSpec,
    url: Url,
    shared: Arc<Shared>,
    progress: mpsc::UnboundedSender<Progress>,
    mut stop: watch::Receiver<bool>,
) -> PeerResult {
    let started = Instant::now();
    let mut result = PeerResult::new(spec);
    let participant = match join(&result.spec, &url, &shared).await {
        Ok(p) => p,
        Err(e) => {
            result.failure = Some(format!("{e:#}"));
            let _ = progress.send(Progress::Failed);
            return result;
        }
    };
    result.local_port = Some(participant.publish.local.port());
    participant
        .run(started, &shared, &progress, &mut stop, &mut result)
        .await;
    if result.connected_after.is_none() {
        let _ = progress.send(Progress::Failed);
    }
    result
}

/// A session, a publisher handle, and `joinandconfigure` with the offer of audio and video.
async fn join(spec: &PeerSpec, url: &Url, shared: &Shared) -> anyhow::Result<Participant> {
    let within = shared.connect_timeout;
    let room = spec.janus_room.context("no Janus room")?;
    let mut ws = api::connect(url, within).await?;
    let mut other = Vec::new();
    let (session, handle) = api::session(&mut ws, within, &mut other).await?;
    let mut publish = Leg::new(shared)?;
    let mut change = publish.rtc.sdp_api();
    let audio = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    let layers = shared.plan.simulcast.then(|| {
        let mut s = Simulcast::new();
        for (rid, _, _) in LAYERS {
            s.add_send_layer(SimulcastLayer::new(rid));
        }
        s
    });
    let video = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, layers);
    let (offer, pending) = change
        .apply()
        .context("str0m made no offer for new media")?;
    let me = u64::from(spec.index) + 1;
    let body = json!({"request": "joinandconfigure", "room": room, "ptype": "publisher",
                      "id": me, "display": format!("p{me}")});
    let joined = api::call(
        &mut ws,
        api::message(
            session,
            handle,
            body,
            Some(("offer", offer.to_sdp_string())),
        ),
        within,
        &mut other,
    )
    .await
    .context("joining the room as a publisher")?;
    let sdp = joined["jsep"]["sdp"]
        .as_str()
        .context("Janus's reply has no answer")?;
    let answer = SdpAnswer::from_sdp_string(sdp).context("Janus's answer does not parse")?;
    publish
        .rtc
        .sdp_api()
        .accept_answer(pending, answer)
        .context("Janus's answer is not acceptable")?;
    signal::send(&mut ws, &api::trickle_done(session, handle)).await?;
    let (ws, stream) = ws.split();
    let (signals, reader) = signal::spawn_reader(stream);
    let now = Instant::now();
    Ok(Participant {
        ws,
        signals,
        reader,
        session,
        handle,
        room,
        me,
        publish,
        subscribe: None,
        sub_handle: None,
        participants: shared.participants,
        feeds: Vec::new(),
        phase: Phase::Listing,
        next_list: now,
        next_keepalive: now + KEEPALIVE_EVERY,
        publisher: Publisher::new(shared.plan.for_peer(spec.video), spec.index, audio, video),
        received: Received::default(),
        rx: RateMeter::default(),
        tx: RateMeter::default(),
    })
}

impl Participant {
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
            let timeout = match self.drain(shared).await {
                Ok(t) => t,
                Err(e) => break Err(format!("str0m failed: {e}")),
            };
            let now = Instant::now();
            let connected =
                self.publish.connected && self.subscribe.as_ref().is_some_and(|l| l.connected);
            if connected && result.connected_after.is_none() {
                let after = started.elapsed();
                result.connected_after = Some(after);
                let legs = [Some(&self.publish), self.subscribe.as_ref()];
                let _ = progress.send(Progress::Connected {
                    after,
                    local_ports: legs.iter().flatten().map(|l| l.local.port()).collect(),
                    server_ports: legs
                        .iter()
                        .flatten()
                        .filter_map(|l| l.server)
                        .map(|s| s.port())
                        .collect(),
                });
            }
            if self
                .publisher
                .write_due(&mut self.publish.rtc, now, &shared.timeline)
            {
                continue;
            }
            if !connected && now >= connect_by {
                break Err(self.stalled(shared.connect_timeout, result));
            }
            match self.receive(&mut buf) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => break Err(format!("the UDP socket failed: {e}")),
            }
            if *stop.borrow() {
                break Ok(());
            }
            if let Err(e) = self.chores(now).await {
                break Err(format!("{e:#}"));
            }
            let mut wake = timeout.min(self.next_keepalive);
            if self.phase == Phase::Listing {
                wake = wake.min(self.next_list);
            }
            if let Some(due) = self.publisher.next_due() {
                wake = wake.min(due);
            }
            if !connected {
                wake = wake.min(connect_by);
            }
            let wake = tokio::time::Instant::from_std(wake);
            if sleep.deadline() != wake {
                sleep.as_mut().reset(wake);
            }
            let subscribe_ready = async {
                match &self.subscribe {
                    Some(leg) => leg.udp.readable().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                changed = stop.changed() => {
                    if changed.is_err() {
                        break Ok(());
                    }
                }
                ready = self.publish.udp.readable() => {
                    if let Err(e) = ready {
                        break Err(format!("the UDP socket failed: {e}"));
                    }
                }
                ready = subscribe_ready => {
                    if let Err(e) = ready {
                        break Err(format!("the UDP socket failed: {e}"));
                    }
                }
                incoming = self.signals.recv() => {
                    let incoming = incoming.unwrap_or(Incoming::Closed(None));
                    if let Err(e) = self.signal(incoming, shared, result).await {
                        break Err(format!("{e:#}"));
                    }
                }
                () = &mut sleep => {
                    let now = Instant::now();
                    let _ = self.publish.rtc.handle_input(Input::Timeout(now));
                    if let Some(leg) = &mut self.subscribe {
                        let _ = leg.rtc.handle_input(Input::Timeout(now));
                    }
                }
            }
        };
        match outcome {
            Ok(()) => self.leave().await,
            Err(why) if result.connected_after.is_some() => result.dropped = Some(why),
            Err(why) => result.failure = Some(why),
        }
        self.reader.abort();
        result.published = self.publisher.done;
        result.received = self.received;
        result.server_addr = self.publish.server;
        if let Some(window) = shared.timeline.window() {
            result.rx = self.rx.over(window);
            result.tx = self.tx.over(window);
        }
    }

    /// Drains both connections; returns when str0m next needs a timeout.
    async fn drain(&mut self, shared: &Shared) -> Result<Instant, str0m::RtcError> {
        let timeline = &shared.timeline;
        let (publisher, tx) = (&mut self.publisher, &mut self.tx);
        let mut t = self
            .publish
            .drain(&mut |e| match e {
                Event::KeyframeRequest(req) => publisher.keyframe_requested(req.rid),
                Event::MediaEgressStats(s) => {
                    tx.update(
                        timeline.micros(s.timestamp),
                        (s.mid, s.rid),
                        s.packets,
                        s.bytes,
                    );
                }
                _ => {}
            })
            .await?;
        if let Some(leg) = &mut self.subscribe {
            let (received, rx, peers) = (&mut self.received, &mut self.rx, shared.peers);
            let sub = leg
                .drain(&mut |e| match e {
                    Event::MediaData(data) => received.on_media(timeline, &data, peers),
                    Event::MediaIngressStats(s) => {
                        rx.update(
                            timeline.micros(s.timestamp),
                            (s.mid, s.rid),
                            s.packets,
                            s.bytes,
                        );
                    }
                    _ => {}
                })
                .await?;
            t = t.min(sub);
        }
        Ok(t)
    }

    /// Reads one waiting datagram from either connection; whether there was one.
    fn receive(&mut self, buf: &mut [u8]) -> std::io::Result<bool> {
        if self.publish.receive(buf)? {
            return Ok(true);
        }
        match &mut self.subscribe {
            Some(leg) => leg.receive(buf),
            None => Ok(false),
        }
    }

    /// Keepalives, and asking who publishes until everyone does.
    async fn chores(&mut self, now: Instant) -> anyhow::Result<()> {
        if now >= self.next_keepalive {
            self.next_keepalive = now + KEEPALIVE_EVERY;
            let ka = json!({"janus": "keepalive", "session_id": self.session,
                            "transaction": api::transaction("keepalive")});
            signal::send(&mut self.ws, &ka).await?;
        }
        if self.phase == Phase::Listing && now >= self.next_list {
            self.next_list = now + LIST_EVERY;
            let mut m = api::message(
                self.session,
                self.handle,
                json!({"request": "listparticipants", "room": self.room}),
                None,
            );
            m["transaction"] = json!(api::transaction("list"));
            signal::send(&mut self.ws, &m).await?;
        }
        Ok(())
    }

    /// Why the participant never connected: which connection, and how far it got.
    fn stalled(&self, waited: std::time::Duration, result: &mut PeerResult) -> String {
        if !self.publish.connected {
            result.dtls_stalled = self.publish.ice_connected;
            return self.publish.stalled("publishing", waited);
        }
        match &self.subscribe {
            Some(leg) => {
                result.dtls_stalled = leg.ice_connected;
                leg.stalled("receiving", waited)
            }
            None => format!(
                "not subscribed within {waited:?}: {} of {} others publish",
                self.feeds.len(),
                self.participants - 1
            ),
        }
    }

    /// Ends the session (Janus then closes both connections).
    async fn leave(&mut self) {
        let bye = json!({"janus": "destroy", "session_id": self.session,
                         "transaction": api::transaction("destroy")});
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            let _ = signal::send(&mut self.ws, &bye).await;
            let _ = self.ws.close().await;
        })
        .await;
    }
}
