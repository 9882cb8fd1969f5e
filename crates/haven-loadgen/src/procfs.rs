//! Linux process and socket figures: the load generator's own CPU time, the server's CPU
//! time and memory (`/proc/PID/stat`, `/proc/PID/status`), the whole machine's busy CPU
//! time (`/proc/stat`, to show what else ran meanwhile), and datagrams the kernel
//! dropped on given UDP ports because a socket's receive buffer was full (`/proc/net/udp`),
//! and bytes waiting in them, which tell the server's socket from the load generator's
//! when datagrams are lost or late.

use std::collections::HashSet;

/// This process's user and system CPU time, in seconds.
pub fn own_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete `rusage` into the pointer it is given, which
    // points to memory of that type; RUSAGE_SELF is always a valid `who`.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return 0.0;
        }
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Another process's CPU time and memory.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcSample {
    /// User plus system CPU time, in seconds.
    pub cpu_seconds: f64,
    /// Resident memory now, in KiB.
    pub rss_kib: u64,
    /// The highest resident memory so far, in KiB.
    pub hwm_kib: u64,
}

/// CPU time the whole machine has spent since boot, in seconds over all CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MachineSample {
    /// Everything but idle and I/O wait.
    pub busy: f64,
    /// Of that, software interrupts: on loopback, mostly the kernel moving the datagrams
    /// between sockets, which no process is charged for.
    pub softirq: f64,
}

impl MachineSample {
    pub fn read() -> Option<MachineSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let (busy, softirq) = busy_ticks(&stat)?;
        let tck = clock_ticks();
        Some(MachineSample {
            busy: busy as f64 / tck,
            softirq: softirq as f64 / tck,
        })
    }
}

/// Busy and softirq ticks from the `cpu` line of /proc/stat.
fn busy_ticks(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    Some((
        total.saturating_sub(idle),
        fields.get(6).copied().unwrap_or(0),
    ))
}

/// Ticks per second of the times in /proc.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

impl ProcSample {
    /// Reads the figures of process `pid`; `None` if it is gone or unreadable.
    pub fn read(pid: u32) -> Option<ProcSample> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Some(ProcSample {
            cpu_seconds: cpu_ticks(&stat)? as f64 / clock_ticks(),
            rss_kib: status_kib(&status, "VmRSS:")?,
            hwm_kib: status_kib(&status, "VmHWM:")?,
        })
    }
}

/// Starts process `pid`'s peak resident memory (VmHWM) over from its resident memory now
/// (`/proc/PID/clear_refs`), so that the peak read later covers only what follows.
pub fn reset_peak(pid: u32) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

/// utime + stime from a `/proc/PID/stat` line. The command name (field 2) may contain
/// spaces and parentheses, so fields are counted from the last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// What the kernel holds for UDP sockets on some ports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpSample {
    /// Datagrams dropped since each socket was opened (a full receive buffer).
    pub drops: u64,
    /// Bytes received but not read yet: how far behind the sockets' owner is.
    pub backlog: u64,
}

impl std::ops::Add for UdpSample {
    type Output = UdpSample;
    fn add(self, other: UdpSample) -> UdpSample {
        UdpSample {
            drops: self.drops + other.drops,
            backlog: self.backlog + other.backlog,
        }
    }
}

/// The UDP sockets bound to any of `ports` (IPv4 and IPv6), summed.
pub fn udp(ports: &HashSet<u16>) -> UdpSample {
    ["/proc/net/udp", "/proc/net/udp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|table| udp_in(&table, ports))
        .fold(UdpSample::default(), |a, b| a + b)
}

fn udp_in(table: &str, ports: &HashSet<u16>) -> UdpSample {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port = fields.get(1)?.rsplit(':').next()?;
            let port = u16::from_str_radix(port, 16).ok()?;
            if !ports.contains(&port) {
                return None;
            }
            // "tx_queue:rx_queue", in hexadecimal bytes.
            let rx = fields.get(4)?.split(':').nth(1)?;
            Some(UdpSample {
                drops: fields.last()?.parse().ok()?,
                backlog: u64::from_str_radix(rx, 16).ok()?,
            })
        })
        .fold(UdpSample::default(), |a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_peak_starts_over_from_what_is_resident_now() {
        let pid = std::process::id();
        let peak = || ProcSample::read(pid).expect("own /proc").hwm_kib;
        // 64 MiB touched and returned: the peak stays up after the memory is gone.
        let big = vec![1u8; 64 << 20];
        assert_eq!(
            big.iter().step_by(4096).map(|b| u64::from(*b)).sum::<u64>(),
            16_384
        );
        drop(big);
        let before = peak();
        reset_peak(pid).expect("clear_refs");
        let after = peak();
        assert!(
            after + 48 * 1024 < before,
            "peak {before} KiB before the reset, {after} KiB after"
        );
    }

    #[test]
    fn reads_cpu_ticks_memory_and_drops() {
        let stat = "1234 (haven (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100";
        assert_eq!(cpu_ticks(stat), Some(300));
        let status = "Name:\thaven\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(204_800));
        assert_eq!(status_kib(status, "VmRSS:"), Some(102_400));
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
            1: 0100007F:2710 00000000:0000 07 00000000:00000A00 00:00000000 00000000 0 0 1 2 0000000000000000 17\n\
            2: 0100007F:2711 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0000000000000000 5\n";
        let sample = udp_in(table, &HashSet::from([10_000]));
        assert_eq!(
            sample,
            UdpSample {
                drops: 17,
                backlog: 2560
            }
        );
        assert!(own_cpu_seconds() >= 0.0);
        let machine = "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
        assert_eq!(busy_ticks(machine), Some((160, 2)));
    }
}
