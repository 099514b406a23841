//! The recording daemon: load and attach the programs, drain the ring buffer
//! in batches, hand batches to the writer thread, and on shutdown detach,
//! drain what is left, and close the log with exact loss accounting.
//! Between attaching and draining, the recorder gives up the privileges it
//! no longer needs (`privileges`).
//!
//! Shape: [`run`]`(config, shutdown)`, so the binary decides what a shutdown
//! is (signals) and tests can drive it with any future.

pub mod adapt;
pub mod batch;
pub mod btf;
pub mod child;
pub mod kernel;
pub mod live;
pub mod pause;
pub mod privileges;
pub mod procfs;
pub mod ring;
pub mod snapshot;
pub mod status;
pub mod tracefs;
pub mod who;
pub mod writer;

use std::{collections::HashSet, future::Future, path::PathBuf, time::Duration};

use aya::maps::{MapData, PerCpuArray, RingBuf};
use thiserror::Error;
use tokio::io::unix::AsyncFd;

use batch::Batch;
use child::PreparedChild;
use kernel::{Kernel, KernelConfig, KernelError, Outputs};
use recorder::event::{Counters, Event, Filter, GroupDead, Header, Trailer};
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
    #[error("cannot start printing live output")]
    Live(#[source] std::io::Error),
}

pub struct Config {
    pub pids: Vec<u32>,
    /// Already validated and truncated to the kernel's 15 bytes.
    pub comms: Vec<Vec<u8>>,
    pub follow: bool,
    pub output: PathBuf,
    pub file: std::fs::File,
    /// `-o -`: the log is standard output, written as a stream.
    pub stream: bool,
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
    pub bench_floor: Option<recorder::cli::BenchFloor>,
    /// `--stash-slots` (testing only).
    pub stash_slots: Option<u32>,
    /// What to give up once the programs are attached.
    pub privileges: privileges::DropPlan,
    /// `--live`: print every record on stderr, as dump would.
    pub live: Option<recorder::decode::TextOptions>,
    /// Redraw a status line on stderr (a terminal).
    pub status_line: bool,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub counters: Counters,
    pub bytes: u64,
    /// Of `counters.user_dropped`, the records not written because the disk
    /// was full.
    pub disk_full: u64,
    /// Records written uncompressed because the writer was behind.
    pub stored: u64,
    /// Exit status of `-- COMMAND` (128+N for a signal).
    pub child_status: Option<i32>,
    /// `--live`: records not shown because printing fell behind.
    pub live_missed: Option<u64>,
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
        trace: Vec::new(),
        traced_nrs: Vec::new(),
        lean: false,
        replayable: false,
        watch: false,
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
                self.live.insert(p.child());
            }
            Event::Exit(p) if p.group_dead() == GroupDead::Yes => {
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

/// Records until `shutdown` (or the command's end, or the end of every
/// process of `-p`), then closes the log.
pub async fn run(cfg: Config, shutdown: impl Future<Output = ()>) -> Result<Summary, RecordError> {
    let mut rec = Recording::start(cfg)?;
    let res = rec.run_until(shutdown).await;
    rec.finish(res).await
}

/// Where drained records go: parsed or encoded into the current batch,
/// watched, and handed to the writer.
struct Sink {
    parser: RecordParser,
    batch: Batch,
    watchers: Watchers,
    writer: Writer,
}

impl Sink {
    /// Drains the ring into batches, handing over every full one. Small
    /// batches would fill the writer queue's slots with little data: the
    /// rest waits for `send` (the flush tick).
    ///
    /// The drain waits for room in the writer's queue rather than dropping
    /// what it already took from the ring: while it waits the ring keeps
    /// filling, so the ring's 8 MiB and the queue together are the buffer,
    /// and memory stays bounded. Then, in lossless mode the programs pause
    /// the traced processes; in drop mode the kernel drops and counts
    /// (`ring_full`), with the record's place kept as a sequence gap.
    fn drain(&mut self, ring: &mut RingBuf<MapData>) -> Result<(), RecordError> {
        while drain(ring, &mut self.parser, &mut self.batch, &mut self.watchers) {
            if self.writer.is_dead() {
                return Ok(());
            }
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), RecordError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.batch, self.writer.empty_batch());
        self.writer.send_wait(full)?;
        Ok(())
    }
}

/// A recording in progress: [`start`](Self::start) loads, attaches and
/// starts the command; [`run_until`](Self::run_until) drains until told to
/// stop; [`finish`](Self::finish) detaches, drains the rest and writes the
/// trailer.
pub struct Recording {
    kernel: Kernel,
    ring: AsyncFd<RingBuf<MapData>>,
    kernel_counters: PerCpuArray<MapData, u64>,
    pauser: Option<pause::Pauser>,
    sink: Sink,
    child_wait: Option<tokio::task::JoinHandle<i32>>,
    child_status: Option<i32>,
    snapshot_dir: Option<PathBuf>,
    snapshot_header: Header,
    last_counters: Counters,
    flush_interval: Duration,
    reopen: Option<std::sync::Arc<tokio::sync::Notify>>,
    output: PathBuf,
    quiet: bool,
    live: Option<live::Live>,
    status_line: Option<status::StatusLine>,
}

impl Recording {
    /// Loads and attaches the programs, selects the processes, gives up
    /// privileges, starts the writer, and lets the command run.
    pub fn start(cfg: Config) -> Result<Self, RecordError> {
        let kcfg = KernelConfig {
            ring_size: cfg.ring_size,
            follow_forks: cfg.follow,
            comms: cfg.comms.clone(),
            max_threads: recorder_common::STASH_ENTRIES,
            capture_size: cfg.capture_size,
            wakeup_bytes: cfg.wakeup_bytes,
            pause_bytes: cfg.pause_bytes,
            bench_floor: cfg.bench_floor,
            stash_slots: cfg.stash_slots,
            lean: cfg.header.lean,
            // The header says what the kernel records: one source for both.
            trace_set: cfg.header.trace_set().map(<[i64]>::to_vec),
            watch: None,
        };
        let (mut kernel, outputs) = Kernel::load(&kcfg)?;
        select_and_attach(&mut kernel, &cfg)?;
        // Nothing after this loads, attaches or selects. Still one thread
        // here (capabilities are per thread): the writer thread, the blocking
        // pool and the resume guard all start after, with what is left.
        privileges::drop_privileges(&cfg.privileges);
        let out = writer::Output {
            file: cfg.file,
            path: cfg.output.clone(),
            stream: cfg.stream,
        };
        let (writer, live) = start_writer(out, &cfg.header, cfg.rotation, cfg.live.as_ref())?;
        let status_line = cfg
            .status_line
            .then(|| status::StatusLine::new(writer.progress()));
        let Outputs {
            ring,
            counters: kernel_counters,
            paused,
            pause_on,
            ..
        } = outputs;
        // Lossless: the guard is up before any process can be paused.
        let pauser = match cfg.pause_bytes {
            0 => None,
            _ => Some(pause::Pauser::start(paused, pause_on)?),
        };
        // SAFETY: the ring owns its fd and keeps it open for as long as the
        // AsyncFd that owns the ring exists.
        let ring = unsafe { AsyncFd::register_with_interest(ring, tokio::io::Interest::READABLE) }
            .map_err(|e| RecordError::Poll(e.into()))?;
        // The command may run from now on; it is already selected.
        let child_pid = cfg.child.as_ref().map(PreparedChild::pid);
        let child_wait = cfg.child.map(|c| {
            let pid = c.pid();
            c.release();
            tokio::task::spawn_blocking(move || child::wait(pid))
        });
        if !cfg.quiet {
            say_started(&cfg.pids, &cfg.comms, child_pid, &cfg.output);
        }
        // systemd (Type=notify): ready only now that recording has started.
        notify(&[sd_notify::NotifyState::Ready]);
        let watchers = Watchers {
            liveness: (cfg.comms.is_empty() && child_wait.is_none()).then(|| Liveness {
                live: cfg.pids.iter().copied().collect(),
            }),
            snapshots: (cfg.snapshots.clone())
                .map(|c| snapshot::Snapshots::new(c, libc::SYS_exit_group)),
            pending: Vec::new(),
        };
        Ok(Self {
            kernel,
            ring,
            kernel_counters,
            pauser,
            sink: Sink {
                parser: RecordParser::default(),
                batch: writer.empty_batch(),
                watchers,
                writer,
            },
            child_wait,
            child_status: None,
            snapshot_dir: cfg.snapshots.map(|s| s.dir),
            snapshot_header: cfg.header,
            last_counters: Counters::default(),
            flush_interval: cfg.flush_interval,
            reopen: cfg.reopen,
            output: cfg.output,
            quiet: cfg.quiet,
            live,
            status_line,
        })
    }

    /// Drains on the programs' wakeups and the flush tick, writes a
    /// counters checkpoint every second, until `shutdown`, the command's
    /// end, or (for `-p`) the end of every recorded process.
    pub async fn run_until(
        &mut self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RecordError> {
        let mut flush_tick = tokio::time::interval(self.flush_interval);
        flush_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut counters_tick = tokio::time::interval(COUNTERS_EVERY);
        counters_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut status = Status::new();
        let mut line_tick = tokio::time::interval(status::EVERY);
        line_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                status = async { self.child_wait.as_mut().expect("guarded").await }, if self.child_wait.is_some() => {
                    self.child_status = Some(status.unwrap_or(1));
                    self.child_wait = None;
                    break;
                }
                // The programs wake us once the ring passes the threshold
                // (see submit_flags in the eBPF crate); below it, the flush
                // timer drains. So an idle board wakes a few times a second,
                // and a burst is drained as soon as it matters.
                guard = self.ring.readable_mut() => {
                    let mut guard = guard.map_err(RecordError::Poll)?;
                    self.sink.drain(guard.get_inner_mut())?;
                    guard.clear_ready();
                    self.resume()?;
                }
                _ = flush_tick.tick() => {
                    self.sink.drain(self.ring.get_mut())?;
                    self.sink.send()?;
                    self.resume()?;
                    self.sink.writer.flush()?;
                    if self.sink.writer.is_dead() {
                        return Ok(());
                    }
                }
                _ = async { self.reopen.as_ref().expect("guarded").notified().await }, if self.reopen.is_some() => {
                    // Everything drained so far belongs to the old file.
                    self.sink.drain(self.ring.get_mut())?;
                    self.sink.send()?;
                    self.sink.writer.reopen()?;
                    if !self.quiet {
                        self.erase_status();
                        status::message!("recorder: SIGHUP: reopened {}", self.output.display());
                    }
                }
                _ = line_tick.tick(), if self.status_line.is_some() => {
                    let c = kernel::read_counters(&self.kernel_counters)?;
                    if let Some(line) = self.status_line.as_mut() {
                        line.draw(&c);
                    }
                }
                _ = counters_tick.tick() => {
                    if self.checkpoint(&mut status)? {
                        break;
                    }
                }
            }
            self.write_snapshots().await;
        }
        Ok(())
    }

    /// After a drain the ring has room again: resume what was paused.
    fn resume(&mut self) -> Result<(), RecordError> {
        if let Some(p) = self.pauser.as_mut() {
            let resumed = p.resume_all(now_ns().1)?;
            self.sink
                .batch
                .extend(resumed.into_iter().map(Event::Pause));
        }
        Ok(())
    }

    /// The counters into the stream and the status line; `true` when every
    /// process of a `-p` recording has gone.
    fn checkpoint(&mut self, status: &mut Status) -> Result<bool, RecordError> {
        let c = kernel::read_counters(&self.kernel_counters)?;
        // The status line says it all, and more often.
        status.tick(&c, self.quiet || self.status_line.is_some());
        self.last_counters = c.clone();
        self.sink.batch.push(Event::Counters(c));
        let gone = (self.sink.watchers.liveness.as_mut()).is_some_and(Liveness::prune);
        if gone && !self.quiet {
            self.erase_status();
            eprintln!("recorder: all recorded processes have exited");
        }
        Ok(gone)
    }

    /// Before a message on stderr, and at the end.
    fn erase_status(&mut self) {
        if let Some(line) = self.status_line.as_mut() {
            line.erase();
        }
    }

    /// Crash snapshots of processes that died since the last call.
    async fn write_snapshots(&mut self) {
        let Some(dir) = &self.snapshot_dir else {
            return;
        };
        if self.sink.watchers.pending.is_empty() {
            return;
        }
        let (w, h, c) = (
            &mut self.sink.watchers,
            &self.snapshot_header,
            &self.last_counters,
        );
        write_snapshots(w, dir, h, c).await;
    }

    /// Detaches, resumes whatever is paused, drains the rest and writes the
    /// trailer. `res` is what `run_until` returned: whatever it was, the
    /// programs are detached and nothing stays paused.
    pub async fn finish(mut self, res: Result<(), RecordError>) -> Result<Summary, RecordError> {
        // Detach first, then drain: every record the programs emitted is
        // in the ring by now, so the final counts are exact.
        notify(&[sd_notify::NotifyState::Stopping]);
        self.erase_status();
        self.kernel.detach();
        // Whatever else fails, nothing stays paused: resumed first.
        if let Some(p) = self.pauser.take() {
            match p.finish(now_ns().1) {
                Ok(events) => self.sink.batch.extend(events.into_iter().map(Event::Pause)),
                Err(e) => status::message!("recorder: warning: {:#}", anyhow::Error::from(e)),
            }
        }
        self.sink.drain(self.ring.get_mut())?;
        if self.sink.writer.is_dead() {
            return Err(self.sink.writer.into_error().into());
        }
        res?;
        let mut counters = kernel::read_counters(&self.kernel_counters)?;
        if let Some(dir) = &self.snapshot_dir {
            write_snapshots(
                &mut self.sink.watchers,
                dir,
                &self.snapshot_header,
                &counters,
            )
            .await;
        }
        let Sink {
            mut batch, writer, ..
        } = self.sink;
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
        // Every line printed before the summary that follows.
        let live_missed = self.live.map(live::Live::finish);
        counters.written = stats.events;
        counters.user_dropped += stats.disk_full;
        Ok(Summary {
            counters,
            bytes: stats.bytes,
            disk_full: stats.disk_full,
            stored: stats.stored,
            child_status: self.child_status,
            live_missed,
        })
    }
}

/// Starts the writer and, for `--live`, the thread that prints what it
/// wrote.
fn start_writer(
    out: writer::Output,
    header: &Header,
    rotation: Option<writer::Rotation>,
    live: Option<&recorder::decode::TextOptions>,
) -> Result<(Writer, Option<live::Live>), RecordError> {
    let Some(opts) = live else {
        return Ok((Writer::start(out, header.clone(), rotation, None)?, None));
    };
    let (tap, pending) = live::channel();
    let writer = Writer::start(out, header.clone(), rotation, Some(tap))?;
    let live = pending
        .spawn(header, opts, writer.spare_sender())
        .map_err(RecordError::Live)?;
    Ok((writer, Some(live)))
}

/// Selects the processes to record and attaches the programs.
fn select_and_attach(kernel: &mut Kernel, cfg: &Config) -> Result<(), RecordError> {
    for &p in &cfg.pids {
        kernel.select(p, false)?;
    }
    // Processes already running under a selected name. Scanned before attach
    // (no races with the programs' writes) and once more right after, for a
    // process that exec'd in between.
    let mut preselected: HashSet<u32> = HashSet::new();
    if !cfg.comms.is_empty() {
        for p in procfs::processes_named(&cfg.comms) {
            kernel.select(p, false)?;
            preselected.insert(p);
        }
    }
    if let Some(c) = &cfg.child {
        kernel.select(c.pid(), true)?;
    }
    kernel.attach()?;
    if !cfg.comms.is_empty() {
        let late: Vec<u32> = procfs::processes_named(&cfg.comms)
            .into_iter()
            .filter(|&p| preselected.insert(p))
            .collect();
        kernel.select_running(&late)?;
    }
    Ok(())
}

/// How messages name the log: `-o -` is standard output.
pub fn log_name(output: &std::path::Path) -> String {
    if output.as_os_str() == "-" {
        "standard output".into()
    } else {
        output.display().to_string()
    }
}

fn say_started(pids: &[u32], comms: &[Vec<u8>], child: Option<u32>, output: &std::path::Path) {
    let output = log_name(output);
    if let Some(pid) = child {
        eprintln!("recorder: recording pid {pid} to {output}");
        return;
    }
    let mut what = Vec::new();
    if !pids.is_empty() {
        what.push(format!("pid {}", join(pids)));
    }
    for c in comms {
        what.push(format!("comm {:?}", String::from_utf8_lossy(c)));
    }
    eprintln!(
        "recorder: recording {} to {output} (Ctrl-C to stop)",
        what.join(", "),
    );
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
