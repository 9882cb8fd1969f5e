//! The one UDP socket: binding it and the receive loop that feeds the demultiplexer.

use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::sync::Arc;

use haven_media::Transport;
use quinn_udp::{RecvMeta, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::stats::bump;
use super::{MediaError, Shared, demux};

/// Larger than any datagram a WebRTC peer sends (they stay under the path MTU, about
/// 1200 bytes); a longer one is dropped as malformed.
const MAX_DATAGRAM: usize = 2048;

/// Datagrams read per system call at most.
const RECEIVE_BATCH: usize = 16;

/// One receive buffer: room for the largest UDP datagram, so nothing is ever truncated,
/// and for a run of datagrams the network card coalesced (GRO), which the kernel caps at
/// the same 64 KiB. Only the bytes that arrive are ever touched, so the memory this
/// reserves is not resident.
const RECEIVE_SLOT: usize = 64 * 1024;

/// The kernel buffers asked for on the one media socket. Every call shares it, so the
/// Linux default (about 208 KiB) fills within milliseconds when a burst of video frames from
/// dozens of calls arrives at once, and the kernel then drops datagrams: loss the server
/// would add. The kernel caps the request at `net.core.rmem_max`/`wmem_max`; the README
/// says how to raise those on a busy server.
const SOCKET_BUFFER: usize = 8 * 1024 * 1024;

/// Binds the media socket and sets it up for batched I/O (see `send_batch.rs`).
///
/// quinn-udp also forbids IP fragmentation on it: str0m keeps every datagram under 1200
/// bytes, the size WebRTC assumes any path carries, so a datagram too large for a path is
/// a bug to see, not one to hide by fragmenting.
pub(crate) async fn bind(addr: SocketAddr) -> Result<(UdpSocket, UdpSocketState), MediaError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let fail = |source| MediaError::BindUdp { addr, source };
    let socket =
        Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(fail)?;
    // Best effort: a smaller buffer than asked for still works, only with less headroom.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    let state = UdpSocketState::new((&socket).into()).map_err(fail)?;
    Ok((UdpSocket::from_std(socket.into()).map_err(fail)?, state))
}

/// Reads every datagram once and routes it. Runs until the server is dropped.
///
/// Up to [`RECEIVE_BATCH`] datagrams per system call (`recvmmsg`). Where the network card
/// coalesces a flow's datagrams (UDP GRO), one buffer holds several, `stride` bytes apart.
pub(crate) async fn receive_loop(shared: Arc<Shared>) {
    let socket = &shared.udp;
    let mut storage = vec![0u8; RECEIVE_BATCH * RECEIVE_SLOT];
    let mut meta = [RecvMeta::default(); RECEIVE_BATCH];
    let mut bufs: Vec<IoSliceMut<'_>> = storage
        .chunks_mut(RECEIVE_SLOT)
        .map(IoSliceMut::new)
        .collect();
    loop {
        let received = socket
            .async_io(Interest::READABLE, || {
                shared.udp_state.recv(socket.into(), &mut bufs, &mut meta)
            })
            .await;
        let count = match received {
            Ok(count) => count,
            Err(e) => {
                // Errors here are transient (e.g. an ICMP error reported on the socket);
                // the next datagram is unaffected.
                tracing::debug!(error = %e, "media UDP receive failed");
                tokio::task::yield_now().await;
                continue;
            }
        };
        for (m, buf) in meta.iter().zip(&bufs).take(count) {
            let stride = m.stride.max(1);
            for packet in buf[..m.len].chunks(stride) {
                if packet.len() >= MAX_DATAGRAM {
                    bump(&shared.counters.datagrams_received);
                    bump(&shared.counters.dropped_malformed);
                    continue;
                }
                demux::route(&shared, Transport::Udp, m.addr, packet);
            }
        }
    }
}
