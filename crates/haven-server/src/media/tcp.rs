//! ICE-TCP, passive side (RFC 6544) with RFC 4571 framing: each packet is a 16-bit
//! big-endian length followed by that many bytes. For networks that block UDP.
//!
//! A connection must open with a STUN binding request, routed by ufrag like the first UDP
//! datagram; after that its frames reach that room by address. The room's transmits to the
//! connection go through a bounded writer queue; a connection that cannot keep up, stalls,
//! idles or sends a bad frame is closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use haven_media::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::timeout;

use super::Shared;
use super::demux::{self, Routed};
use super::stats::bump;

/// Browsers and str0m keep packets under about 1200 bytes (their MTU guess); 1600 leaves
/// headroom, and bounds what one frame can make us buffer.
pub(crate) const MAX_FRAME: usize = 1600;
/// A new connection must send its first STUN request soon.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
/// ICE consent checks (RFC 7675) arrive every few seconds on a live connection; this much
/// silence means the peer is gone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Once a frame's length has arrived, its bytes must follow promptly (no slow-loris).
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);
/// A write that takes this long means the peer stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames queued for one connection: about half a second of a 1.5 Mbit/s video call.
/// A connection with more backlog than this cannot keep up and is closed.
pub(crate) const WRITER_QUEUE: usize = 128;
/// Open connections at most; more are refused so file descriptors last.
const MAX_CONNECTIONS: usize = 4096;

/// Accepts connections until the server is dropped.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let serials = AtomicU64::new(0);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Usually out of file descriptors: back off instead of spinning.
                tracing::warn!(error = %e, "ICE-TCP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!("ICE-TCP connection refused: too many open");
            continue;
        };
        bump(&shared.counters.tcp_connections);
        let serial = serials.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        tokio::spawn(async move {
            serve(stream, peer, serial, &shared).await;
            drop(slot);
        });
    }
}

async fn serve(stream: TcpStream, peer: SocketAddr, serial: u64, shared: &Shared) {
    // Media is latency-sensitive and every frame is written whole.
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    let (tx, rx) = mpsc::channel(WRITER_QUEUE);
    // The registry holds the only sender: when a room closes the connection (participant
    // removed, room ended, queue full) the writer loop sees the channel end.
    shared.registry.add_tcp(peer, serial, tx);
    tokio::select! {
        () = read_loop(reader, peer, shared) => {}
        () = write_loop(writer, rx) => {}
    }
    shared.registry.remove_tcp(peer, Some(serial));
    // Dropping both halves closes the socket.
}

async fn read_loop(mut reader: OwnedReadHalf, peer: SocketAddr, shared: &Shared) {
    let mut buf = vec![0u8; MAX_FRAME];
    let mut first = true;
    loop {
        let wait = if first {
            FIRST_FRAME_TIMEOUT
        } else {
            IDLE_TIMEOUT
        };
        let mut len = [0u8; 2];
        if !matches!(timeout(wait, reader.read_exact(&mut len)).await, Ok(Ok(_))) {
            return;
        }
        let len = usize::from(u16::from_be_bytes(len));
        let Some(frame) = buf.get_mut(..len).filter(|_| len > 0) else {
            bump(&shared.counters.datagrams_received);
            bump(&shared.counters.dropped_malformed);
            tracing::debug!("ICE-TCP frame of {len} bytes; closing the connection");
            return;
        };
        if !matches!(
            timeout(FRAME_TIMEOUT, reader.read_exact(frame)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let routed = demux::route(shared, Transport::Tcp, peer, frame);
        if first && routed == Routed::No {
            // Only a STUN request for a live participant can open ICE-TCP.
            return;
        }
        first = false;
    }
}

async fn write_loop(mut writer: OwnedWriteHalf, mut frames: mpsc::Receiver<Vec<u8>>) {
    while let Some(frame) = frames.recv().await {
        if !matches!(
            timeout(WRITE_TIMEOUT, writer.write_all(&frame)).await,
            Ok(Ok(()))
        ) {
            return;
        }
    }
}

/// Frames a packet for RFC 4571: `None` if it is too long to frame.
pub(crate) fn frame(contents: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(contents.len()).ok()?;
    let mut framed = Vec::with_capacity(contents.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(contents);
    Some(framed)
}
