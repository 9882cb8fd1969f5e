//! One task per live room: the room's signalling owner. It holds the media room's handle,
//! the participants (their seats, connections and states) and applies, one at a time,
//! what connections ask ([`ToHub`]) and what the media room reports ([`RoomEvent`]).
//! No lock: everything about a room is this task's. `media.rs` holds the half that talks
//! to the media room: clients' controls going in, its events going out to clients.

mod chat;
mod consult;
pub(crate) mod files;
mod group;
mod limit;
mod media;
mod people;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use haven_domain::{AttendeeId, ConsultationId, OrgId, UserId};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::conn::{Close, Conn, ConnId};
use super::live::{Live, LiveError, TEST_ROOM_LIFETIME};
use super::protocol::{
    ClientMsg, ErrorCode, IceServer, ParticipantInfo, ProtocolError, Sdp, ServerMsg,
};
use super::seats::SeatHash;
use crate::media::turn::TurnCredentials;
use crate::media::{ParticipantId, RoomEvents, RoomHandle, RoomId};

/// Requests queued for a hub; connections wait when it is full.
const INBOX: usize = 256;
/// How long TURN credentials handed out in `welcome` stay valid.
const TURN_TTL: Duration = Duration::from_secs(12 * 3600);

/// Who a participant is, for recognising them when they reconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Who {
    /// A guest holding a test room's seat token.
    Seat(SeatHash),
    /// A staff member: the one hosting a test room, or a clinician in a consultation.
    Host(UserId),
    /// Someone invited to a consultation, by their invitation link.
    Attendee(AttendeeId),
}

/// What a room is for.
#[derive(Debug, Clone)]
pub(crate) enum RoomKind {
    /// A staff member's test room: guests with seats join at once.
    Test {
        /// The staff member who opened it.
        host: UserId,
    },
    /// A consultation: invited people wait until a clinician admits them.
    Consultation {
        /// Its organisation.
        org: OrgId,
        /// Which consultation.
        id: ConsultationId,
    },
}

/// Where a participant is in a consultation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// In the waiting area: connected (media prepared) but apart from the call.
    Waiting,
    /// In the call.
    Admitted,
    /// Admitted, but on hold: apart from the call until the clinician resumes.
    Held,
}

/// Who ended a consultation, for its record.
#[derive(Debug, Clone)]
pub(crate) enum EndedBy {
    /// A clinician, with "End consultation for everyone".
    Staff(UserId),
    /// The organisation's time limit, in minutes.
    TimeLimit { minutes: u16 },
}

/// What connections and the registry ask of a hub.
pub(crate) enum ToHub {
    /// A connection authenticated as `who` joins (or resumes its seat).
    Join {
        who: Who,
        conn: Conn,
        reply: oneshot::Sender<Result<(), LiveError>>,
    },
    /// A message from a joined connection.
    Msg { conn: ConnId, msg: ClientMsg },
    /// The connection's WebSocket is gone; its participant's grace period starts.
    Gone { conn: ConnId },
    /// End the room (the host opened another one, or a clinician ended the consultation).
    End { reason: String },
    /// A clinician admitted an attendee (after the identity checklist).
    Admit { attendee: AttendeeId },
    /// A clinician put an admitted attendee on hold, or resumed them.
    Hold { attendee: AttendeeId, on: bool },
    /// A clinician sent an attendee back to the waiting area.
    ToWaiting { attendee: AttendeeId },
    /// A short message from staff to someone waiting ("running 10 minutes late").
    Notice { attendee: AttendeeId, text: String },
    /// A host of a group muted an attendee's microphone (or let them unmute).
    HostMute { attendee: AttendeeId, muted: bool },
    /// A host of a group stopped an attendee's video, or allowed it again.
    StopVideo { attendee: AttendeeId, stopped: bool },
    /// A file shared in the chat, over HTTP.
    Upload(files::Upload),
    /// A shared file asked for, over HTTP.
    Download(files::Download),
    /// A clinician removed an attendee: out of the media room and the call at once.
    Remove { attendee: AttendeeId },
    /// A clinician talks privately with one admitted attendee while everyone else who is
    /// not a host is held apart (`Some`), or brings everyone back (`None`). The reply says
    /// why it could not be done.
    SideRoom {
        with: Option<AttendeeId>,
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// Starts a room's hub; returns its inbox.
pub(crate) fn spawn(
    live: Arc<Live>,
    id: RoomId,
    kind: RoomKind,
    media: RoomHandle,
    events: RoomEvents,
) -> mpsc::Sender<ToHub> {
    let lifetime = match kind {
        RoomKind::Test { .. } => TEST_ROOM_LIFETIME.whole_seconds().unsigned_abs(),
        RoomKind::Consultation { .. } => CONSULTATION_ROOM_LIFETIME.as_secs(),
    };
    let (tx, inbox) = mpsc::channel(INBOX);
    let clock_moves = live.clock.moves();
    let hub = Hub {
        id,
        grace: live.settings.reconnect_grace,
        live,
        media,
        events,
        inbox,
        kind,
        ended_by: None,
        limit: None,
        chat: chat::Chat::default(),
        files: files::Files::default(),
        side_room: None,
        clock_moves,
        members: BTreeMap::new(),
        next_participant: 1,
        expires: Instant::now() + Duration::from_secs(lifetime),
        group: None,
    };
    tokio::spawn(hub.run());
    tx
}

/// One participant.
struct Member {
    /// Their seat or staff identity.
    who: Who,
    /// Whether they host the room.
    host: bool,
    /// Waiting, in the call, or on hold (always in the call in a test room).
    stage: Stage,
    /// When they last entered the waiting area.
    waiting_since: haven_domain::time::OffsetDateTime,
    /// Their WebSocket, if connected.
    conn: Option<Conn>,
    /// When they are removed if they have not reconnected.
    grace_until: Option<Instant>,
    /// Whether the media room has them (after their first offer, until they leave it).
    in_media: bool,
    audio_muted: bool,
    video_muted: bool,
    audio_only: bool,
    /// The size at which they show each other participant's video.
    views: BTreeMap<ParticipantId, (u32, u32)>,
    /// The media room's offer they have not answered yet (re-sent when they reconnect).
    pending_offer: Option<String>,
    /// Whether their media flowing both ways has been recorded for the journey funnel.
    flowing_recorded: bool,
    /// In a group: the name other attendees see, and the one hosts see.
    names: Option<group::Names>,
    /// In a group: a host stopped their video, and only a host may allow it again.
    video_stopped: bool,
}

struct Hub {
    id: RoomId,
    live: Arc<Live>,
    media: RoomHandle,
    events: RoomEvents,
    inbox: mpsc::Receiver<ToHub>,
    /// A test room or a consultation.
    kind: RoomKind,
    /// Who ended the consultation, for the audit log.
    ended_by: Option<EndedBy>,
    /// The consultation's time limit, once someone has been admitted.
    limit: Option<limit::TimeLimit>,
    /// The call's chat, in memory until the room ends.
    chat: chat::Chat,
    /// Files shared in the chat, in memory until the room ends.
    files: files::Files,
    /// The one participant a clinician is talking to privately, if any: everyone else who
    /// is not a host is held apart meanwhile.
    side_room: Option<ParticipantId>,
    /// Moves of a hand-moved clock (tests), after which the time limit is looked at again.
    clock_moves: Option<tokio::sync::watch::Receiver<haven_domain::time::OffsetDateTime>>,
    /// Participants in a stable order.
    members: BTreeMap<ParticipantId, Member>,
    next_participant: u64,
    /// The reconnection grace.
    grace: Duration,
    /// When the room ends by itself.
    expires: Instant,
    /// Whether the consultation is a group (read once, at the first join).
    group: Option<bool>,
}

/// A consultation's live room closes by itself after this, however long the clinician
/// leaves it open: a safety net, well past any consultation.
const CONSULTATION_ROOM_LIFETIME: Duration = Duration::from_secs(12 * 3600);

impl Hub {
    async fn run(mut self) {
        let reason = loop {
            let grace = self.members.values().filter_map(|m| m.grace_until).min();
            if let Some(reason) = self.check_limit() {
                break reason;
            }
            let mut wake = grace.map_or(self.expires, |g| g.min(self.expires));
            if let Some(limit) = &self.limit {
                wake = wake.min(limit.next_wake(self.live.clock.now()));
            }
            tokio::select! {
                cmd = self.inbox.recv() => match cmd {
                    Some(cmd) => if let Some(reason) = self.command(cmd).await {
                        break reason;
                    },
                    None => break "the room was closed".to_owned(),
                },
                event = self.events.recv() => match event {
                    Some(event) => self.media_event(event),
                    None => break "the media room stopped".to_owned(),
                },
                () = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= self.expires {
                        break match self.kind {
                            RoomKind::Test { .. } => "the test room has expired",
                            RoomKind::Consultation { .. } => "the consultation has gone on too long and was closed",
                        }.to_owned();
                    }
                    self.expire_graces().await;
                }
                // The limit is looked at again at the top of the loop.
                () = limit::clock_moved(&mut self.clock_moves) => {
                }
            }
        };
        self.end(reason).await;
    }

    /// Applies one request; returns a reason when the room must end.
    async fn command(&mut self, cmd: ToHub) -> Option<String> {
        match cmd {
            ToHub::Join { who, conn, reply } => {
                let names = self.names_of(&who).await;
                let joined = self.join(who, conn, names);
                if let Ok(id) = &joined {
                    self.chat_join(*id).await;
                }
                let _ = reply.send(joined.map(|_| ()));
            }
            ToHub::Msg { conn, msg } => return self.message(conn, msg).await,
            ToHub::Gone { conn } => self.gone(conn),
            ToHub::End { reason } => return Some(reason),
            ToHub::Admit { attendee } => self.set_stage(&attendee, Stage::Admitted).await,
            ToHub::Hold { attendee, on } => {
                let stage = if on { Stage::Held } else { Stage::Admitted };
                self.set_stage(&attendee, stage).await;
            }
            ToHub::ToWaiting { attendee } => self.set_stage(&attendee, Stage::Waiting).await,
            ToHub::Notice { attendee, text } => self.notice(&attendee, text),
            ToHub::HostMute { attendee, muted } => self.host_mute(&attendee, muted).await,
            ToHub::StopVideo { attendee, stopped } => self.stop_video(&attendee, stopped).await,
            ToHub::Upload(upload) => self.upload(upload).await,
            ToHub::Download(download) => self.download(download),
            ToHub::Remove { attendee } => self.remove_attendee(&attendee).await,
            ToHub::SideRoom { with, reply } => {
                let done = self.side_room(with.as_ref()).await;
                let _ = reply.send(done);
            }
        }
        None
    }

    fn join(
        &mut self,
        who: Who,
        conn: Conn,
        names: Option<group::Names>,
    ) -> Result<ParticipantId, LiveError> {
        if let Who::Seat(hash) = &who
            && !self.live.seats.is_valid(hash)
        {
            return Err(LiveError::BadSeat);
        }
        let existing = self
            .members
            .iter()
            .find(|(_, m)| m.who == who)
            .map(|(id, _)| *id);
        let id = match existing {
            Some(id) => id,
            None => {
                let id = ParticipantId::new(self.next_participant);
                self.next_participant += 1;
                let host = match (&self.kind, &who) {
                    (RoomKind::Test { host }, Who::Host(user)) => user == host,
                    (RoomKind::Consultation { .. }, Who::Host(_)) => true,
                    _ => false,
                };
                let stage = match (&self.kind, host) {
                    (RoomKind::Consultation { .. }, false) => Stage::Waiting,
                    _ => Stage::Admitted,
                };
                self.members.insert(
                    id,
                    Member {
                        who,
                        host,
                        stage,
                        waiting_since: self.live.clock.now(),
                        conn: None,
                        grace_until: None,
                        in_media: false,
                        audio_muted: false,
                        video_muted: false,
                        audio_only: false,
                        views: BTreeMap::new(),
                        pending_offer: None,
                        flowing_recorded: false,
                        names,
                        video_stopped: false,
                    },
                );
                id
            }
        };
        let ice_servers = self.ice_servers(id);
        let in_call = self
            .members
            .get(&id)
            .is_some_and(|m| m.stage == Stage::Admitted);
        // Someone waiting sees only themselves: not who else is waiting, nor who is in
        // the call.
        let participants = if in_call {
            self.list(id)
        } else {
            self.list_of(&[id], id)
        };
        let member = self.members.get_mut(&id).expect("inserted or found above");
        if let Some(old) = member.conn.replace(conn.clone()) {
            old.close(Close::REPLACED);
        }
        member.grace_until = None;
        conn.send(ServerMsg::Welcome {
            participant: id.to_string(),
            room: self.id.get().to_string(),
            host: member.host,
            participants,
            ice_servers,
        });
        if let RoomKind::Consultation { .. } = self.kind {
            conn.send(ServerMsg::Stage {
                stage: member.stage.into(),
            });
        }
        if let Some(sdp) = member.pending_offer.clone() {
            conn.send(ServerMsg::Offer { sdp });
        }
        self.repeat_warning(&conn);
        self.tell_side_room(id, &conn);
        if in_call {
            self.broadcast_list(Some(id));
        }
        self.publish_waiting();
        Ok(id)
    }

    /// Applies a joined client's message; returns a reason when the room must end.
    async fn message(&mut self, conn: ConnId, msg: ClientMsg) -> Option<String> {
        let id = self.by_conn(conn)?;
        let host = self.members.get(&id).is_some_and(|m| m.host);
        match msg {
            ClientMsg::Offer(sdp) => self.offer(id, sdp).await,
            ClientMsg::Answer(sdp) => self.answer(id, sdp).await,
            // ICE-lite: the server learns addresses from connectivity checks.
            ClientMsg::Candidate(_) => {}
            ClientMsg::Mute { kind, muted } if self.may_unmute(id, kind, muted) => {
                self.mute(id, kind, muted).await;
            }
            ClientMsg::Mute { .. } => self.refuse(
                id,
                ErrorCode::NotHost,
                "a host of the group stopped your video; only a host can allow it again",
            ),
            ClientMsg::Prefer { audio_only } => self.prefer(id, audio_only).await,
            ClientMsg::View {
                participant,
                width,
                height,
            } => self.view(id, participant, width, height).await,
            ClientMsg::Chat { text } => self.chat(id, text).await,
            ClientMsg::ChatKeep => self.chat_keep(id).await,
            ClientMsg::Eject { participant } if host => self.eject(id, participant).await,
            ClientMsg::End if host => {
                if let Some(Member {
                    who: Who::Host(user),
                    ..
                }) = self.members.get(&id)
                {
                    self.ended_by = Some(EndedBy::Staff(user.clone()));
                }
                return Some(
                    match self.kind {
                        RoomKind::Test { .. } => "the host ended the call",
                        RoomKind::Consultation { .. } => "your consultation has ended",
                    }
                    .to_owned(),
                );
            }
            ClientMsg::Eject { .. } | ClientMsg::End => self.refuse(
                id,
                ErrorCode::NotHost,
                "only the host of the call may eject participants or end the call",
            ),
            ClientMsg::Leave => {
                self.remove(id).await;
                self.left_call(id);
                if let Some(c) = self.members.remove(&id).and_then(|m| m.conn) {
                    c.close(Close::LEFT);
                }
                self.broadcast_list(None);
                self.publish_waiting();
            }
            // Answered by the connection itself.
            ClientMsg::Join { .. } | ClientMsg::Ping => {}
        }
        None
    }

    async fn offer(&mut self, id: ParticipantId, sdp: Sdp) {
        let Some(in_media) = self.members.get(&id).map(|m| m.in_media) else {
            return;
        };
        let sdp = sdp.into_string();
        let answer = if in_media {
            self.media.offer(id, sdp).await
        } else {
            self.media.join(id, sdp).await
        };
        match answer {
            Ok(sdp) => {
                if let Some(m) = self.members.get_mut(&id) {
                    m.in_media = true;
                    if let Some(c) = &m.conn {
                        c.send(ServerMsg::Answer { sdp });
                    }
                }
                if !in_media {
                    self.restore_controls(id).await;
                }
            }
            Err(e) => self.refuse(
                id,
                ErrorCode::MediaRefused,
                &format!("the media server refused the offer: {e}"),
            ),
        }
    }

    async fn answer(&mut self, id: ParticipantId, sdp: Sdp) {
        match self.media.answer(id, sdp.into_string()).await {
            Ok(()) => {
                if let Some(m) = self.members.get_mut(&id) {
                    m.pending_offer = None;
                }
            }
            Err(e) => self.refuse(
                id,
                ErrorCode::MediaRefused,
                &format!("the media server refused the answer: {e}"),
            ),
        }
    }

    /// Ejects `target`: out of the media room first (no datagram to or from it once that
    /// returns), then its seat revoked, then its WebSocket told and closed.
    async fn eject(&mut self, by: ParticipantId, target: ParticipantId) {
        if by == target {
            self.refuse(
                by,
                ErrorCode::InvalidField,
                "the host cannot eject themselves; send \"end\" to end the call",
            );
            return;
        }
        if !self.members.contains_key(&target) {
            self.refuse(
                by,
                ErrorCode::UnknownParticipant,
                &format!("nobody in this call has the id \"{target}\""),
            );
            return;
        }
        self.remove(target).await;
        self.removed_in_call(by, target).await;
        let Some(member) = self.members.remove(&target) else {
            return;
        };
        if let Who::Seat(hash) = &member.who {
            self.live.seats.revoke(hash);
        }
        if let Some(c) = member.conn {
            c.send(ServerMsg::Ejected {
                reason: "the host removed you from the call".to_owned(),
            });
            c.close(Close::EJECTED);
        }
        tracing::info!(room = %self.id, participant = %target, "participant ejected");
        self.broadcast_list(None);
        self.publish_waiting();
    }

    /// Takes a participant out of the media room (done when this returns).
    async fn remove(&mut self, id: ParticipantId) {
        if self.side_room == Some(id) {
            // Nobody is left to talk with privately: the others come back.
            let _ = self.side_room(None).await;
        }
        if let Err(e) = self.media.remove(id).await {
            tracing::debug!(room = %self.id, error = %e, "removing from a closed media room");
        }
    }

    fn gone(&mut self, conn: ConnId) {
        let Some(id) = self.by_conn(conn) else {
            return;
        };
        if let Some(m) = self.members.get_mut(&id) {
            m.conn = None;
            m.grace_until = Some(Instant::now() + self.grace);
        }
        self.broadcast_list(None);
        self.publish_waiting();
    }

    /// Removes everyone whose grace period is over.
    async fn expire_graces(&mut self) {
        let now = Instant::now();
        let expired: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|(_, m)| m.grace_until.is_some_and(|g| g <= now))
            .map(|(id, _)| *id)
            .collect();
        if expired.is_empty() {
            return;
        }
        for id in expired {
            self.remove(id).await;
            self.left_call(id);
            self.members.remove(&id);
        }
        self.broadcast_list(None);
        self.publish_waiting();
    }

    /// Ends the room: no new joins, the media room ended (nothing forwarded once that
    /// returns), then every WebSocket told and closed.
    async fn end(mut self, reason: String) {
        self.live.unregister(self.id);
        if let Err(e) = self.media.end().await {
            tracing::debug!(room = %self.id, error = %e, "the media room had already ended");
        }
        self.end_chat().await;
        self.files.clear();
        self.record_end().await;
        self.stays_end_all().await;
        for m in self.members.values() {
            if let Some(c) = &m.conn {
                c.send(ServerMsg::Ended {
                    reason: reason.clone(),
                });
                c.close(Close::ENDED);
            }
        }
        self.members.clear();
        // Joins that were queued get no reply: their connections report the room gone.
        self.inbox.close();
        tracing::info!(room = %self.id, "room ended");
    }

    fn by_conn(&self, conn: ConnId) -> Option<ParticipantId> {
        self.members
            .iter()
            .find(|(_, m)| m.conn.as_ref().is_some_and(|c| c.id() == conn))
            .map(|(id, _)| *id)
    }

    fn refuse(&self, id: ParticipantId, code: ErrorCode, message: &str) {
        if let Some(c) = self.members.get(&id).and_then(|m| m.conn.as_ref()) {
            c.send(ServerMsg::error(ProtocolError::new(code, message)));
        }
    }

    /// Everyone in the call (admitted or on hold) as `viewer` sees them; those waiting are
    /// not listed.
    fn list(&self, viewer: ParticipantId) -> Vec<ParticipantInfo> {
        let ids: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|(_, m)| m.stage != Stage::Waiting)
            .map(|(id, _)| *id)
            .collect();
        self.list_of(&ids, viewer)
    }

    fn list_of(&self, ids: &[ParticipantId], viewer: ParticipantId) -> Vec<ParticipantInfo> {
        // In a group, hosts see full names and attendees only the names shown to the group.
        let full = self.members.get(&viewer).is_some_and(|m| m.host);
        self.members
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(id, m)| ParticipantInfo {
                id: id.to_string(),
                host: m.host,
                connected: m.conn.is_some(),
                audio_muted: m.audio_muted,
                video_muted: m.video_muted,
                audio_only: m.audio_only,
                name: m.names.as_ref().map(|n| n.for_viewer(full).to_owned()),
            })
            .collect()
    }

    /// Sends the participant list to everyone in the call (but `except`).
    fn broadcast_list(&self, except: Option<ParticipantId>) {
        for (id, m) in &self.members {
            if m.stage == Stage::Waiting {
                continue;
            }
            if let (false, Some(c)) = (Some(*id) == except, &m.conn) {
                c.send(ServerMsg::Participants {
                    list: self.list(*id),
                });
            }
        }
    }

    /// TURN relays with time-limited credentials, when configured.
    fn ice_servers(&self, id: ParticipantId) -> Vec<IceServer> {
        let settings = &self.live.settings;
        if settings.turn_urls.is_empty() {
            return Vec::new();
        }
        let (username, credential) = match &settings.turn_secret {
            Some(secret) => {
                let now = u64::try_from(self.live.clock.now().unix_timestamp()).unwrap_or(0);
                let label = format!("haven-{}-{id}", self.id.get());
                let c = TurnCredentials::new(secret, &label, now, TURN_TTL);
                (Some(c.username), Some(c.credential))
            }
            None => (None, None),
        };
        vec![IceServer {
            urls: settings.turn_urls.clone(),
            username,
            credential,
        }]
    }
}
