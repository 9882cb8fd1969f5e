//! Command-line flags, and the checks that turn them into a run's configuration.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Parser;
use url::Url;

/// Synthetic WebRTC participants for load-testing Haven's media server.
///
/// Opens ROOMS test rooms of PARTICIPANTS participants each through Haven's real sign-in,
/// pages and WebSocket signalling. Every participant is a str0m peer with real ICE, DTLS and
/// SRTP on its own loopback UDP socket, joined like the browser client: the room's host
/// (one staff account per room, from --staff) with its session, the others with invitation
/// links. Each publishes Opus-sized audio every 20 ms and VP8-sized video frames (optionally
/// as three simulcast layers) and receives everyone else's. After all have connected and a
/// warm-up, it measures for --duration: RTP packets per second forwarded by the server,
/// frame loss per direction, one-way delay (sender and receiver share this process's
/// clock; a frame arrives when the kernel received its last datagram, however late the
/// receiving peer reads it), and its own CPU. With --server-pid it also reads the
/// server's CPU time and memory from /proc over the same window.
///
/// Exit status: 0 when every participant connected and stayed, 1 when some did not (they
/// are listed, never left out), 2 for bad flags or a failed set-up.
#[derive(Debug, Parser)]
#[command(name = "haven-loadgen", version, verbatim_doc_comment)]
pub struct Args {
    /// Haven's base URL (plain http://; run it on loopback or a private test network).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: Url,

    /// The media server to drive: Haven (through its pages and /ws), or Janus's videoroom
    /// plugin (through its WebSocket API at --janus-url) for a side-by-side comparison.
    #[arg(long, value_enum, default_value_t = Target::Haven)]
    pub target: Target,

    /// Janus's WebSocket API (its `janus-protocol` transport), with --target janus.
    #[arg(long, default_value = "ws://127.0.0.1:8188", value_name = "URL")]
    pub janus_url: Url,

    /// Test rooms to open. Each needs its own staff account in --staff.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,

    /// Participants per room, the host included: 2 is a one-to-one call.
    #[arg(long, default_value_t = 2)]
    pub participants: usize,

    /// Staff accounts, one per line: `email<TAB>password[<TAB>authenticator secret]`; the
    /// first ROOMS are used. Accounts fresh from `haven admin user add` are completed at
    /// their first sign-in (authenticator enrolled, password changed) and the file is
    /// rewritten with the new password and secret.
    /// Needed with --target haven.
    #[arg(long, value_name = "FILE")]
    pub staff: Option<PathBuf>,

    /// Video payload bitrate of each publisher's top (or only) layer; 0 sends no video.
    #[arg(long, default_value_t = 1500, value_name = "KBIT/S")]
    pub video_kbps: u32,

    /// Audio payload bitrate (20 ms frames); 0 sends no audio.
    #[arg(long, default_value_t = 32, value_name = "KBIT/S")]
    pub audio_kbps: u32,

    /// Video frames per second.
    #[arg(long, default_value_t = 30)]
    pub fps: u32,

    /// Only the first N participants of each room publish video (all publish audio), as in
    /// a group where most watch; default: all of them.
    #[arg(long, value_name = "N")]
    pub video_publishers: Option<usize>,

    /// Publish video as three simulcast layers (q, h, f) at 1/16, 1/4 and the full
    /// --video-kbps. The server forwards one layer of each publisher to each subscriber.
    #[arg(long)]
    pub simulcast: bool,

    /// Tell the server each other participant's video is shown in a tile of this size
    /// (the `view` message), as a browser's gallery does; the server then forwards the
    /// smallest simulcast layer that fills it. Without it, the top layer is forwarded.
    #[arg(long, value_parser = parse_size, value_name = "WxH")]
    pub view: Option<(u32, u32)>,

    /// Keep SDP small: offer only Opus and VP8 (what the peers publish) and only the RTP
    /// header extensions the server routes by (mid, rid, repaired rid) and estimates
    /// bandwidth with (transport-wide sequence numbers), instead of str0m's defaults (Opus,
    /// VP8, VP9, H.264, AV1; audio level, send time and more), which make SDP about as long
    /// as a browser's. Every m-line of
    /// every answer repeats them, and a large room has two m-lines per participant.
    #[arg(long)]
    pub minimal_sdp: bool,

    /// A video keyframe at least this often (besides those the server asks for).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub keyframe_interval: Duration,

    /// Length of the measured window.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Time between the last participant connecting and the start of the window.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub warmup: Duration,

    /// Start one participant's join every INTERVAL (0 starts them all at once).
    #[arg(long, default_value = "20ms", value_parser = parse_duration, value_name = "INTERVAL")]
    pub join_interval: Duration,

    /// A participant not connected (ICE and DTLS) this long after starting its join has
    /// failed, and is reported with the reason.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Keep receiving this long after the window so that frames sent at its end can arrive.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub drain: Duration,

    /// Local address of the participants' UDP sockets.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Worker threads of the load generator (default: one per CPU).
    #[arg(long)]
    pub threads: Option<usize>,

    /// The server's process id, to report its CPU time and memory over the window. Its peak
    /// memory (VmHWM) is restarted before the joins, after the staff sign-ins.
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,

    /// Only sign each of the first ROOMS accounts in once (completing a first sign-in's
    /// enrolment and password change) and exit: no rooms, no media.
    #[arg(long)]
    pub sign_in_only: bool,

    /// Print one JSON object with the results on standard output (progress goes to
    /// standard error either way).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Haven,
    Janus,
}

/// Upper bounds that keep a mistyped flag from starting an unbounded run.
const MAX_PARTICIPANTS: usize = 5_000;
const MAX_DURATION: Duration = Duration::from_secs(3600);

impl Args {
    /// Refuses combinations that cannot make a meaningful run.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.rooms == 0 {
            bail!("--rooms must be at least 1");
        }
        if self.participants < 2 {
            bail!("--participants must be at least 2: one alone has nobody to receive from");
        }
        let total = self.rooms.saturating_mul(self.participants);
        if total > MAX_PARTICIPANTS {
            bail!("{total} participants is more than this tool runs ({MAX_PARTICIPANTS})");
        }
        if self.fps == 0 || self.fps > 120 {
            bail!("--fps must be between 1 and 120");
        }
        if self.audio_kbps == 0 && self.video_kbps == 0 {
            bail!("--audio-kbps and --video-kbps are both 0: nothing to forward");
        }
        if self.video_kbps > 50_000 || self.audio_kbps > 1_000 {
            bail!("--video-kbps is at most 50000 and --audio-kbps at most 1000");
        }
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            bail!("--duration must be between 1ms and 1h");
        }
        for (flag, d) in [
            ("--warmup", self.warmup),
            ("--drain", self.drain),
            ("--connect-timeout", self.connect_timeout),
            ("--join-interval", self.join_interval),
        ] {
            if d > MAX_DURATION {
                bail!("{flag} is at most 1h");
            }
        }
        if self.connect_timeout.is_zero() {
            bail!("--connect-timeout must be more than 0");
        }
        if self.target == Target::Haven && self.staff.is_none() {
            bail!("--staff is needed with --target haven: rooms are opened by staff accounts");
        }
        if self.target == Target::Janus {
            if self.sign_in_only {
                bail!("--sign-in-only is for --target haven");
            }
            if self.view.is_some() {
                bail!("--view is for --target haven: Janus's subscribers choose layers otherwise");
            }
            if !matches!(self.janus_url.scheme(), "ws") {
                bail!("--janus-url must be a ws:// URL (run Janus on loopback)");
            }
        }
        if self.threads == Some(0) {
            bail!("--threads must be at least 1");
        }
        Ok(())
    }
}

/// `320x180`: a tile's width and height in CSS pixels.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s:?} is not a size like 320x180");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let w: u32 = w.trim().parse().map_err(|_| bad())?;
    let h: u32 = h.trim().parse().map_err(|_| bad())?;
    if w > 16_384 || h > 16_384 {
        return Err(format!("{s:?}: each side is at most 16384"));
    }
    Ok((w, h))
}

/// `30s`, `500ms`, `2m`, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30s, 500ms or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(format!("{s:?}: the unit must be ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("s").is_err());
        assert_eq!(parse_size("320x180"), Ok((320, 180)));
        assert!(parse_size("320").is_err());
        assert!(parse_size("99999x1").is_err());
    }

    #[test]
    fn the_help_and_the_flags_are_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
