//! One client connection as the rest of signalling sees it: a bounded queue of outgoing
//! messages and a way to close it with a reason. The writer task (`ws.rs`) drains both.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;

use super::protocol::ServerMsg;

/// Messages queued for one client. A client that lets this many pile up cannot keep up
/// with the call, and is disconnected rather than buffered without bound.
pub const OUTGOING_QUEUE: usize = 64;

/// Identifies one WebSocket connection (a participant may reconnect on another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(u64);

impl ConnId {
    /// A process-unique id.
    fn next() -> ConnId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Why the server closes a connection: the WebSocket close code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The close code (1000 normal, 1008 policy violation, 1011 server error, 1013 too slow).
    pub code: u16,
    /// The reason, short and stable: clients and tests match on it.
    pub reason: &'static str,
}

impl Close {
    /// The host ended the call.
    pub const ENDED: Close = Close::new(1000, "ended");
    /// The host ejected this participant.
    pub const EJECTED: Close = Close::new(1000, "ejected");
    /// The client said `leave`.
    pub const LEFT: Close = Close::new(1000, "left");
    /// The same seat joined on another connection.
    pub const REPLACED: Close = Close::new(1000, "replaced by a new connection");
    /// The outgoing queue overflowed.
    pub const TOO_SLOW: Close = Close::new(1013, "too slow");
    /// A flood of messages.
    pub const RATE_LIMITED: Close = Close::new(1008, "rate limited");
    /// Ten refused messages.
    pub const TOO_MANY_ERRORS: Close = Close::new(1008, "too many errors");
    /// `join` without valid credentials.
    pub const UNAUTHENTICATED: Close = Close::new(1008, "unauthenticated");
    /// `join` with a protocol version this server does not speak.
    pub const UNSUPPORTED_VERSION: Close = Close::new(1008, "unsupported protocol version");
    /// No `join` in time.
    pub const JOIN_TIMEOUT: Close = Close::new(1008, "no join in time");
    /// The room is not running (ended, or media unavailable).
    pub const ROOM_GONE: Close = Close::new(1000, "the room has ended");

    const fn new(code: u16, reason: &'static str) -> Close {
        Close { code, reason }
    }
}

/// The sending side of a connection, cheap to clone.
#[derive(Clone)]
pub struct Conn {
    id: ConnId,
    out: mpsc::Sender<ServerMsg>,
    close: mpsc::Sender<Close>,
}

/// The receiving side, owned by the writer task.
pub struct ConnQueues {
    /// Messages to write, in order.
    pub out: mpsc::Receiver<ServerMsg>,
    /// The first close request wins; the writer flushes what was queued before it.
    pub close: mpsc::Receiver<Close>,
}

impl Conn {
    /// A new connection's handle and queues.
    pub fn new() -> (Conn, ConnQueues) {
        let (out_tx, out) = mpsc::channel(OUTGOING_QUEUE);
        let (close_tx, close) = mpsc::channel(1);
        let conn = Conn {
            id: ConnId::next(),
            out: out_tx,
            close: close_tx,
        };
        (conn, ConnQueues { out, close })
    }

    /// This connection's id.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// Queues a message; a full queue closes the connection as too slow. Returns whether
    /// the message was queued.
    pub fn send(&self, msg: ServerMsg) -> bool {
        match self.out.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.close(Close::TOO_SLOW);
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Asks the writer to flush what is queued, send a close frame and stop.
    pub fn close(&self, why: Close) {
        // Full means a close is already pending: the first reason stands.
        let _ = self.close.try_send(why);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_a_client_that_cannot_keep_up_is_closed_as_too_slow() {
        let (conn, mut queues) = Conn::new();
        for _ in 0..OUTGOING_QUEUE {
            assert!(conn.send(ServerMsg::Pong {}));
        }
        assert!(!conn.send(ServerMsg::Pong {}), "the queue is bounded");
        assert_eq!(queues.close.try_recv().ok(), Some(Close::TOO_SLOW));
        // A later reason does not replace the first.
        conn.close(Close::ENDED);
        conn.close(Close::EJECTED);
        assert_eq!(queues.close.try_recv().ok(), Some(Close::ENDED));
        assert!(queues.close.try_recv().is_err());
        assert_ne!(Conn::new().0.id(), conn.id());
    }
}
