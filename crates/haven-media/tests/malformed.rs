//! Untrusted datagrams never panic the room: they are dropped and counted.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{Rng, Sim};

#[test]
fn random_truncated_and_lookalike_datagrams_are_dropped_without_harm() {
    let mut sim = Sim::new(5, 0.05);
    let a = sim.join(1);
    let b = sim.join(2);
    sim.run_until_connected(Duration::from_secs(10));
    // The bandwidth estimates settle first, so the call's pace afterwards is the junk's doing.
    sim.run_for(Duration::from_secs(4));

    let mut rng = Rng::new(0xBAD);
    let stranger: SocketAddr = (Ipv4Addr::new(203, 0, 113, 9), 4444).into();
    let a_addr = sim.client(a).addr;
    let samples = sim.uplink_samples.clone();
    assert!(
        samples.iter().any(|s| s.first().is_some_and(|b| *b < 2)),
        "a STUN sample was captured"
    );

    let dropped_before = sim.room.stats().dropped_datagrams;
    let mut unrouted = 0u64;
    for round in 0..3000u32 {
        let mut junk = match round % 5 {
            // Random bytes of random length, including empty.
            0 => {
                let len = rng.below(1500) as usize;
                rng.bytes(len)
            }
            // A real datagram (STUN, DTLS or SRTP) cut short.
            1 => {
                let s = &samples[rng.below(samples.len() as u64) as usize];
                s[..rng.below(s.len() as u64 + 1) as usize].to_vec()
            }
            // A real datagram with one byte flipped.
            2 => {
                let mut s = samples[rng.below(samples.len() as u64) as usize].clone();
                if !s.is_empty() {
                    let i = rng.below(s.len() as u64) as usize;
                    s[i] ^= 1 << rng.below(8);
                }
                s
            }
            // RTP-looking (version 2, Opus or VP8 payload type) and RTCP-looking junk.
            3 => {
                let len = 12 + rng.below(1200) as usize;
                let mut s = rng.bytes(len);
                s[0] = 0x80 | (s[0] & 0x3F);
                s[1] = [111, 96, 200, 201, 205, 206][rng.below(6) as usize];
                s
            }
            // DTLS-looking records.
            _ => {
                let len = 13 + rng.below(300) as usize;
                let mut s = rng.bytes(len);
                s[0] = 20 + rng.below(4) as u8;
                s[1] = 0xFE;
                s[2] = 0xFD;
                s
            }
        };
        if round % 7 == 0 {
            junk.truncate(rng.below(24) as usize);
        }
        // Most junk comes from an unknown address; some is spoofed as a participant's.
        let from = if round % 3 == 0 { a_addr } else { stranger };
        if sim.inject(from, &junk).is_none() {
            unrouted += 1;
        }
        if round % 100 == 0 {
            sim.step();
        }
    }

    let stats = sim.room.stats();
    assert_eq!(stats.panics, 0);
    // Whatever no participant claims is dropped and counted. (Not every datagram from the
    // stranger is unclaimed: a replayed STUN check of a's, with its valid credentials, makes
    // the stranger's address a candidate of a's connection, as ICE must for a client whose
    // address changes; str0m then discards its undecryptable junk itself.)
    assert!(
        stats.dropped_datagrams >= dropped_before + unrouted,
        "junk is counted as dropped: {stats:?}, {unrouted} unclaimed"
    );
    let ids: Vec<_> = sim.room.participants().collect();
    assert_eq!(ids, vec![a, b], "nobody was thrown out by junk");

    // And the call goes on.
    let before = sim.client(b).from(a);
    sim.run_for(Duration::from_secs(2));
    let after = sim.client(b).from(a);
    assert!(
        after.video > before.video + 40 && after.audio > before.audio + 60,
        "{before:?} -> {after:?}"
    );
}
