//! A room's outgoing UDP datagrams, sent in batches: one system call per run of equal-sized
//! datagrams to one address (UDP generic segmentation offload, GSO) rather than one per
//! datagram.
//!
//! In a room the kernel's side of sending is about a quarter of the server's CPU, most of it
//! spent once per call to `sendmsg` (routing, the IP layer, the device queue); with GSO the
//! kernel does that once per run and cuts the run into datagrams at the last moment.
//! str0m's pacer hands out one datagram per subscriber at a time, so runs form only when
//! datagrams are held a little: a room holds them while it is still due (microseconds) and
//! sends them before it waits, or once [`BATCH`] are held.
//!
//! Video packets of full frames all have the same size (str0m fills them to its MTU), so
//! most of a subscriber's video goes out in runs; audio and the last packet of a frame end
//! a run. Datagrams to one address keep their order; only different addresses interleave
//! differently, which no receiver can see.

use std::io;
use std::net::SocketAddr;

use quinn_udp::{Transmit, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Datagrams held before they are sent regardless: 64 is the kernel's limit of segments per
/// GSO send, and about a millisecond of a busy room's output at most.
pub(crate) const BATCH: usize = 64;

/// The most one GSO send may carry: a UDP datagram's payload limit (IPv4), which the kernel
/// applies to the whole run before cutting it.
const MAX_RUN_BYTES: usize = 65_507;

/// One system call's worth: `count` datagrams to `to`, starting at `first` in the sorted
/// order, every one `segment` bytes long except perhaps the last, which may be shorter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    to: SocketAddr,
    first: usize,
    count: usize,
    segment: usize,
}

/// The datagrams a room has produced and not yet sent.
#[derive(Default)]
pub(crate) struct SendBatch {
    /// In the order the room produced them.
    datagrams: Vec<(SocketAddr, Vec<u8>)>,
    /// Indices into `datagrams`, grouped by address (each group in produced order).
    order: Vec<usize>,
    runs: Vec<Run>,
    /// A run's datagrams end to end, as one GSO send takes them.
    joined: Vec<u8>,
}

impl SendBatch {
    /// Holds a datagram; says whether the batch is full and must be sent now.
    pub(crate) fn push(&mut self, to: SocketAddr, contents: Vec<u8>) -> bool {
        self.datagrams.push((to, contents));
        self.datagrams.len() >= BATCH
    }

    /// Drops what is held for `to` (someone who has left the room).
    pub(crate) fn discard_to(&mut self, to: SocketAddr) {
        self.datagrams.retain(|(addr, _)| *addr != to);
    }

    /// Sends everything held. Errors other than a full socket buffer (which waits) lose
    /// only the datagrams concerned: UDP is lossy anyway and str0m retransmits what matters.
    pub(crate) async fn send(&mut self, socket: &UdpSocket, state: &UdpSocketState) {
        if self.datagrams.is_empty() {
            return;
        }
        self.plan(state.max_gso_segments());
        for run in std::mem::take(&mut self.runs) {
            let result = if run.count == 1 {
                let (_, contents) = &self.datagrams[self.order[run.first]];
                send_one(socket, state, run.to, contents, None).await
            } else {
                self.joined.clear();
                for &i in &self.order[run.first..run.first + run.count] {
                    self.joined.extend_from_slice(&self.datagrams[i].1);
                }
                let mut sent =
                    send_one(socket, state, run.to, &self.joined, Some(run.segment)).await;
                if sent.is_err() {
                    // The first GSO send on a device that cannot segment fails, and
                    // quinn-udp stops offering GSO; this run goes out one by one.
                    for &i in &self.order[run.first..run.first + run.count] {
                        let (to, contents) = &self.datagrams[i];
                        sent = send_one(socket, state, *to, contents, None).await;
                    }
                }
                sent
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "media UDP send failed");
            }
        }
        self.datagrams.clear();
    }

    /// Groups the held datagrams by address and cuts each group into runs GSO can send.
    fn plan(&mut self, max_segments: usize) {
        let datagrams = &self.datagrams;
        self.order.clear();
        self.order.extend(0..datagrams.len());
        // Stable within an address: the index breaks ties.
        self.order.sort_unstable_by_key(|&i| (datagrams[i].0, i));
        self.runs.clear();
        let mut k = 0;
        while k < self.order.len() {
            let (to, first) = &datagrams[self.order[k]];
            let mut run = Run {
                to: *to,
                first: k,
                count: 1,
                segment: first.len(),
            };
            let mut bytes = first.len();
            while let Some(&next) = self.order.get(k + run.count) {
                let (next_to, contents) = &datagrams[next];
                let fits = run.count < max_segments && bytes + contents.len() <= MAX_RUN_BYTES;
                if *next_to != run.to || !fits || contents.len() > run.segment {
                    break;
                }
                run.count += 1;
                bytes += contents.len();
                // A shorter datagram can only be a run's last.
                if contents.len() < run.segment {
                    break;
                }
            }
            k += run.count;
            self.runs.push(run);
        }
    }
}

async fn send_one(
    socket: &UdpSocket,
    state: &UdpSocketState,
    to: SocketAddr,
    contents: &[u8],
    segment_size: Option<usize>,
) -> io::Result<()> {
    let transmit = Transmit {
        destination: to,
        ecn: None,
        contents,
        segment_size,
        src_ip: None,
    };
    // `try_send` rather than `send`: quinn-udp's own error log names the destination
    // address, which is personal data.
    socket
        .async_io(Interest::WRITABLE, || {
            state.try_send(socket.into(), &transmit)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn planned(batch: &[(u16, usize)], max_segments: usize) -> Vec<(u16, usize, usize)> {
        let mut b = SendBatch::default();
        for &(port, len) in batch {
            b.push(addr(port), vec![0; len]);
        }
        b.plan(max_segments);
        b.runs
            .iter()
            .map(|r| (r.to.port(), r.count, r.segment))
            .collect()
    }

    #[test]
    fn media_equal_datagrams_to_one_address_go_in_one_run() {
        let runs = planned(&[(1, 1200), (2, 1200), (1, 1200), (2, 90), (1, 700)], 64);
        // Address 1: two full packets and a shorter last; address 2: a packet then audio.
        assert_eq!(runs, vec![(1, 3, 1200), (2, 2, 1200)]);
    }

    #[test]
    fn media_a_longer_datagram_starts_a_new_run_and_order_is_kept() {
        let mut b = SendBatch::default();
        for (i, len) in [90, 1200, 1200, 80, 1200].into_iter().enumerate() {
            b.push(addr(1), vec![i as u8; len]);
        }
        b.plan(64);
        let runs: Vec<_> = b.runs.iter().map(|r| (r.count, r.segment)).collect();
        assert_eq!(runs, vec![(1, 90), (3, 1200), (1, 1200)]);
        // The datagrams of each run are in the order the room produced them.
        let firsts: Vec<u8> = b.order.iter().map(|&i| b.datagrams[i].1[0]).collect();
        assert_eq!(firsts, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn media_runs_respect_the_segment_and_byte_limits() {
        let runs = planned(&[(1, 1200); 10], 4);
        assert_eq!(runs, vec![(1, 4, 1200), (1, 4, 1200), (1, 2, 1200)]);
        // 54 datagrams of 1200 bytes would exceed what one send may carry.
        let runs = planned(&[(1, 1200); 60], 64);
        assert_eq!(runs, vec![(1, 54, 1200), (1, 6, 1200)]);
        // Without GSO every datagram is its own send.
        assert_eq!(planned(&[(1, 1200); 3], 1).len(), 3);
    }

    #[test]
    fn media_nothing_held_for_someone_who_left_is_sent() {
        let mut b = SendBatch::default();
        b.push(addr(1), vec![1; 100]);
        b.push(addr(2), vec![2; 100]);
        b.push(addr(1), vec![1; 100]);
        b.discard_to(addr(1));
        b.plan(64);
        assert_eq!(b.runs.len(), 1);
        assert_eq!(b.runs[0].to, addr(2));
    }

    #[test]
    fn media_a_full_batch_asks_to_be_sent() {
        let mut b = SendBatch::default();
        for _ in 1..BATCH {
            assert!(!b.push(addr(1), vec![1]));
        }
        assert!(b.push(addr(1), vec![1]));
    }

    #[tokio::test]
    async fn media_a_batch_arrives_whole_and_in_order() {
        let receiver = std::net::UdpSocket::bind("127.0.0.1:0").expect("binds on loopback");
        let to = receiver.local_addr().expect("bound");
        let std_sender = std::net::UdpSocket::bind("127.0.0.1:0").expect("binds on loopback");
        std_sender
            .set_nonblocking(true)
            .expect("can be non-blocking");
        let sender = UdpSocket::from_std(std_sender).expect("inside a runtime");
        let state = UdpSocketState::new((&sender).into()).expect("a UDP socket");
        let mut b = SendBatch::default();
        let sizes = [1200, 1200, 1200, 500, 90, 1200];
        for (i, len) in sizes.into_iter().enumerate() {
            b.push(to, vec![i as u8; len]);
        }
        b.send(&sender, &state).await;
        assert!(b.datagrams.is_empty());
        let mut buf = [0u8; 2048];
        for (i, len) in sizes.into_iter().enumerate() {
            let n = receiver.recv(&mut buf).expect("sent on loopback");
            assert_eq!((n, buf[0]), (len, i as u8), "datagram {i}");
            assert!(buf[..n].iter().all(|&b| b == i as u8));
        }
    }
}
