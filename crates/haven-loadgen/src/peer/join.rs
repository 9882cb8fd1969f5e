//! Joining: the WebSocket, `join`, the offer of audio and video (sendrecv, simulcast if
//! asked) and the server's answer, then the UDP socket the peer's ICE candidate names.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::json;
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind, Simulcast, SimulcastLayer};
use str0m::rtp::Extension;
use str0m::{Candidate, IceConnectionState, Rtc};
use tokio::net::UdpSocket;

use super::{Peer, PeerSpec};
use crate::publish::{LAYERS, Publisher};
use crate::run::Shared;
use crate::signal;
use crate::tally::{RateMeter, Received};
use crate::views::Views;

/// Receive buffer asked for on each peer's socket, so that a peer the scheduler runs late
/// does not lose datagrams in its own kernel buffer (the kernel caps it at rmem_max).
const SOCKET_BUFFER: usize = 4 << 20;
/// How often str0m reports packet and byte counters.
const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// Opens the WebSocket, joins, offers audio and video and applies the server's answer.
pub(super) async fn join(spec: &PeerSpec, shared: &Shared) -> anyhow::Result<Peer> {
    let within = shared.connect_timeout;
    let mut ws = signal::connect(&shared.base, spec.cookie.as_deref(), within).await?;
    let mut join = json!({"type": "join", "v": 1});
    if let Some(seat) = &spec.seat {
        join["seat"] = json!(seat);
    }
    signal::send(&mut ws, &join).await?;
    let welcome = signal::expect(&mut ws, "welcome", within).await?;
    let me = welcome["participant"].as_str().unwrap_or_default();
    let mut views = Views::new(shared.view, me);
    views.on_list(&welcome["participants"]);
    let udp = bind_udp(SocketAddr::new(shared.bind, 0))?;
    let local = udp
        .local_addr()
        .context("reading the UDP socket's address")?;
    let mut rtc = new_rtc(shared, local)?;
    let mut change = rtc.sdp_api();
    let audio = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    let layers = shared.plan.simulcast.then(|| {
        let mut s = Simulcast::new();
        for (rid, _, _) in LAYERS {
            s.add_send_layer(SimulcastLayer::new(rid));
        }
        s
    });
    let video = change.add_media(MediaKind::Video, Direction::SendRecv, None, None, layers);
    let (offer, pending) = change
        .apply()
        .context("str0m made no offer for new media")?;
    signal::send(
        &mut ws,
        &json!({"type": "offer", "sdp": offer.to_sdp_string()}),
    )
    .await?;
    let answer = signal::expect(&mut ws, "answer", within).await?;
    let sdp = answer["sdp"].as_str().context("an answer without sdp")?;
    let answer = SdpAnswer::from_sdp_string(sdp).context("the server's answer does not parse")?;
    rtc.sdp_api()
        .accept_answer(pending, answer)
        .context("the server's answer is not acceptable")?;
    let (ws, stream) = ws.split();
    let (signals, reader) = signal::spawn_reader(stream);
    Ok(Peer {
        ws,
        signals,
        reader,
        udp,
        local,
        rtc,
        publisher: Publisher::new(shared.plan.for_peer(spec.video), spec.index, audio, video),
        received: Received::default(),
        rx: RateMeter::default(),
        tx: RateMeter::default(),
        ice: IceConnectionState::New,
        ice_connected: false,
        connected: false,
        server: None,
        views,
    })
}

/// A str0m client with the run's codecs and header extensions and one host candidate.
pub(crate) fn new_rtc(shared: &Shared, local: SocketAddr) -> anyhow::Result<Rtc> {
    let mut config = Rtc::builder().set_stats_interval(Some(STATS_INTERVAL));
    if shared.minimal_sdp {
        // The ids are str0m's defaults, which the server uses too. Transport-wide sequence
        // numbers stay: every browser sends them, and the receiver's feedback on them is
        // what lets the server's bandwidth estimate grow to carry the video.
        config = config
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .clear_extension_map()
            .set_extension(3, Extension::TransportSequenceNumber)
            .set_extension(4, Extension::RtpMid)
            .set_extension(10, Extension::RtpStreamId)
            .set_extension(11, Extension::RepairedRtpStreamId);
    }
    let mut rtc = config.build(Instant::now());
    rtc.add_local_candidate(Candidate::host(local, "udp").context("a host candidate")?);
    Ok(rtc)
}

/// A non-blocking UDP socket with a large receive buffer.
pub(crate) fn bind_udp(addr: SocketAddr) -> anyhow::Result<UdpSocket> {
    use socket2::{Domain, Socket as RawSocket, Type};
    let socket = RawSocket::new(Domain::for_address(addr), Type::DGRAM, None)?;
    // Best effort: the default buffer still works, it only overflows sooner.
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    // Best effort too: without stamps, arrivals are timed when read.
    let _ = crate::arrival::enable(&socket);
    socket
        .bind(&addr.into())
        .context("binding the UDP socket")?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into()).context("registering the UDP socket")
}
