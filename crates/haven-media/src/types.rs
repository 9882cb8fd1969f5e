//! Small public value types shared by the room's inputs and outputs.

use std::fmt;
use std::net::SocketAddr;

/// Identifies one participant within a room. The owner of the room chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(u64);

impl ParticipantId {
    /// Wraps a caller-chosen number, typically a seat number or a database key.
    pub const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The number this id was made from.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

/// Whether a track carries sound or pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Sound (Opus).
    Audio,
    /// Pictures (VP8 or H.264).
    Video,
}

impl From<str0m::media::MediaKind> for MediaKind {
    fn from(kind: str0m::media::MediaKind) -> Self {
        match kind {
            str0m::media::MediaKind::Audio => Self::Audio,
            str0m::media::MediaKind::Video => Self::Video,
        }
    }
}

impl From<MediaKind> for str0m::media::MediaKind {
    fn from(kind: MediaKind) -> Self {
        match kind {
            MediaKind::Audio => Self::Audio,
            MediaKind::Video => Self::Video,
        }
    }
}

/// The transport a datagram arrived on or must leave by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Plain UDP, the normal case.
    Udp,
    /// ICE-TCP (RFC 4571 framing is removed/added by the I/O layer, not here).
    Tcp,
}

impl From<Transport> for str0m::net::Protocol {
    fn from(t: Transport) -> Self {
        match t {
            Transport::Udp => Self::Udp,
            Transport::Tcp => Self::Tcp,
        }
    }
}

impl Transport {
    /// str0m also knows TLS-wrapped TCP; the room never announces such candidates, so any
    /// TCP flavour maps to `Tcp`.
    pub(crate) fn from_str0m(p: str0m::net::Protocol) -> Self {
        match p {
            str0m::net::Protocol::Udp => Self::Udp,
            _ => Self::Tcp,
        }
    }
}

/// One datagram received by the server's media socket, as handed to
/// [`Room::accepts`](crate::Room::accepts) and [`Room::handle_input`](crate::Room::handle_input).
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// The transport it arrived on.
    pub transport: Transport,
    /// The remote address it came from.
    pub source: SocketAddr,
    /// The local address it arrived at (one of the room's announced addresses).
    pub destination: SocketAddr,
    /// The bytes, untrusted.
    pub contents: &'a [u8],
}
