//! The summary for people: a few aligned lines, failures spelled out.

use std::fmt::Write;

use crate::report::{KindFigures, Summary};

pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    let sc = &s.scenario;
    let _ = writeln!(
        out,
        "scenario      {} room(s) × {} participants, audio {} kbit/s, video {} kbit/s at {} fps{}, {} s",
        sc.rooms,
        sc.participants_per_room,
        sc.audio_kbps,
        sc.video_kbps,
        sc.fps,
        if sc.simulcast {
            " (simulcast q/h/f)"
        } else {
            ""
        },
        sc.duration_s
    );
    let _ = writeln!(
        out,
        "participants  {} connected of {} (connect p50 {} ms, max {} ms)",
        s.connected,
        s.participants,
        ms(s.connect_ms.p50),
        ms(s.connect_ms.max)
    );
    for (title, map) in [
        ("failed", &s.failures),
        ("dropped", &s.dropped),
        ("server error", &s.signal_errors),
    ] {
        for (why, n) in map {
            let _ = writeln!(out, "  {title} ×{n}: {why}");
        }
    }
    if s.dtls_stalled > 0 {
        let _ = writeln!(
            out,
            "  {} participant(s) had ICE connected but DTLS never completed",
            s.dtls_stalled
        );
    }
    let _ = writeln!(
        out,
        "forwarded     {:.0} packets/s, {:.1} Mbit/s received by participants (window {:.1} s)",
        s.forwarded.packets_per_s, s.forwarded.mbit_per_s, s.window_s
    );
    let _ = writeln!(
        out,
        "published     {:.0} packets/s, {:.1} Mbit/s sent by participants",
        s.published.packets_per_s, s.published.mbit_per_s
    );
    kind(&mut out, "audio", &s.audio);
    kind(&mut out, "video", &s.video);
    let _ = writeln!(
        out,
        "worst direction loss {:.3}%",
        s.worst_direction_loss_pct
    );
    let l = &s.loadgen;
    let _ = writeln!(
        out,
        "load generator {:.1} CPU s ({:.2} cores); late frames {}, unwritten {}, malformed {}, \
         UDP drops {}, socket backlog up to {:.0} KiB",
        l.cpu_s,
        l.cores,
        l.late_frames,
        l.unwritten_frames,
        l.malformed_frames,
        l.udp_drops,
        l.max_backlog_kib
    );
    match &s.server {
        Some(sv) => {
            let calls = sv
                .calls_per_core
                .map(|c| format!(", {c:.0} calls per core"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "server        {:.1} CPU s ({:.2} cores{calls}); RSS {:.1} → {:.1} MiB, peak {:.1} MiB; \
                 {:.2} MiB per participant (peak/participants {:.2}); UDP drops {}, socket \
                 backlog up to {:.0} KiB",
                sv.cpu_s,
                sv.cores,
                sv.rss_before_mib,
                sv.rss_end_mib,
                sv.peak_mib,
                sv.mib_per_participant,
                sv.peak_mib_per_participant,
                sv.udp_drops,
                sv.max_backlog_kib
            );
        }
        None => {
            let _ = writeln!(out, "server        (give --server-pid for CPU and memory)");
        }
    }
    let m = &s.machine;
    if let (Some(busy), Some(irq), Some(other)) = (m.busy_cores, m.softirq_cores, m.other_cores) {
        let _ = writeln!(
            out,
            "machine       {} CPUs, {busy:.2} busy during the window: {irq:.2} in software \
             interrupts (loopback networking), {other:.2} other processes",
            m.cpus
        );
    }
    out
}

fn kind(out: &mut String, name: &str, k: &KindFigures) {
    let _ = writeln!(
        out,
        "{name}         loss {:.3}% ({} of {} frames), delay p50 {} ms, p99 {} ms, max {} ms",
        k.loss_pct,
        k.expected - k.received,
        k.expected,
        ms(k.delay_ms.p50),
        ms(k.delay_ms.p99),
        ms(k.delay_ms.max)
    );
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}
