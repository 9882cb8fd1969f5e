//! The one UDP socket: binding it and the receive loop that feeds the demultiplexer.

use std::net::SocketAddr;
use std::sync::Arc;

use haven_media::Transport;
use tokio::net::UdpSocket;

use super::stats::bump;
use super::{MediaError, Shared, demux};

/// Larger than any datagram a WebRTC peer sends (they stay under the path MTU, about
/// 1200 bytes); a datagram that fills the buffer was truncated and is dropped as malformed.
const RECEIVE_BUFFER: usize = 2048;

/// The kernel buffers asked for on the one media socket. Every call shares it, so the
/// Linux default (about 208 KiB) fills within milliseconds when a burst of video frames from
/// dozens of calls arrives at once, and the kernel then drops datagrams: loss the server
/// would add. The kernel caps the request at `net.core.rmem_max`/`wmem_max`; the README
/// says how to raise those on a busy server.
const SOCKET_BUFFER: usize = 8 * 1024 * 1024;

pub(crate) async fn bind(addr: SocketAddr) -> Result<UdpSocket, MediaError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let fail = |source| MediaError::BindUdp { addr, source };
    let socket =
        Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP)).map_err(fail)?;
    // Best effort: a smaller buffer than asked for still works, only with less headroom.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&addr.into()).map_err(fail)?;
    UdpSocket::from_std(socket.into()).map_err(fail)
}

/// Reads every datagram once and routes it. Runs until the server is dropped.
pub(crate) async fn receive_loop(shared: Arc<Shared>) {
    let socket = shared.udp.clone();
    let mut buf = vec![0u8; RECEIVE_BUFFER];
    loop {
        let (len, source) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                // Errors here are transient (e.g. an ICMP error reported on the socket);
                // the next datagram is unaffected.
                tracing::debug!(error = %e, "media UDP receive failed");
                tokio::task::yield_now().await;
                continue;
            }
        };
        let Some(packet) = buf.get(..len).filter(|_| len < RECEIVE_BUFFER) else {
            bump(&shared.counters.datagrams_received);
            bump(&shared.counters.dropped_malformed);
            continue;
        };
        demux::route(&shared, Transport::Udp, source, packet);
    }
}
