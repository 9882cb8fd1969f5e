//! Who a peer is, what it tells the run while joining, and what it hands back at the end.

use std::net::SocketAddr;
use std::time::Duration;

use crate::publish::Published;
use crate::tally::{Rate, Received};

/// Who a peer is.
#[derive(Debug, Clone)]
pub struct PeerSpec {
    /// Its index in the run, stamped on what it publishes.
    pub index: u32,
    pub room: usize,
    /// The room's host joins with the staff session's cookies; guests with a seat.
    pub host: bool,
    pub seat: Option<String>,
    pub cookie: Option<String>,
    /// Whether it publishes video (all publish audio).
    pub video: bool,
    /// With --target janus: the videoroom it joins.
    pub janus_room: Option<u64>,
}

/// A peer's news for the run's controller while participants join.
#[derive(Debug)]
pub enum Progress {
    Connected {
        after: Duration,
        /// The peer's UDP ports and the server's media ports, to watch for kernel drops.
        local_ports: Vec<u16>,
        server_ports: Vec<u16>,
    },
    Failed,
}

/// Everything a peer measured, and how it fared.
#[derive(Debug)]
pub struct PeerResult {
    pub spec: PeerSpec,
    /// Join to ICE and DTLS connected.
    pub connected_after: Option<Duration>,
    /// Why it never connected.
    pub failure: Option<String>,
    /// Whether ICE connected but DTLS never completed (the symptom of str0m issue #932).
    pub dtls_stalled: bool,
    /// Why it left the call before the end of the run, after connecting.
    pub dropped: Option<String>,
    /// Error messages the server sent (negotiation refused, rate limits).
    pub signal_errors: Vec<String>,
    pub published: Published,
    pub received: Received,
    /// RTP packets and bytes received (forwarded by the server) over the window.
    pub rx: Option<Rate>,
    /// RTP packets and bytes sent over the window.
    pub tx: Option<Rate>,
    /// The local UDP port, and the server's media address once known.
    pub local_port: Option<u16>,
    pub server_addr: Option<SocketAddr>,
}

impl PeerResult {
    /// The result of a participant that failed before its peer could start.
    pub fn failed(spec: PeerSpec, why: String) -> PeerResult {
        let mut result = PeerResult::new(spec);
        result.failure = Some(why);
        result
    }

    pub(crate) fn new(spec: PeerSpec) -> PeerResult {
        PeerResult {
            spec,
            connected_after: None,
            failure: None,
            dtls_stalled: false,
            dropped: None,
            signal_errors: Vec::new(),
            published: Published::default(),
            received: Received::default(),
            rx: None,
            tx: None,
            local_port: None,
            server_addr: None,
        }
    }
}
