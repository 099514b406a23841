//! Lossless mode (`--overflow pause`): the traced programs are held back
//! instead of losing records, every pause is in the log, and nothing stays
//! paused that should not: a process someone else stopped stays stopped, a
//! program outlives a recorder killed with SIGKILL.
//!
//! Every count here is exact. Pauses are forced where a test needs them (a
//! tiny ring drained only by a slow flush timer), not hoped for, so the
//! tests hold on a busy machine as on a quiet one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use recorder::event::{Event, PauseEvent};

/// `calls=N` from fx-rate's output.
fn calls_made(stdout: &str) -> u64 {
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("calls="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no calls= in {stdout:?}"))
}

/// getppid calls after fx-rate's exec (a shell that exec'd it may have
/// made its own).
fn getppids(log: &Log) -> u64 {
    let since = log
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Exec(p) if p.comm == "fx-rate" => Some(p.ts_ns),
            _ => None,
        })
        .expect("fx-rate's exec is in the log");
    log.syscalls()
        .filter(|s| s.nr == libc::SYS_getppid && s.enter_ns > since)
        .count() as u64
}

fn pauses(log: &Log) -> Vec<&PauseEvent> {
    log.events
        .iter()
        .filter_map(|e| match e {
            Event::Pause(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Busy loops without system calls, one per CPU, at nice 0: the recorder
/// competes with them for every CPU.
struct Hogs(Vec<Child>);

impl Hogs {
    fn start() -> Self {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self(
            (0..n)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .spawn()
                        .expect("start a CPU hog")
                })
                .collect(),
        )
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Checks what every lossless log must show: nothing lost, every pause
/// the kernel counted is an event, and each ended with a resume.
fn assert_lossless(log: &Log) {
    log.assert_complete();
    let c = &log.trailer.as_ref().expect("trailer").counters;
    assert!(log.header.lossless, "the header says lossless mode");
    let p = pauses(log);
    assert_eq!(p.len() as u64, c.paused, "a Pause event per pause: {c:?}");
    for p in &p {
        assert!(p.end_ns >= p.start_ns, "{p:?}");
        assert_eq!(p.end, PauseEvent::RESUMED, "{p:?}");
    }
}

/// Many threads beside a CPU hog per CPU, into a ring the drain cannot
/// keep up with: every call is recorded, and the pauses are in the log.
#[test]
fn lossless_under_contention_records_every_call() {
    if !privileged() {
        return;
    }
    under_contention_records_every_call("full");
}

/// The same in lean mode, whose exit-only program runs the same pause
/// check after every recorded call.
#[test]
fn lossless_in_lean_mode_records_every_call() {
    if !privileged() {
        return;
    }
    under_contention_records_every_call("lean");
}

fn under_contention_records_every_call(mode: &str) {
    let _hogs = Hogs::start();
    let w = Workdir::new();
    let log_path = w.path("contention.rec");
    let mut args = vec!["--mode", mode];
    args.extend(FORCE_PAUSES);
    // Half the ring is ~300 records: drained only every 500 ms, the storm
    // pauses at any rate above ~600 calls/s (an emulated arm64 VM beside
    // a build makes ~2000 per thread).
    args.extend(["--flush-interval", "500ms"]);
    let out = record_command(&log_path, &args, &[&fixture("fx-rate")], &["max", "2", "4"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", out.stderr);
    assert!(!out.stderr.contains("LOST"), "{}", out.stderr);
    let log = Log::read(&log_path);
    assert_lossless(&log);
    assert_eq!(
        getppids(&log),
        calls_made(&out.stdout),
        "every call recorded"
    );
    assert!(
        !pauses(&log).is_empty(),
        "a 64 KiB ring drained every 500 ms must have paused the program"
    );
    assert_eq!(log.header.lean, mode == "lean");
    export_log(&log_path, &format!("lossless-contention-{mode}.rec"));
}

/// The recorder held to a quarter of one CPU (a slow board core), the
/// program outside that limit: still every call.
#[test]
fn lossless_with_the_recorder_on_a_quarter_cpu() {
    if !privileged() {
        return;
    }
    let cg = CpuLimit::new(25);
    let w = Workdir::new();
    let log_path = w.path("slow.rec");
    // The recorder joins the limited group before it execs; the program
    // leaves it for the root group before it execs.
    let script = format!("echo $$ > {}/cgroup.procs && exec \"$@\"", cg.dir.display());
    let escape = format!(
        "echo $$ > {}/cgroup.procs && exec \"$@\"",
        cg.root.display()
    );
    let out = Command::new("sh")
        .args(["-c", &script, "sh"])
        .arg(recorder_bin())
        .args(["-o"])
        .arg(&log_path)
        .args(["-s", "0", "--"])
        .args(["sh", "-c", &escape, "sh"])
        .arg(fixture("fx-rate"))
        .args(["max", "2", "2"])
        .stdin(Stdio::null())
        .output()
        .expect("run recorder");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let log = Log::read(&log_path);
    assert_lossless(&log);
    assert_eq!(getppids(&log), calls_made(&stdout), "every call recorded");
}

/// A process stopped by someone else stays stopped: the recorder resumes
/// only what it paused, and not one that was stopped again meanwhile.
#[test]
fn a_process_stopped_by_the_user_stays_stopped() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("userstop.rec");
    let (storm, storm_comm) = unique_fixture(&w, "fx-rate", "lsstorm");
    let (quiet, quiet_comm) = unique_fixture(&w, "fx-spin", "lsquiet");
    let mut args = FORCE_PAUSES.to_vec();
    args.extend([
        "--flush-interval",
        "500ms",
        "--comm",
        &storm_comm,
        "--comm",
        &quiet_comm,
    ]);
    let rec = Running::start(&log_path, &args);
    let mut quiet = Command::new(&quiet).spawn().expect("start fx-spin");
    let mut storm = Command::new(&storm)
        .args(["max", "2", "2"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start fx-rate");
    std::thread::sleep(Duration::from_millis(300));
    signal(quiet.id(), libc::SIGSTOP);
    wait_for_state(quiet.id(), 'T', Duration::from_secs(10));
    assert!(storm.wait().unwrap().success());
    // Several flush ticks, each resuming what the recorder paused.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        state(quiet.id()),
        Some('T'),
        "still stopped while recording"
    );
    let (status, stderr) = rec.stop();
    assert!(status.success(), "{stderr}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        state(quiet.id()),
        Some('T'),
        "still stopped after recording"
    );
    signal(quiet.id(), libc::SIGCONT);
    let _ = quiet.kill();
    let _ = quiet.wait();

    let log = Log::read(&log_path);
    log.assert_complete();
    assert!(!pauses(&log).is_empty(), "the storm was paused");
}

/// The recorder killed with SIGKILL while it holds a program paused: the
/// resume guard lets the program run on to its end.
#[test]
fn a_program_paused_when_the_recorder_is_killed_runs_on() {
    if !privileged() {
        return;
    }
    let w = Workdir::new();
    let log_path = w.path("killed.rec");
    let (storm, comm) = unique_fixture(&w, "fx-rate", "lskill");
    let mut args = FORCE_PAUSES.to_vec();
    // Drained only every 30 s: once paused, the program stays paused until
    // the recorder is killed.
    args.extend(["--flush-interval", "30s", "--comm", &comm]);
    let rec = Running::start(&log_path, &args);
    let mut fx = Command::new(&storm)
        .args(["max", "2", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start fx-rate");
    wait_for_state(fx.id(), 'T', Duration::from_secs(20));
    signal(rec.pid(), libc::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = fx.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the program is still held (state {:?}) after the recorder was killed",
            state(fx.id())
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let _ = rec.wait();
}

/// In drop mode (the default for --comm) nothing is paused, even when the
/// ring overflows. The overflow is made certain rather than hoped for: the
/// recorder is stopped (SIGSTOP) while the program makes 20 times the calls
/// its 64 KiB ring holds, so nothing drains, however fast or slow the
/// machine (a slow, busy arm64 VM made too few calls in a timed storm to
/// fill even this ring). A pause would hold the program until the stopped
/// recorder resumed it, so its finishing on its own is the test.
#[test]
fn drop_mode_never_pauses() {
    if !privileged() {
        return;
    }
    const CALLS: u64 = 12_000; // the ring holds ~600 records
    let w = Workdir::new();
    let log_path = w.path("drop.rec");
    let (exe, comm) = unique_fixture(&w, "fx-loop", "fxdrop");
    let mut args = FORCE_PAUSES.to_vec();
    args[1] = "drop";
    args.extend(["--comm", &comm]);
    let rec = Running::start(&log_path, &args);
    signal(rec.pid(), libc::SIGSTOP);
    let mut fx = Command::new(&exe)
        .arg(CALLS.to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("run fixture");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = fx.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let state = state(fx.id());
            let _ = fx.kill();
            signal(rec.pid(), libc::SIGKILL);
            panic!("the program is held (state {state:?}) in drop mode");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    signal(rec.pid(), libc::SIGCONT);
    let (rstatus, stderr) = rec.stop();
    assert!(rstatus.success(), "recorder exit: {rstatus:?}\n{stderr}");
    let log = Log::read(&log_path);
    let c = &log.trailer.as_ref().unwrap().counters;
    assert!(!log.header.lossless);
    assert_eq!(c.paused, 0, "{c:?}");
    assert!(pauses(&log).is_empty());
    assert!(
        c.ring_full > 0,
        "the ring of a stopped recorder overflowed: {c:?}"
    );
    // Every call is in the log or counted as dropped.
    let getppid = libc::SYS_getppid;
    let recorded = log.syscalls().filter(|s| s.nr == getppid).count() as u64;
    assert!(recorded + c.ring_full >= CALLS, "{recorded} + {c:?}");
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: plain syscall.
    unsafe { libc::kill(pid as i32, sig) };
}

/// The state letter of `/proc/PID/stat` (`R`, `S`, `T`...).
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the parenthesised command name.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn wait_for_state(pid: u32, want: char, limit: Duration) {
    let deadline = Instant::now() + limit;
    while state(pid) != Some(want) {
        assert!(
            Instant::now() < deadline,
            "pid {pid} never reached state {want} (is {:?})",
            state(pid)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A cgroup (v1 `cpu` controller, or v2 `cpu.max`) limiting its members to
/// `percent` of one CPU; removed on drop.
struct CpuLimit {
    dir: PathBuf,
    /// The hierarchy's root group, where members leave to.
    root: PathBuf,
}

impl CpuLimit {
    fn new(percent: u64) -> Self {
        let quota = percent * 1000;
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        let name = format!("recorder-test-{}", std::process::id());
        if v1.join("cpu.cfs_quota_us").exists() {
            let dir = v1.join(&name);
            std::fs::create_dir_all(&dir).expect("create cgroup");
            std::fs::write(dir.join("cpu.cfs_period_us"), "100000").expect("cgroup period");
            std::fs::write(dir.join("cpu.cfs_quota_us"), quota.to_string()).expect("quota");
            return Self {
                dir,
                root: v1.to_owned(),
            };
        }
        let v2 = Path::new("/sys/fs/cgroup");
        assert!(
            v2.join("cgroup.subtree_control").exists(),
            "no cgroup v1 cpu controller and no cgroup v2 hierarchy: cannot limit the recorder's CPU"
        );
        let _ = std::fs::write(v2.join("cgroup.subtree_control"), "+cpu");
        let dir = v2.join(&name);
        std::fs::create_dir_all(&dir).expect("create cgroup");
        std::fs::write(dir.join("cpu.max"), format!("{quota} 100000")).expect("cpu.max");
        Self {
            dir,
            root: v2.to_owned(),
        }
    }
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        // Members have exited by now; an empty group can be removed.
        let _ = std::fs::remove_dir(&self.dir);
    }
}
