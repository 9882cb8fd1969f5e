//! One run: prepare the rooms, start the participants' joins one interval apart, wait
//! until every one has connected or failed, fix the measured window after a warm-up,
//! sample CPU, memory and kernel drops at its edges, then stop everyone and collect what
//! they measured.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use url::Url;

use crate::cli::{Args, Target};
use crate::janus;
use crate::peer::{self, PeerResult, PeerSpec, Progress};
use crate::procfs::{self, ProcSample};
use crate::publish::MediaPlan;
use crate::setup;
use crate::staff::StaffFile;
use crate::timeline::Timeline;

/// A peer that has not finished this long after being told to stop is abandoned (and
/// reported as such).
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How often the sockets' backlogs are sampled during the window.
const BACKLOG_EVERY: Duration = Duration::from_millis(500);
/// Progress lines on standard error at most this often while participants join.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// What every peer task reads.
#[derive(Debug)]
pub struct Shared {
    pub base: Url,
    pub bind: IpAddr,
    pub plan: MediaPlan,
    pub timeline: Timeline,
    /// How many participants the run has (stamps naming others are malformed).
    pub peers: u32,
    pub connect_timeout: Duration,
    /// The tile size to announce for every other participant's video, if any.
    pub view: Option<(u32, u32)>,
    /// Offer only Opus, VP8 and the routing header extensions.
    pub minimal_sdp: bool,
    /// Participants per room: a Janus peer subscribes once it knows all the others.
    pub participants: usize,
}

/// Figures sampled at the window's edges.
#[derive(Debug, Clone, Copy, Default)]
pub struct Edge {
    pub loadgen_cpu: f64,
    pub server: Option<ProcSample>,
    pub loadgen_udp: procfs::UdpSample,
    pub server_udp: procfs::UdpSample,
    /// The whole machine's CPU time since boot.
    pub machine: Option<procfs::MachineSample>,
}

/// Everything a report is made from.
#[derive(Debug)]
pub struct Outcome {
    pub results: Vec<PeerResult>,
    /// The window's length as measured.
    pub window: Duration,
    /// The server before any participant joined (after sign-ins and rooms).
    pub server_before: Option<ProcSample>,
    pub start: Edge,
    pub end: Edge,
    /// The largest unread bytes seen in the load generator's sockets, and in the server's,
    /// sampled through the window.
    pub loadgen_backlog: u64,
    pub server_backlog: u64,
}

/// A room ready to join, on either target.
enum Room {
    Haven(setup::RoomPlan),
    Janus(u64),
}

/// Opens the rooms: through staff sign-ins on Haven, with videoroom `create` on Janus.
async fn prepare(args: &Args) -> anyhow::Result<Vec<Result<Room, String>>> {
    let plans: Vec<Result<Room, String>> = match (args.target, &args.staff) {
        (Target::Janus, _) => {
            eprintln!("creating {} Janus room(s)…", args.rooms);
            janus::create_rooms(
                &args.janus_url,
                args.rooms,
                args.participants,
                args.connect_timeout,
            )
            .await?
            .into_iter()
            .map(|r| r.map(Room::Janus))
            .collect()
        }
        (Target::Haven, staff) => {
            let staff = staff
                .as_ref()
                .context("--staff is needed with --target haven")?;
            let file = Arc::new(StaffFile::load(staff)?);
            let accounts = file.accounts(args.rooms)?;
            eprintln!(
                "signing in {} staff account(s) and opening {} room(s)…",
                accounts.len(),
                args.rooms
            );
            setup::prepare(&args.server, accounts, args.participants, file)
                .await
                .into_iter()
                .map(|r| r.map(Room::Haven))
                .collect()
        }
    };
    if plans.iter().all(Result::is_err) {
        let first = plans.into_iter().find_map(Result::err).unwrap_or_default();
        anyhow::bail!("no room could be set up; the first failure: {first}");
    }
    Ok(plans)
}

pub async fn run(args: &Args) -> anyhow::Result<Outcome> {
    let plans = prepare(args).await?;
    let peers = u32::try_from(args.rooms * args.participants).context("too many participants")?;
    let shared = Arc::new(Shared {
        base: args.server.clone(),
        bind: args.bind,
        plan: MediaPlan::new(
            args.audio_kbps,
            args.video_kbps,
            args.fps,
            args.simulcast,
            args.keyframe_interval,
        ),
        timeline: Timeline::new(Instant::now()),
        peers,
        connect_timeout: args.connect_timeout,
        view: args.view,
        minimal_sdp: args.minimal_sdp,
        participants: args.participants,
    });
    // The server's peak memory is to measure the participants, from their joins on: not
    // the staff sign-ins before them, whose password hashes (Argon2, 19 MiB each) are
    // brief and counted once per clinician, not per participant.
    if let Some(pid) = args.server_pid
        && let Err(e) = procfs::reset_peak(pid)
    {
        eprintln!(
            "could not reset the server's peak memory (VmHWM), so it includes the sign-ins: {e}"
        );
    }
    let server_before = args.server_pid.and_then(ProcSample::read);

    let (progress_tx, mut progress) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);
    let mut results = Vec::new();
    let mut tasks: Vec<(PeerSpec, JoinHandle<PeerResult>)> = Vec::new();
    let first_join = tokio::time::Instant::now();
    for (room, plan) in plans.into_iter().enumerate() {
        for k in 0..args.participants {
            let spec = PeerSpec {
                index: u32::try_from(room * args.participants + k).unwrap_or(u32::MAX),
                room,
                host: k == 0,
                seat: None,
                cookie: None,
                video: args.video_publishers.is_none_or(|n| k < n),
                janus_room: None,
            };
            let spec = match &plan {
                Ok(Room::Haven(plan)) => PeerSpec {
                    seat: (k > 0).then(|| plan.seats[k - 1].clone()),
                    cookie: (k == 0).then(|| plan.cookie.clone()),
                    ..spec
                },
                Ok(Room::Janus(id)) => PeerSpec {
                    janus_room: Some(*id),
                    ..spec
                },
                Err(why) => {
                    results.push(PeerResult::failed(spec, why.clone()));
                    continue;
                }
            };
            let n = u32::try_from(tasks.len()).unwrap_or(u32::MAX);
            tokio::time::sleep_until(first_join + args.join_interval * n).await;
            let (spec2, shared, progress, stop) = (
                spec.clone(),
                shared.clone(),
                progress_tx.clone(),
                stop.clone(),
            );
            let task = match args.target {
                Target::Haven => tokio::spawn(peer::run(spec2, shared, progress, stop)),
                Target::Janus => {
                    let url = args.janus_url.clone();
                    tokio::spawn(janus::run(spec2, url, shared, progress, stop))
                }
            };
            tasks.push((spec, task));
        }
    }
    drop(progress_tx);
    let (loadgen_ports, server_ports) = await_joins(&mut progress, tasks.len(), args).await;

    let start_at = Instant::now() + args.warmup;
    let end_at = start_at + args.duration;
    shared.timeline.set_window(start_at, end_at);
    eprintln!(
        "warming up for {:?}, then measuring for {:?}…",
        args.warmup, args.duration
    );
    tokio::time::sleep_until(start_at.into()).await;
    let start = sample(args, &loadgen_ports, &server_ports);
    let window_started = Instant::now();
    let (mut loadgen_backlog, mut server_backlog) = (0, 0);
    while Instant::now() + BACKLOG_EVERY < end_at {
        tokio::time::sleep(BACKLOG_EVERY).await;
        loadgen_backlog = loadgen_backlog.max(procfs::udp(&loadgen_ports).backlog);
        server_backlog = server_backlog.max(procfs::udp(&server_ports).backlog);
    }
    tokio::time::sleep_until(end_at.into()).await;
    let end = sample(args, &loadgen_ports, &server_ports);
    let window = window_started.elapsed();
    tokio::time::sleep(args.drain).await;
    let _ = stop_tx.send(true);

    let stop_by = tokio::time::Instant::now() + STOP_GRACE;
    for (spec, mut task) in tasks {
        match tokio::time::timeout_at(stop_by, &mut task).await {
            Ok(Ok(result)) => results.push(result),
            Ok(Err(e)) => results.push(PeerResult::failed(
                spec,
                format!("the peer task failed: {e}"),
            )),
            Err(_) => {
                task.abort();
                results.push(PeerResult::failed(
                    spec,
                    format!("the peer did not stop within {STOP_GRACE:?}"),
                ));
            }
        }
    }
    results.sort_by_key(|r| r.spec.index);
    Ok(Outcome {
        results,
        window,
        server_before,
        start,
        end,
        loadgen_backlog,
        server_backlog,
    })
}

/// Waits until each of `expected` peers has connected or failed (each says so once),
/// printing progress; returns the local and server UDP ports seen.
async fn await_joins(
    progress: &mut mpsc::UnboundedReceiver<Progress>,
    expected: usize,
    args: &Args,
) -> (HashSet<u16>, HashSet<u16>) {
    let mut loadgen_ports = HashSet::new();
    let mut server_ports = HashSet::new();
    let (mut connected, mut failed) = (0usize, 0usize);
    let mut slowest = Duration::ZERO;
    // Every peer ends its join within its connect timeout; the margin covers a peer task
    // that died without saying so.
    let give_up = tokio::time::Instant::now() + args.connect_timeout + Duration::from_secs(5);
    let mut next_print = tokio::time::Instant::now() + PROGRESS_EVERY;
    while connected + failed < expected {
        let wait_until = next_print.min(give_up);
        match tokio::time::timeout_at(wait_until, progress.recv()).await {
            Ok(Some(Progress::Connected {
                after,
                local_ports,
                server_ports: servers,
            })) => {
                connected += 1;
                slowest = slowest.max(after);
                loadgen_ports.extend(local_ports);
                server_ports.extend(servers);
            }
            Ok(Some(Progress::Failed)) => failed += 1,
            Ok(None) => break,
            Err(_) if tokio::time::Instant::now() >= give_up => break,
            Err(_) => {
                eprintln!("  {connected}/{expected} connected, {failed} failed…");
                next_print += PROGRESS_EVERY;
            }
        }
    }
    eprintln!(
        "{connected}/{expected} connected (slowest after {} ms), {failed} failed",
        slowest.as_millis()
    );
    (loadgen_ports, server_ports)
}

fn sample(args: &Args, loadgen_ports: &HashSet<u16>, server_ports: &HashSet<u16>) -> Edge {
    Edge {
        loadgen_cpu: procfs::own_cpu_seconds(),
        server: args.server_pid.and_then(ProcSample::read),
        loadgen_udp: procfs::udp(loadgen_ports),
        server_udp: procfs::udp(server_ports),
        machine: procfs::MachineSample::read(),
    }
}
