//! One task per live room: the room's signalling owner. It holds the media room's handle,
//! the participants (their seats, connections and states) and applies, one at a time,
//! what connections ask ([`ToHub`]) and what the media room reports ([`RoomEvent`]).
//! No lock: everything about a room is this task's. `commands.rs` lists the requests and
//! dispatches each to the module that owns it; `members.rs` keeps the connections (joins,
//! ejections, grace periods, participant lists); `media.rs` holds the half that talks to
//! the media room: offers and answers, clients' controls going in, its events going out.

mod chat;
mod commands;
mod consult;
pub(crate) mod files;
mod group;
mod limit;
mod media;
mod members;
mod people;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use haven_domain::{AttendeeId, ConsultationId, OrgId, UserId};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::conn::{Close, Conn};
use super::live::{Live, TEST_ROOM_LIFETIME};
use super::protocol::ServerMsg;
use super::seats::SeatHash;
use crate::media::{ParticipantId, RoomEvents, RoomHandle, RoomId};

/// Requests queued for a hub; connections wait when it is full.
const INBOX: usize = 256;

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

pub(crate) use commands::ToHub;

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
}
