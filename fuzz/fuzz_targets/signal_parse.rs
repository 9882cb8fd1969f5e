//! The signalling parser of client text frames: any input is a message or a
//! `ProtocolError` whose reply serialises, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    haven_server::fuzzing::signal_parse(data);
});
