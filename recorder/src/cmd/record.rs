//! The record command: validates the arguments and the config file into a
//! [`record::Config`](crate::record::Config), runs the recording, and says
//! how it went (with `-c`, as `recorder stats` of the log).
//!
//! `-o -` writes the log to standard output: the recorder takes the
//! descriptor over and points its own standard output, which the command
//! inherits, at stderr, so nothing else lands in the middle of the log.
//! What needs a file (rotation, reading it back for `-c`) is refused with
//! it, and SIGHUP has nothing to reopen.

use std::io::IsTerminal as _;

use anyhow::{Context as _, bail};
use clap::parser::ValueSource;
use recorder::{
    cli::{CallMode, Overflow, RecordArgs},
    event::Filter,
};

use crate::record::{
    self,
    privileges::{self, Account},
};

/// Applies `--config FILE` under the command line: a setting from the file
/// is used only where the command line did not give that option.
pub fn with_config(mut args: RecordArgs, m: &clap::ArgMatches) -> anyhow::Result<RecordArgs> {
    let Some(path) = args.config.clone() else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    let c = recorder::config::FileConfig::parse(&text)
        .with_context(|| format!("config file {}", path.display()))?;
    let unset = |id: &str| m.value_source(id) != Some(ValueSource::CommandLine);
    macro_rules! take {
        ($field:ident) => {
            if unset(stringify!($field)) {
                if let Some(v) = c.$field {
                    args.$field = v;
                }
            }
        };
        ($field:ident, opt) => {
            if unset(stringify!($field)) && c.$field.is_some() {
                args.$field = c.$field;
            }
        };
    }
    take!(pids);
    take!(comms);
    take!(no_follow);
    take!(output);
    take!(capture_size);
    take!(ring_size);
    take!(wakeup_threshold);
    take!(overflow, opt);
    take!(mode, opt);
    take!(flush_interval);
    take!(rotate_size, opt);
    take!(rotate_count);
    take!(quiet);
    take!(snapshot_dir, opt);
    take!(snapshot_window);
    take!(snapshot_on_failure);
    take!(trace);
    Ok(args)
}

/// Whether this process may load tracing programs: root, or CAP_BPF and
/// CAP_PERFMON (5.8+), or CAP_SYS_ADMIN (older kernels).
pub fn has_bpf_privileges() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    let eff = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(0);
    let has = |c: u32| eff & (1u64 << c) != 0;
    (has(CAP_BPF) && has(CAP_PERFMON)) || has(CAP_SYS_ADMIN)
}

/// Lossless mode pauses a process once the ring is half full: the daemon
/// was woken at the wakeup threshold (25% by default) and is still behind,
/// and the other half is headroom for the records other threads emit
/// before each of them, too, reaches its pause. (With a wakeup threshold
/// above half, paused programs wait for the flush timer.)
fn pause_bytes(ring_size: u32) -> u64 {
    u64::from(ring_size) / 2
}

/// The record arguments, checked: what is wrong with them is said before
/// anything is loaded or created (ripgrep's split of low-level arguments
/// from what runs them).
struct Checked {
    pids: Vec<u32>,
    comms: Vec<Vec<u8>>,
    ring_size: u32,
    wakeup_bytes: u64,
    pause_bytes: u64,
    capture_size: u32,
    /// `-e`: the syscall numbers to record; `None`: every call.
    trace: Option<Vec<i64>>,
    /// `--mode lean`.
    lean: bool,
}

/// `--mode`, or the default for this kind of recording (see the flag's
/// help and docs/design.md, "Lean mode").
fn call_mode(args: &RecordArgs) -> CallMode {
    args.mode.unwrap_or(if args.command.is_empty() {
        CallMode::Lean
    } else {
        CallMode::Full
    })
}

/// `-e`: the syscall numbers of this machine to record, `None` for every
/// call (no `-e`, or `-e all`). A name this architecture lacks is an error:
/// it would record nothing for it.
fn trace_set(exprs: &[recorder::read::TraceExpr]) -> anyhow::Result<Option<Vec<i64>>> {
    use recorder::read::TraceItem;
    let all = |e: &recorder::read::TraceExpr| !e.negated && e.items.contains(&TraceItem::All);
    if exprs.iter().any(all) {
        return Ok(None);
    }
    let Some(arch) = recorder::decode::Arch::host() else {
        bail!("-e: no syscall table for {}", std::env::consts::ARCH);
    };
    let (set, missing) = recorder::read::record_set(exprs, arch);
    if let Some(name) = missing.first() {
        bail!("-e {name}: {arch} has no such syscall");
    }
    Ok(set)
}

/// `-o -`: the log is standard output.
fn is_stdout(output: &std::path::Path) -> bool {
    output.as_os_str() == "-"
}

/// What `-o -` cannot do, said before anything starts.
fn check_stdout(args: &RecordArgs) -> anyhow::Result<()> {
    if !is_stdout(&args.output) {
        return Ok(());
    }
    if args.rotate_size.is_some() {
        bail!("--rotate-size needs a log file: with -o - the log is one stream on standard output");
    }
    if args.show.summary {
        bail!(
            "-c/--summary reads the log back at exit, and -o - leaves no file to read: \
             pipe the log into `recorder stats -` instead"
        );
    }
    if std::io::stdout().is_terminal() {
        bail!(
            "-o -: not writing the binary log to a terminal (redirect it to a file, or pipe it \
             into `recorder dump -`)"
        );
    }
    Ok(())
}

fn check(args: &RecordArgs) -> anyhow::Result<Checked> {
    use record::procfs;

    if args.pids.is_empty() && args.comms.is_empty() && args.command.is_empty() {
        bail!(
            "nothing to record: give -p PID, --comm NAME, or a command to run (see recorder --help)"
        );
    }
    let mut comms = Vec::new();
    for c in &args.comms {
        if c.is_empty() {
            bail!("--comm needs a non-empty process name");
        }
        if c.as_bytes().contains(&b'/') {
            bail!(
                "--comm {c:?}: a process name has no '/' (give the program's file name, not a path)"
            );
        }
        comms.push(procfs::kernel_comm(c.as_bytes()));
    }
    let mut pids = Vec::new();
    for &p in &args.pids {
        if p == 0 {
            bail!("-p 0: not a process id");
        }
        let Some(tgid) = procfs::tgid_of(p) else {
            bail!("-p {p}: no such process");
        };
        if !pids.contains(&tgid) {
            pids.push(tgid);
        }
    }
    check_stdout(args)?;
    let ring_size = ring_size(args.ring_size)?;
    let wakeup_bytes = args
        .wakeup_threshold
        .bytes(u64::from(ring_size))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--wakeup-threshold {:?} must be more than 0 and less than the ring size ({ring_size} bytes)",
                args.wakeup_threshold
            )
        })?;
    // Lossless by default only where the recorder is the parent: a -p or
    // --comm process's parent (a shell with job control, a supervisor) sees
    // its child stop and continue.
    // --replayable is lossless whatever the config file says: a replay
    // cannot feed back a call that is not in the log.
    let overflow = match args.overflow {
        _ if args.replayable => Overflow::Pause,
        Some(o) => o,
        None if args.command.is_empty() => Overflow::Drop,
        None => Overflow::Pause,
    };
    let pause_bytes = match overflow {
        Overflow::Drop => 0,
        Overflow::Pause => pause_bytes(ring_size),
    };
    let asked = if args.replayable {
        u64::from(recorder_common::capture::MAX_SIZE)
    } else {
        args.capture_size
    };
    let capture_size = u32::try_from(asked)
        .ok()
        .filter(|&c| c <= recorder_common::capture::MAX_SIZE)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--capture-size {}: at most {} bytes per item",
                args.capture_size,
                recorder_common::capture::MAX_SIZE
            )
        })?;
    Ok(Checked {
        pids,
        comms,
        ring_size,
        wakeup_bytes,
        pause_bytes,
        capture_size,
        trace: trace_set(&args.trace)?,
        lean: call_mode(args) == CallMode::Lean,
    })
}

/// Whether lean mode, as a default, can run here: it needs the kernel's
/// per-syscall events (CONFIG_FTRACE_SYSCALLS, `events/syscalls` in
/// tracefs), which a board kernel may leave out while it has the
/// raw_syscalls tracepoints. Without them a defaulted lean mode becomes
/// full mode with a note, instead of a recording that fails; `--mode lean`
/// asked for explicitly fails at attach with the missing event named. A
/// tracefs that cannot be mounted is left for the load to report.
fn lean_by_default_possible() -> bool {
    let Ok(root) = crate::record::tracefs::ensure_mounted() else {
        return true;
    };
    let possible = has_syscall_events(&root);
    if !possible {
        eprintln!(
            "recorder: this kernel has no per-syscall events (CONFIG_FTRACE_SYSCALLS), \
             which lean mode needs: recording in full mode"
        );
    }
    possible
}

fn has_syscall_events(tracefs: &std::path::Path) -> bool {
    tracefs.join("events/syscalls").is_dir()
}

/// Records as the arguments say; the command's exit status (0 without one).
pub fn run(args: RecordArgs) -> anyhow::Result<i32> {
    let Checked {
        pids,
        comms,
        ring_size,
        wakeup_bytes,
        pause_bytes,
        capture_size,
        trace,
        lean,
    } = check(&args)?;
    if !has_bpf_privileges() {
        bail!(
            "recording needs root, or the CAP_BPF and CAP_PERFMON capabilities, to load eBPF programs\n  \
             try: sudo {}",
            std::env::args().collect::<Vec<_>>().join(" ")
        );
    }
    let lean = lean && (args.mode.is_some() || lean_by_default_possible());
    let who = Identities::resolve(&args)?;
    let created = match &args.snapshot_dir {
        Some(dir) => privileges::create_private_dir(dir)
            .with_context(|| format!("--snapshot-dir {}", dir.display()))?,
        None => Vec::new(),
    };
    let stream = is_stdout(&args.output);
    let file = open_log(&args, &who, &created)?;

    let filter = Filter {
        pids: pids.clone(),
        comms: args.comms.clone(),
        command: args.command.clone(),
        follow_forks: !args.no_follow,
    };
    let mut header = record::machine_header(std::env::args().collect(), filter, ring_size);
    header.capture_size = capture_size;
    header.lossless = pause_bytes > 0;
    header.lean = lean;
    header.replayable = args.replayable;
    if lean && args.show.durations {
        eprintln!(
            "recorder: -T: {} (--mode lean takes each call at its exit only; --mode full has them)",
            recorder::read::stats::NO_DURATIONS
        );
    }
    // What the kernel records is read from here (record::run).
    if let Some(nrs) = trace {
        header.trace = args.trace.iter().map(ToString::to_string).collect();
        header.traced_nrs = nrs;
    }

    // Fork the command while still single-threaded: before the runtime.
    let child = if args.command.is_empty() {
        None
    } else {
        Some(record::child::prepare(&args.command, who.command.as_ref())?)
    };
    let child_pid = child.as_ref().map(|c| c.pid());

    let reopen = std::sync::Arc::new(tokio::sync::Notify::new());
    let reopen_tx = reopen.clone();
    let cfg = record::Config {
        pids,
        comms,
        follow: !args.no_follow,
        output: args.output.clone(),
        file,
        stream,
        ring_size,
        wakeup_bytes,
        pause_bytes,
        capture_size,
        flush_interval: args.flush_interval,
        child,
        rotation: args.rotate_size.map(|size| record::writer::Rotation {
            size,
            count: args.rotate_count,
        }),
        reopen: Some(reopen.clone()),
        snapshots: args
            .snapshot_dir
            .clone()
            .map(|dir| record::snapshot::SnapshotConfig {
                dir,
                window: args.snapshot_window,
                on_failure: args.snapshot_on_failure,
            }),
        header,
        quiet: args.quiet,
        bench_floor: args.bench_floor,
        stash_slots: args.stash_slots,
        privileges: privileges::DropPlan {
            to: who.drop_to,
            dirs: log_dirs(&args),
            resume_others: pause_bytes > 0 && args.command.is_empty(),
            command_uid: child_pid.map(|_| {
                who.command
                    .as_ref()
                    .map_or_else(nix::unistd::geteuid, |u| u.uid)
            }),
        },
        live: live_options(&args),
        status_line: status_line(&args),
    };
    // Drain promptly even when the machine is busy: a starved daemon is
    // what overflows the ring (a 32 MiB ring drained every 2 ms still
    // dropped in the prototype when the drain was starved of CPU). A
    // moderate nice value, not a real-time class: a recorder must never be
    // able to lock up the machine it watches. Best effort.
    // SAFETY: plain syscall.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -10) };
    let summary = record_until_stopped(cfg, child_pid, reopen_tx, stream)?;
    print_summary(&args, &summary);
    if args.show.summary {
        print_stats(&args);
    }
    Ok(summary.child_status.unwrap_or(0))
}

/// The log's file (given to its owner), or standard output for `-o -`.
fn open_log(
    args: &RecordArgs,
    who: &Identities,
    created: &[std::path::PathBuf],
) -> anyhow::Result<std::fs::File> {
    if is_stdout(&args.output) {
        return stdout_log();
    }
    let file = record::writer::create_file(&args.output)?;
    who.give(&file, &args.output, created);
    Ok(file)
}

/// `--live` and the dump options it takes.
fn live_options(args: &RecordArgs) -> Option<recorder::decode::TextOptions> {
    let s = &args.show;
    s.live.then_some(recorder::decode::TextOptions {
        string_limit: s.string_limit,
        wall_clock: s.wall_clock > 0,
        durations: s.durations,
        decode_fds: s.decode_fds,
        escapes: recorder::decode::StringEscapes::Octal,
        verbose: false,
    })
}

/// Whether to redraw a status line: on a terminal, unless `-q` or
/// `--live` say otherwise, or a command prints on that terminal (its
/// lines would run into the status line and leave pieces of it behind).
/// Called after [`stdout_log`]: with `-o -` the command's stdout is stderr.
fn status_line(args: &RecordArgs) -> bool {
    let stderr_tty = std::io::stderr().is_terminal();
    let command_prints_there = !args.command.is_empty() && std::io::stdout().is_terminal();
    !args.quiet && !args.show.live && stderr_tty && !command_prints_there
}

/// `-o -`: the log goes where standard output went, and standard output
/// becomes a copy of stderr, for the command and for anything printed.
fn stdout_log() -> anyhow::Result<std::fs::File> {
    use std::os::fd::AsFd as _;
    // F_DUPFD_CLOEXEC: the command does not inherit the log.
    let log = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("-o -: cannot take over standard output")?;
    // SAFETY: plain system call on descriptors of this process; nothing
    // holds a Rust handle that owns descriptor 1.
    if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
        return Err(std::io::Error::last_os_error())
            .context("-o -: cannot point standard output at stderr");
    }
    Ok(log.into())
}

/// `-c`: the `recorder stats` table of the log just written, on stderr
/// (strace -c). Reading it back costs nothing while recording. A failure
/// is a warning: the recording went well, and the exit status is the
/// command's.
fn print_stats(args: &RecordArgs) {
    use std::io::Write as _;
    if args.rotate_size.is_some() {
        eprintln!(
            "recorder: the summary covers {} only (the newest file of the rotated set)",
            args.output.display()
        );
    }
    let stderr = std::io::stderr();
    let mut out = std::io::BufWriter::new(stderr.lock());
    let res = recorder::read::stats::run(
        &args.output,
        &recorder::read::FilterSpec::default(),
        10,
        false,
        &mut out,
        &mut std::io::sink(),
    );
    let _ = out.flush();
    if let Err(e) = res {
        eprintln!(
            "recorder: warning: no summary: {:#}",
            anyhow::Error::from(e)
        );
    }
}

/// Runs the recording on a single-threaded runtime until a signal, the
/// command's end, or the end of what was recorded.
fn record_until_stopped(
    cfg: record::Config,
    child_pid: Option<u32>,
    reopen_tx: std::sync::Arc<tokio::sync::Notify>,
    stream: bool,
) -> anyhow::Result<record::Summary> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        // Handlers are installed before anything is attached, so a signal
        // that arrives the moment recording starts is never the default
        // (fatal) action.
        let signals = Signals::install().context("installing signal handlers")?;
        // SIGHUP: start a new log file at the same path (after an external
        // rotation moved the old one). Installed before recording starts:
        // SIGHUP's default action would end the recording.
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("installing signal handlers")?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                if stream {
                    // Not eprintln!: after a hang-up the terminal may be
                    // gone, and that must not panic.
                    use std::io::Write as _;
                    let _ = writeln!(
                        std::io::stderr(),
                        "recorder: SIGHUP ignored: the log is standard output"
                    );
                } else {
                    reopen_tx.notify_one();
                }
            }
        });
        let shutdown = signals.shutdown(child_pid);
        anyhow::Ok(record::run(cfg, shutdown).await?)
    })
}

/// Who the command runs as, who the recorder becomes after attach, and who
/// owns what it writes.
struct Identities {
    /// `-u`, or under sudo the invoking user; `None`: as the recorder.
    command: Option<Account>,
    /// `--drop-to`, or under sudo the invoking user.
    drop_to: Option<Account>,
    /// Under sudo the invoking user, else the `--drop-to` user: the
    /// recorder runs as them once attached, and must be able to rotate and
    /// replace the log.
    owner: Option<Account>,
}

impl Identities {
    fn resolve(args: &RecordArgs) -> anyhow::Result<Self> {
        let lookup = |flag: &str, name: &str| {
            Account::lookup(name).with_context(|| format!("{flag} {name}"))
        };
        let invoker = privileges::sudo_invoker()?;
        let command = match &args.user {
            Some(_) if args.command.is_empty() => {
                bail!("-u/--user is for a command to run (the user it runs as)")
            }
            Some(name) => Some(lookup("--user", name)?),
            None if args.command.is_empty() => None,
            None => invoker.clone(),
        };
        if let Some(u) = &command
            && !privileges::may_become(u.uid)
        {
            bail!(
                "--user {}: running the command as another user needs root (or CAP_SETUID and CAP_SETGID)",
                u.name
            );
        }
        let mut drop_to = match &args.drop_to {
            Some(name) => Some(lookup("--drop-to", name)?),
            None => invoker.clone(),
        };
        if let Some(u) = &drop_to
            && !privileges::may_become(u.uid)
        {
            eprintln!(
                "recorder: warning: cannot become {} after attach without CAP_SETUID and \
                 CAP_SETGID: keeping uid {}, without capabilities",
                u.name,
                nix::unistd::geteuid()
            );
            drop_to = None;
        }
        Ok(Self {
            command,
            owner: invoker.or_else(|| drop_to.clone()),
            drop_to,
        })
    }

    /// Gives the log and the directories created for it to their owner.
    /// Best effort: a recording is never failed for it, and it is said
    /// once.
    fn give(&self, log: &std::fs::File, path: &std::path::Path, dirs: &[std::path::PathBuf]) {
        let Some(owner) = &self.owner else {
            return;
        };
        let res = privileges::give(log, path, owner)
            .and_then(|()| dirs.iter().try_for_each(|d| privileges::give_dir(d, owner)));
        if let Err(e) = res {
            eprintln!(
                "recorder: warning: {:#}; recording anyway",
                anyhow::Error::from(e)
            );
        }
    }
}

/// The directories a recording creates files in after the drop: the log's
/// (rotation, SIGHUP reopen) and the snapshot directory.
fn log_dirs(args: &RecordArgs) -> Vec<std::path::PathBuf> {
    let log_dir = match args.output.parent() {
        _ if is_stdout(&args.output) => None,
        Some(p) if !p.as_os_str().is_empty() => Some(p.to_owned()),
        _ => Some(".".into()),
    };
    log_dir
        .into_iter()
        .chain(args.snapshot_dir.clone())
        .collect()
}

struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves when recording should stop.
    ///
    /// Without a command: the first SIGINT or SIGTERM. With a command (as
    /// strace does with `-o FILE COMMAND`), Ctrl-C reaches the command from
    /// the terminal and the recorder keeps recording until it exits; SIGTERM
    /// sent to the recorder alone is passed on to the command. A second
    /// signal stops recording at once, leaving the command running.
    async fn shutdown(mut self, child: Option<u32>) {
        let Some(child) = child else {
            tokio::select! {
                _ = self.int.recv() => {}
                _ = self.term.recv() => {}
            }
            return;
        };
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(child as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        eprintln!("recorder: stopping; the command keeps running");
    }
}

pub(crate) fn ring_size(requested: u64) -> anyhow::Result<u32> {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    // The kernel requires a power of two that is a multiple of the page size.
    let size = requested.max(page).next_power_of_two();
    if size > 1 << 30 {
        bail!("--ring-size {requested}: at most 1G");
    }
    Ok(size as u32)
}

fn print_summary(args: &RecordArgs, s: &record::Summary) {
    let c = &s.counters;
    let loss = c.loss_text();
    if args.quiet && loss.is_none() {
        return;
    }
    let to = record::log_name(&args.output);
    let mut msg = format!(
        "recorder: {} records written to {to} ({} bytes)",
        c.written, s.bytes
    );
    match loss {
        None => msg.push_str(", none lost"),
        Some(text) => {
            msg.push_str("; ");
            msg.push_str(&text);
        }
    }
    if s.disk_full > 0 {
        // They are counted as not written (`user_dropped`), which
        // alone would send the reader looking for a slow disk.
        msg.push_str(&format!(
            "; {} of those were lost to a full disk",
            s.disk_full
        ));
    }
    if s.stored > 0 {
        // Explains a log larger than usual.
        msg.push_str(&format!(
            "; {} records were written uncompressed to keep up",
            s.stored
        ));
    }
    if c.exit_without_entry > 0 {
        msg.push_str(&format!(
            "; {} calls were already in progress when recording started",
            c.exit_without_entry
        ));
    }
    if let Some(n @ 1..) = s.live_missed {
        msg.push_str(&format!(
            "; --live left out {n} records it could not print in time (the log has them)"
        ));
    }
    eprintln!("{msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tracefs without `events/syscalls` (no CONFIG_FTRACE_SYSCALLS) is
    /// told apart from one with it, so a defaulted lean mode falls back.
    #[test]
    fn syscall_events_are_looked_up_under_tracefs() {
        let root = std::env::temp_dir().join(format!("recorder-tracefs-{}", std::process::id()));
        std::fs::create_dir_all(root.join("events/raw_syscalls")).unwrap();
        assert!(!has_syscall_events(&root));
        std::fs::create_dir_all(root.join("events/syscalls")).unwrap();
        assert!(has_syscall_events(&root));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
