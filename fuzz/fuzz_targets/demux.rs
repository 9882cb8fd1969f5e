//! The media demultiplexer's classifier of datagrams (and ICE-TCP frames) from unknown
//! addresses: random bytes, truncated STUN, bogus RTP/RTCP and DTLS must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    haven_server::fuzzing::demux(data);
});
