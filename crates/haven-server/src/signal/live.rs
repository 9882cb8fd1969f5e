//! The registry of live rooms: which rooms run (each one a hub task, `hub.rs`), who hosts
//! them, and their seats. Request handlers and WebSocket connections find a room's hub
//! here; the hub owns everything else about the room.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use haven_domain::consultation::{Event, JourneyStep, Kind};
use haven_domain::time::{Duration, OffsetDateTime};
use haven_domain::{AttendeeId, ConsultationId, OrgId, Role, Roles, UserId};
use haven_store::Store;
use tokio::sync::{mpsc, watch};

use super::hub::{self, RoomKind, ToHub, Who};
use super::seats::{SeatToken, Seats};
use crate::media::{MediaError, MediaServer, RoomId};
use crate::{Clock, MediaSettings};

/// How long a test room and its invitation link last.
pub const TEST_ROOM_LIFETIME: Duration = Duration::hours(4);

/// Live calls: the media server, the rooms' hubs, their hosts and their seats.
pub struct Live {
    /// Started once by [`crate::serve`]; `None` before (router tests without media).
    media: OnceLock<MediaServer>,
    /// Media and signalling settings.
    pub(crate) settings: MediaSettings,
    /// The source of "now" for seat expiry and TURN credentials.
    pub(crate) clock: Arc<dyn Clock>,
    /// The database: invitation links, and what consultations record as they happen.
    pub(crate) store: Store,
    /// Every seat of every live room.
    pub(crate) seats: Seats,
    /// The keys with which people in a call share files.
    pub(crate) file_keys: super::files::FileKeys,
    /// std `Mutex`: each use is a map lookup or update, never held across an `.await`.
    rooms: Mutex<Rooms>,
    /// The next room number.
    next_room: AtomicU64,
    /// Everyone in a consultation's waiting area, by consultation; staff pages watch it.
    waiting: watch::Sender<WaitingBoard>,
}

/// The people waiting in each consultation, with its organisation.
pub type WaitingBoard = BTreeMap<ConsultationId, (OrgId, Vec<WaitingEntry>)>;

/// One person in a waiting area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingEntry {
    /// Who (the attendee's record holds the rest).
    pub attendee: AttendeeId,
    /// Since when they have been waiting.
    pub since: OffsetDateTime,
    /// Whether their page is connected now (false while it reconnects).
    pub connected: bool,
}

/// The room tables.
#[derive(Default)]
struct Rooms {
    /// Each live room's hub.
    hubs: HashMap<RoomId, mpsc::Sender<ToHub>>,
    /// The room each staff member hosts (staff join it with their session).
    hosts: HashMap<UserId, RoomId>,
    /// The live room of each consultation that has one.
    consultations: HashMap<ConsultationId, RoomId>,
}

/// A signed-in staff member, as a WebSocket knows them.
#[derive(Debug, Clone)]
pub(crate) struct StaffMember {
    /// Who.
    pub user: UserId,
    /// Their organisation.
    pub org: OrgId,
    /// Their roles.
    pub roles: Roles,
}

/// Why a join or a room could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The media server has not been started.
    #[error("live media is not running on this server")]
    NoMedia,
    /// The media server refused.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// Neither a valid seat token nor a staff member hosting a room.
    #[error(
        "this invitation link is not valid (it may have expired, been used by someone who was removed, or the call may have ended)"
    )]
    BadSeat,
    /// A staff member with no room of their own and no seat.
    #[error("you have no live room; open a test room first, or join with an invitation link")]
    NoRoom,
    /// Neither a staff session nor a seat token.
    #[error("join needs a staff session or the seat token from an invitation link")]
    Unauthenticated,
    /// The room has ended.
    #[error("the call has ended")]
    Ended,
    /// A staff member who is not a clinician tried to join a consultation.
    #[error("only clinicians join consultations")]
    NotClinician,
    /// An invitation whose holder has not finished confirming who they are (the one-time
    /// code, where the organisation asks for one).
    #[error("confirm who you are on your link's page first, then join again")]
    IdentityNotChecked,
    /// A clinician removed this person from the consultation.
    #[error("you were removed from this consultation")]
    Removed,
    /// The database failed (the cause is logged, not shown).
    #[error("the server could not check this just now; try again")]
    Store(String),
}

impl Live {
    /// An empty registry; the media server starts with [`Live::start_media`].
    pub fn new(settings: MediaSettings, clock: Arc<dyn Clock>, store: Store) -> Live {
        Live {
            media: OnceLock::new(),
            settings,
            clock,
            store,
            seats: Seats::default(),
            file_keys: super::files::FileKeys::default(),
            rooms: Mutex::new(Rooms::default()),
            next_room: AtomicU64::new(1),
            waiting: watch::Sender::new(WaitingBoard::new()),
        }
    }

    /// Starts the media server with the configured transport (once; later calls do nothing).
    pub async fn start_media(&self) -> Result<(), MediaError> {
        if self.media.get().is_some() {
            return Ok(());
        }
        let server = MediaServer::start(self.settings.transport.clone()).await?;
        // A concurrent start lost the race: its server (and sockets) are dropped.
        let _ = self.media.set(server);
        Ok(())
    }

    /// The media server, once started.
    pub fn media(&self) -> Option<&MediaServer> {
        self.media.get()
    }

    /// Opens a test room hosted by `host` (ending any test room they already host) and
    /// issues one guest seat; returns the room and the seat's token.
    pub fn open_test_room(
        self: &Arc<Self>,
        host: UserId,
        now: OffsetDateTime,
    ) -> Result<(RoomId, SeatToken), LiveError> {
        let media = self.media().ok_or(LiveError::NoMedia)?;
        let id = RoomId::new(self.next_room.fetch_add(1, Ordering::Relaxed));
        let (handle, events) = media.open_room(id)?;
        let inbox = hub::spawn(
            self.clone(),
            id,
            RoomKind::Test { host: host.clone() },
            handle,
            events,
        );
        let token = self.seats.issue(id, now + TEST_ROOM_LIFETIME);
        let previous = {
            let mut rooms = self.lock();
            rooms.hubs.insert(id, inbox);
            let old = rooms.hosts.insert(host, id);
            old.and_then(|old| rooms.hubs.get(&old).cloned())
        };
        if let Some(old) = previous {
            // Best effort: a full inbox means the old hub is busy; it still ends by expiry.
            let _ = old.try_send(ToHub::End {
                reason: "the host opened a new test room".into(),
            });
        }
        Ok((id, token))
    }

    /// Issues one more guest seat in the room `host` hosts.
    pub fn invite(&self, host: &UserId, now: OffsetDateTime) -> Result<SeatToken, LiveError> {
        let room = *self.lock().hosts.get(host).ok_or(LiveError::NoRoom)?;
        Ok(self.seats.issue(room, now + TEST_ROOM_LIFETIME))
    }

    /// Finds the room a client may join: by seat token if it gave one, else the room the
    /// signed-in staff member hosts.
    pub(crate) fn admit(
        &self,
        seat: Option<&SeatToken>,
        staff: Option<&UserId>,
    ) -> Result<(mpsc::Sender<ToHub>, Who), LiveError> {
        let (room, who) = match (seat, staff) {
            (Some(token), _) => {
                let (hash, room) = self
                    .seats
                    .find(token, self.clock.now())
                    .ok_or(LiveError::BadSeat)?;
                (room, Who::Seat(hash))
            }
            (None, Some(user)) => {
                let room = *self.lock().hosts.get(user).ok_or(LiveError::NoRoom)?;
                (room, Who::Host(user.clone()))
            }
            (None, None) => return Err(LiveError::Unauthenticated),
        };
        let hub = self
            .lock()
            .hubs
            .get(&room)
            .cloned()
            .ok_or(LiveError::Ended)?;
        Ok((hub, who))
    }

    /// The hub of a consultation's room, opening the room if it has none yet.
    fn consultation_hub(
        self: &Arc<Self>,
        org: &OrgId,
        consultation: &ConsultationId,
    ) -> Result<mpsc::Sender<ToHub>, LiveError> {
        let mut rooms = self.lock();
        if let Some(hub) = rooms
            .consultations
            .get(consultation)
            .and_then(|room| rooms.hubs.get(room))
        {
            return Ok(hub.clone());
        }
        let media = self.media().ok_or(LiveError::NoMedia)?;
        let id = RoomId::new(self.next_room.fetch_add(1, Ordering::Relaxed));
        let (handle, events) = media.open_room(id)?;
        let kind = RoomKind::Consultation {
            org: org.clone(),
            id: consultation.clone(),
        };
        let inbox = hub::spawn(self.clone(), id, kind, handle, events);
        rooms.hubs.insert(id, inbox.clone());
        rooms.consultations.insert(consultation.clone(), id);
        Ok(inbox)
    }

    /// A person joining a consultation with their invitation token: they enter its
    /// waiting area (the consultation's status moves to waiting, and their journey too).
    pub(crate) async fn join_invite(
        self: &Arc<Self>,
        token: &str,
    ) -> Result<(mpsc::Sender<ToHub>, Who), LiveError> {
        let now = self.clock.now();
        let invite = self
            .store
            .invite(&crate::invites::token_hash(token), now)
            .await
            .map_err(|e| LiveError::Store(e.to_string()))?
            .ok_or(LiveError::BadSeat)?;
        let org = invite.consultation.org_id.clone();
        // The pages send people to the waiting room only once their code has passed; a
        // socket opened straight away must not skip that step.
        let code = crate::ops::identity_code::status(&self.store, &org, &invite.attendee)
            .await
            .map_err(|e| LiveError::Store(e.to_string()))?;
        if !code.may_wait() {
            return Err(LiveError::IdentityNotChecked);
        }
        // A group attendee reaches the waiting room only after accepting the ground rules.
        if invite.consultation.kind == Kind::Group
            && !crate::pages::group_join::accepted(&self.store, &invite)
                .await
                .map_err(|e| LiveError::Store(e.to_string()))?
        {
            return Err(LiveError::IdentityNotChecked);
        }
        let hub = self.consultation_hub(&org, &invite.consultation.id)?;
        let attendee = invite.attendee.id.clone();
        self.arrive(&org, &invite.consultation.id, &attendee)
            .await?;
        Ok((hub, Who::Attendee(attendee)))
    }

    /// Records someone entering a consultation's waiting area: its status moves to
    /// waiting, and their journey too.
    async fn arrive(
        &self,
        org: &OrgId,
        consultation: &ConsultationId,
        attendee: &AttendeeId,
    ) -> Result<(), LiveError> {
        let now = self.clock.now();
        let record = async {
            let mut tx = self.store.begin().await?;
            tx.transition(org, consultation, Event::Arrive, now).await?;
            tx.journey_step(org, attendee, JourneyStep::Waiting, None, now)
                .await?;
            tx.commit().await
        };
        record.await.map_err(|e| LiveError::Store(e.to_string()))
    }

    /// A staff member joining a consultation of their organisation: a clinician hosts it;
    /// in a colleague meeting a listed colleague waits to be admitted like anyone else,
    /// and only its own clinician (or, with none named, any clinician) hosts it.
    pub(crate) async fn join_consultation(
        self: &Arc<Self>,
        staff: &StaffMember,
        consultation: &ConsultationId,
    ) -> Result<(mpsc::Sender<ToHub>, Who), LiveError> {
        let store_error = |e: haven_store::Error| match e {
            haven_store::Error::NotFound => LiveError::NoRoom,
            e => LiveError::Store(e.to_string()),
        };
        let c = self
            .store
            .consultation(&staff.org, consultation)
            .await
            .map_err(store_error)?;
        if c.status.is_final() {
            return Err(LiveError::Ended);
        }
        // A listed colleague (of a meeting, or added to a consultation during the call)
        // waits to be admitted like anyone invited, unless they were removed.
        let colleague = self
            .store
            .attendee_of_user(&staff.org, consultation, &staff.user)
            .await
            .map_err(store_error)?;
        if let Some(attendee) = colleague {
            let removed = self
                .store
                .removal(&staff.org, &attendee.id)
                .await
                .map_err(store_error)?;
            if removed.is_some() {
                return Err(LiveError::Removed);
            }
            let hub = self.consultation_hub(&staff.org, consultation)?;
            self.arrive(&staff.org, consultation, &attendee.id).await?;
            return Ok((hub, Who::Attendee(attendee.id)));
        }
        if !staff.roles.contains(Role::Clinician) {
            return Err(LiveError::NotClinician);
        }
        let hosts = match (&c.kind, &c.clinician_id) {
            (Kind::ColleagueMeeting, Some(host)) => *host == staff.user,
            // Any of a group's hosts runs its call; no other clinician.
            (Kind::Group, _) => self
                .store
                .is_host(&staff.org, consultation, &staff.user)
                .await
                .map_err(store_error)?,
            _ => true,
        };
        if !hosts {
            return Err(LiveError::NoRoom);
        }
        let hub = self.consultation_hub(&staff.org, consultation)?;
        Ok((hub, Who::Host(staff.user.clone())))
    }

    /// Hands a request to a consultation's live room; false if it has none.
    pub(crate) async fn tell(&self, consultation: &ConsultationId, msg: ToHub) -> bool {
        let hub = {
            let rooms = self.lock();
            rooms
                .consultations
                .get(consultation)
                .and_then(|room| rooms.hubs.get(room))
                .cloned()
        };
        match hub {
            Some(hub) => hub.send(msg).await.is_ok(),
            None => false,
        }
    }

    /// Replaces the list of people waiting in one consultation.
    pub(crate) fn set_waiting(&self, org: &OrgId, id: &ConsultationId, entries: Vec<WaitingEntry>) {
        self.waiting.send_if_modified(|board| {
            let before = board.get(id).map(|(_, e)| e.clone());
            if entries.is_empty() {
                board.remove(id);
            } else {
                board.insert(id.clone(), (org.clone(), entries.clone()));
            }
            before != board.get(id).map(|(_, e)| e.clone())
        });
    }

    /// A receiver that sees every change of the waiting areas.
    pub fn watch_waiting(&self) -> watch::Receiver<WaitingBoard> {
        self.waiting.subscribe()
    }

    /// Whether the room is live.
    pub fn is_live(&self, room: RoomId) -> bool {
        self.lock().hubs.contains_key(&room)
    }

    /// The room a valid seat token admits to (for the invitation page).
    pub fn seat_room(&self, token: &SeatToken) -> Option<RoomId> {
        self.seats
            .find(token, self.clock.now())
            .map(|(_, room)| room)
    }

    /// Forgets a room that has ended: its hub, its host and its seats.
    pub(crate) fn unregister(&self, room: RoomId) {
        {
            let mut rooms = self.lock();
            rooms.hubs.remove(&room);
            rooms.hosts.retain(|_, r| *r != room);
            rooms.consultations.retain(|_, r| *r != room);
        }
        self.seats.revoke_room(room);
        self.file_keys.revoke_room(room);
    }

    /// A live room's hub.
    pub(crate) fn hub(&self, room: RoomId) -> Option<mpsc::Sender<ToHub>> {
        self.lock().hubs.get(&room).cloned()
    }

    fn lock(&self) -> MutexGuard<'_, Rooms> {
        // Nothing under this lock can panic, so it is never poisoned; recover anyway.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }
}
