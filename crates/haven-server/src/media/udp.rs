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

pub(crate) async fn bind(addr: SocketAddr) -> Result<UdpSocket, MediaError> {
    UdpSocket::bind(addr)
        .await
        .map_err(|source| MediaError::BindUdp { addr, source })
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
