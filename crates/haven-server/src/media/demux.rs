//! The demultiplexer: which room a received datagram belongs to.
//!
//! Each datagram is read once. A remote address a room has accepted goes straight to that
//! room. From an unknown address only a STUN binding request can open a route: its
//! USERNAME is `serverUfrag:clientUfrag` (RFC 8445 §7.2.2), and the server ufrag names one
//! participant of one room. The room then checks the request's integrity and, if its
//! participant accepts it, tells the registry the address (see `room_task.rs`). Everything
//! else is dropped and counted. Parsing is by hand and defensive: every length is checked,
//! nothing is indexed without a bound.

use std::net::SocketAddr;

use haven_media::Transport;
use tokio::sync::mpsc::error::TrySendError;

use super::Shared;
use super::registry::Incoming;
use super::stats::bump;

/// STUN's magic cookie (RFC 5389 §6).
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];
/// STUN message type of a binding request.
const BINDING_REQUEST: u16 = 0x0001;
/// STUN attribute type of USERNAME.
const ATTR_USERNAME: u16 = 0x0006;
/// RFC 5389 §15.3: USERNAME is less than 513 bytes.
const MAX_USERNAME: usize = 513;
const STUN_HEADER: usize = 20;
/// The shortest DTLS record header and RTP header; anything shorter is junk.
const DTLS_HEADER: usize = 13;
const RTP_HEADER: usize = 12;

/// What a packet from an unknown address is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    /// A STUN binding request naming this server-side ICE username fragment.
    BindingRequest(&'a str),
    /// A well-formed packet that cannot open a route (other STUN, DTLS, RTP/RTCP).
    Unroutable,
    /// Not a packet any peer connection could have sent.
    Malformed,
}

/// Classifies a packet by its first byte (RFC 7983 §7) and, for STUN, its header and
/// USERNAME attribute.
pub(crate) fn classify(packet: &[u8]) -> Kind<'_> {
    match packet.first() {
        Some(0..=3) => stun(packet),
        Some(20..=63) if packet.len() >= DTLS_HEADER => Kind::Unroutable,
        Some(128..=191) if packet.len() >= RTP_HEADER => Kind::Unroutable,
        _ => Kind::Malformed,
    }
}

fn stun(packet: &[u8]) -> Kind<'_> {
    let Some((header, body)) = packet.split_at_checked(STUN_HEADER) else {
        return Kind::Malformed;
    };
    let kind = u16_at(header, 0);
    let length = u16_at(header, 2).map(usize::from);
    if header.get(4..8) != Some(&MAGIC_COOKIE[..]) || length != Some(body.len()) {
        return Kind::Malformed;
    }
    if body.len() % 4 != 0 {
        return Kind::Malformed;
    }
    let Some(username) = username(body) else {
        return Kind::Malformed;
    };
    if kind != Some(BINDING_REQUEST) {
        return Kind::Unroutable;
    }
    let server_ufrag = username
        .and_then(|u| std::str::from_utf8(u).ok())
        .and_then(|u| u.split_once(':'))
        .map(|(server, _client)| server)
        .filter(|s| !s.is_empty());
    match server_ufrag {
        Some(ufrag) => Kind::BindingRequest(ufrag),
        // A binding request without a usable USERNAME cannot be ICE.
        None => Kind::Malformed,
    }
}

/// Walks the attributes: `None` if they do not fit the body exactly, otherwise the
/// USERNAME value if there is one.
fn username(mut attrs: &[u8]) -> Option<Option<&[u8]>> {
    let mut found = None;
    while !attrs.is_empty() {
        let kind = u16_at(attrs, 0)?;
        let len = usize::from(u16_at(attrs, 2)?);
        let value = attrs.get(4..4 + len)?;
        // Attribute values are padded to a multiple of 4 bytes.
        let padded = len.div_ceil(4) * 4;
        attrs = attrs.get(4 + padded..)?;
        if kind == ATTR_USERNAME && found.is_none() {
            if len > MAX_USERNAME {
                return None;
            }
            found = Some(value);
        }
    }
    Some(found)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at + 2)?;
    Some(u16::from_be_bytes([*pair.first()?, *pair.get(1)?]))
}

/// What became of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routed {
    /// Queued for a room.
    Yes,
    /// Dropped (and counted).
    No,
}

/// Routes one received packet to its room, or drops and counts it.
pub(crate) fn route(
    shared: &Shared,
    transport: Transport,
    source: SocketAddr,
    packet: &[u8],
) -> Routed {
    let counters = &shared.counters;
    bump(&counters.datagrams_received);
    let inbox = match shared.registry.inbox_by_addr(transport, source) {
        Some(inbox) => inbox,
        None => match classify(packet) {
            Kind::BindingRequest(ufrag) => match shared.registry.inbox_by_ufrag(ufrag) {
                Some(inbox) => inbox,
                None => {
                    bump(&counters.dropped_unknown_source);
                    return Routed::No;
                }
            },
            Kind::Unroutable => {
                bump(&counters.dropped_unknown_source);
                return Routed::No;
            }
            Kind::Malformed => {
                bump(&counters.dropped_malformed);
                return Routed::No;
            }
        },
    };
    let incoming = Incoming {
        transport,
        source,
        contents: packet.to_vec(),
    };
    match inbox.try_send(incoming) {
        Ok(()) => {
            bump(&counters.datagrams_routed);
            Routed::Yes
        }
        Err(TrySendError::Full(_)) => {
            bump(&counters.dropped_queue_full);
            Routed::No
        }
        // The room ended between the lookup and now.
        Err(TrySendError::Closed(_)) => {
            bump(&counters.dropped_unknown_source);
            Routed::No
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stun_message(kind: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (t, v) in attrs {
            body.extend_from_slice(&t.to_be_bytes());
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        let mut m = Vec::new();
        m.extend_from_slice(&kind.to_be_bytes());
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC_COOKIE);
        m.extend_from_slice(&[7; 12]);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn media_demux_finds_the_server_ufrag_of_a_binding_request() {
        let m = stun_message(
            BINDING_REQUEST,
            &[(0x0024, &[0; 4]), (ATTR_USERNAME, b"srv1:cli")],
        );
        assert_eq!(classify(&m), Kind::BindingRequest("srv1"));
    }

    #[test]
    fn media_demux_refuses_truncated_and_inconsistent_stun() {
        let m = stun_message(BINDING_REQUEST, &[(ATTR_USERNAME, b"srv1:cli")]);
        for cut in 0..m.len() {
            assert_eq!(classify(&m[..cut]), Kind::Malformed, "cut at {cut}");
        }
        let mut bad_len = m.clone();
        bad_len[3] = 0xFF;
        assert_eq!(classify(&bad_len), Kind::Malformed);
        let mut attr_too_long = m.clone();
        attr_too_long[STUN_HEADER + 3] = 200;
        assert_eq!(classify(&attr_too_long), Kind::Malformed);
        let no_colon = stun_message(BINDING_REQUEST, &[(ATTR_USERNAME, b"nocolon")]);
        assert_eq!(classify(&no_colon), Kind::Malformed);
        let no_username = stun_message(BINDING_REQUEST, &[]);
        assert_eq!(classify(&no_username), Kind::Malformed);
        let response = stun_message(0x0101, &[(ATTR_USERNAME, b"a:b")]);
        assert_eq!(classify(&response), Kind::Unroutable);
    }

    #[test]
    fn media_demux_classifies_by_first_byte() {
        assert_eq!(classify(&[]), Kind::Malformed);
        assert_eq!(classify(&[0x80; 12]), Kind::Unroutable);
        assert_eq!(classify(&[0x80; 11]), Kind::Malformed);
        assert_eq!(classify(&[22; 13]), Kind::Unroutable);
        assert_eq!(classify(&[0x70; 100]), Kind::Malformed);
        // Every byte pattern is handled without a panic.
        let mut x: u32 = 1;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            classify(&bytes);
        }
    }
}
