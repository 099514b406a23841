//! The recording daemon: load and attach the programs, drain the ring buffer
//! in batches, hand batches to the writer thread, and on shutdown detach,
//! drain what is left, and close the log with exact loss accounting.
//! Between attaching and draining, the recorder gives up the privileges it
//! no longer needs (`privileges`).
//!
//! Shape: [`run`]`(config, shutdown)`, so the binary decides what a shutdown
//! is (signals) and tests can drive it with any future.

pub mod batch;
pub mod child;
pub mod kernel;
pub mod pause;
pub mod privileges;
pub mod procfs;
pub mod ring;
pub mod snapshot;
pub mod tracefs;
pub mod writer;

use std::{collections::HashSet, future::Future, path::PathBuf, time::Duration};

use thiserror::Error;
use tokio::io::unix::AsyncFd;

use batch::Batch;
use child::PreparedChild;
use kernel::{Kernel, KernelConfig, KernelError, Outputs};
use recorder::event::{Counters, Event, Filter, Header, Trailer};
use ring::RecordParser;
use writer::{Writer, WriterError};

/// How often cumulative counters are written into the stream, so a log cut
/// short still says what was lost up to there.
const COUNTERS_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Error)]
pub enum RecordError {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Writer(#[from] WriterError),
    #[error("ring buffer polling failed")]
    Poll(#[source] std::io::Error),
    #[error(transparent)]
    Pause(#[from] pause::PauseError),
}

pub struct Config {
    pub pids: Vec<u32>,
    /// Already validated and truncated to the kernel's 15 bytes.
    pub comms: Vec<Vec<u8>>,
    pub follow: bool,
    pub output: PathBuf,
    pub file: std::fs::File,
    pub ring_size: u32,
    /// Ring occupancy (bytes) at which the daemon is woken to drain.
    pub wakeup_bytes: u64,
    /// Lossless mode: occupancy at which a traced process is paused; 0 =
    /// drop mode.
    pub pause_bytes: u64,
    pub capture_size: u32,
    pub flush_interval: Duration,
    pub child: Option<PreparedChild>,
    pub rotation: Option<writer::Rotation>,
    pub snapshots: Option<snapshot::SnapshotConfig>,
    /// Notified on SIGHUP: start a new log file at the same path.
    pub reopen: Option<std::sync::Arc<tokio::sync::Notify>>,
    pub header: Header,
    pub quiet: bool,
    /// `--bench-floor`: empty programs, nothing recorded.
    pub bench_floor: bool,
    /// What to give up once the programs are attached.
    pub privileges: privileges::DropPlan,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub counters: Counters,
    pub bytes: u64,
    /// Of `counters.user_dropped`, the records not written because the disk
    /// was full.
    pub disk_full: u64,
    /// Exit status of `-- COMMAND` (128+N for a signal).
    pub child_status: Option<i32>,
}

/// Builds the log header from the running machine.
pub fn machine_header(argv: Vec<String>, filter: Filter, ring_size: u32) -> Header {
    use nix::time::{ClockId, clock_gettime};
    let ns = |c: ClockId| {
        clock_gettime(c)
            .map(|t| t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128)
            .unwrap_or(0)
    };
    let mono = ns(ClockId::CLOCK_MONOTONIC);
    let real = ns(ClockId::CLOCK_REALTIME);
    let boot = ns(ClockId::CLOCK_BOOTTIME);
    let uts = nix::sys::utsname::uname().ok();
    Header {
        recorder_version: env!("CARGO_PKG_VERSION").to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
        kernel_release: uts
            .as_ref()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default(),
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        page_size: nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .unwrap_or(4096) as u32,
        realtime_offset_ns: (real - mono) as i64,
        boottime_offset_ns: (boot - mono) as i64,
        start_wall_ns: real as u64,
        start_mono_ns: mono as u64,
        command_line: argv,
        filter,
        capture_size: 0,
        ring_size,
        redactions: Vec::new(),
        format_minor: recorder::log::FORMAT_MINOR,
        lossless: false,
    }
}

/// Processes whose end ends a `-p` recording: the given pids and the
/// children they start (when following).
struct Liveness {
    live: HashSet<u32>,
}

impl Liveness {
    fn observe(&mut self, ev: &Event) {
        match ev {
            Event::Fork(p) if self.live.contains(&p.tgid) => {
                self.live.insert(p.aux);
            }
            Event::Exit(p) if p.aux == 1 => {
                self.live.remove(&p.tgid);
            }
            _ => {}
        }
    }
    /// Drops processes that no longer exist (covers kernels without
    /// `group_dead`, where exits cannot be told apart from thread exits).
    fn prune(&mut self) -> bool {
        self.live.retain(|&p| procfs::process_exists(p));
        self.live.is_empty()
    }
}

/// What watches the event stream as it is drained.
struct Watchers {
    liveness: Option<Liveness>,
    snapshots: Option<snapshot::Snapshots>,
    /// Snapshots to write (crashed processes that have exited).
    pending: Vec<snapshot::Pending>,
}

impl Watchers {
    fn observe(&mut self, ev: &Event) {
        if let Some(lv) = self.liveness.as_mut() {
            lv.observe(ev);
        }
        if let Some(s) = self.snapshots.as_mut().and_then(|s| s.observe(ev)) {
            self.pending.push(s);
        }
    }
}

/// Moves records from the ring into `batch` until the ring is empty
/// (`false`) or the batch is full (`true`: send it and drain on), so a
/// full ring never turns into one huge batch.
fn drain(
    ring: &mut aya::maps::RingBuf<aya::maps::MapData>,
    parser: &mut RecordParser,
    batch: &mut Batch,
    watchers: &mut Watchers,
) -> bool {
    while !batch.is_full() {
        let Some(item) = ring.next() else {
            return false;
        };
        // Crash snapshots keep whole events: then every record is one.
        if watchers.snapshots.is_none() && parser.encode(&item, batch) {
            continue;
        }
        if let Some(ev) = parser.parse(&item) {
            watchers.observe(&ev);
            batch.push(ev);
        }
    }
    true
}

/// Writes pending crash snapshots (off the async thread) and says where.
async fn write_snapshots(
    watchers: &mut Watchers,
    dir: &std::path::Path,
    header: &Header,
    counters: &Counters,
) {
    for snap in watchers.pending.drain(..) {
        let (dir, header, counters) = (dir.to_owned(), header.clone(), counters.clone());
        let res = tokio::task::spawn_blocking(move || {
            (snapshot::write(&dir, &header, &counters, &snap), snap)
        })
        .await;
        match res {
            Ok((Ok(path), snap)) => {
                let why = match &snap.reason {
                    snapshot::Reason::Crash(s) => format!("signal {}", s.sig),
                    snapshot::Reason::ExitStatus(c) => format!("exit status {c}"),
                };
                let line = format!(
                    "snapshot of {} (pid {}, {why}): {}",
                    snap.comm,
                    snap.tgid,
                    path.display()
                );
                eprintln!("recorder: {line}");
                notify(&[sd_notify::NotifyState::Status(&line)]);
            }
            Ok((Err(e), _)) => eprintln!(
                "recorder: warning: crash snapshot not written: {:#}",
                anyhow::Error::from(e)
            ),
            Err(_) => eprintln!("recorder: warning: crash snapshot not written"),
        }
    }
}

pub async fn run(cfg: Config, shutdown: impl Future<Output = ()>) -> Result<Summary, RecordError> {
    let Config {
        pids,
        comms,
        follow,
        output,
        file,
        ring_size,
        wakeup_bytes,
        pause_bytes,
        capture_size,
        flush_interval,
        child,
        rotation,
        snapshots,
        reopen,
        header,
        quiet,
        bench_floor,
        privileges: drop_plan,
    } = cfg;
    let kcfg = KernelConfig {
        ring_size,
        follow_forks: follow,
        comms: comms.clone(),
        max_threads: 16384,
        capture_size,
        wakeup_bytes,
        pause_bytes,
        bench_floor,
    };
    let (mut kernel, outputs) = Kernel::load(&kcfg)?;
    for &p in &pids {
        kernel.select(p, false)?;
    }
    // Processes already running under a selected name. Scanned before attach
    // (no races with the programs' writes) and once more right after, for a
    // process that exec'd in between.
    let mut preselected: HashSet<u32> = HashSet::new();
    if !comms.is_empty() {
        for p in procfs::processes_named(&comms) {
            kernel.select(p, false)?;
            preselected.insert(p);
        }
    }
    if let Some(c) = &child {
        kernel.select(c.pid(), true)?;
    }
    let snapshot_header = header.clone();
    let snapshot_dir = snapshots.as_ref().map(|s| s.dir.clone());
    kernel.attach()?;
    if !comms.is_empty() {
        for p in procfs::processes_named(&comms) {
            if preselected.insert(p) {
                kernel.select(p, false)?;
            }
        }
    }
    // Nothing after this loads, attaches or selects. Still one thread
    // here (capabilities are per thread): the writer thread, the blocking
    // pool and the resume guard all start after, with what is left.
    privileges::drop_privileges(&drop_plan);
    let writer = Writer::start(file, output.clone(), header, rotation)?;

    let Outputs {
        ring,
        counters: kernel_counters,
        paused,
        pause_on,
    } = outputs;
    // Lossless: the guard is up before any process can be paused.
    let mut pauser = match pause_bytes {
        0 => None,
        _ => Some(pause::Pauser::start(paused, pause_on)?),
    };
    // SAFETY: the ring owns its fd and keeps it open for as long as the
    // AsyncFd that owns the ring exists.
    let mut ring = unsafe { AsyncFd::register_with_interest(ring, tokio::io::Interest::READABLE) }
        .map_err(|e| RecordError::Poll(e.into()))?;

    // The command may run from now on; it is already selected.
    let mut child_wait = match child {
        Some(c) => {
            let pid = c.pid();
            c.release();
            if !quiet {
                eprintln!("recorder: recording pid {pid} to {}", output.display());
            }
            Some(tokio::task::spawn_blocking(move || child::wait(pid)))
        }
        None => {
            if !quiet {
                let mut what = Vec::new();
                if !pids.is_empty() {
                    what.push(format!("pid {}", join(&pids)));
                }
                for c in &comms {
                    what.push(format!("comm {:?}", String::from_utf8_lossy(c)));
                }
                eprintln!(
                    "recorder: recording {} to {} (Ctrl-C to stop)",
                    what.join(", "),
                    output.display()
                );
            }
            None
        }
    };
    // systemd (Type=notify): ready only now that recording has started.
    notify(&[sd_notify::NotifyState::Ready]);
    let mut watchers = Watchers {
        liveness: (comms.is_empty() && child_wait.is_none()).then(|| Liveness {
            live: pids.iter().copied().collect(),
        }),
        snapshots: snapshots.map(|c| snapshot::Snapshots::new(c, libc::SYS_exit_group)),
        pending: Vec::new(),
    };
    let mut last_counters = Counters::default();

    let mut batch = writer.empty_batch();
    let mut parser = RecordParser::default();
    let mut flush_tick = tokio::time::interval(flush_interval);
    flush_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut counters_tick = tokio::time::interval(COUNTERS_EVERY);
    counters_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut child_status = None;
    let mut status = Status::new();
    tokio::pin!(shutdown);

    // The drain waits for room in the writer's queue rather than dropping
    // what it already took from the ring: while it waits the ring keeps
    // filling, so the ring's 8 MiB and the queue together are the buffer,
    // and memory stays bounded. Then, in lossless mode the programs pause
    // the traced processes; in drop mode the kernel drops and counts
    // (`ring_full`), with the record's place kept as a sequence gap.
    let send = |writer: &Writer, batch: &mut Batch| -> Result<(), RecordError> {
        if batch.is_empty() {
            return Ok(());
        }
        writer.send_wait(std::mem::replace(batch, writer.empty_batch()))?;
        Ok(())
    };
    // After a drain the ring has room again: resume what was paused.
    let resume = |pauser: &mut Option<pause::Pauser>, batch: &mut Batch| {
        if let Some(p) = pauser.as_mut() {
            batch.extend(p.resume_all(now_ns().1)?.into_iter().map(Event::Pause));
        }
        Ok::<(), RecordError>(())
    };

    let loop_result: Result<(), RecordError> = async {
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                status = async { child_wait.as_mut().expect("guarded").await }, if child_wait.is_some() => {
                    child_status = Some(status.unwrap_or(1));
                    child_wait = None;
                    break;
                }
                // The programs wake us once the ring passes the threshold
                // (see submit_flags in the eBPF crate); below it, the flush
                // timer drains. So an idle board wakes a few times a second,
                // and a burst is drained as soon as it matters.
                guard = ring.readable_mut() => {
                    let mut guard = guard.map_err(RecordError::Poll)?;
                    // Small batches would fill the writer queue's slots
                    // with little data: hand over full ones, and the rest
                    // on the flush tick.
                    while drain(guard.get_inner_mut(), &mut parser, &mut batch, &mut watchers) {
                        send(&writer, &mut batch)?;
                    }
                    guard.clear_ready();
                    resume(&mut pauser, &mut batch)?;
                }
                _ = flush_tick.tick() => {
                    while drain(ring.get_mut(), &mut parser, &mut batch, &mut watchers) {
                        send(&writer, &mut batch)?;
                    }
                    send(&writer, &mut batch)?;
                    resume(&mut pauser, &mut batch)?;
                    writer.flush()?;
                    if writer.is_dead() {
                        return Ok(());
                    }
                }
                _ = async { reopen.as_ref().expect("guarded").notified().await }, if reopen.is_some() => {
                    // Everything drained so far belongs to the old file.
                    while drain(ring.get_mut(), &mut parser, &mut batch, &mut watchers) {
                        send(&writer, &mut batch)?;
                    }
                    send(&writer, &mut batch)?;
                    writer.reopen()?;
                    if !quiet {
                        eprintln!("recorder: SIGHUP: reopened {}", output.display());
                    }
                }
                _ = counters_tick.tick() => {
                    let c = kernel::read_counters(&kernel_counters)?;
                    status.tick(&c, quiet);
                    last_counters = c.clone();
                    batch.push(Event::Counters(c));
                    if watchers.liveness.as_mut().is_some_and(Liveness::prune) {
                        if !quiet {
                            eprintln!("recorder: all recorded processes have exited");
                        }
                        break;
                    }
                }
            }
            if let (Some(dir), false) = (&snapshot_dir, watchers.pending.is_empty()) {
                write_snapshots(&mut watchers, dir, &snapshot_header, &last_counters).await;
            }
        }
        Ok(())
    }
    .await;

    // Detach first, then drain: every record the programs emitted is in the
    // ring by now, so the final counts are exact.
    notify(&[sd_notify::NotifyState::Stopping]);
    kernel.detach();
    // Whatever else fails, nothing stays paused: resumed first.
    if let Some(p) = pauser.take() {
        match p.finish(now_ns().1) {
            Ok(events) => batch.extend(events.into_iter().map(Event::Pause)),
            Err(e) => eprintln!("recorder: warning: {:#}", anyhow::Error::from(e)),
        }
    }
    while drain(ring.get_mut(), &mut parser, &mut batch, &mut watchers) && !writer.is_dead() {
        send(&writer, &mut batch)?;
    }
    if writer.is_dead() {
        return Err(writer.into_error().into());
    }
    loop_result?;
    let mut counters = kernel::read_counters(&kernel_counters)?;
    if let Some(dir) = &snapshot_dir {
        write_snapshots(&mut watchers, dir, &snapshot_header, &counters).await;
    }
    batch.push(Event::Counters(counters.clone()));
    let (end_wall_ns, end_mono_ns) = now_ns();
    let trailer = Trailer {
        end_wall_ns,
        end_mono_ns,
        counters: counters.clone(),
    };
    let stats = tokio::task::spawn_blocking(move || writer.finish(batch, trailer))
        .await
        .map_err(|_| WriterError::Gone)??;
    counters.written = stats.events;
    counters.user_dropped += stats.disk_full;
    Ok(Summary {
        counters,
        bytes: stats.bytes,
        disk_full: stats.disk_full,
        child_status,
    })
}

/// Tells systemd, when running under it (NOTIFY_SOCKET set); a no-op
/// otherwise.
fn notify(state: &[sd_notify::NotifyState<'_>]) {
    let _ = sd_notify::notify(state);
}

/// The periodic one-line status (stderr, and systemd's STATUS=).
struct Status {
    last: std::time::Instant,
    last_emitted: u64,
}

impl Status {
    const EVERY: Duration = Duration::from_secs(60);

    fn new() -> Self {
        Self {
            last: std::time::Instant::now(),
            last_emitted: 0,
        }
    }

    fn tick(&mut self, c: &Counters, quiet: bool) {
        let el = self.last.elapsed();
        if el < Self::EVERY {
            return;
        }
        let rate = (c.emitted - self.last_emitted) as f64 / el.as_secs_f64();
        let line = format!(
            "{:.0} records/s, {} recorded, {} lost",
            rate,
            c.emitted,
            c.lost()
        );
        if !quiet {
            eprintln!("recorder: {line}");
        }
        notify(&[sd_notify::NotifyState::Status(&line)]);
        self.last = std::time::Instant::now();
        self.last_emitted = c.emitted;
    }
}

pub(crate) fn now_ns() -> (u64, u64) {
    use nix::time::{ClockId, clock_gettime};
    let ns = |c| {
        clock_gettime(c)
            .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
            .unwrap_or(0)
    };
    (ns(ClockId::CLOCK_REALTIME), ns(ClockId::CLOCK_MONOTONIC))
}

fn join(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}
