//! The routing tables shared by the socket loops and the room tasks.
//!
//! They hold only channel senders and small keys. Room tasks own their rooms; the tables
//! only say where a datagram goes and where a room's ICE-TCP transmits go.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use haven_media::{ParticipantId, Transport};
use tokio::sync::mpsc;

use super::RoomId;
use super::handle::{Command, RoomHandle};

/// A datagram (or ICE-TCP frame) on its way to a room task.
pub(crate) struct Incoming {
    pub transport: Transport,
    pub source: SocketAddr,
    pub contents: Vec<u8>,
}

/// Where a room's datagrams go.
pub(crate) type Inbox = mpsc::Sender<Incoming>;

/// Where an ICE-TCP connection's outgoing frames go (already RFC 4571 framed).
pub(crate) type TcpWriter = mpsc::Sender<Vec<u8>>;

/// Who owns a route: a participant of a room.
type Owner = (RoomId, ParticipantId);

struct RoomEntry {
    inbox: Inbox,
    /// Weak, so that the registry does not keep a room alive once its callers have
    /// dropped every handle.
    commands: mpsc::WeakSender<Command>,
}

#[derive(Default)]
struct Tables {
    rooms: HashMap<RoomId, RoomEntry>,
    /// Server-side ICE username fragment → its participant (first STUN request).
    ufrags: HashMap<String, Owner>,
    /// Remote address the participant's peer connection accepted → that participant.
    addrs: HashMap<(Transport, SocketAddr), Owner>,
    /// Live ICE-TCP connections by remote address, with the connection's serial number so
    /// a closing connection never removes a newer one from the same address.
    tcp: HashMap<SocketAddr, (u64, TcpWriter)>,
}

impl Tables {
    fn drop_routes(&mut self, owned: impl Fn(&Owner) -> bool) {
        self.ufrags.retain(|_, o| !owned(o));
        let tcp = &mut self.tcp;
        self.addrs.retain(|(transport, addr), o| {
            if !owned(o) {
                return true;
            }
            // Dropping the only sender of a connection's writer closes the connection.
            if *transport == Transport::Tcp {
                tcp.remove(addr);
            }
            false
        });
    }
}

/// The routing tables.
#[derive(Default)]
pub(crate) struct Registry {
    /// A `std::sync::Mutex`, not tokio's: every critical section is a few hash-map
    /// operations and never awaits, so it is held for less time than a task switch, and
    /// it is taken once per datagram by the socket loops and once per membership change by
    /// the room tasks. Never held across an `.await`.
    tables: Mutex<Tables>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock can only come from a hash-map allocation failure;
        // each operation leaves the tables consistent, so carrying on is safe.
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a room; false if the id is taken.
    pub fn insert_room(&self, id: RoomId, inbox: Inbox, commands: &mpsc::Sender<Command>) -> bool {
        let mut t = self.lock();
        if t.rooms.contains_key(&id) {
            return false;
        }
        let commands = commands.downgrade();
        t.rooms.insert(id, RoomEntry { inbox, commands });
        true
    }

    /// Removes a room and every route to it; its ICE-TCP connections close.
    pub fn remove_room(&self, id: RoomId) {
        let mut t = self.lock();
        t.rooms.remove(&id);
        t.drop_routes(|(room, _)| *room == id);
    }

    /// A handle to an open room whose task still takes commands.
    pub fn room_handle(&self, id: RoomId) -> Option<RoomHandle> {
        let sender = self.lock().rooms.get(&id)?.commands.upgrade()?;
        Some(RoomHandle::new(id, sender))
    }

    /// Routes STUN requests naming this server-side ufrag to the participant; false if
    /// another participant has it.
    pub fn add_ufrag(&self, ufrag: &str, owner: Owner) -> bool {
        let mut t = self.lock();
        if t.ufrags.get(ufrag).is_some_and(|o| *o != owner) {
            return false;
        }
        t.ufrags.insert(ufrag.to_owned(), owner);
        true
    }

    /// Forgets a participant's ufrags (an ICE restart replaces them).
    pub fn remove_ufrags(&self, owner: Owner) {
        self.lock().ufrags.retain(|_, o| *o != owner);
    }

    /// Routes everything from this address to the participant whose peer accepted it.
    pub fn learn_addr(&self, transport: Transport, addr: SocketAddr, owner: Owner) {
        self.lock().addrs.insert((transport, addr), owner);
    }

    /// Removes every route to a participant at once; its ICE-TCP connections close.
    pub fn remove_participant(&self, owner: Owner) {
        self.lock().drop_routes(|o| *o == owner);
    }

    /// The inbox of the room that owns packets from this address, if known.
    pub fn inbox_by_addr(&self, transport: Transport, addr: SocketAddr) -> Option<Inbox> {
        let t = self.lock();
        let (room, _) = t.addrs.get(&(transport, addr))?;
        Some(t.rooms.get(room)?.inbox.clone())
    }

    /// The inbox of the room whose participant has this server-side ufrag, if any.
    pub fn inbox_by_ufrag(&self, ufrag: &str) -> Option<Inbox> {
        let t = self.lock();
        let (room, _) = t.ufrags.get(ufrag)?;
        Some(t.rooms.get(room)?.inbox.clone())
    }

    /// Registers a new ICE-TCP connection's writer.
    pub fn add_tcp(&self, addr: SocketAddr, serial: u64, writer: TcpWriter) {
        self.lock().tcp.insert(addr, (serial, writer));
    }

    /// The writer of the ICE-TCP connection from this address.
    pub fn tcp_writer(&self, addr: SocketAddr) -> Option<TcpWriter> {
        self.lock().tcp.get(&addr).map(|(_, w)| w.clone())
    }

    /// Closes (forgets) the ICE-TCP connection from this address: a slow one, or one that
    /// ended. With `serial`, only if it is still that connection.
    pub fn remove_tcp(&self, addr: SocketAddr, serial: Option<u64>) {
        let mut t = self.lock();
        if serial.is_none_or(|s| t.tcp.get(&addr).is_some_and(|(s2, _)| *s2 == s)) {
            t.tcp.remove(&addr);
            t.addrs.remove(&(Transport::Tcp, addr));
        }
    }
}
