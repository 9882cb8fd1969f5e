//! Entry points for the fuzz targets in `fuzz/` (`cargo fuzz`), not an API.
//!
//! Each function feeds arbitrary bytes to one of the server's parsers of untrusted input,
//! exactly as the server would, and checks what the result promises. None may panic for
//! any input: a panic here is a bug found by the fuzzer.

use crate::media::demux::{self, Kind};
use crate::signal::protocol::{self, ClientMsg, ErrorCode, MAX_FRAME, MAX_SDP, ServerMsg};

/// The datagram demultiplexer's classifier: one received UDP datagram, or one RFC 4571
/// frame from ICE-TCP, from an address no room has accepted yet.
pub fn demux(bytes: &[u8]) {
    match demux::classify(bytes) {
        Kind::BindingRequest(ufrag) => {
            // Only a STUN message (first byte 0..=3) with a whole header can name a route,
            // and the server ufrag is the non-empty text before the first ':'.
            assert!(matches!(bytes.first(), Some(0..=3)));
            assert!(bytes.len() >= 20 && bytes.len().is_multiple_of(4));
            assert!(!ufrag.is_empty() && !ufrag.contains(':'));
            assert!(ufrag.len() <= 513);
        }
        Kind::Unroutable | Kind::Malformed => {}
    }
    // The same bytes as an ICE-TCP frame: framed if and only if the length fits the prefix.
    match crate::media::tcp::frame(bytes) {
        Some(framed) => {
            assert_eq!(framed.len(), bytes.len() + 2);
            assert_eq!(
                usize::from(u16::from_be_bytes([framed[0], framed[1]])),
                bytes.len()
            );
        }
        None => assert!(bytes.len() > usize::from(u16::MAX)),
    }
}

/// The signalling parser: one WebSocket text frame from a client. WebSocket text is always
/// UTF-8, so other bytes are read lossily to still reach the parser.
pub fn signal_parse(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    match protocol::parse(&text) {
        Ok(msg) => {
            assert!(text.len() <= MAX_FRAME);
            if let ClientMsg::Offer(sdp) | ClientMsg::Answer(sdp) = msg {
                let sdp = sdp.into_string();
                assert!(sdp.starts_with("v=0") && sdp.len() <= MAX_SDP);
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            if text.len() > MAX_FRAME {
                assert_eq!(e.code, ErrorCode::TooLarge);
            }
            // What the connection sends back: it must serialise and stay valid JSON.
            let reply = ServerMsg::error(e).to_json();
            assert!(serde_json::from_str::<serde_json::Value>(&reply).is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzing_entry_points_accept_the_seed_shapes() {
        demux(&[]);
        demux(&[0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42]);
        demux(&[0x80; 12]);
        demux(&vec![0x16; 70_000]);
        signal_parse(b"");
        signal_parse(br#"{"type": "ping"}"#);
        signal_parse(br#"{"type": "offer", "sdp": "v=0\r\n"}"#);
        signal_parse(&[0xFF, 0xFE, b'{']);
        signal_parse(&vec![b' '; MAX_FRAME + 1]);
    }
}
