//! Shared harness: find the binaries, run the recorder, read its log.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use recorder::{
    event::{Event, Header, Syscall, Trailer},
    log::{EndState, LogReader},
};

/// Whether privileged tests can run here. In CI they must: not being root
/// there is a failure, not a skip.
pub fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but the tests are not running as root: the privileged tests load eBPF \
             programs and must run (use `cargo xtask test`, which runs them under sudo)"
        );
    }
    eprintln!(
        "\n*** SKIPPED: not root. These tests load eBPF programs; run `cargo xtask test` \
         (it uses sudo) or run as root. ***\n"
    );
    false
}

fn target_dir_bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("RECORDER_TEST_BIN_DIR") {
        return Path::new(&dir).join(name);
    }
    // Test executables live in target/<profile>/deps; binaries one up.
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join(name)
}

pub fn recorder_bin() -> PathBuf {
    let p = std::env::var_os("RECORDER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir_bin("recorder"));
    assert!(
        p.exists(),
        "recorder binary not found at {} (build it first: cargo build -p recorder, or set RECORDER_BIN)",
        p.display()
    );
    p
}

pub fn fixture(name: &str) -> PathBuf {
    let p = target_dir_bin(name);
    assert!(
        p.exists(),
        "fixture {name} not found at {} (build it: cargo build -p tests --bins)",
        p.display()
    );
    p
}

/// A temporary directory for logs; copies logs to `RECORDER_TEST_OUT_DIR`
/// (if set) when asked, so the arm64 VM run can hand them to the host.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A copy of fixture `name` under a process name no other test uses (tests
/// run in parallel, and `--comm` selects by name machine-wide).
pub fn unique_fixture(w: &Workdir, name: &str, tag: &str) -> (PathBuf, String) {
    let comm = format!("{tag}{}", std::process::id() % 100_000);
    assert!(comm.len() <= 15, "keep it within the kernel's comm length");
    let p = w.path(&comm);
    // A symlink, not a copy: the kernel names a process after the path it
    // was exec'd by, and a freshly written copy can fail to exec with
    // ETXTBSY while another test thread forks with its write fd open.
    std::os::unix::fs::symlink(fixture(name), &p).expect("link fixture");
    (p, comm)
}

/// Copies a log out of the test for inspection elsewhere (arm64 → host).
pub fn export_log(log: &Path, name: &str) {
    if let Some(out) = std::env::var_os("RECORDER_TEST_OUT_DIR") {
        let out = Path::new(&out);
        std::fs::create_dir_all(out).expect("create RECORDER_TEST_OUT_DIR");
        std::fs::copy(log, out.join(name)).expect("export log");
    }
}

/// Runs `recorder ARGS` to completion.
pub fn record_command(log: &Path, extra: &[&str], command: &[&Path], cmd_args: &[&str]) -> Output {
    let mut cmd = Command::new(recorder_bin());
    cmd.arg("-o").arg(log).args(extra).arg("--");
    cmd.args(command).args(cmd_args);
    let out = cmd.stdin(Stdio::null()).output().expect("run recorder");
    Output::from(out)
}

#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Self {
        Output {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A recorder running in the background (for -p / --comm), started and
/// ready: its programs are attached when `start` returns.
pub struct Running {
    child: Child,
    stderr_lines: std::sync::mpsc::Receiver<String>,
    pub stderr: Vec<String>,
}

impl Running {
    pub fn start(log: &Path, args: &[&str]) -> Self {
        Self::start_env(log, args, &[])
    }

    /// `start`, with these environment variables set for the recorder.
    pub fn start_env(log: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(recorder_bin())
            .arg("-o")
            .arg(log)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn recorder");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut r = Self {
            child,
            stderr_lines: rx,
            stderr: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match r.stderr_lines.recv_timeout(left) {
                Ok(line) => {
                    let ready = line.starts_with("recorder: recording");
                    r.stderr.push(line);
                    if ready {
                        return r;
                    }
                }
                Err(_) => {
                    let _ = r.child.kill();
                    let status = r.child.wait();
                    panic!(
                        "recorder did not become ready ({status:?}); stderr:\n{}",
                        r.stderr.join("\n")
                    );
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGINT, as Ctrl-C would, then wait for a clean exit.
    pub fn stop(self) -> (ExitStatus, String) {
        // SAFETY: kill has no memory preconditions; the pid is our child's.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        self.wait()
    }

    /// Waits for the recorder to exit on its own.
    pub fn wait(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("recorder did not exit; stderr:\n{}", self.stderr.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.stderr_lines.recv_timeout(Duration::from_secs(5)) {
            self.stderr.push(l);
        }
        (status, self.stderr.join("\n"))
    }
}

pub struct Log {
    pub header: Header,
    pub events: Vec<Event>,
    pub trailer: Option<Trailer>,
}

impl Log {
    pub fn read(path: &Path) -> Self {
        let f = std::fs::File::open(path).expect("open log");
        let mut r = LogReader::open(BufReader::new(f)).expect("log header");
        let mut events = Vec::new();
        while let Some(ev) = r.next_event().expect("log events") {
            events.push(ev);
        }
        assert_eq!(r.end_state(), EndState::Clean, "log must be closed cleanly");
        Self {
            header: r.header().clone(),
            trailer: r.trailer().cloned(),
            events,
        }
    }

    pub fn syscalls(&self) -> impl Iterator<Item = &Syscall> {
        self.events.iter().filter_map(|e| match e {
            Event::Syscall(s) => Some(s),
            _ => None,
        })
    }

    pub fn tgids(&self) -> std::collections::BTreeSet<u32> {
        self.syscalls().map(|s| s.tgid).collect()
    }

    /// Asserts the trailer's accounting: nothing lost in the kernel or in
    /// user space, and every emitted record written.
    pub fn assert_complete(&self) {
        let t = self.trailer.as_ref().expect("trailer");
        let c = &t.counters;
        assert_eq!(c.ring_full, 0, "ring drops: {c:?}");
        assert_eq!(c.user_dropped, 0, "user drops: {c:?}");
        assert_eq!(c.stash_full, 0, "stash full: {c:?}");
        // Counter checkpoints and pauses are the recorder's own events,
        // not records the kernel emitted.
        let non_counter = self
            .events
            .iter()
            .filter(|e| !matches!(e, Event::Counters(_) | Event::Pause(_)))
            .count() as u64;
        assert_eq!(
            c.emitted, non_counter,
            "emitted vs. records in the log: {c:?}"
        );
    }
}

/// `-errno` as the kernel returns it.
pub fn err(e: i32) -> Option<i64> {
    Some(-(e as i64))
}

/// Negative fd marker as the kernel sees the argument (an int in a 64-bit
/// register, sign-extended by the libc `syscall` wrapper).
pub fn neg(n: i64) -> u64 {
    n as u64
}

/// Ring and drain settings under which the ring reaches the pause level
/// long before the daemon drains it: 64 KiB (a few hundred records), a
/// wakeup threshold no occupancy check sees, and a slow flush timer.
pub const FORCE_PAUSES: &[&str] = &[
    "--overflow",
    "pause",
    "--ring-size",
    "64K",
    "--wakeup-threshold",
    "99%",
    "-s",
    "0",
];

/// Whether process `pid` holds a `tp_btf` program open
/// (`BPF_PROG_TYPE_TRACING`, 26 in include/uapi/linux/bpf.h, in its
/// descriptors' fdinfo): the syscall programs of a kernel with BTF.
pub fn holds_tp_btf_programs(pid: u32) -> bool {
    let dir = format!("/proc/{pid}/fdinfo");
    std::fs::read_dir(&dir)
        .expect("fdinfo")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .any(|info| {
            info.lines().any(|l| {
                l.strip_prefix("prog_type:")
                    .is_some_and(|t| t.trim() == "26")
            })
        })
}

/// Whether this kernel has BTF, which the recorder's `tp_btf` programs use.
pub fn kernel_has_btf() -> bool {
    Path::new("/sys/kernel/btf/vmlinux").exists()
}
