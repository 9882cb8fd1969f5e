//! `haven-floor`: the cost floor of forwarding one media packet on this machine.
//!
//! The work no forwarding server can avoid, done as cheaply as a plain loop can: receive
//! an SRTP packet from a loopback UDP socket, decrypt it, encrypt it for one subscriber and
//! send it, with the system calls batched as Haven's media socket batches them: up to 16
//! packets per `recvmmsg`, and what one call received sent to the subscriber in one
//! segmented (GSO) `sendmsg`, through the same crate (quinn-udp). The
//! cipher is the SRTP profile Haven and browsers negotiate, AEAD_AES_128_GCM (RFC 7714),
//! through aws-lc-rs, the library str0m uses for it. A second thread publishes (encrypting
//! fresh packets) and a third drains what is forwarded; only the forwarding thread's CPU
//! time is counted. Prints CPU nanoseconds per forwarded packet for audio-sized and
//! video-sized packets and for the mix of a one-to-one call, as text or with --json.

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use quinn_udp::{RecvMeta, Transmit, UdpSocketState};

/// RTP header with the one-byte extension header and a mid (as str0m sends).
const HEADER: usize = 12 + 8;
const TAG: usize = 16;
/// Opus at 32 kbit/s in 20 ms frames, and a full VP8 packet.
const AUDIO_PAYLOAD: usize = 80;
const VIDEO_PAYLOAD: usize = 1100;
/// A one-to-one call's packets: 50 audio and, at 1.5 Mbit/s and 30 fps, about 171 video
/// packets per second each way.
const CALL_AUDIO_SHARE: f64 = 50.0 / (50.0 + 171.0);
/// Datagrams per receive call, as Haven's media socket reads them.
const BATCH: usize = 16;
/// Room in a receive buffer for any datagram.
const SLOT: usize = 2048;

struct Srtp {
    key: LessSafeKey,
    salt: [u8; 12],
}

impl Srtp {
    fn new(seed: u8) -> Srtp {
        let key = UnboundKey::new(&AES_128_GCM, &[seed; 16]).expect("a 16-byte key");
        Srtp {
            key: LessSafeKey::new(key),
            salt: [seed ^ 0x5a; 12],
        }
    }

    /// RFC 7714's IV: the salt XOR (0, SSRC, ROC, sequence number).
    fn nonce(&self, header: &[u8]) -> Nonce {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&header[8..12]);
        iv[10..12].copy_from_slice(&header[2..4]);
        for (b, s) in iv.iter_mut().zip(self.salt) {
            *b ^= s;
        }
        Nonce::assume_unique_for_key(iv)
    }

    /// Encrypts packet[HEADER..len] in place and appends the tag; returns the new length.
    fn protect(&self, packet: &mut [u8], len: usize) -> usize {
        let (header, rest) = packet.split_at_mut(HEADER);
        let nonce = self.nonce(header);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(&header[..]), &mut rest[..len - HEADER])
            .expect("sealing cannot fail for these sizes");
        rest[len - HEADER..len - HEADER + TAG].copy_from_slice(tag.as_ref());
        len + TAG
    }

    /// Decrypts in place; returns the plaintext's length, or None for a forged packet.
    fn unprotect(&self, packet: &mut [u8]) -> Option<usize> {
        if packet.len() < HEADER + TAG {
            return None;
        }
        let (header, rest) = packet.split_at_mut(HEADER);
        let nonce = self.nonce(header);
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(&header[..]), rest)
            .ok()?;
        Some(HEADER + plain.len())
    }
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only to the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Sends `count` equal-sized datagrams, end to end in `contents`, in one call.
fn send(
    state: &UdpSocketState,
    socket: &UdpSocket,
    to: SocketAddr,
    contents: &[u8],
    count: usize,
) -> std::io::Result<()> {
    let transmit = Transmit {
        destination: to,
        ecn: None,
        contents,
        segment_size: (count > 1).then_some(contents.len() / count),
        src_ip: None,
    };
    state.try_send(socket.into(), &transmit)
}

/// Forwards packets of `payload` bytes for `window`; returns (packets, CPU ns per packet).
fn measure(payload: usize, window: Duration) -> std::io::Result<(u64, f64)> {
    let publisher = UdpSocket::bind("127.0.0.1:0")?;
    let server = UdpSocket::bind("127.0.0.1:0")?;
    let subscriber = UdpSocket::bind("127.0.0.1:0")?;
    publisher.connect(server.local_addr()?)?;
    server.set_read_timeout(Some(Duration::from_millis(100)))?;
    subscriber.set_read_timeout(Some(Duration::from_millis(100)))?;
    let to = subscriber.local_addr()?;
    let done = Arc::new(AtomicBool::new(false));

    let publishing = {
        let done = done.clone();
        std::thread::spawn(move || {
            let srtp = Srtp::new(1);
            let mut packet = vec![0u8; 1500];
            packet[0] = 0x90;
            packet[1] = 96;
            packet[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
            let mut seq: u16 = 0;
            while !done.load(Ordering::Relaxed) {
                seq = seq.wrapping_add(1);
                packet[2..4].copy_from_slice(&seq.to_be_bytes());
                let len = srtp.protect(&mut packet, HEADER + payload);
                let _ = publisher.send(&packet[..len]);
                // Paces the publisher a little so the socket's buffer rarely overflows.
                if seq.is_multiple_of(64) {
                    std::thread::yield_now();
                }
            }
        })
    };
    let draining = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !done.load(Ordering::Relaxed) {
                let _ = subscriber.recv(&mut buf);
            }
        })
    };

    // quinn-udp makes the socket non-blocking; a blocking receive (with the timeout above)
    // waits without spending the CPU this measures.
    let state = UdpSocketState::new((&server).into())?;
    server.set_nonblocking(false)?;
    let inbound = Srtp::new(1);
    let outbound = Srtp::new(2);
    let mut storage = vec![0u8; BATCH * SLOT];
    let mut meta = [RecvMeta::default(); BATCH];
    let mut bufs: Vec<IoSliceMut<'_>> = storage.chunks_mut(SLOT).map(IoSliceMut::new).collect();
    let mut out = Vec::with_capacity(BATCH * SLOT);
    let mut packets = 0u64;
    let start_cpu = thread_cpu();
    let until = Instant::now() + window;
    while Instant::now() < until {
        let Ok(count) = state.recv((&server).into(), &mut bufs, &mut meta) else {
            continue;
        };
        out.clear();
        let mut sent = 0;
        for (m, buf) in meta.iter().zip(bufs.iter_mut()).take(count) {
            let Some(plain) = inbound.unprotect(&mut buf[..m.len]) else {
                continue;
            };
            let len = outbound.protect(buf, plain);
            out.extend_from_slice(&buf[..len]);
            sent += 1;
        }
        if sent > 0 && send(&state, &server, to, &out, sent).is_ok() {
            packets += sent as u64;
        }
    }
    let cpu = thread_cpu() - start_cpu;
    done.store(true, Ordering::Relaxed);
    let _ = publishing.join();
    let _ = draining.join();
    let ns = if packets == 0 {
        f64::NAN
    } else {
        cpu.as_nanos() as f64 / packets as f64
    };
    Ok((packets, ns))
}

fn main() -> std::process::ExitCode {
    let mut json = false;
    let mut window = Duration::from_secs(3);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--seconds" => match args.next().and_then(|s| s.parse::<f64>().ok()) {
                Some(s) if s > 0.0 && s <= 600.0 => window = Duration::from_secs_f64(s),
                _ => {
                    eprintln!("haven-floor: --seconds takes a number between 0 and 600");
                    return std::process::ExitCode::from(2);
                }
            },
            "--help" | "-h" => {
                println!(
                    "haven-floor [--seconds S] [--json]: CPU ns per forwarded SRTP packet (receive, decrypt, encrypt, send) on loopback"
                );
                return std::process::ExitCode::SUCCESS;
            }
            other => {
                eprintln!("haven-floor: unknown argument {other:?} (see --help)");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let run = |payload| match measure(payload, window) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("haven-floor: {e}");
            None
        }
    };
    let (Some((audio_packets, audio_ns)), Some((video_packets, video_ns))) =
        (run(AUDIO_PAYLOAD), run(VIDEO_PAYLOAD))
    else {
        return std::process::ExitCode::FAILURE;
    };
    let call_ns = CALL_AUDIO_SHARE * audio_ns + (1.0 - CALL_AUDIO_SHARE) * video_ns;
    if json {
        println!(
            "{{\"cipher\":\"AEAD_AES_128_GCM\",\"syscalls\":\"recvmmsg (up to 16) and one GSO sendmsg per batch\",\"audio_ns_per_packet\":{audio_ns:.0},\"audio_packets\":{audio_packets},\"video_ns_per_packet\":{video_ns:.0},\"video_packets\":{video_packets},\"call_mix_ns_per_packet\":{call_ns:.0}}}"
        );
    } else {
        println!(
            "SRTP AEAD_AES_128_GCM, recvmmsg (up to {BATCH}) and one GSO sendmsg per batch, loopback:"
        );
        println!(
            "  audio ({AUDIO_PAYLOAD} B payload): {audio_ns:.0} ns CPU per forwarded packet ({audio_packets} packets)"
        );
        println!(
            "  video ({VIDEO_PAYLOAD} B payload): {video_ns:.0} ns CPU per forwarded packet ({video_packets} packets)"
        );
        println!("  a one-to-one call's mix: {call_ns:.0} ns per packet");
    }
    std::process::ExitCode::SUCCESS
}
