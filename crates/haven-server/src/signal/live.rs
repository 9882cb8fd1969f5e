//! The registry of live rooms: which rooms run (each one a hub task, `hub.rs`), who hosts
//! them, and their seats. Request handlers and WebSocket connections find a room's hub
//! here; the hub owns everything else about the room.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use haven_domain::UserId;
use haven_domain::time::{Duration, OffsetDateTime};
use tokio::sync::mpsc;

use super::hub::{self, ToHub, Who};
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
    /// Every seat of every live room.
    pub(crate) seats: Seats,
    /// std `Mutex`: each use is a map lookup or update, never held across an `.await`.
    rooms: Mutex<Rooms>,
    /// The next room number.
    next_room: AtomicU64,
}

/// The room tables.
#[derive(Default)]
struct Rooms {
    /// Each live room's hub.
    hubs: HashMap<RoomId, mpsc::Sender<ToHub>>,
    /// The room each staff member hosts (staff join it with their session).
    hosts: HashMap<UserId, RoomId>,
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
}

impl Live {
    /// An empty registry; the media server starts with [`Live::start_media`].
    pub fn new(settings: MediaSettings, clock: Arc<dyn Clock>) -> Live {
        Live {
            media: OnceLock::new(),
            settings,
            clock,
            seats: Seats::default(),
            rooms: Mutex::new(Rooms::default()),
            next_room: AtomicU64::new(1),
        }
    }

    /// Starts the media server with the configured transport (once; later calls do nothing).
    pub async fn start_media(&self) -> Result<(), MediaError> {
        if self.media.get().is_some() {
            return Ok(());
        }
        let config = self.settings.transport.clone();
        // With port 0 the kernel picks a free UDP port, whose number may be taken for TCP
        // (ICE-TCP must share it): pick again a few times before giving up.
        let mut attempts = if config.udp_port == 0 { 20 } else { 1 };
        let server = loop {
            attempts -= 1;
            match MediaServer::start(config.clone()).await {
                Ok(server) => break server,
                Err(MediaError::BindTcp { .. }) if attempts > 0 => {}
                Err(e) => return Err(e),
            }
        };
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
        let inbox = hub::spawn(self.clone(), id, host.clone(), handle, events);
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
        }
        self.seats.revoke_room(room);
    }

    fn lock(&self) -> MutexGuard<'_, Rooms> {
        // Nothing under this lock can panic, so it is never poisoned; recover anyway.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }
}
