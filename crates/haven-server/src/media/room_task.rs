//! One tokio task per live room: it owns the sans-IO [`Room`] and is the only code that
//! touches it.
//!
//! The loop follows str0m's rule (mutate → drain → mutate): drain `poll_output()` until it
//! yields a timeout (sending datagrams, forwarding events), then wait for one thing — a
//! command, a datagram, or the timeout — and apply exactly that one change.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use haven_media::{Datagram, ParticipantId, Room, RoomConfig, RoomEvent, RoomOutput, Transport};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::handle::{Command, Control, RoomEvents, RoomHandle};
use super::registry::Incoming;
use super::send_batch::SendBatch;
use super::stats::bump;
use super::{MediaError, RoomId, Shared, tcp};

/// Commands queued per room; senders wait (backpressure on signalling) when it is full.
const COMMAND_QUEUE: usize = 64;
/// Datagrams queued per room: 150 ms of a 20-person room with all video on, 1.5 s of a
/// one-to-one call. A room further behind than that drops rather than queues: late
/// media is no use to anyone, and a long queue of it is memory held for nothing.
const INBOX_QUEUE: usize = 512;
/// Events queued for the room's owner; beyond this they are dropped and counted.
const EVENT_QUEUE: usize = 256;

/// Spawns a room's task and the watcher that unregisters it however it ends.
pub(crate) fn spawn(
    id: RoomId,
    shared: Arc<Shared>,
) -> Result<(RoomHandle, RoomEvents), MediaError> {
    let (commands_tx, commands) = mpsc::channel(COMMAND_QUEUE);
    let (inbox_tx, inbox) = mpsc::channel(INBOX_QUEUE);
    let (events_tx, events) = mpsc::channel(EVENT_QUEUE);
    if !shared.registry.insert_room(id, inbox_tx, &commands_tx) {
        return Err(MediaError::RoomExists(id));
    }
    let room = Room::new(
        Instant::now(),
        RoomConfig {
            local_addrs: shared.local_addrs.clone(),
        },
    );
    let task = RoomTask {
        id,
        room,
        shared: shared.clone(),
        commands,
        inbox,
        events: events_tx,
        known: HashMap::new(),
        held: SendBatch::default(),
    };
    let running = tokio::spawn(task.run());
    tokio::spawn(async move {
        if let Err(e) = running.await
            && e.is_panic()
        {
            tracing::error!(room = %id, "room task panicked; the room has ended");
            bump(&shared.counters.room_panics);
        }
        // However the task ended, no datagram may reach it any more.
        shared.registry.remove_room(id);
    });
    Ok((RoomHandle::new(id, commands_tx), events))
}

struct RoomTask {
    id: RoomId,
    room: Room,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    inbox: mpsc::Receiver<Incoming>,
    events: mpsc::Sender<RoomEvent>,
    /// Remote addresses already reported to the registry, so `Room::accepts` runs once per
    /// address rather than once per datagram.
    known: HashMap<(Transport, SocketAddr), ParticipantId>,
    /// UDP datagrams produced and not yet sent.
    held: SendBatch,
}

impl RoomTask {
    async fn run(mut self) {
        // One timer for the room's life, moved only when the deadline moves: most datagrams
        // leave it where it was, and a fresh timer per datagram is work for nothing.
        let timer = tokio::time::sleep(std::time::Duration::ZERO);
        tokio::pin!(timer);
        let mut armed = None;
        loop {
            let deadline = self.drain().await;
            // str0m often asks to be called again at once: its pacer releases one packet per
            // timeout. A timer would round each of those up to the runtime's next clock tick
            // (a millisecond), which capped what one subscriber could be sent at about a
            // thousand packets a second, far less than a room's video.
            let due = deadline <= Instant::now();
            // Datagrams wait while the room is still due: the next rounds add to the runs.
            if !due {
                self.send_held().await;
            }
            if !due && armed != Some(deadline) {
                armed = Some(deadline);
                timer.as_mut().reset(deadline.into());
            }
            tokio::select! {
                command = self.commands.recv() => match command {
                    Some(Command::End { reply }) => {
                        self.close().await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.command(command),
                    // Every handle is gone: nobody can end the room any more, so end it now.
                    None => break,
                },
                Some(incoming) = self.inbox.recv() => self.receive(incoming),
                () = &mut timer, if !due => {
                    self.room.handle_timeout(Instant::now());
                }
                // Counts against the task's share of the runtime, so a room that is always
                // due still lets other rooms run.
                () = tokio::task::consume_budget(), if due => {
                    self.room.handle_timeout(Instant::now());
                }
            }
        }
        self.close().await;
    }

    /// Sends and forwards everything the room has to give; returns when to wake it next.
    async fn drain(&mut self) -> Instant {
        loop {
            match self.room.poll_output() {
                RoomOutput::Timeout(at) => return at,
                RoomOutput::Transmit {
                    transport,
                    to_remote,
                    contents,
                    ..
                } => self.send(transport, to_remote, contents).await,
                RoomOutput::Event(event) => self.event(event),
            }
        }
    }

    async fn send(&mut self, transport: Transport, to: SocketAddr, contents: Vec<u8>) {
        match transport {
            Transport::Udp => {
                if self.held.push(to, contents) {
                    self.send_held().await;
                }
            }
            Transport::Tcp => {
                let (Some(writer), Some(frame)) =
                    (self.shared.registry.tcp_writer(to), tcp::frame(&contents))
                else {
                    return;
                };
                if let Err(TrySendError::Full(_)) = writer.try_send(frame) {
                    tracing::info!(room = %self.id, "ICE-TCP peer cannot keep up; closing");
                    self.shared.registry.remove_tcp(to, None);
                }
            }
        }
    }

    async fn send_held(&mut self) {
        self.held
            .send(&self.shared.udp, &self.shared.udp_state)
            .await;
    }

    fn event(&mut self, event: RoomEvent) {
        if let RoomEvent::Left { participant, .. } = &event {
            self.forget(*participant);
        }
        if let Err(TrySendError::Full(_)) = self.events.try_send(event) {
            bump(&self.shared.counters.events_dropped);
        }
    }

    fn receive(&mut self, incoming: Incoming) {
        let key = (incoming.transport, incoming.source);
        let datagram = Datagram {
            transport: incoming.transport,
            source: incoming.source,
            destination: self.shared.local_for(incoming.source),
            contents: &incoming.contents,
        };
        // Learn the address before the room answers the STUN request, so the peer's next
        // packet (DTLS, after it gets the answer) is already routed by address.
        if !self.known.contains_key(&key)
            && let Some(participant) = self.room.accepts(&datagram)
        {
            self.known.insert(key, participant);
            let owner = (self.id, participant);
            self.shared.registry.learn_addr(key.0, key.1, owner);
        }
        self.room.handle_input(Instant::now(), datagram);
    }

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Join {
                participant,
                offer,
                reply,
            } => {
                let joined = self
                    .room
                    .join(now, participant, &offer)
                    .map_err(MediaError::from);
                let joined = joined.and_then(|answer| self.route_ufrag(participant, answer));
                let _ = reply.send(joined);
            }
            Command::Answer {
                participant,
                answer,
                reply,
            } => {
                let done = self.room.handle_answer(now, participant, &answer);
                let _ = reply.send(done.map_err(MediaError::from));
            }
            Command::Offer {
                participant,
                offer,
                reply,
            } => {
                let answer = self
                    .room
                    .handle_offer(now, participant, &offer)
                    .map_err(MediaError::from);
                // An ICE restart brings a new ufrag; the old one stops routing.
                let answer = answer.and_then(|a| {
                    self.shared.registry.remove_ufrags((self.id, participant));
                    self.route_ufrag(participant, a)
                });
                let _ = reply.send(answer);
            }
            Command::Remove { participant, reply } => {
                let present = self.room.remove(participant);
                self.forget(participant);
                let _ = reply.send(present);
            }
            Command::Control {
                participant,
                control,
                reply,
            } => {
                let done = match control {
                    Control::Mute { kind, muted } => self.room.set_muted(participant, kind, muted),
                    Control::AudioOnly(on) => self.room.set_audio_only(now, participant, on),
                    Control::Apart(apart) => self.room.set_apart(participant, apart),
                    Control::Display {
                        publisher,
                        width,
                        height,
                    } => self
                        .room
                        .set_display_size(now, participant, publisher, width, height),
                };
                let _ = reply.send(done.map_err(MediaError::from));
            }
            // Handled in `run`, which must stop the loop.
            Command::End { reply } => drop(reply),
            #[cfg(test)]
            Command::Panic => panic!("test hook: room task panics"),
        }
    }

    /// Routes first STUN requests for the participant's server-side ufrag to this room.
    fn route_ufrag(
        &mut self,
        participant: ParticipantId,
        answer: String,
    ) -> Result<String, MediaError> {
        let owner = (self.id, participant);
        let added = match ice_ufrag(&answer) {
            None => Err(MediaError::NoIceUfrag),
            Some(ufrag) if !self.shared.registry.add_ufrag(ufrag, owner) => {
                Err(MediaError::UfragInUse)
            }
            Some(_) => Ok(answer),
        };
        if added.is_err() {
            self.room.remove(participant);
            self.forget(participant);
        }
        added
    }

    /// Drops every route to a participant who is no longer in the room, and whatever was
    /// still held to send them: nothing more may reach someone removed.
    fn forget(&mut self, participant: ParticipantId) {
        let held = &mut self.held;
        self.known.retain(|(transport, addr), p| {
            if *p == participant && *transport == Transport::Udp {
                held.discard_to(*addr);
            }
            *p != participant
        });
        self.shared
            .registry
            .remove_participant((self.id, participant));
    }

    /// Ends the room: nothing reaches it any more and nothing more leaves it.
    async fn close(&mut self) {
        self.shared.registry.remove_room(self.id);
        let everyone: Vec<ParticipantId> = self.room.participants().collect();
        for participant in everyone {
            self.room.remove(participant);
        }
        // Only `Left` events remain: removal discards queued datagrams to the removed.
        self.drain().await;
        self.send_held().await;
        self.known.clear();
    }
}

/// The ICE username fragment in an SDP (`a=ice-ufrag:`); str0m uses one per session.
pub(crate) fn ice_ufrag(sdp: &str) -> Option<&str> {
    sdp.lines()
        .find_map(|line| line.trim_end().strip_prefix("a=ice-ufrag:"))
        .filter(|u| !u.is_empty())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::media::{MediaConfig, MediaServer};

    #[tokio::test]
    async fn media_a_panicking_room_ends_alone() {
        let config = MediaConfig {
            udp_port: 0,
            bind_ip: Ipv4Addr::LOCALHOST.into(),
            public_addrs: Vec::new(),
        };
        let server = MediaServer::start(config).await.expect("binds on loopback");
        let (doomed, _events) = server.open_room(RoomId::new(1)).expect("opens");
        let (other, _other_events) = server.open_room(RoomId::new(2)).expect("opens");

        doomed.panic_for_test().await;
        let p = ParticipantId::new(1);
        let after = doomed.join(p, String::new()).await;
        assert!(matches!(after, Err(MediaError::RoomClosed(_))), "{after:?}");
        // The watcher unregisters the room as soon as it runs; give it the chance.
        for _ in 0..100 {
            if server.room(RoomId::new(1)).is_none() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(server.room(RoomId::new(1)).is_none());
        assert_eq!(server.stats().room_panics, 1);

        // The other room still answers (and refuses a bad offer as a live room does).
        let bad = other.join(p, "not sdp".to_owned()).await;
        assert!(matches!(bad, Err(MediaError::Room(_))), "{bad:?}");
        assert!(server.room(RoomId::new(2)).is_some());
    }

    #[test]
    fn media_ice_ufrag_is_read_from_the_answer() {
        let sdp = "v=0\r\na=ice-lite\r\na=ice-ufrag:Ab3d\r\na=ice-pwd:xyz\r\n";
        assert_eq!(ice_ufrag(sdp), Some("Ab3d"));
        assert_eq!(ice_ufrag("a=ice-ufrag:\r\n"), None);
        assert_eq!(ice_ufrag(""), None);
    }
}
