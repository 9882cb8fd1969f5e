//! When each datagram reached a peer's socket, as the kernel stamped it (`SO_TIMESTAMPNS`),
//! rather than when the peer's task got round to reading it.
//!
//! A browser reads its sockets on a network thread that does little else, so the arrival
//! times it reports (in its delay measurements and in the transport-wide congestion control
//! feedback a sender estimates bandwidth from) are close to the wire. A hundred synthetic
//! peers share a few runtime threads instead, and under load a datagram can wait
//! milliseconds in the socket before its peer runs: timed on reading, that wait would count
//! as delay the server added, and as queueing the server's bandwidth estimator reacts to.

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use socket2::{MaybeUninitSlice, MsgHdrMut, SockAddr, SockAddrStorage, SockRef};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Room for one timestamp control message (a `cmsghdr` and a `timespec`), with spare.
const CONTROL_BUFFER: usize = 64;

/// Asks the kernel to stamp each datagram the socket receives. Without it (an old kernel),
/// [`try_recv`] falls back to the time of reading.
pub(crate) fn enable(socket: &socket2::Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor, and an option value of the size passed.
    let done = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    match done {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Reads one datagram if one is waiting (`WouldBlock` if none is): its length, sender and
/// arrival time.
pub(crate) fn try_recv(
    udp: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Instant)> {
    let (n, from, stamp) = try_recv_stamped(udp, buf)?;
    Ok((n, from, stamp.map_or_else(Instant::now, to_instant)))
}

/// [`try_recv`], with the kernel's stamp (time since the epoch) if it gave one.
fn try_recv_stamped(
    udp: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<Duration>)> {
    udp.try_io(Interest::READABLE, || {
        let socket = SockRef::from(udp);
        let storage_len = size_of::<SockAddrStorage>() as libc::socklen_t;
        // SAFETY: zeroed storage of its full size; the kernel writes the sender into it.
        let mut from = unsafe { SockAddr::new(SockAddrStorage::zeroed(), storage_len) };
        let mut control = [MaybeUninit::new(0u8); CONTROL_BUFFER];
        let mut bufs = [MaybeUninitSlice::new(as_uninit(buf))];
        let mut msg = MsgHdrMut::new()
            .with_addr(&mut from)
            .with_buffers(&mut bufs)
            .with_control(&mut control);
        let n = socket.recvmsg(&mut msg, 0)?;
        let control_len = msg.control_len().min(CONTROL_BUFFER);
        // SAFETY: every byte was initialised above.
        let control: [u8; CONTROL_BUFFER] = control.map(|b| unsafe { b.assume_init() });
        let from = from
            .as_socket()
            .ok_or_else(|| io::Error::other("a datagram from a non-IP address"))?;
        Ok((n, from, kernel_stamp(&control[..control_len])))
    })
}

/// The receive timestamp among a datagram's control messages: nanoseconds since the epoch.
fn kernel_stamp(control: &[u8]) -> Option<Duration> {
    let header = size_of::<libc::cmsghdr>();
    let align = size_of::<usize>();
    let mut at = 0;
    while at + header <= control.len() {
        let field = |from: usize, n: usize| control.get(at + from..at + from + n);
        let len = usize::from_ne_bytes(field(0, size_of::<usize>())?.try_into().ok()?);
        let level = i32::from_ne_bytes(field(size_of::<usize>(), 4)?.try_into().ok()?);
        let kind = i32::from_ne_bytes(field(size_of::<usize>() + 4, 4)?.try_into().ok()?);
        if len < header {
            return None;
        }
        if level == libc::SOL_SOCKET && kind == libc::SCM_TIMESTAMPNS {
            let secs = i64::from_ne_bytes(field(header, 8)?.try_into().ok()?);
            let nanos = i64::from_ne_bytes(field(header + 8, 8)?.try_into().ok()?);
            return Some(Duration::new(
                u64::try_from(secs).ok()?,
                u32::try_from(nanos).ok()?,
            ));
        }
        at += len.div_ceil(align) * align;
    }
    None
}

/// The monotonic instant of a wall-clock arrival time: now, less how long ago it was.
fn to_instant(since_epoch: Duration) -> Instant {
    let now = Instant::now();
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    now.checked_sub(wall.saturating_sub(since_epoch))
        .unwrap_or(now)
}

fn as_uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: initialised bytes are valid `MaybeUninit<u8>`s, and the kernel writes only
    // initialised bytes into them.
    unsafe { &mut *(std::ptr::from_mut(buf) as *mut [MaybeUninit<u8>]) }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[tokio::test]
    async fn a_datagram_read_late_keeps_the_time_it_arrived() {
        let any = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let receiver = crate::peer::join::bind_udp(any).expect("binds");
        let sender = std::net::UdpSocket::bind(any).expect("binds");
        let to = receiver.local_addr().expect("has an address");
        let mut buf = [0u8; 64];
        // The kernel turns stamping on in the background, a moment after the socket asks;
        // until then it stamps datagrams as they are read. So try a few times.
        let mut late = Vec::new();
        for _ in 0..20 {
            sender.send_to(b"early", to).expect("sends");
            let sent = Instant::now();
            // The peer gets round to its socket 50 ms after the datagram arrived.
            std::thread::sleep(Duration::from_millis(50));
            receiver.readable().await.expect("readable");
            let (n, from, arrived) = try_recv(&receiver, &mut buf).expect("reads");
            assert_eq!(&buf[..n], b"early");
            assert_eq!(from, sender.local_addr().expect("has an address"));
            if arrived < sent + Duration::from_millis(20) {
                return;
            }
            late.push(arrived - sent);
        }
        panic!("every datagram was timed when read, not when it arrived: {late:?}");
    }

    #[tokio::test]
    async fn nothing_waiting_is_would_block() {
        let receiver =
            crate::peer::join::bind_udp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("binds");
        let mut buf = [0u8; 64];
        let err = try_recv(&receiver, &mut buf).expect_err("nothing sent");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn control_messages_without_a_timestamp_give_none() {
        assert_eq!(kernel_stamp(&[]), None);
        // A header claiming less than its own size ends the walk instead of looping.
        let mut bogus = [0u8; 32];
        bogus[..8].copy_from_slice(&4usize.to_ne_bytes());
        assert_eq!(kernel_stamp(&bogus), None);
    }
}
