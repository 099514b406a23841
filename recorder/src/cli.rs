//! The command line, defined once: the binary parses it, and man pages and
//! shell completions are generated from the same definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "recorder",
    version,
    about = "Record the system calls of chosen processes with eBPF, at a fraction of strace's cost",
    long_about = "Record the system calls of chosen processes with eBPF, at a fraction of strace's cost.\n\n\
        Select processes by pid (-p), by the name they were exec'd as (--comm), or start a command \
        (`recorder ls -l`, like strace; after `--` when it shares a name with a recorder command). \
        Records go to a compact binary log (-o) that `recorder dump` prints, on any machine and \
        architecture.",
    after_help = "Examples:\n  \
        sudo recorder --comm myapp -o myapp.rec     record every process named myapp, until Ctrl-C\n  \
        sudo recorder -p 1234 -o svc.rec            record a running process and the children it starts\n  \
        sudo recorder -o ls.rec ls -l /tmp          start a command and record it, like `strace ls`\n  \
        sudo recorder --live -T -o ls.rec ls        the same, printing each call as it happens\n  \
        sudo recorder -c -o make.rec make           and the per-syscall table at the end (strace -c)\n  \
        sudo recorder -o - ls | recorder dump -     the log through a pipe (stdout, then stdin)\n  \
        sudo recorder -u root -o x.rec ./x          the command run as root, not as you\n  \
        sudo recorder -o d.rec -- dump              a program named like a recorder command: after `--`\n  \
        recorder dump myapp.rec                     print the log, one line per system call",
    override_usage = "recorder [OPTIONS] COMMAND [ARGS]...\n       \
        recorder [OPTIONS] -p PID | --comm NAME\n       \
        recorder dump|info|stats|export|report|diff|replay|bundle|check|completions ...",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub record: RecordArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a log, one line per system call (strace style).
    #[command(after_help = "Examples:\n  \
        recorder dump app.rec -e %file --failed      failed file operations\n  \
        recorder dump app.rec --tid 1234 -T -y       one thread, with durations and fd paths\n  \
        recorder dump app.rec -tt --since 12:34:56   wall-clock (UTC) times, from 12:34:56 on\n  \
        recorder dump -F /var/log/recorder/recorder.rec   new calls as they are written, like tail -F\n  \
        sudo recorder -o - ls | recorder dump -      a log read from standard input")]
    Dump(DumpArgs),
    /// Describe a log: machine, how and when it was recorded, what it holds,
    /// and whether it is complete.
    Info(InfoArgs),
    /// Per-syscall and per-process counts, errors and latencies, and the
    /// slowest calls (like strace -c).
    Stats(StatsArgs),
    /// Convert a log for other tools: a Perfetto / chrome://tracing timeline,
    /// JSON Lines, or a Parquet table of several logs for SQL engines.
    #[command(after_help = "Examples:\n  \
        recorder export app.rec -o trace.json     then open trace.json in https://ui.perfetto.dev\n  \
        recorder export -f parquet -o fleet/board7.parquet app.rec*     then query fleet/*.parquet with DuckDB")]
    Export(ExportArgs),
    /// Write one self-contained HTML page about a log, to attach to a bug
    /// report: verdict, process tree, a zoomable timeline per thread,
    /// errors, latency histograms, and a search of the calls. Opens
    /// offline in any browser.
    #[command(after_help = "Examples:\n  \
        recorder report app.rec -o app.html             the whole log\n  \
        recorder report app.rec --comm myapp --since 5s only myapp's events from 5 s on")]
    Report(ReportArgs),

    /// Compare a run that worked with one that failed: outcomes, the first
    /// divergence per thread, calls that failed in one run only, data that
    /// differed, per-syscall counts. Processes are matched by their place in
    /// the process tree and their names, threads by creation order; fds,
    /// pids, pointers and clock values are normalised, so logs of different
    /// machines and architectures compare.
    #[command(after_help = "Examples:\n  \
        recorder diff good.rec bad.rec              what the failing run did differently\n  \
        recorder diff --all laptop.rec board.rec    and every thread's full diff\n\n\
        A rotated set is one run: `recorder bundle -o run.rec run.rec*` first.")]
    Diff(DiffArgs),
    /// Run a recorded program again against its recording: the inputs it
    /// read (files, sockets, pipes, getrandom, uname, ids) and every error
    /// it saw come from the log, its outputs are compared with the log,
    /// and the first call that departs from the recording is reported in
    /// strace format. Needs no root (seccomp user notification, Linux 5.9
    /// or later), and the same architecture as the recording.
    #[command(after_help = "Examples:\n  \
        recorder replay board.rec                   the recorded command line again\n  \
        recorder replay board.rec -- ./app --debug  another command line (the same build)\n  \
        recorder replay --continue board.rec        go live at the first divergence\n\n\
        Exit status: 0 when the program ran to the end without departing from the log and \
        ended as recorded (reproduced), 2 when it diverged or ended otherwise, 1 on an \
        error or a refusal (another architecture, data the log lacks).\n\n\
        Not replayed: user-space data races, the timing of asynchronous signals, time \
        read through the vDSO, the contents of mmap'd files, the environment.")]
    Replay(ReplayArgs),
    /// Check whether this machine can record: kernel version, BPF, tracefs,
    /// tracepoints, privileges. Exit status 0 only when recording will work.
    Check,
    /// "Which process did that?": record chosen system calls of every
    /// process on the machine, chosen in the kernel by syscall, path,
    /// address, outcome and user, and print each with who made it (pid, comm, executable,
    /// uid, parent chain, systemd unit). A diagnostic to run for minutes:
    /// while it runs, every system call on the machine takes the traced
    /// path (see the README's cost figures).
    #[command(after_help = "Examples:\n  \
        sudo recorder watch -e unlinkat,renameat2 --path /etc/app.conf   who deletes or replaces it\n  \
        sudo recorder watch -e %file --errno EACCES,EPERM           who is refused a file\n  \
        sudo recorder watch --addr :8080 --failed --count 10         who fails to connect to :8080\n  \
        sudo recorder watch --path '*/ttyUSB0' -o who.rec            calls naming it, and a log\n\n\
        --path matches in the kernel on the final path component, then the whole path\n\
        (resolved from /proc for relative ones) in user space. A match shown as\n\
        \"matched by name\" had a directory that could not be resolved. Not seen: other\n\
        hard links of a file, a file replaced by a rename onto it (watch rename* too:\n\
        the new name is a path argument), and changes through an already open fd.")]
    Watch(WatchArgs),
    /// Cut a compact bug-report file out of one or more logs: a time
    /// window, chosen processes, optionally redacted. The result is a log
    /// like any other (`recorder dump` reads it).
    #[command(after_help = "Examples:\n  \
        recorder bundle -o bug.rec --since -5m /var/log/recorder/recorder.rec*\n  \
        recorder bundle -o bug.rec --comm myapp --redact data --keep-data openat app.rec")]
    Bundle(BundleArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    /// on stdout, e.g. `recorder completions bash > /etc/bash_completion.d/recorder`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Internal: started by a lossless recording; resumes the programs it
    /// paused if the recorder dies (see record/pause.rs).
    #[command(hide = true)]
    ResumeGuard { paused_fd: i32, pause_on_fd: i32 },
    /// Write the man pages (recorder.1, recorder-dump.1, ...) into DIR.
    /// Used to build packages.
    #[command(hide = true)]
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// `recorder watch`: what to take, and where it goes.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The system calls to watch, as at record time (strace's -e trace=):
    /// names and classes, `-e openat,unlinkat`, `-e %file`, `-e '!%memory'`.
    /// Repeatable. A name this architecture lacks (arm64 has no unlink,
    /// open or rename) is left out with a note, so one command serves both.
    /// Without it, every call (with --path: every call with a path
    /// argument; with --addr: connect, bind and sendto).
    #[arg(short = 'e', long = "trace", value_name = "EXPR", value_parser = crate::read::parse_trace)]
    pub trace: Vec<crate::read::TraceExpr>,

    /// Only calls with a path argument that matches this shell pattern
    /// (`*` also matches `/`): `/etc/passwd`, `*/doomed-file`,
    /// `/var/lib/app/*.db`. Matched in the kernel on the final component
    /// when it has no wildcard, then on the whole path in user space.
    /// Repeatable (any matches).
    #[arg(long = "path", value_name = "GLOB")]
    pub paths: Vec<String>,

    /// Only connect, bind and sendto calls with this socket address:
    /// `10.0.0.5:1883`, `:8080` (any host), `[::1]:53`, `10.0.0.5` (any
    /// port). Family, port and IPv4 address are compared in the kernel,
    /// IPv6 addresses in user space. Without -e: connect, bind and sendto.
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,

    /// Only calls that failed (returned an error).
    #[arg(long)]
    pub failed: bool,

    /// Only calls that failed with one of these errors: names or numbers,
    /// comma-separated (`EACCES,EPERM`).
    #[arg(long, value_name = "ERRNO,...", value_delimiter = ',')]
    pub errno: Vec<String>,

    /// Only calls made by this user (a name or a uid; the real uid).
    #[arg(long, value_name = "USER")]
    pub uid: Option<String>,

    /// Only calls of tasks in this cgroup (v2): a directory under
    /// /sys/fs/cgroup or a path relative to it
    /// (`system.slice/cron.service`). Not its sub-cgroups.
    #[arg(long, value_name = "CGROUP")]
    pub cgroup: Option<PathBuf>,

    /// Also write the calls to this log, which dump, info, stats and
    /// export read.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print a table of who made the calls how often: at the end, or
    /// every SECONDS. The calls are then not printed one by one.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "0")]
    pub count: Option<u64>,

    /// Stop after this many seconds (default: at Ctrl-C or SIGTERM).
    #[arg(long = "for", value_name = "SECONDS")]
    pub for_secs: Option<u64>,

    /// Show at most this many bytes of each string or buffer (strace's -s);
    /// 0 shows all captured.
    #[arg(
        short = 's',
        long = "string-limit",
        value_name = "BYTES",
        default_value = "256"
    )]
    pub string_limit: usize,

    /// Size of the kernel ring buffer, in bytes (K/M/G suffixes allowed).
    #[arg(long, value_name = "BYTES", default_value = "8M", value_parser = parse_size)]
    pub ring_size: u64,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Record the process with this pid (all its threads). Repeatable.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,

    /// Record every process exec'd under this name, including ones already
    /// running. Names longer than 15 bytes are truncated as the kernel does.
    /// Repeatable.
    #[arg(long = "comm", value_name = "NAME")]
    pub comms: Vec<String>,

    /// Do not record the children (fork/clone/vfork) of recorded processes.
    #[arg(long)]
    pub no_follow: bool,

    /// Write the log to this file (created mode 0600, overwritten if it
    /// exists). Under sudo it, the rotated files and the snapshots belong to
    /// the user who ran sudo. `-` writes it to standard output (a pipe, not
    /// a terminal), and the command's own standard output goes to stderr.
    #[arg(short = 'o', long, value_name = "FILE", default_value = "recorder.rec")]
    pub output: PathBuf,

    /// Bytes of data captured per item (a path, a buffer read or written, a
    /// struct the kernel filled in). The default, one page, keeps whole paths
    /// (PATH_MAX is 4096) and the typical config-file read or network
    /// message, while a 1 MiB read costs 4 KiB. 0 turns data capture off;
    /// at most 65536.
    #[arg(short = 's', long, value_name = "BYTES", default_value = "4096", value_parser = parse_size)]
    pub capture_size: u64,

    /// Record only these system calls, chosen in the kernel: the others
    /// cost the traced threads almost nothing and leave no gap in the
    /// sequence numbers. The names and classes of `recorder dump -e`
    /// (strace's -e trace=): `-e openat,read`, `-e %file`, `-e '!%memory'`
    /// (all but), `-e %process` (a fork/exec/exit flight recorder),
    /// `-e none`. Process events (exec, fork, exit, signals) are recorded
    /// whatever the set. Repeatable: a call is recorded if any matches.
    #[arg(short = 'e', long = "trace", value_name = "EXPR", value_parser = crate::read::parse_trace)]
    pub trace: Vec<crate::read::TraceExpr>,

    /// Size of the kernel ring buffer, in bytes (K/M/G suffixes allowed).
    /// Rounded up to a power of two and at least one page.
    #[arg(long, value_name = "BYTES", default_value = "8M", value_parser = parse_size)]
    pub ring_size: u64,

    /// Ring occupancy at which the kernel wakes the recorder to drain it:
    /// bytes (K/M/G) or a percentage of --ring-size. Below it, records wait
    /// for the --flush-interval timer, so a quiet process costs almost no
    /// wakeups.
    #[arg(long, value_name = "BYTES|PCT%", default_value = "25%", value_parser = parse_threshold)]
    pub wakeup_threshold: Threshold,

    /// What to do when the traced programs make calls faster than the
    /// recorder can write them down: `pause` holds them back (SIGSTOP, then
    /// SIGCONT once it caught up) so that not one call is lost, and logs
    /// every pause; `drop` lets them run and counts the records that did
    /// not fit. Default: `pause` for a command, `drop` for -p/--comm
    /// (pausing is visible to their parents, e.g. a shell's job control).
    #[arg(long, value_name = "pause|drop", value_enum)]
    pub overflow: Option<Overflow>,

    /// Record a log to replay: every item captured up to 65536 bytes (the
    /// largest -s, so reads and messages of up to 64 KiB are whole) and
    /// lossless (--overflow pause), and the log says so. `recorder info`
    /// then lists the calls a replay still could not reproduce (longer
    /// reads, outputs the recorder does not capture).
    #[arg(long, conflicts_with_all = ["capture_size", "overflow"])]
    pub replayable: bool,

    /// Longest time a record waits in memory before it is written out.
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = parse_duration)]
    pub flush_interval: std::time::Duration,

    /// Less output on stderr (only errors and the final summary's losses).
    #[arg(short, long)]
    pub quiet: bool,

    /// Rotate the log when it reaches this size (K/M/G): it becomes a ring of
    /// files FILE, FILE.1, ... FILE.(N-1), each a complete log, the oldest
    /// deleted, so disk use stays bounded. A disk that fills up first costs
    /// the oldest files sooner: they are deleted to make room.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub rotate_size: Option<u64>,

    /// Files kept when rotating (FILE and FILE.1 .. FILE.(N-1)).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub rotate_count: u32,

    /// Write a crash snapshot into this directory when a recorded process
    /// dies of SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE or SIGSYS: a complete
    /// log of its last --snapshot-window, ready to attach to a bug report.
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,

    /// How much of a crashed process's recent history a snapshot holds.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub snapshot_window: std::time::Duration,

    /// Also write a snapshot when a recorded process exits with a non-zero
    /// status.
    #[arg(long)]
    pub snapshot_on_failure: bool,

    /// Read settings from this TOML file (keys: the long option names, e.g.
    /// `comm = ["myapp"]`, `capture-size = "4K"`). Options given on the
    /// command line override it.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// How each call is recorded. `full`: at its entry and its exit, with
    /// its duration. `lean`: at its exit only, with one program on the
    /// syscall path instead of two: every traced call costs less, and every
    /// other thread of the machine about half as much, but calls have no
    /// durations (`dump -T` and the latency columns say so), a call still
    /// blocked when recording stops or its thread dies is not recorded, and
    /// socket address lengths show only what the kernel wrote back (`[16]`,
    /// not `[128 => 16]`). Lean mode needs the kernel's per-syscall events
    /// (CONFIG_FTRACE_SYSCALLS), for exec, exit and clone. Default: `full`
    /// for a command, `lean` for -p/--comm (which run beside everything
    /// else on the machine, often for long), or `full` with a note on a
    /// kernel without those events.
    #[arg(long, value_name = "full|lean", value_enum)]
    pub mode: Option<CallMode>,

    /// Benchmark only: attach empty programs to the syscall tracepoints and
    /// record nothing, to measure what the kernel charges for running any
    /// program there (`cargo xtask bench` reports it as the floor).
    /// `--bench-floor exit`: on sys_exit only, the floor of an exit-only
    /// recorder. Either in any `--mode`.
    #[arg(
        long,
        hide = true,
        value_name = "WHICH",
        num_args = 0..=1,
        default_missing_value = "both"
    )]
    pub bench_floor: Option<BenchFloor>,

    /// Testing only: slots in the stash's array (a power of two), instead
    /// of one per possible thread id. `--stash-slots 1` makes every thread
    /// but one keep its calls in the hash map, the path threads whose ids
    /// share a slot take when `pid_max` is large.
    #[arg(long, hide = true, value_name = "N", value_parser = parse_stash_slots)]
    pub stash_slots: Option<u32>,

    /// Run the command as USER, a name or a uid, like strace
    /// -u: with its uid, gid and supplementary groups, and HOME, USER and
    /// LOGNAME set for it. Under sudo the command runs as the user who ran
    /// sudo unless -u says otherwise; `-u root` keeps root.
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,

    /// Once its programs are attached, the recorder gives up its
    /// capabilities and runs on as USER (a name or a uid). Default: under
    /// sudo the user who ran sudo, otherwise the recorder keeps its uid
    /// (without capabilities). USER must be able to create files in the
    /// log's directory and the --snapshot-dir (rotation, SIGHUP and
    /// snapshots do), or the recorder keeps its uid and says so.
    #[arg(long, value_name = "USER")]
    pub drop_to: Option<String>,

    /// Command to start and record, with its arguments: `recorder ls -l`,
    /// like strace. Everything from the first word that is not an option
    /// is the command's. A word that names a recorder command (dump,
    /// info, ...) is that command: put `--` before a program of the same
    /// name (`recorder -- dump`). The recorder exits when it exits, with
    /// its exit status.
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<String>,

    // After the command: its help heading would otherwise be this one's.
    #[command(flatten)]
    pub show: ShowArgs,
}

/// What the recorder shows while and after recording, strace's habits: the
/// log stays the record, these only print.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Showing while recording")]
pub struct ShowArgs {
    /// Follow children: accepted for strace users' hands, children are
    /// followed by default (--no-follow turns it off). `-ff` is the same:
    /// strace writes a file per process, and the log already keeps
    /// processes apart (`recorder dump --pid`).
    #[arg(short = 'f', action = clap::ArgAction::Count, conflicts_with = "no_follow")]
    pub follow: u8,

    /// Print each call on stderr as it is recorded, as `recorder dump`
    /// would print it, while the log is written as usual. Printing runs on
    /// its own thread at low priority and never holds up recording: when
    /// it cannot keep up, lines are left out, and it says how many (the
    /// log has them all).
    #[arg(long)]
    pub live: bool,

    /// With --live: show at most this many bytes of each string or buffer
    /// (dump's -s; -s here is what is captured). 0 shows all captured.
    #[arg(long, value_name = "BYTES", default_value_t = 32, requires = "live")]
    pub string_limit: usize,

    /// With --live: wall-clock times (UTC) instead of seconds since the
    /// start (strace's -t/-tt).
    #[arg(short = 't', long = "wall-clock", action = clap::ArgAction::Count, requires = "live")]
    pub wall_clock: u8,

    /// With --live: show how long each call took (strace's -T).
    #[arg(short = 'T', long = "durations", requires = "live")]
    pub durations: bool,

    /// With --live: show the path of each file descriptor the recording
    /// saw opened (strace's -y).
    #[arg(short = 'y', long = "decode-fds", requires = "live")]
    pub decode_fds: bool,

    /// At exit, print `recorder stats` of the log on stderr: per syscall
    /// and per process calls, errors and latencies (strace's -c; the log
    /// is written as usual).
    #[arg(short = 'c', long = "summary")]
    pub summary: bool,
}

/// `--bench-floor`: which empty programs are attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFloor {
    /// On sys_enter and sys_exit, like the recorder's programs.
    Both,
    /// On sys_exit only.
    Exit,
}

/// `--mode`: how calls are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CallMode {
    /// At entry and exit: arguments, result and duration.
    Full,
    /// At exit only: arguments and result, no duration; cheaper.
    Lean,
}

/// `--overflow`: what happens when the recorder falls behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Overflow {
    /// Lossless: pause the traced processes until the recorder caught up.
    Pause,
    /// Let them run; count what did not fit.
    Drop,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Log file written by `recorder`; `-` reads it from standard input
    /// (`recorder -o - ls | recorder dump -`).
    pub file: PathBuf,

    /// Keep printing as the log grows, like `tail -F`: on across rotation
    /// (FILE renamed to FILE.1, a new FILE started) and SIGHUP reopen, each
    /// file's completeness said as it ends; until interrupted. (Not -f,
    /// which strace users read as "follow forks".)
    #[arg(short = 'F', long)]
    pub follow: bool,

    /// One JSON object per line (JSON Lines; see docs/json-output.md).
    /// JSON always carries all captured bytes.
    #[arg(long)]
    pub json: bool,

    /// Show at most this many bytes of each string or buffer (strace's -s);
    /// the log keeps everything that was captured. 0 shows it all.
    #[arg(short = 's', long, value_name = "BYTES", default_value_t = 32)]
    pub string_limit: usize,

    /// Wall-clock times (UTC, HH:MM:SS.microseconds) instead of seconds
    /// since the recording started (strace's -t/-tt).
    #[arg(short = 't', long = "wall-clock", action = clap::ArgAction::Count)]
    pub wall_clock: u8,

    /// Seconds since the same thread's previous event instead of since the
    /// recording started (strace's -r, per thread): the time between its
    /// calls plus the previous call's duration.
    #[arg(
        short = 'r',
        long = "relative-timestamps",
        conflicts_with = "wall_clock"
    )]
    pub relative: bool,

    /// Show how long each call took, ` <0.000012>` seconds (strace's -T).
    #[arg(short = 'T', long = "durations")]
    pub durations: bool,

    /// Show the path of each file descriptor the log saw opened:
    /// `read(3</etc/hosts>, ...)` (strace's -y; text output only).
    #[arg(short = 'y', long = "decode-fds", conflicts_with = "json")]
    pub decode_fds: bool,

    /// Strings in hex, like strace: -x the ones with bytes that are
    /// neither printable ASCII nor whitespace, -xx all of them (text
    /// output only).
    #[arg(short = 'x', long = "hex-strings", action = clap::ArgAction::Count, conflicts_with = "json")]
    pub hex_strings: u8,

    /// Structs in full, like strace's -v: every field of stat, statx and
    /// uname instead of a few and `...`, and arrays without the -s limit
    /// on their elements. execve's environment stays `/* N vars */` and
    /// getdents64's records `/* N entries */`: the log holds only their
    /// counts (text output only).
    #[arg(short = 'v', long = "no-abbrev", conflicts_with = "json")]
    pub verbose: bool,

    #[command(flatten)]
    pub filter: ReadFilterArgs,
}

/// The read filters shared by `dump`, `stats`, `export` and `report`. Every given
/// filter must match; a repeated filter matches any of its values.
#[derive(Debug, Args, Clone, Default)]
pub struct ReadFilterArgs {
    /// Only these syscalls: names and classes, comma-separated, `!` to
    /// invert (strace's -e trace=): `-e openat,read`, `-e %file`,
    /// `-e '!%memory'`. Classes: %file %desc %network %process %memory
    /// %signal (docs/reading.md lists them). Process events are kept.
    #[arg(short = 'e', long = "trace", value_name = "EXPR", value_parser = crate::read::parse_trace)]
    pub trace: Vec<crate::read::TraceExpr>,

    /// Only this process (thread-group id).
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,

    /// Only this thread: follow one thread.
    #[arg(long = "tid", value_name = "TID")]
    pub tids: Vec<u32>,

    /// Only threads with this command name (at most 15 bytes are compared,
    /// as the kernel keeps them).
    #[arg(long = "comm", value_name = "NAME")]
    pub comms: Vec<String>,

    /// Only events from TIME on: seconds since the recording started
    /// (`2.5`, `1500ms`), a UTC time of day (`12:34:56.5`), a UTC date and
    /// time (`2024-05-01T12:34:56Z`) or Unix time (`@1714566896.5`).
    #[arg(long, value_name = "TIME", value_parser = crate::read::parse_time)]
    pub since: Option<crate::read::TimeSpec>,

    /// Only events up to TIME (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = crate::read::parse_time)]
    pub until: Option<crate::read::TimeSpec>,

    /// Only calls that returned an error (strace's -Z).
    #[arg(short = 'Z', long = "failed")]
    pub failed: bool,
}

impl ReadFilterArgs {
    pub fn spec(&self) -> crate::read::FilterSpec {
        crate::read::FilterSpec {
            trace: self.trace.clone(),
            pids: self.pids.clone(),
            tids: self.tids.clone(),
            comms: self.comms.clone(),
            since: self.since,
            until: self.until,
            failed: self.failed,
        }
    }
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Log file written by `recorder`; `-` reads it from standard input.
    pub file: PathBuf,

    /// The report as one JSON document (see docs/json-output.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Log file written by `recorder`; `-` reads it from standard input.
    pub file: PathBuf,

    /// The report as one JSON document (see docs/json-output.md).
    #[arg(long)]
    pub json: bool,

    /// How many of the slowest calls to list (0: none).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    #[command(flatten)]
    pub filter: ReadFilterArgs,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Log written by `recorder -- COMMAND` (replay starts at its exec).
    pub log: PathBuf,

    /// At the first divergence, let the program run on live (every call
    /// then runs for real) instead of stopping it.
    #[arg(long = "continue")]
    pub go_live: bool,

    /// A directory (or file) holding the program's own code, opened and
    /// read for real rather than from the log; adds to the defaults
    /// (/usr/lib, /lib, /bin, /etc/ld.so.cache, ... and the directory of
    /// the replayed binary).
    #[arg(long, value_name = "DIR")]
    pub host_path: Vec<PathBuf>,

    /// Also print what the program writes to its standard output and
    /// error (the writes are still not performed on any other descriptor).
    #[arg(long)]
    pub show_output: bool,

    /// The command to run, instead of the recorded command line.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Log (or bundle) of the run that worked.
    pub good: PathBuf,

    /// Log (or bundle) of the run that failed.
    pub bad: PathBuf,

    /// The report as one JSON document (see docs/json-output.md).
    #[arg(long)]
    pub json: bool,

    /// Also print every thread's full normalised diff.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Log files written by `recorder`. Perfetto and JSON Lines take one;
    /// Parquet takes any number, into one table (its `recording_id` and
    /// `log` columns tell them apart).
    #[arg(required = true, value_name = "LOG")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value_t = crate::read::export::ExportFormat::Perfetto)]
    pub format: crate::read::export::ExportFormat,

    /// Write to this file instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub filter: ReadFilterArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Log file written by `recorder`.
    pub file: PathBuf,

    /// Write the page to this file (`-` for standard output). Default: the
    /// log's file name with `.html` appended, in the current directory.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Embed at most this many calls with their decoded lines (the first
    /// ones in the log; failed and slowest calls beyond them are added).
    /// Timeline, errors and latency cover every call whatever this is;
    /// the page says when it cut.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub max_calls: usize,

    /// Show at most this many bytes of each string or buffer in a line
    /// (as dump's -s; 0: all captured).
    #[arg(short = 's', long, value_name = "BYTES", default_value_t = 32)]
    pub string_limit: usize,

    #[command(flatten)]
    pub filter: ReadFilterArgs,
}

#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Logs to cut from: one log, a rotated set (x.rec x.rec.1 ..., in any
    /// order: they are put in recording order), or a crash snapshot. All
    /// must come from one machine.
    #[arg(required = true, value_name = "LOG")]
    pub inputs: Vec<PathBuf>,

    /// Write the bundle to this file (created mode 0600).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: PathBuf,

    /// Replace the output file if it exists.
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Keep events from this time on: `-5m` is 5 minutes before the
    /// recording ended; otherwise what `dump --since` takes: `5m` after it
    /// started, a UTC time of day (12:34:56), a UTC date and time
    /// (2024-05-01T12:34:56Z) or Unix time (@1714566896).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = crate::bundle::parse_time_spec)]
    pub since: Option<crate::bundle::TimeSpec>,

    /// Keep events before this time (same forms as --since).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true, value_parser = crate::bundle::parse_time_spec)]
    pub until: Option<crate::bundle::TimeSpec>,

    /// Keep only this process and the processes it started. Repeatable.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,

    /// Keep only processes with this name and the processes they started.
    /// Repeatable.
    #[arg(long = "comm", value_name = "NAME")]
    pub comms: Vec<String>,

    /// Remove before sharing (repeatable): `data` drops every captured
    /// payload (buffers, paths, structs; their sizes stay), `host` masks the
    /// hostname, `argv` masks command lines (the recorder's own, the
    /// command it started, and execve's arguments and environment; program
    /// names stay). The bundle's header lists what was removed.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub redact: Vec<Redact>,

    /// With --redact data: keep the payloads of these system calls
    /// (comma-separated names, e.g. openat,execve).
    #[arg(long, value_name = "SYSCALLS", value_delimiter = ',')]
    pub keep_data: Vec<String>,
}

/// `recorder bundle --redact WHAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Redact {
    /// Captured payloads.
    Data,
    /// The hostname.
    Host,
    /// Command lines.
    Argv,
}

/// `--wakeup-threshold`: absolute, or relative to the ring size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Bytes(u64),
    Percent(f64),
}

impl Threshold {
    /// Bytes for a ring of `ring` bytes; `None` if it would not fit.
    pub fn bytes(self, ring: u64) -> Option<u64> {
        let b = match self {
            Threshold::Bytes(b) => b,
            Threshold::Percent(p) => (ring as f64 * p / 100.0) as u64,
        };
        (b > 0 && b < ring).then_some(b)
    }
}

/// `25%` or a size.
pub fn parse_threshold(s: &str) -> Result<Threshold, String> {
    match s.trim().strip_suffix('%') {
        Some(p) => match p.trim().parse::<f64>() {
            Ok(p) if p > 0.0 && p < 100.0 => Ok(Threshold::Percent(p)),
            _ => Err(format!(
                "{s:?}: a percentage must be between 0 and 100 (exclusive)"
            )),
        },
        None => parse_size(s).map(Threshold::Bytes),
    }
}

/// `4096`, `64K`, `8M`, `1G` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (s, 1u64),
        Some((i, _)) => {
            let mult = match s[i..].to_ascii_uppercase().as_str() {
                "K" | "KB" | "KIB" => 1 << 10,
                "M" | "MB" | "MIB" => 1 << 20,
                "G" | "GB" | "GIB" => 1 << 30,
                "B" => 1,
                other => return Err(format!("unknown size suffix {other:?} (use K, M or G)")),
            };
            (&s[..i], mult)
        }
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 4096, 64K, 8M)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// `500ms`, `2s`, `1m`, `1h`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(s.len(), |(i, _)| i);
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (examples: 200ms, 2s, 5m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1e3,
        "us" => n / 1e6,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// `--stash-slots`: a power of two, at most the largest slot array.
fn parse_stash_slots(v: &str) -> Result<u32, String> {
    let n: u32 = v.parse().map_err(|e| format!("{e}"))?;
    if n.is_power_of_two() && n <= recorder_common::STASH_SLOTS_MAX {
        Ok(n)
    } else {
        Err(format!(
            "a power of two from 1 to {}",
            recorder_common::STASH_SLOTS_MAX
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("8m"), Ok(8 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999G").is_err());
    }

    #[test]
    fn thresholds() {
        assert_eq!(parse_threshold("25%"), Ok(Threshold::Percent(25.0)));
        assert_eq!(parse_threshold("1M"), Ok(Threshold::Bytes(1 << 20)));
        assert!(parse_threshold("100%").is_err());
        assert!(parse_threshold("0%").is_err());
        assert_eq!(Threshold::Percent(25.0).bytes(8 << 20), Some(2 << 20));
        assert_eq!(Threshold::Bytes(16 << 20).bytes(8 << 20), None);
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn command_after_double_dash() {
        let cli =
            Cli::try_parse_from(["recorder", "-o", "x.rec", "--", "ls", "-l", "/tmp"]).unwrap();
        assert_eq!(cli.record.command, ["ls", "-l", "/tmp"]);
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from(["recorder", "dump", "x.rec"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Dump(_))));
        // A subcommand name after `--` is the command to record.
        let cli = Cli::try_parse_from(["recorder", "--", "dump"]).unwrap();
        assert_eq!(cli.record.command, ["dump"]);
    }

    /// `--bench-floor` alone is both empty programs (what the benchmark
    /// always passed), `--bench-floor exit` the exit-only one.
    #[test]
    fn bench_floor_takes_an_optional_value() {
        let floor = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("recorder").chain(args.iter().copied()))
                .unwrap()
                .record
                .bench_floor
        };
        assert_eq!(floor(&["--comm", "x"]), None);
        assert_eq!(
            floor(&["--bench-floor", "--comm", "x"]),
            Some(BenchFloor::Both)
        );
        assert_eq!(
            floor(&["--bench-floor", "exit", "--comm", "x"]),
            Some(BenchFloor::Exit)
        );
        assert!(
            Cli::try_parse_from(["recorder", "--bench-floor", "entry", "--comm", "x"]).is_err()
        );
    }

    /// `recorder ls -l`, as strace takes it: from the first word that is
    /// not an option on, everything is the command's, its options too.
    #[test]
    fn command_without_double_dash() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("recorder").chain(args.iter().copied()))
        };
        let cli = parse(&["ls", "-l", "/tmp"]).unwrap();
        assert_eq!(cli.record.command, ["ls", "-l", "/tmp"]);
        let cli = parse(&["-o", "x.rec", "-s", "64", "ls", "-o", "-s"]).unwrap();
        assert_eq!(cli.record.output, PathBuf::from("x.rec"));
        assert_eq!(cli.record.capture_size, 64);
        assert_eq!(cli.record.command, ["ls", "-o", "-s"]);
        // A recorder command's name is that command...
        let cli = parse(&["info", "x.rec"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Info(_))));
        assert!(cli.record.command.is_empty());
        // ...and `--` makes it a program to record.
        let cli = parse(&["-o", "x.rec", "--", "info", "x.rec"]).unwrap();
        assert_eq!(cli.record.command, ["info", "x.rec"]);
        assert!(cli.command.is_none());
        // -p and --comm alone need no command.
        let cli = parse(&["-p", "1", "-o", "x.rec"]).unwrap();
        assert!(cli.record.command.is_empty());
    }

    #[test]
    fn strace_follow_flags() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("recorder").chain(args.iter().copied()))
        };
        assert_eq!(parse(&["-f", "make"]).unwrap().record.show.follow, 1);
        let cli = parse(&["-ff", "-o", "x.rec", "make", "-f", "Makefile"]).unwrap();
        assert_eq!(cli.record.show.follow, 2);
        assert_eq!(cli.record.command, ["make", "-f", "Makefile"]);
        assert!(!cli.record.no_follow);
        let e = parse(&["-f", "--no-follow", "make"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn live_and_summary_flags() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("recorder").chain(args.iter().copied()))
        };
        let cli = parse(&["--live", "-T", "-tt", "-y", "--string-limit", "0", "ls"]).unwrap();
        let s = &cli.record.show;
        assert!(s.live && s.durations && s.decode_fds);
        assert_eq!((s.wall_clock, s.string_limit), (2, 0));
        assert!(parse(&["-c", "ls"]).unwrap().record.show.summary);
        assert!(parse(&["--summary", "ls"]).unwrap().record.show.summary);
        // The display options are for live lines: alone they would do
        // nothing, so they are refused.
        for flag in ["-T", "-tt", "-y"] {
            let e = parse(&[flag, "ls"]).unwrap_err();
            assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        }
    }
}
