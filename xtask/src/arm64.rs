//! `cargo xtask test-arm64`: the `tests` crate's integration tests on real
//! arm64 kernels (4K and 16K pages) in QEMU, then the logs they recorded
//! decoded by the x86_64 host recorder.
//!
//! Contract with the `tests` crate, inside the guest:
//! - `RECORDER_BIN=/opt/run/recorder`: the aarch64 recorder to test;
//! - `RECORDER_TEST_BIN_DIR=/opt/run`: the crate's fixture binaries are there;
//! - `RECORDER_TEST_OUT_DIR=/opt/out`: tests copy the logs they recorded
//!   there (`NAME.rec`); they come back to `target/arm64-test/<kernel>/<test>/`;
//! - `CI=true`: privileged tests fail instead of skipping when BPF does not work;
//! - `--test-threads=1`: the guest has one vCPU, and tests share the kernel's tracing.
//!
//! Every `.rec` that comes back must decode with the host's `recorder dump`,
//! and `getrandom.rec`, if present, must show `getrandom(` (arm64 has its own
//! syscall numbers: this proves the host decodes with the log's table).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::compile::{self, Executable};
use crate::kernel::{self, KernelKind};
use crate::vm::{self, GUEST_RUN_DIR, Outcome};
use crate::{elf, setup, util};

#[derive(clap::Args, Clone)]
pub struct Options {
    /// Only this kernel (default: 4k, then 16k).
    #[arg(long, value_enum)]
    pub kernel: Option<KernelKind>,
    /// Seconds allowed for each test executable's VM run, boot included.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT_SECS)]
    pub timeout: u64,
    /// Extra arguments for the test executables (a test-name filter, say).
    #[arg(last = true)]
    pub test_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kernel: None,
            timeout: DEFAULT_TIMEOUT_SECS,
            test_args: Vec::new(),
        }
    }
}

/// The integration tests that exercise the kernel side, and so must run on
/// arm64. The others (packaging: the unit file and the repo's files;
/// bundle: pure log processing) need no arm64 kernel and are not in the
/// guest's initramfs.
/// strace_compare compares `recorder dump` with the guest's strace (see
/// [`crate::kernel`] for how strace gets there) on arm64's own syscalls.
/// replay replays arm64 logs recorded in the guest, on arm64 (a log
/// replays only on its own architecture).
const VM_TESTS: &[&str] = &[
    "record",
    "capture",
    "replaycap",
    "service",
    "snapshot",
    "lossless",
    "trace_set",
    "lean",
    "strace_compare",
    "replay",
    "watch",
];

/// TCG emulation is 10-50x slower than native; a test executable that loads
/// BPF programs many times needs minutes.
const DEFAULT_TIMEOUT_SECS: u64 = 900;
const GUEST_OUT_DIR: &str = "/opt/out";

pub fn run(opts: &Options) -> Result<()> {
    setup::run(&setup::Options {
        arm64: true,
        ..Default::default()
    })?;
    let tests_manifest = util::project_root().join("tests/Cargo.toml");
    ensure!(
        tests_manifest.is_file(),
        "{} is missing: test-arm64 runs the tests crate's integration tests",
        tests_manifest.display()
    );

    println!(
        "test-arm64: building recorder, fixtures and tests for {}",
        setup::AARCH64_TARGET
    );
    let built = compile::build_aarch64(&["-p", "recorder", "-p", "tests", "--bins"])?;
    let recorder = compile::find_binary(&built, "recorder")?;
    elf::check_static_aarch64(&recorder)?;
    // Every other binary of that build belongs to the tests crate: its fixtures.
    let mut files: Vec<PathBuf> = vec![recorder.clone()];
    files.extend(
        built
            .iter()
            .filter(|e| !e.is_test && e.name != "recorder")
            .map(|e| e.path.clone()),
    );
    let mut no_run = compile::aarch64_cargo("test");
    no_run.args(["-p", "tests", "--no-run"]);
    // Only the tests/*.rs harnesses: each costs a VM boot, and the lib's and
    // fixtures' unit tests (if any) do not need arm64 or root.
    let tests: Vec<Executable> = compile::cargo_executables(no_run)?
        .into_iter()
        .filter(Executable::is_integration_test)
        .filter(|e| VM_TESTS.contains(&e.name.as_str()))
        .collect();
    ensure!(
        !tests.is_empty(),
        "the tests crate has no integration test executables"
    );

    // The host recorder decodes what the guest recorded.
    let host_recorder = compile::build_host(false)?;

    let kernels = match opts.kernel {
        Some(kind) => vec![kind],
        None => KernelKind::ALL.to_vec(),
    };
    // Every kernel runs even when one fails, so a run shows all of them.
    let mut lines = Vec::new();
    let mut failed = false;
    for kind in kernels {
        let report = run_kernel(kind, opts, &tests, &files, &host_recorder)?;
        failed |= report.failed;
        lines.push(report.line);
    }
    for line in &lines {
        println!("{line}");
    }
    if failed {
        bail!("a kernel failed (its summary line is above)");
    }
    Ok(())
}

struct KernelReport {
    failed: bool,
    /// The one-line summary.
    line: String,
}

/// Runs every test executable in a `kind` guest, then checks the logs that
/// came back. Errors are reserved for the VM machinery itself.
fn run_kernel(
    kind: KernelKind,
    opts: &Options,
    tests: &[Executable],
    files: &[PathBuf],
    host_recorder: &Path,
) -> Result<KernelReport> {
    let start = Instant::now();
    let assets = kernel::prepare(kind)?;
    let out_root = util::target_dir().join("arm64-test").join(kind.name());
    if out_root.exists() {
        fs::remove_dir_all(&out_root)
            .with_context(|| format!("cannot clear {}", out_root.display()))?;
    }
    let label = format!("arm64 {} ({})", kind.name(), assets.kernel_package);
    let mut failures = Vec::new();
    for test in tests {
        println!("test-arm64: {label}: running {} in the VM", test.name);
        let mut args = vec!["--test-threads=1".to_owned()];
        args.extend(opts.test_args.iter().cloned());
        let request = vm::Request {
            kernel: kind,
            binary: test.path.clone(),
            args,
            files: files.to_vec(),
            env: [
                ("RECORDER_BIN", format!("{GUEST_RUN_DIR}/recorder")),
                ("RECORDER_TEST_BIN_DIR", GUEST_RUN_DIR.to_owned()),
                ("RECORDER_TEST_OUT_DIR", GUEST_OUT_DIR.to_owned()),
                ("CI", "true".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            out_dir: Some(out_root.join(&test.name)),
            timeout: Duration::from_secs(opts.timeout),
            verbose: false,
        };
        match vm::run(&request).with_context(|| format!("{label}: {}", test.name))? {
            Outcome::Exited(0) => {}
            Outcome::Exited(code) => {
                failures.push(format!("{} exited with status {code}", test.name))
            }
            Outcome::TimedOut => {
                failures.push(format!("{} timed out after {} s", test.name, opts.timeout))
            }
        }
    }
    // The logs are worth checking even when a test failed.
    let logs = match dump_logs(&out_root, host_recorder) {
        Ok(count) => format!("{count} log(s) decoded on the host"),
        Err(err) => {
            failures.push(format!("checking the recorded logs: {err:#}"));
            "logs not decoded".to_owned()
        }
    };
    let elapsed = start.elapsed();
    let line = if failures.is_empty() {
        format!(
            "test-arm64: {label}: ok, {} test executable(s) passed, {logs}, {elapsed:.0?}",
            tests.len()
        )
    } else {
        format!(
            "test-arm64: {label}: FAILED: {}; {logs}, {elapsed:.0?}",
            failures.join("; ")
        )
    };
    Ok(KernelReport {
        failed: !failures.is_empty(),
        line,
    })
}

/// Runs the host `recorder dump` on every `.rec` under `dir`; returns how many.
/// `recorder replay` of an arm64 log on this (x86_64) host: a clear
/// refusal, not a run.
fn refuses_foreign_replay(host_recorder: &Path, log: &Path) -> Result<()> {
    let out = Command::new(host_recorder)
        .arg("replay")
        .arg(log)
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.code() == Some(1)
            && err.contains("a log replays only on the architecture it was recorded on"),
        "`recorder replay {}` on the host did not refuse the arm64 log: {}\n{err}",
        log.display(),
        out.status
    );
    Ok(())
}

fn dump_logs(dir: &Path, host_recorder: &Path) -> Result<usize> {
    let mut logs = Vec::new();
    collect_logs(dir, &mut logs)?;
    ensure!(
        !logs.is_empty(),
        "no .rec files came back from the guest (in {}): the tests should copy the logs they record into $RECORDER_TEST_OUT_DIR",
        dir.display()
    );
    logs.sort();
    for log in &logs {
        let dump = util::output(Command::new(host_recorder).arg("dump").arg(log))
            .with_context(|| format!("the host recorder cannot decode {}", log.display()))?;
        if log.file_name().is_some_and(|n| n == "replay-inputs.rec") {
            refuses_foreign_replay(host_recorder, log)?;
        }
        if log.file_name().is_some_and(|n| n == "getrandom.rec") && !dump.contains("getrandom(") {
            bail!(
                "`recorder dump {}` shows no getrandom( call: the host did not decode with the arm64 syscall table",
                log.display()
            );
        }
    }
    Ok(logs.len())
}

fn collect_logs(dir: &Path, logs: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_logs(&path, logs)?;
        } else if path.extension().is_some_and(|e| e == "rec") {
            logs.push(path);
        }
    }
    Ok(())
}
