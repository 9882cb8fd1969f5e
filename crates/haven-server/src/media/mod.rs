//! Media transport: the sockets between browsers and the rooms of `haven_media`.
//!
//! One UDP socket and one ICE-TCP listener, on the same port number, serve every room.
//! The shape (see ARCHITECTURE.md, "one owner per room"):
//!
//! - [`MediaServer::start`] binds the sockets and spawns the UDP receive loop (`udp.rs`) and
//!   the ICE-TCP accept loop (`tcp.rs`). Both hand every datagram (or RFC 4571 frame) to the
//!   demultiplexer (`demux.rs`), which reads it once and routes it to one room's bounded
//!   inbox: by remote address once known, otherwise by the ICE username fragment of a STUN
//!   binding request. Anything else is dropped and counted ([`MediaStats`]).
//! - [`MediaServer::open_room`] spawns one task per room (`room_task.rs`) that owns a sans-IO
//!   [`haven_media::Room`]; callers drive it through a [`RoomHandle`] and receive its
//!   [`RoomEvent`]s on a bounded channel.
//! - The routing tables (`registry.rs`) sit behind a `std::sync::Mutex` that is never held
//!   across an `.await`; they hold only channel senders, never a room.
//! - [`turn`] makes time-limited TURN credentials for coturn.

pub(crate) mod demux;
mod handle;
mod registry;
mod room_task;
mod send_batch;
mod stats;
pub(crate) mod tcp;
pub mod turn;
mod udp;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;

pub use handle::{Control, RoomEvents, RoomHandle};
pub use haven_media::{AudioOnlyReason, ConnectionQuality, MediaKind, ParticipantId, RoomEvent};
pub use stats::MediaStats;

use registry::Registry;
use stats::Counters;

/// The default media port. One fixed port (UDP, and TCP with the same number) is what
/// hospital and home firewalls can be told to allow; a range of ephemeral ports per call
/// is not. 10000 is clear of the well-known ports and of Linux's ephemeral range.
pub const DEFAULT_MEDIA_PORT: u16 = 10_000;

/// How the media transport listens and what it tells browsers.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// The port for UDP and ICE-TCP alike; 0 picks a free one (tests).
    pub udp_port: u16,
    /// The address to bind both sockets to.
    pub bind_ip: IpAddr,
    /// Addresses announced to browsers as host candidates, for servers behind NAT (the
    /// public address the firewall forwards to `bind_ip`). Empty means `bind_ip` itself,
    /// which must then be a specific address, not 0.0.0.0 or ::.
    pub public_addrs: Vec<IpAddr>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            udp_port: DEFAULT_MEDIA_PORT,
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            public_addrs: Vec::new(),
        }
    }
}

/// Identifies a live room within the media server; the caller chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoomId(u64);

impl RoomId {
    /// Wraps a caller-chosen number (for instance a consultation's database key).
    pub const fn new(id: u64) -> Self {
        RoomId(id)
    }

    /// The number this id was made from.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "room{}", self.0)
    }
}

/// What can go wrong in the media transport.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The UDP socket could not be bound.
    #[error("cannot bind the media UDP socket on {addr}: {source}")]
    BindUdp {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The ICE-TCP listener could not be bound (on the port number UDP got).
    #[error("cannot listen for ICE-TCP on {addr}: {source}")]
    BindTcp {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Nothing to announce: the bind address is a wildcard and no public address is set.
    #[error(
        "the media bind address {0} is unspecified; set the public addresses browsers can reach"
    )]
    NoPublicAddress(IpAddr),
    /// A room with this id is already open.
    #[error("{0} is already open")]
    RoomExists(RoomId),
    /// The room has ended (or failed); it takes no more commands.
    #[error("{0} has ended")]
    RoomClosed(RoomId),
    /// The media core refused the request (bad SDP, unknown participant…).
    #[error(transparent)]
    Room(#[from] haven_media::Error),
    /// The room's SDP answer names no ICE username fragment, so its datagrams could not
    /// be routed (a bug in the media core, not the client's fault).
    #[error("the room's SDP answer has no ICE username fragment")]
    NoIceUfrag,
    /// Another participant already uses this ICE username fragment (random collision).
    #[error("the ICE username fragment is already in use; join again")]
    UfragInUse,
}

/// What the socket loops and the room tasks share.
pub(crate) struct Shared {
    /// The routing tables.
    registry: Registry,
    /// Counters behind [`MediaStats`].
    counters: Counters,
    /// The one UDP socket: the receive loop reads it, room tasks send on it.
    udp: UdpSocket,
    /// Its batching state (GSO and GRO support, found when it was bound).
    udp_state: quinn_udp::UdpSocketState,
    /// The announced addresses (public IP, media port); never empty.
    local_addrs: Vec<SocketAddr>,
}

impl Shared {
    /// The announced address a datagram from `source` was sent to: the first one of the
    /// same IP family. A wildcard-bound socket cannot tell which of several public
    /// addresses of one family was used, and ICE-lite only needs a consistent local candidate.
    fn local_for(&self, source: SocketAddr) -> SocketAddr {
        self.local_addrs
            .iter()
            .copied()
            .find(|a| a.is_ipv4() == source.is_ipv4())
            .unwrap_or(self.local_addrs[0]) // `start` refuses an empty list.
    }
}

/// The media transport: sockets, demultiplexer and room tasks.
///
/// Dropping it stops the socket loops (no more datagrams reach any room); rooms end when
/// their handles are dropped, open ICE-TCP connections with their rooms or by idling out.
pub struct MediaServer {
    shared: Arc<Shared>,
    /// The actual bound address (the port UDP and TCP share).
    local_addr: SocketAddr,
    udp_loop: JoinHandle<()>,
    tcp_loop: JoinHandle<()>,
}

impl MediaServer {
    /// Binds the UDP socket, then the TCP listener on the port number UDP got, and starts
    /// receiving. With port 0, a number taken for TCP is passed over for another.
    pub async fn start(config: MediaConfig) -> Result<MediaServer, MediaError> {
        let public: Vec<IpAddr> = if config.public_addrs.is_empty() {
            if config.bind_ip.is_unspecified() {
                return Err(MediaError::NoPublicAddress(config.bind_ip));
            }
            vec![config.bind_ip]
        } else {
            config.public_addrs.clone()
        };
        let Sockets {
            udp,
            udp_state,
            listener,
            local_addr,
        } = bind_both(config.bind_ip, config.udp_port).await?;
        let shared = Arc::new(Shared {
            registry: Registry::default(),
            counters: Counters::default(),
            udp,
            udp_state,
            local_addrs: public
                .into_iter()
                .map(|ip| SocketAddr::new(ip, local_addr.port()))
                .collect(),
        });
        let udp_loop = tokio::spawn(udp::receive_loop(shared.clone()));
        let tcp_loop = tokio::spawn(tcp::accept_loop(listener, shared.clone()));
        tracing::info!(%local_addr, announced = ?shared.local_addrs, "media transport listening (UDP and ICE-TCP)");
        Ok(MediaServer {
            shared,
            local_addr,
            udp_loop,
            tcp_loop,
        })
    }

    /// The bound address; UDP and ICE-TCP share its port.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The addresses announced to browsers as host candidates.
    pub fn announced_addrs(&self) -> &[SocketAddr] {
        &self.shared.local_addrs
    }

    /// Opens a room: spawns its task and returns a handle to command it and the receiver
    /// of its events. The room ends on [`RoomHandle::end`], when every handle is dropped,
    /// or if its task panics.
    pub fn open_room(&self, id: RoomId) -> Result<(RoomHandle, RoomEvents), MediaError> {
        room_task::spawn(id, self.shared.clone())
    }

    /// A handle to a room that is open, if it is.
    pub fn room(&self, id: RoomId) -> Option<RoomHandle> {
        self.shared.registry.room_handle(id)
    }

    /// The transport's counters so far.
    pub fn stats(&self) -> MediaStats {
        self.shared.counters.snapshot()
    }
}

/// The media transport's sockets, bound.
struct Sockets {
    udp: UdpSocket,
    udp_state: quinn_udp::UdpSocketState,
    listener: TcpListener,
    /// The UDP socket's address; the listener has the same port.
    local_addr: SocketAddr,
}

/// Binds the UDP socket, then the TCP listener on the port number UDP got. With port 0
/// (tests) the number the system picked for UDP may be in use for TCP (by any program's
/// connection), so a few more are tried before giving up.
async fn bind_both(ip: IpAddr, port: u16) -> Result<Sockets, MediaError> {
    const ATTEMPTS: u32 = 16;
    let want = SocketAddr::new(ip, port);
    let mut attempt = 1;
    loop {
        let (udp, udp_state) = udp::bind(want).await?;
        let local_addr = udp
            .local_addr()
            .map_err(|source| MediaError::BindUdp { addr: want, source })?;
        let tcp_addr = SocketAddr::new(ip, local_addr.port());
        match TcpListener::bind(tcp_addr).await {
            Ok(listener) => {
                return Ok(Sockets {
                    udp,
                    udp_state,
                    listener,
                    local_addr,
                });
            }
            Err(e)
                if port == 0 && e.kind() == std::io::ErrorKind::AddrInUse && attempt < ATTEMPTS =>
            {
                attempt += 1;
            }
            Err(source) => {
                return Err(MediaError::BindTcp {
                    addr: tcp_addr,
                    source,
                });
            }
        }
    }
}

impl Drop for MediaServer {
    fn drop(&mut self) {
        self.udp_loop.abort();
        self.tcp_loop.abort();
    }
}
