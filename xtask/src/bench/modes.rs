//! The kinds of tracing a workload runs under ([`Mode`]: none, the
//! recorder, a recorder for another comm, empty programs on both syscall
//! tracepoints or on sys_exit only, strace, perf trace), and whether each outside tracer runs on this machine at all
//! ([`probe_tracer`]), so a missing or broken one drops its rows instead of
//! failing the run.

use std::path::{Path, PathBuf};

use super::Env;
use super::process::last_line;

/// A path no workload touches: the watch modes' `--path`.
const NO_SUCH_FILE: &str = "*/no-such-file";

/// How a workload runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Mode {
    Untraced,
    Recorder,
    /// The recorder with data capture off (`-s 0`): the cost of capture is
    /// the difference to `Recorder`.
    RecorderNoData,
    /// The recorder printing every call on stderr as well (`--live`),
    /// read by the harness: what live printing costs the workload.
    RecorderLive,
    /// The recorder with a syscall set that leaves out the workload's calls
    /// (`-e trace=openat` on the getppid loop): what the in-kernel `-e`
    /// saves, against `Recorder` and `Floor`.
    RecorderTraceSet,
    /// Lean mode (`--mode lean`): exit-only recording, no durations.
    RecorderLean,
    OtherComm,
    /// A lean recorder for another comm: what lean mode costs the rest of
    /// the machine, against `LeanFloor`.
    LeanOtherComm,
    /// Empty programs on the same tracepoints (`recorder --bench-floor`):
    /// what running any program there costs, the floor under `OtherComm`
    /// and `Recorder`.
    Floor,
    /// The empty program on `sys_exit` alone (`--bench-floor exit`): the
    /// floor under `RecorderLean` and `LeanOtherComm`.
    LeanFloor,
    /// `recorder watch` in the background, for calls the workload does not
    /// make (`-e trace=unlinkat --path`): what a bystander pays while a
    /// watch runs, against `LeanFloor` (one program on sys_exit).
    WatchUnselected,
    /// `recorder watch -e trace=getppid,openat --path '*/no-such-file'`:
    /// the workload's calls pass the syscall bitmap and are turned away
    /// after it (getppid: no path argument; openat: its path read and
    /// compared).
    WatchPathReject,
    /// `recorder watch -e trace=getppid,openat --count`: every call of
    /// those kinds on the machine is recorded and counted.
    WatchMatched,
    Strace,
    Perf,
}

impl Mode {
    pub(super) fn label(self) -> &'static str {
        match self {
            Mode::Untraced => "none",
            Mode::Recorder => "recorder",
            Mode::RecorderNoData => "recorder -s 0 (no data)",
            Mode::RecorderLive => "recorder --live",
            Mode::RecorderTraceSet => "recorder -e trace=openat",
            Mode::RecorderLean => "recorder --mode lean",
            Mode::OtherComm => "recorder, other comm",
            Mode::LeanOtherComm => "recorder --mode lean, other comm",
            Mode::Floor => "empty programs (floor)",
            Mode::LeanFloor => "empty exit program (lean floor)",
            Mode::WatchUnselected => "recorder watch, calls not selected",
            Mode::WatchPathReject => "recorder watch, selected calls, path not matching",
            Mode::WatchMatched => "recorder watch --count, every call matching",
            Mode::Strace => "strace -f",
            Mode::Perf => "perf trace",
        }
    }

    /// A `recorder watch` mode (its background process is a watch, not a
    /// recording for another comm).
    pub(super) fn is_watch(self) -> bool {
        matches!(
            self,
            Mode::WatchUnselected | Mode::WatchPathReject | Mode::WatchMatched
        )
    }

    /// Runs while a background recorder is attached, not under a tracer.
    pub(super) fn background(self) -> bool {
        self.background_args().is_some()
    }

    /// The background recorder's options besides `--comm` and `-o`, for
    /// the modes that run beside one.
    pub(super) fn background_args(self) -> Option<&'static [&'static str]> {
        match self {
            Mode::OtherComm
            | Mode::Floor
            | Mode::LeanOtherComm
            | Mode::LeanFloor
            | Mode::WatchUnselected
            | Mode::WatchPathReject
            | Mode::WatchMatched => Some(self.recorder_flags()),
            _ => None,
        }
    }

    /// The recorder's options for this mode (before `-o` and the command,
    /// or for the background recorder). The modes are explicit, since the
    /// default differs between a command (full) and `--comm` (lean).
    pub(super) fn recorder_flags(self) -> &'static [&'static str] {
        match self {
            Mode::Recorder | Mode::OtherComm => &["--mode", "full"],
            Mode::RecorderNoData => &["--mode", "full", "-s", "0"],
            Mode::RecorderLive => &["--mode", "full", "--live"],
            Mode::RecorderTraceSet => &["--mode", "full", "-e", "trace=openat"],
            Mode::RecorderLean | Mode::LeanOtherComm => &["--mode", "lean"],
            Mode::Floor => &["--bench-floor", "both"],
            Mode::LeanFloor => &["--bench-floor", "exit"],
            Mode::WatchUnselected => &["watch", "-e", "trace=unlinkat", "--path", NO_SUCH_FILE],
            Mode::WatchPathReject => &[
                "watch",
                "-e",
                "trace=getppid,openat",
                "--path",
                NO_SUCH_FILE,
            ],
            Mode::WatchMatched => &["watch", "-e", "trace=getppid,openat", "--count"],
            Mode::Untraced | Mode::Strace | Mode::Perf => &[],
        }
    }

    pub(super) fn key(self) -> &'static str {
        match self {
            Mode::Untraced => "untraced",
            Mode::Recorder => "recorder",
            Mode::RecorderNoData => "recorder_no_data",
            Mode::RecorderLive => "recorder_live",
            Mode::RecorderTraceSet => "recorder_trace_openat",
            Mode::RecorderLean => "recorder_lean",
            Mode::OtherComm => "recorder_other_comm",
            Mode::LeanOtherComm => "recorder_lean_other_comm",
            Mode::Floor => "empty_programs",
            Mode::LeanFloor => "empty_exit_program",
            Mode::WatchUnselected => "watch_unselected",
            Mode::WatchPathReject => "watch_path_reject",
            Mode::WatchMatched => "watch_matched",
            Mode::Strace => "strace",
            Mode::Perf => "perf_trace",
        }
    }
}

/// Whether a tracer runs here, and why not.
pub(super) enum Availability {
    Yes(PathBuf),
    No(String),
}

impl Availability {
    pub(super) fn path(&self) -> Option<&Path> {
        match self {
            Availability::Yes(p) => Some(p),
            Availability::No(_) => None,
        }
    }

    pub(super) fn reason(&self) -> Option<&str> {
        match self {
            Availability::Yes(_) => None,
            Availability::No(r) => Some(r),
        }
    }
}

/// Traces `true` once: whether the tracer works here, and if not, why.
pub(super) fn probe_tracer(env: &Env, tool: &str, args: &[&str]) -> Availability {
    let Ok(path) = which::which(tool) else {
        return Availability::No("not installed".into());
    };
    let log = env.path("probe.log");
    let mut cmd = env.command(&path);
    cmd.args(args).arg(&log).arg("true");
    let result = cmd.output();
    let _ = std::fs::remove_file(&log);
    match result {
        Ok(out) if out.status.success() => Availability::Yes(path),
        Ok(out) => Availability::No(format!(
            "`{tool} {} LOG true` failed ({}): {}",
            args.join(" "),
            out.status,
            last_line(&String::from_utf8_lossy(&out.stderr))
        )),
        Err(e) => Availability::No(format!("cannot run {}: {e}", path.display())),
    }
}
